package turnserver_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"ringside/internal/turnserver"
)

// The machine's own address (192.0.2.2 on the test machine) and loopback: the only
// addresses these tests send to.
var (
	hostIP     = machineIPv4()
	loopbackIP = netip.MustParseAddr("127.0.0.1")
)

// machineIPv4 is the first IPv4 address of an interface that is up and not loopback, or
// loopback when there is none (then the tests that need two addresses fail).
func machineIPv4() netip.Addr {
	ifaces, _ := net.Interfaces()
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLinkLocalUnicast() {
				return p.Addr()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

const secret = "test-secret-not-secret"

// staticPeers is an allow-list of fixed sockets, with an optional 1:1 NAT address that
// stands for the first socket's IP.
type staticPeers struct {
	socks  []netip.AddrPort
	public netip.Addr
}

func (p staticPeers) Resolve(dst netip.AddrPort) (netip.AddrPort, bool) {
	for _, s := range p.socks {
		if s == dst || (p.public.IsValid() && dst.Addr() == p.public && dst.Port() == s.Port()) {
			return s, true
		}
	}
	return netip.AddrPort{}, false
}

func (p staticPeers) Advertise(src netip.AddrPort) (netip.AddrPort, bool) {
	for _, s := range p.socks {
		if s == src {
			if p.public.IsValid() {
				return netip.AddrPortFrom(p.public, s.Port()), true
			}
			return s, true
		}
	}
	return netip.AddrPort{}, false
}

func (p staticPeers) OwnsIP(ip netip.Addr) bool {
	if p.public.IsValid() && ip == p.public {
		return true
	}
	for _, s := range p.socks {
		if s.Addr() == ip {
			return true
		}
	}
	return false
}

func testLogger() *slog.Logger {
	if os.Getenv("RINGSIDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func quietPion() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.Writer = io.Discard
	return f
}

func startServer(t *testing.T, peers turnserver.Peers, tweak ...func(*turnserver.Config)) *turnserver.Server {
	t.Helper()
	cfg := turnserver.Config{
		Host:    loopbackIP.String(),
		RelayIP: hostIP,
		Peers:   peers,
		Secret:  secret,
		Logger:  testLogger(),
	}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := turnserver.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// udpEcho listens on ip and echoes every datagram; it reports what it received on got.
func udpEcho(t *testing.T, ip netip.Addr) (netip.AddrPort, <-chan []byte) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip.AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			b := append([]byte(nil), buf[:n]...)
			select {
			case got <- b:
			default:
			}
			_, _ = conn.WriteToUDP(b, from)
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), got
}

type turnClient struct {
	*turn.Client
	conn net.PacketConn
}

// dialTURN connects a pion TURN client over "udp" or "tcp" with the given credentials.
func dialTURN(t *testing.T, s *turnserver.Server, transport, user, pass string) *turnClient {
	t.Helper()
	addr := net.JoinHostPort(loopbackIP.String(), strconv.Itoa(int(s.Port())))
	var conn net.PacketConn
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	case "tcp":
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: turnserver.Realm,
		RTO: 100 * time.Millisecond, LoggerFactory: quietPion(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return &turnClient{Client: c, conn: conn}
}

func mint(s *turnserver.Server, id string) (string, string) {
	return s.Credentials().Mint(id)
}

// readRelay reads one datagram from the relay within d.
func readRelay(relay net.PacketConn, d time.Duration) ([]byte, net.Addr, error) {
	buf := make([]byte, 1500)
	if err := relay.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nil, nil, err
	}
	n, from, err := relay.ReadFrom(buf)
	if err != nil {
		return nil, nil, err
	}
	return buf[:n], from, nil
}

func expectNothing(t *testing.T, what string, got <-chan []byte, d time.Duration) {
	t.Helper()
	select {
	case b := <-got:
		t.Errorf("%s received %q through the relay", what, b)
	case <-time.After(d):
	}
}

func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(),
					buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestRelaysOnlyToSFUSockets: a relay reaches the SFU's sockets (on the machine's address
// and on loopback) and nothing else: not another port of those addresses, not another
// loopback address, no private, link-local or public address; and it hears only the SFU.
func TestRelaysOnlyToSFUSockets(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			checkGoroutines(t)
			sfuHost, hostGot := udpEcho(t, hostIP)
			sfuLoop, loopGot := udpEcho(t, loopbackIP)
			otherHost, otherHostGot := udpEcho(t, hostIP)
			otherLoop, otherLoopGot := udpEcho(t, loopbackIP)
			s := startServer(t, staticPeers{socks: []netip.AddrPort{sfuHost, sfuLoop}})

			user, pass := mint(s, "participant-1")
			c := dialTURN(t, s, transport, user, pass)
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			defer relay.Close()
			if ra := relay.LocalAddr().(*net.UDPAddr); !ra.IP.Equal(hostIP.AsSlice()) {
				t.Errorf("relay address %v, want one on %v", ra, hostIP)
			}

			for _, sfu := range []struct {
				addr netip.AddrPort
				got  <-chan []byte
			}{{sfuHost, hostGot}, {sfuLoop, loopGot}} {
				msg := []byte("hello " + sfu.addr.String())
				if _, err := relay.WriteTo(msg, net.UDPAddrFromAddrPort(sfu.addr)); err != nil {
					t.Fatalf("write to %v: %v", sfu.addr, err)
				}
				select {
				case b := <-sfu.got:
					if string(b) != string(msg) {
						t.Errorf("SFU socket %v got %q", sfu.addr, b)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("SFU socket %v got nothing", sfu.addr)
				}
				b, from, err := readRelay(relay, 5*time.Second)
				if err != nil || string(b) != string(msg) || from.String() != sfu.addr.String() {
					t.Fatalf("echo from %v: %q from %v, %v", sfu.addr, b, from, err)
				}
			}

			// Same IPs, other ports: the permission exists, the datagrams go nowhere.
			for _, other := range []netip.AddrPort{otherHost, otherLoop} {
				if _, err := relay.WriteTo([]byte("probe"), net.UDPAddrFromAddrPort(other)); err != nil {
					t.Fatalf("write to %v: %v", other, err)
				}
			}
			expectNothing(t, "a non-SFU port on the host address", otherHostGot, 500*time.Millisecond)
			expectNothing(t, "a non-SFU port on loopback", otherLoopGot, 100*time.Millisecond)

			// A socket that is no SFU socket, sending to the relay, is not heard.
			stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: hostIP.AsSlice()})
			if err != nil {
				t.Fatal(err)
			}
			defer stranger.Close()
			if _, err := stranger.WriteTo([]byte("from a stranger"), relay.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if b, from, err := readRelay(relay, 500*time.Millisecond); err == nil {
				t.Errorf("the client heard %q from %v", b, from)
			}

			// Permissions towards anything but the SFU's IPs are refused. These only ask the
			// server; no datagram goes to the addresses.
			for _, ip := range []string{
				"127.0.0.2", "127.1.2.3", // loopback, not the SFU's
				"10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", // private, CGNAT
				"169.254.169.254", "169.254.0.1", // link-local (cloud metadata)
				"0.0.0.0", "255.255.255.255", "224.0.0.1", // unspecified, broadcast, multicast
				"192.0.2.250", "8.8.8.8", // a neighbour, the internet
			} {
				err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9})
				if err == nil {
					t.Errorf("permission towards %s granted", ip)
				}
			}
			st := s.Stats()
			if st.PermissionsRefused < 13 || st.PacketsRefused < 3 || st.PacketsRelayed < 2 || st.PacketsReturned < 2 {
				t.Errorf("stats %+v", st)
			}
			if wantTCP := map[string]uint64{"udp": 0, "tcp": 1}[transport]; st.AllocationsMade != 1 || st.MadeOverTCP != wantTCP {
				t.Errorf("stats %+v: want 1 allocation, %d over TCP", st, wantTCP)
			}
		})
	}
}

