package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/httpapi"
	"ringside/internal/turnserver"
)

// httpsBase is s's address with https, which apptest does not know it speaks.
func httpsBase(s *apptest.Server) string { return "https://" + strings.TrimPrefix(s.URL, "http://") }

func trusting(t *testing.T, certFile string) *x509.CertPool {
	t.Helper()
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("no certificate in %s", certFile)
	}
	return pool
}

// served returns the leaf certificate the server at addr presents.
func served(t *testing.T, addr string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestHTTPSSelfSigned: with --tls self-signed the server speaks HTTPS (API and websocket)
// with a certificate for this machine's addresses, kept in the data directory and reused by
// the next start.
func TestHTTPSSelfSigned(t *testing.T) {
	dir := t.TempDir()
	s := apptest.Start(t, apptest.WithDataDir(dir), func(c *app.Config) { c.TLSSelfSigned = true })
	certFile := filepath.Join(dir, app.TLSDir, "self-signed.crt")
	roots := trusting(t, certFile)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(httpsBase(s) + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz over HTTPS: %d", resp.StatusCode)
	}
	if resp, err := http.Get(s.URL + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the HTTPS port")
		}
	}

	s.API = httpapi.NewClient(httpsBase(s), s.AdminToken, hc)
	_, _, tokens := s.CreateSession(t, "over https")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{
		URL:    "wss://" + strings.TrimPrefix(s.URL, "http://") + "/ws",
		Token:  tokens["rep"],
		Dialer: &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots}, HandshakeTimeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatalf("join over wss: %v", err)
	}
	if w, ok := c.Welcome(); !ok || w.You.Role != "rep" {
		t.Errorf("welcome %+v", w)
	}
	c.Close()

	first := served(t, strings.TrimPrefix(s.URL, "http://"), roots)
	if err := s.App.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2 := apptest.Start(t, apptest.WithDataDir(dir), func(c *app.Config) { c.TLSSelfSigned = true })
	if second := served(t, strings.TrimPrefix(s2.URL, "http://"), roots); !second.Equal(first) {
		t.Error("the second start made a new certificate")
	}
}

// writeCert writes a certificate for 127.0.0.1 signed by itself to certFile and keyFile.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPSCertificateFilesAndTURNS: --tls-cert/--tls-key serve HTTPS, are reloaded when they
// change (a renewal needs no restart), and add TURN over TLS to the welcome's servers, which
// a TURN client can allocate through.
func TestHTTPSCertificateFilesAndTURNS(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	ports := freePorts(t, 2)
	turnPort, tlsPort := ports[0], ports[1]
	s := apptest.Start(t, func(c *app.Config) {
		c.TLSCert, c.TLSKey, c.TURNPort, c.TURNTLSPort = certFile, keyFile, turnPort, tlsPort
	})
	addr := strings.TrimPrefix(s.URL, "http://")
	if got := served(t, addr, trusting(t, certFile)); got.SerialNumber.Int64() != 1 {
		t.Fatalf("serial %v", got.SerialNumber)
	}

	want := "turns:127.0.0.1:" + strconv.Itoa(int(tlsPort)) + "?transport=tcp"
	servers := s.App.TURN().ICEServers("p")
	if len(servers) != 1 || len(servers[0].URLs) != 3 || servers[0].URLs[2] != want {
		t.Fatalf("ICE servers %+v, want a third URL %s", servers, want)
	}
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(tlsPort))),
		&tls.Config{RootCAs: trusting(t, certFile)})
	if err != nil {
		t.Fatalf("TURN over TLS: %v", err)
	}
	defer conn.Close()
	quiet := logging.NewDefaultLoggerFactory()
	quiet.Writer = io.Discard
	tc, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: conn.RemoteAddr().String(), Conn: turn.NewSTUNConn(conn),
		Username: servers[0].Username, Password: servers[0].Credential, Realm: turnserver.Realm,
		LoggerFactory: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := tc.Allocate()
	if err != nil {
		t.Fatalf("allocate over TLS: %v", err)
	}
	relay.Close()

	writeCert(t, certFile, keyFile, 2)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(certFile, later, later); err != nil {
		t.Fatal(err)
	}
	if got := served(t, addr, trusting(t, certFile)); got.SerialNumber.Int64() != 2 {
		t.Errorf("after renewal the server presents serial %v", got.SerialNumber)
	}
}
