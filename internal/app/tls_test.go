package app

import (
	"crypto/ecdsa"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSelfSignedCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	cert, path, err := selfSigned(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key %T, want ECDSA", leaf.PublicKey)
	}
	dnsNames, ips := certNames()
	if !covers(leaf, dnsNames, ips) || !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("certificate names %v %v, want %v %v", leaf.DNSNames, leaf.IPAddresses, dnsNames, ips)
	}
	for _, ip := range append([]string{"127.0.0.1"}, phoneHosts()...) {
		if err := leaf.VerifyHostname(ip); err != nil {
			t.Errorf("not valid for %s: %v", ip, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, selfSignedKey)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v", fi, err)
	}
	if path != filepath.Join(dir, selfSignedCert) {
		t.Errorf("path %s", path)
	}

	again, _, err := selfSigned(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Certificate[0]) != string(cert.Certificate[0]) {
		t.Error("a valid certificate was not reused")
	}
	renewed, _, err := selfSigned(dir, leaf.NotAfter.Add(-selfSignedRenew/2))
	if err != nil {
		t.Fatal(err)
	}
	if string(renewed.Certificate[0]) == string(cert.Certificate[0]) {
		t.Error("an expiring certificate was reused")
	}
}

// phoneHosts are the machine's addresses as URL hosts.
func phoneHosts() []string {
	var out []string
	for _, a := range machineAddrs() {
		out = append(out, a.String())
	}
	return out
}

func TestPhoneURLs(t *testing.T) {
	machine := machineAddrs()
	var want []string
	for _, a := range machine {
		if a.Is4() {
			want = append(want, "https://"+a.String()+":8443/")
		}
	}
	if got := phoneURLs(&net.TCPAddr{IP: net.IPv4zero, Port: 8443}, true); !slices.Equal(got, want) {
		t.Errorf("wildcard: %v, want %v", got, want)
	}
	if got := phoneURLs(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}, false); len(got) != 0 {
		t.Errorf("loopback: %v", got)
	}
	if got := phoneURLs(&net.TCPAddr{IP: net.ParseIP("192.0.2.9"), Port: 8080}, false); !slices.Equal(got, []string{"http://192.0.2.9:8080/"}) {
		t.Errorf("one address: %v", got)
	}
	var out strings.Builder
	printPhoneURLs(&out, []string{"http://192.0.2.2:8080/"}, false, false)
	if !strings.Contains(out.String(), "http://192.0.2.2:8080/") || !strings.Contains(out.String(), "--tls self-signed") {
		t.Errorf("banner:\n%s", out.String())
	}
}

func TestHTTPSPublicURL(t *testing.T) {
	ip, ok := machineIPv4()
	if !ok {
		t.Fatal("this machine has no IPv4 address")
	}
	for _, tt := range []struct{ derived, listen, want string }{
		{"http://localhost:8443", ":8443", "https://" + ip.String() + ":8443"},
		{"http://localhost:8443", "0.0.0.0:8443", "https://" + ip.String() + ":8443"},
		{"http://127.0.0.1:8443", "127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"", "127.0.0.1:0", ""},
	} {
		if got := httpsPublicURL(tt.derived, tt.listen); got != tt.want {
			t.Errorf("httpsPublicURL(%q, %q) = %q, want %q", tt.derived, tt.listen, got, tt.want)
		}
	}
}

func TestNetworkConfigChecks(t *testing.T) {
	for _, bad := range []Config{
		{TLSCert: "c.pem"},
		{TLSKey: "k.pem"},
		{TLSCert: "c.pem", TLSKey: "k.pem", TLSSelfSigned: true},
		{MediaPort: 4000, UDPPortMin: 5000, UDPPortMax: 6000},
		{MediaPort: 3478, TURNPort: 3478},
		{TURNPort: 3478, TURNTLSPort: 3478},
		{TURNURLs: []string{"turn:turn.example.com:3478"}},
		{TURNURLs: []string{"https://turn.example.com"}, TURNSecret: "s"},
		{TURNURLs: []string{"stun:stun.example.com:3478"}, TURNSecret: "s"},
	} {
		if err := bad.withDefaults(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	for _, good := range []Config{
		{TURNPort: 3478, TURNTLSPort: 5349, MediaPort: 3479},
		{TURNURLs: []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:443?transport=tcp"}, TURNSecret: "s"},
		{TLSSelfSigned: true},
	} {
		if err := good.withDefaults(); err != nil {
			t.Errorf("refused %+v: %v", good, err)
		}
	}
}