// TestPublicAddressMapsToLocalSocket: behind a 1:1 NAT the SFU's candidates carry the public
// IP; the relay sends to the local socket behind it, and the SFU's answers come back as the
// public address the client knows.
func TestPublicAddressMapsToLocalSocket(t *testing.T) {
	checkGoroutines(t)
	sfu, got := udpEcho(t, hostIP)
	public := netip.MustParseAddr("203.0.113.7") // documentation range; never sent to
	s := startServer(t, staticPeers{socks: []netip.AddrPort{sfu}, public: public})
	user, pass := mint(s, "p")
	c := dialTURN(t, s, "udp", user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	to := &net.UDPAddr{IP: public.AsSlice(), Port: int(sfu.Port())}
	if _, err := relay.WriteTo([]byte("via nat"), to); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if string(b) != "via nat" {
			t.Errorf("got %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the local socket got nothing")
	}
	b, from, err := readRelay(relay, 5*time.Second)
	if err != nil || string(b) != "via nat" || from.String() != to.String() {
		t.Fatalf("echo %q from %v (want %v), %v", b, from, to, err)
	}
}

// TestCredentialsRefused: expired, forged, wrongly keyed and malformed credentials get no
// allocation; good ones do.
func TestCredentialsRefused(t *testing.T) {
	checkGoroutines(t)
	sfu, _ := udpEcho(t, hostIP)
	s := startServer(t, staticPeers{socks: []netip.AddrPort{sfu}})

	good := s.Credentials()
	expired := good
	expired.Now = func() time.Time { return time.Now().Add(-turnserver.DefaultCredentialTTL - time.Minute) }
	otherKey := good
	otherKey.Secret = "another-secret"

	expUser, expPass := expired.Mint("p1")
	forgedUser, _ := good.Mint("p2")
	okUser, okPass := good.Mint("p3")
	otherUser, otherPass := otherKey.Mint("p4")
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + ":p5"

	for _, tc := range []struct {
		name, user, pass string
	}{
		{"expired", expUser, expPass},
		{"forged password", forgedUser, "bm90IHRoZSBwYXNzd29yZA=="},
		{"other secret", otherUser, otherPass},
		{"someone else's password", future, okPass},
		{"no expiry", "p6", okPass},
		{"no participant", strings.Split(okUser, ":")[0] + ":", okPass},
		{"empty", "", ""},
	} {
		for _, transport := range []string{"udp", "tcp"} {
			c := dialTURN(t, s, transport, tc.user, tc.pass)
			if relay, err := c.Allocate(); err == nil {
				relay.Close()
				t.Errorf("%s over %s: allocation granted", tc.name, transport)
			}
		}
	}
	if st := s.Stats(); st.AuthFailures < 12 || st.AllocationsMade != 0 {
		t.Errorf("stats after refusals: %+v", st)
	}

	c := dialTURN(t, s, "udp", okUser, okPass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	relay.Close()
}

// TestNoTCPRelays: nobody gets a TCP connection out of the relay (RFC 6062 Connect), even to
// the SFU's own address.
func TestNoTCPRelays(t *testing.T) {
	checkGoroutines(t)
	sfu, _ := udpEcho(t, hostIP)
	target, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: hostIP.AsSlice(), Port: int(sfu.Port())})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := target.Accept(); err == nil {
			accepted <- c
		}
	}()
	s := startServer(t, staticPeers{socks: []netip.AddrPort{sfu}})
	user, pass := mint(s, "p")
	c := dialTURN(t, s, "tcp", user, pass)
	alloc, err := c.AllocateTCP()
	if err != nil {
		return // refused outright: nothing to connect with
	}
	defer alloc.Close()
	if _, err := alloc.Connect(target.Addr()); err == nil {
		t.Error("TCP connect through the relay granted")
	}
	select {
	case conn := <-accepted:
		conn.Close()
		t.Error("the relay opened a TCP connection")
	case <-time.After(300 * time.Millisecond):
	}
}

