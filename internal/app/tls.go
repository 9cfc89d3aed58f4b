package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// TLSDir is where the self-signed certificate lives inside the data directory.
const TLSDir = "tls"

// Files of the self-signed certificate, in TLSDir.
const (
	selfSignedCert = "self-signed.crt"
	selfSignedKey  = "self-signed.key"
)

// selfSignedValidity is how long a generated certificate lasts; it is renewed when less than
// selfSignedRenew remains, or when it no longer names every address of the machine.
const (
	selfSignedValidity = 365 * 24 * time.Hour
	selfSignedRenew    = 30 * 24 * time.Hour
)

// certificates is the server's TLS certificate: files given by --tls-cert/--tls-key (reloaded
// when they change, so a renewal needs no restart) or the self-signed one.
type certificates struct {
	selfSigned bool
	certFile   string // empty when self-signed
	keyFile    string

	mu      sync.Mutex // guards the following fields
	cert    *tls.Certificate
	modTime time.Time // of certFile when cert was loaded
}

// loadCertificates returns the configured certificate, or nil when the server speaks plain
// HTTP.
func loadCertificates(cfg Config, log *slog.Logger) (*certificates, error) {
	switch {
	case cfg.TLSCert != "":
		c := &certificates{certFile: cfg.TLSCert, keyFile: cfg.TLSKey}
		if _, err := c.current(); err != nil {
			return nil, err
		}
		log.Info("HTTPS with the configured certificate", "cert", cfg.TLSCert)
		return c, nil
	case cfg.TLSSelfSigned:
		cert, path, err := selfSigned(filepath.Join(cfg.DataDir, TLSDir), time.Now())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(cert.Certificate[0])
		log.Info("HTTPS with a self-signed certificate (browsers warn once; accept it to go on)",
			"cert", path, "sha256", hex.EncodeToString(sum[:]))
		return &certificates{selfSigned: true, cert: cert}, nil
	}
	return nil, nil
}

// config is a server TLS configuration serving the current certificate.
func (c *certificates) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.current()
		},
	}
}

// current returns the certificate, reloading the files when the certificate file changed.
func (c *certificates) current() (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.selfSigned {
		return c.cert, nil
	}
	fi, err := os.Stat(c.certFile)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil // mid-renewal: keep serving the one we have
		}
		return nil, fmt.Errorf("app: TLS certificate: %w", err)
	}
	if c.cert != nil && fi.ModTime().Equal(c.modTime) {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil
		}
		return nil, fmt.Errorf("app: TLS certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.modTime = &cert, fi.ModTime()
	return c.cert, nil
}

// selfSigned loads the certificate in dir, or generates one (ECDSA P-256, for localhost, the
// host name and every address of the machine) when it is missing, expiring or no longer
// names every address. It returns the certificate and its file.
func selfSigned(dir string, now time.Time) (*tls.Certificate, string, error) {
	certPath, keyPath := filepath.Join(dir, selfSignedCert), filepath.Join(dir, selfSignedKey)
	dnsNames, ips := certNames()
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil &&
			leaf.NotAfter.After(now.Add(selfSignedRenew)) && covers(leaf, dnsNames, ips) {
			return &cert, certPath, nil
		}
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("app: self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, "", fmt.Errorf("app: self-signed serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Ringside (self-signed)", Organization: []string{"Ringside"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", fmt.Errorf("app: self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("app: self-signed key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("app: self-signed certificate directory: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, "", err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, "", err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, "", fmt.Errorf("app: self-signed certificate: %w", err)
	}
	return &cert, certPath, nil
}

// certNames are the names a self-signed certificate must carry: localhost, the host name
// (and its .local mDNS name), loopback and every address of the machine.
func certNames() (dnsNames []string, ips []netip.Addr) {
	dnsNames = []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		dnsNames = append(dnsNames, h)
		if !strings.Contains(h, ".") {
			dnsNames = append(dnsNames, h+".local")
		}
	}
	ips = append([]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, machineAddrs()...)
	return dnsNames, ips
}

// covers reports whether leaf names every one of dnsNames and ips.
func covers(leaf *x509.Certificate, dnsNames []string, ips []netip.Addr) bool {
	for _, n := range dnsNames {
		if !slices.Contains(leaf.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, func(have net.IP) bool { return have.Equal(ip.AsSlice()) }) {
			return false
		}
	}
	return true
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("app: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), perm)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("app: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("app: write %s: %w", path, err)
	}
	return nil
}

// machineAddrs are the addresses of this machine's interfaces that are up, loopback and
// link-local ones excepted: where phones on the same network reach it.
func machineAddrs() []netip.Addr {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
				continue
			}
			out = append(out, ip)
		}
	}
	return out
}

// machineIPv4 is the first IPv4 address of machineAddrs.
func machineIPv4() (netip.Addr, bool) {
	for _, ip := range machineAddrs() {
		if ip.Is4() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// phoneURLs are the base URLs a phone on the same network can open for a server listening on
// addr: every machine address for a wildcard listener, the one address otherwise, none for
// loopback.
func phoneURLs(addr net.Addr, https bool) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	ip, _ := netip.AddrFromSlice(tcp.IP)
	ip = ip.Unmap()
	var hosts []netip.Addr
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		for _, a := range machineAddrs() {
			if a.Is4() || !ip.Is4() {
				hosts = append(hosts, a)
			}
		}
	case !ip.IsLoopback():
		hosts = []netip.Addr{ip}
	}
	urls := make([]string, 0, len(hosts))
	for _, h := range hosts {
		urls = append(urls, scheme+netip.AddrPortFrom(h, uint16(tcp.Port)).String()+"/")
	}
	return urls
}

// printPhoneURLs tells whoever started the server what to open on a phone.
func printPhoneURLs(w io.Writer, urls []string, https, selfSignedCert bool) {
	if len(urls) == 0 {
		return
	}
	fmt.Fprintln(w, "Phones on the same network can open:")
	for _, u := range urls {
		fmt.Fprintf(w, "    %s\n", u)
	}
	switch {
	case !https:
		fmt.Fprintln(w, "Phone browsers allow the camera and microphone only over HTTPS: start with")
		fmt.Fprintln(w, "--tls self-signed for a LAN demo, or --tls-cert and --tls-key.")
	case selfSignedCert:
		fmt.Fprintln(w, "The certificate is self-signed: the browser warns once; accept it to go on.")
	}
}

// httpsPublicURL is the default base of invite links when serving TLS: https, and for a
// wildcard listener this machine's address, which phones can reach (localhost they cannot).
func httpsPublicURL(derived, listen string) string {
	if derived == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return strings.Replace(derived, "http://", "https://", 1)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if m, ok := machineIPv4(); ok {
			return "https://" + net.JoinHostPort(m.String(), port)
		}
	}
	return strings.Replace(derived, "http://", "https://", 1)
}
