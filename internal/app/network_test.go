package app_test

import (
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/internal/rtctest"
	"ringside/sfu"
)

const (
	audio = webrtc.RTPCodecTypeAudio
	video = webrtc.RTPCodecTypeVideo
)

// hostAddr is this machine's own IPv4 address (192.0.2.2 on the test machine): with loopback,
// the only address these tests send to.
func hostAddr(t *testing.T) netip.Addr {
	t.Helper()
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
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
	t.Fatal("this machine has no IPv4 address besides loopback")
	return netip.Addr{}
}

// freePort returns a port free for both UDP and TCP on every interface, for servers that
// need one number for both.
func freePort(t *testing.T) uint16 {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n distinct ports, each free for both UDP and TCP.
func freePorts(t *testing.T, n int) []uint16 {
	t.Helper()
	var ports []uint16
	var held []interface{ Close() error }
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for attempt := 0; len(ports) < n; attempt++ {
		if attempt == 100 {
			t.Fatal("no port free for both UDP and TCP")
		}
		u, err := net.ListenUDP("udp", &net.UDPAddr{})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, u)
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.ListenTCP("tcp", &net.TCPAddr{Port: port})
		if err != nil {
			continue
		}
		held = append(held, l)
		ports = append(ports, uint16(port))
	}
	return ports
}

// join dials s with token and loops the fixtures on what it publishes until the test ends.
func join(t *testing.T, s *apptest.Server, token string, cfg client.Config) *client.Client {
	t.Helper()
	cfg.Token = token
	return apptest.Dial(t, s.WSURL, cfg)
}

// packets is how many packets of a kind show that media flows: a second of audio, about as
// long of video.
func packets(kind webrtc.RTPCodecType) uint64 {
	if kind == video {
		return 20
	}
	return 50
}

// selected returns the candidate pair c's connection pc runs on, waiting for one.
func selected(t *testing.T, c *client.Client, pc proto.PC) *webrtc.ICECandidatePair {
	t.Helper()
	var pair *webrtc.ICECandidatePair
	apptest.WaitFor(t, string(pc)+" selected pair", 10*time.Second, func() bool {
		info, ok := c.Peer(pc)
		pair = info.Selected
		return ok && pair != nil
	})
	return pair
}

func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(15 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(),
					buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// tcpOnlyAPI is a client API that cannot use UDP at all: ICE over TCP only, as on a network
// that blocks UDP.
func tcpOnlyAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// turnServers are the embedded server's URLs of one transport with fresh credentials.
func turnServers(t *testing.T, s *apptest.Server, transport string) []webrtc.ICEServer {
	t.Helper()
	turn := s.App.TURN()
	if turn == nil {
		t.Fatal("no embedded TURN server")
	}
	var urls []string
	for _, u := range turn.URLs() {
		if strings.HasSuffix(u, "?transport="+transport) && strings.HasPrefix(u, "turn:") {
			urls = append(urls, u)
		}
	}
	if len(urls) != 1 {
		t.Fatalf("no %s URL in %v", transport, turn.URLs())
	}
	user, pass := turn.Credentials().Mint("test-" + transport)
	return []webrtc.ICEServer{{URLs: urls, Username: user, Credential: pass}}
}

// TestRelayOnlyClient: a client that may use TURN relays only (as behind a firewall that lets
// nothing but TURN out) exchanges audio and video with a normal peer through the embedded
// TURN server: with the servers of its welcome, over UDP, and over TCP.
func TestRelayOnlyClient(t *testing.T) {
	for _, mode := range []string{"welcome", "udp", "tcp"} {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			s := apptest.Start(t, func(c *app.Config) { c.TURNPort = freePort(t) })
			_, _, tokens := s.CreateSession(t, "relay "+mode)

			repCfg := client.Config{Publish: client.Audio | client.Video, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
			if mode != "welcome" {
				repCfg.ICEServers = turnServers(t, s, mode)
			}
			rep := join(t, s, tokens["rep"], repCfg)
			// The partner uses no TURN, so that every allocation is the rep's.
			partner := join(t, s, tokens["partner"], client.Config{Publish: client.Audio | client.Video, ICEServers: []webrtc.ICEServer{}})

			w, _ := rep.Welcome()
			if len(w.ICEServers) != 1 || len(w.ICEServers[0].URLs) != 2 || !strings.HasSuffix(w.ICEServers[0].Username, ":"+rep.ID()) {
				t.Fatalf("welcome iceServers %+v", w.ICEServers)
			}

			for _, kind := range []webrtc.RTPCodecType{audio, video} {
				apptest.Flowing(t, partner, rep.ID(), kind, packets(kind))
				apptest.Flowing(t, rep, partner.ID(), kind, packets(kind))
			}
			for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
				if pair := selected(t, rep, pc); pair.Local.Typ != webrtc.ICECandidateTypeRelay {
					t.Errorf("rep's %s connection runs on %s, not a relay", pc, pair)
				}
			}
			st := s.App.TURN().Stats()
			if st.AllocationsMade == 0 || st.PacketsRelayed < 100 || st.PacketsReturned < 100 {
				t.Errorf("TURN stats %+v: media did not go through the relay", st)
			}
			switch mode {
			case "udp":
				if st.MadeOverTCP != 0 {
					t.Errorf("UDP mode made %d allocations over TCP", st.MadeOverTCP)
				}
			case "tcp":
				if st.MadeOverTCP != st.AllocationsMade {
					t.Errorf("TCP mode: %d of %d allocations over TCP", st.MadeOverTCP, st.AllocationsMade)
				}
			}
		})
	}
}