// TestAllocationQuota: one participant may hold MaxAllocations allocations at a time.
func TestAllocationQuota(t *testing.T) {
	checkGoroutines(t)
	sfu, _ := udpEcho(t, hostIP)
	s := startServer(t, staticPeers{socks: []netip.AddrPort{sfu}}, func(c *turnserver.Config) { c.MaxAllocations = 2 })
	user, pass := mint(s, "greedy")
	var relays []net.PacketConn
	for i := range 3 {
		relay, err := dialTURN(t, s, "udp", user, pass).Allocate()
		if i < 2 && err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if i == 2 && err == nil {
			t.Fatal("third allocation granted")
		}
		if err == nil {
			relays = append(relays, relay)
		}
	}
	other, otherPass := mint(s, "someone-else")
	relay, err := dialTURN(t, s, "udp", other, otherPass).Allocate()
	if err != nil {
		t.Fatalf("another participant: %v", err)
	}
	relays = append(relays, relay)
	for _, r := range relays {
		r.Close()
	}
}

// TestURLsAndCredentials: the welcome's iceServers name UDP and TCP on the host, and TLS
// when configured; the credentials follow the TURN REST scheme.
func TestURLsAndCredentials(t *testing.T) {
	checkGoroutines(t)
	sfu, _ := udpEcho(t, hostIP)
	s := startServer(t, staticPeers{socks: []netip.AddrPort{sfu}})
	servers := s.ICEServers("5b1e")
	if len(servers) != 1 {
		t.Fatalf("servers %+v", servers)
	}
	port := strconv.Itoa(int(s.Port()))
	want := []string{"turn:127.0.0.1:" + port + "?transport=udp", "turn:127.0.0.1:" + port + "?transport=tcp"}
	if strings.Join(servers[0].URLs, " ") != strings.Join(want, " ") {
		t.Errorf("URLs %v, want %v", servers[0].URLs, want)
	}
	expiry, id, _ := strings.Cut(servers[0].Username, ":")
	unix, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || id != "5b1e" {
		t.Fatalf("username %q", servers[0].Username)
	}
	if ttl := time.Until(time.Unix(unix, 0)); ttl < turnserver.DefaultCredentialTTL-time.Minute || ttl > turnserver.DefaultCredentialTTL {
		t.Errorf("credentials valid for %s", ttl)
	}
	pass, who, err := s.Credentials().Check(servers[0].Username)
	if err != nil || pass != servers[0].Credential || who != "5b1e" {
		t.Errorf("check: %q %q %v", pass, who, err)
	}
	if _, _, err := s.Credentials().Check("12:x"); !errors.Is(err, turnserver.ErrCredentials) {
		t.Errorf("expired username: %v", err)
	}
}

// TestCloseEndsClients: closing the server ends clients' TCP connections too.
func TestCloseEndsClients(t *testing.T) {
	checkGoroutines(t)
	sfu, _ := udpEcho(t, hostIP)
	s, err := turnserver.Listen(turnserver.Config{
		Host: "127.0.0.1", RelayIP: hostIP, Peers: staticPeers{socks: []netip.AddrPort{sfu}},
		Secret: secret, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(s.Port()))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read after close: %v, want EOF", err)
	}
}