// TestICETCPWhenUDPIsBlocked: a client that cannot use UDP at all reaches the SFU over ICE-TCP
// on the media port, and media flows both ways.
func TestICETCPWhenUDPIsBlocked(t *testing.T) {
	checkGoroutines(t)
	port := freePort(t)
	s := apptest.Start(t, func(c *app.Config) { c.MediaPort = port })
	_, _, tokens := s.CreateSession(t, "ice-tcp")
	rep := join(t, s, tokens["rep"], client.Config{Publish: client.Audio | client.Video, API: tcpOnlyAPI(t)})
	partner := join(t, s, tokens["partner"], client.Config{Publish: client.Audio | client.Video})
	for _, kind := range []webrtc.RTPCodecType{audio, video} {
		apptest.Flowing(t, partner, rep.ID(), kind, packets(kind))
		apptest.Flowing(t, rep, partner.ID(), kind, packets(kind))
	}
	for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
		pair := selected(t, rep, pc)
		if pair.Local.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Port != port {
			t.Errorf("rep's %s connection runs on %s, want TCP to port %d", pc, pair, port)
		}
	}
}

// TestSinglePortSession: with --media-port every media flow of a three-person session (each
// one's up and down connection) uses that one UDP port of the server.
func TestSinglePortSession(t *testing.T) {
	checkGoroutines(t)
	port := freePort(t)
	s := apptest.Start(t, func(c *app.Config) { c.MediaPort = port })
	_, _, tokens := s.CreateSession(t, "single port")
	both := client.Audio | client.Video
	rep := join(t, s, tokens["rep"], client.Config{Publish: both})
	partner := join(t, s, tokens["partner"], client.Config{Publish: both})
	coach := join(t, s, tokens["coach"], client.Config{Publish: both})
	if err := coach.SetMode("open", ""); err != nil {
		t.Fatal(err)
	}
	all := []*client.Client{rep, partner, coach}
	for _, recv := range all {
		for _, pub := range all {
			if recv != pub {
				apptest.Flowing(t, recv, pub.ID(), video, packets(video))
				apptest.Flowing(t, recv, pub.ID(), audio, packets(audio))
			}
		}
	}
	for i, c := range all {
		for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
			pair := selected(t, c, pc)
			if pair.Remote.Protocol != webrtc.ICEProtocolUDP || pair.Remote.Port != port {
				t.Errorf("participant %d's %s connection runs on %s, not UDP port %d", i, pc, pair, port)
			}
			info, _ := c.Peer(pc)
			for _, sdp := range info.RemoteSDPs {
				for _, line := range strings.Split(sdp, "\r\n") {
					if f := strings.Fields(line); strings.HasPrefix(line, "a=candidate:") && len(f) > 5 && f[5] != strconv.Itoa(int(port)) {
						t.Errorf("server candidate on another port: %s", line)
					}
				}
			}
		}
	}
}

// TestEmbeddedTURNRelaysOnlyToTheSFU drives pion's TURN client against a live server in its
// default mode (ephemeral media ports, tracked): relaying is allowed to the SFU's addresses
// only, and only to its media sockets there.
func TestEmbeddedTURNRelaysOnlyToTheSFU(t *testing.T) {
	checkGoroutines(t)
	s := apptest.Start(t, func(c *app.Config) { c.TURNPort = freePort(t); c.IncludeLoopback = false })
	_, _, tokens := s.CreateSession(t, "open relay?")
	// A participant in the call, so that the SFU has media sockets.
	rep := join(t, s, tokens["rep"], client.Config{Publish: client.Audio, ICEServers: []webrtc.ICEServer{}})
	sfuPort := selected(t, rep, proto.PCUp).Remote.Port

	tc := dialTURN(t, s)
	relay, err := tc.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	defer relay.Close()
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "192.168.0.10", "172.31.0.1", "169.254.169.254", "100.100.100.100", "192.0.2.1"} {
		if err := tc.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9}); err == nil {
			t.Errorf("permission towards %s granted", ip)
		}
	}
	if err := tc.CreatePermission(&net.UDPAddr{IP: hostAddr(t).AsSlice(), Port: int(sfuPort)}); err != nil {
		t.Errorf("permission towards the SFU's address refused: %v", err)
	}

	// Another service on the SFU's address is not reachable through the relay.
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: hostAddr(t).AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before := s.App.TURN().Stats().PacketsRefused
	if _, err := relay.WriteTo([]byte("probe"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, from, err := other.ReadFrom(make([]byte, 100)); err == nil {
		t.Errorf("a non-SFU socket received %d bytes from %v through the relay", n, from)
	}
	if got := s.App.TURN().Stats().PacketsRefused; got <= before {
		t.Errorf("refused packets %d, want more than %d", got, before)
	}
}

// TestMediaNetPublicAddress: behind a 1:1 NAT the SFU's single-port sockets are known by the
// public address; the allow-list maps it to the local socket and back, and owns nothing else.
func TestMediaNetPublicAddress(t *testing.T) {
	port := freePort(t)
	m, err := sfu.ListenMedia(sfu.Config{MediaPort: port, PublicIP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	public := netip.MustParseAddr("203.0.113.7")
	local, ok := m.Resolve(netip.AddrPortFrom(public, port))
	if !ok || local.Port() != port || local.Addr().IsLoopback() || !local.Addr().Is4() {
		t.Fatalf("resolve public: %v %v", local, ok)
	}
	if adv, ok := m.Advertise(local); !ok || adv != netip.AddrPortFrom(public, port) {
		t.Errorf("advertise %v: %v %v", local, adv, ok)
	}
	if _, ok := m.Resolve(netip.AddrPortFrom(public, port+1)); ok {
		t.Error("another port of the public address resolved")
	}
	if _, ok := m.Resolve(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)); ok {
		t.Error("loopback resolved without IncludeLoopback")
	}
	for _, ip := range []string{"203.0.113.7", local.Addr().String()} {
		if !m.OwnsIP(netip.MustParseAddr(ip)) {
			t.Errorf("%s not owned", ip)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "203.0.113.8"} {
		if m.OwnsIP(netip.MustParseAddr(ip)) {
			t.Errorf("%s owned", ip)
		}
	}
}

// TestMediaNetTracksEphemeralSockets: without a media port, the allow-list holds exactly the
// sockets ICE has open: each host candidate's address while its connection lives, none after.
func TestMediaNetTracksEphemeralSockets(t *testing.T) {
	m, err := sfu.ListenMedia(sfu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	api, err := sfu.NewAPI(sfu.Config{Media: m})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewDown()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(audio); err != nil {
		t.Fatal(err)
	}
	var socks []netip.AddrPort
	for _, line := range strings.Split(rtctest.Describe(t, pc, true).SDP, "\r\n") {
		f := strings.Fields(line)
		if !strings.HasPrefix(line, "a=candidate:") || len(f) < 8 || !strings.EqualFold(f[2], "udp") || f[7] != "host" {
			continue
		}
		ap, err := netip.ParseAddrPort(net.JoinHostPort(f[4], f[5]))
		if err != nil {
			t.Fatalf("candidate %q: %v", line, err)
		}
		socks = append(socks, ap)
	}
	if len(socks) == 0 {
		t.Fatal("no UDP host candidates")
	}
	for _, ap := range socks {
		if got, ok := m.Resolve(ap); !ok || got != ap {
			t.Errorf("live socket %v: %v %v", ap, got, ok)
		}
		if !m.OwnsIP(ap.Addr()) {
			t.Errorf("IP of live socket %v not owned", ap)
		}
		if _, ok := m.Resolve(netip.AddrPortFrom(ap.Addr(), ap.Port()+1)); ok {
			t.Errorf("the port after %v resolved", ap)
		}
	}
	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ap := range socks {
		if _, ok := m.Resolve(ap); ok {
			t.Errorf("closed socket %v still resolves", ap)
		}
		if m.OwnsIP(ap.Addr()) {
			t.Errorf("IP of closed socket %v still owned", ap)
		}
	}
}
