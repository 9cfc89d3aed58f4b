package sfu

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// MediaNet is the media plane's own sockets, shared by every PeerConnection of the APIs built
// with it (Config.Media), and the answer to "is this address one of them?".
//
// In single-port mode (Config.MediaPort) it holds Pion's UDP mux, listening on that port on
// every interface address, and an ICE-TCP mux listening on the same TCP port. Otherwise ICE
// opens ephemeral UDP sockets per connection, as without a MediaNet, and MediaNet records each
// one from the moment it is bound until it is closed.
//
// Resolve and Advertise are what keep the embedded TURN server from becoming an open relay:
// it relays only to the addresses Resolve accepts.
type MediaNet struct {
	// Immutable after ListenMedia:
	public netip.Addr // the 1:1 NAT address that replaces IPv4 host addresses; invalid if none
	port   uint16     // single-port mode's port; 0 in ephemeral mode
	udpMux *ice.MultiUDPMuxDefault
	tcpMux *ice.TCPMuxDefault
	tcpLn  net.Listener
	net    *trackingNet // ephemeral mode only

	mu     sync.RWMutex // guards the following fields
	socks  map[netip.AddrPort]int
	conns  map[netip.AddrPort]*trackedConn
	byPort map[uint16][]netip.AddrPort
	ips    map[netip.Addr]int
}

// tcpWriteBuffer is the most an ICE-TCP connection queues before dropping.
const tcpWriteBuffer = 256 << 10

// ListenMedia opens the sockets of cfg's media plane: in single-port mode the UDP and TCP
// listeners on cfg.MediaPort, at once; in ephemeral mode nothing yet. Close it after the
// last PeerConnection of the APIs built with it has closed.
func ListenMedia(cfg Config) (*MediaNet, error) {
	m := &MediaNet{
		port:   cfg.MediaPort,
		socks:  map[netip.AddrPort]int{},
		conns:  map[netip.AddrPort]*trackedConn{},
		byPort: map[uint16][]netip.AddrPort{},
		ips:    map[netip.Addr]int{},
	}
	if cfg.PublicIP != "" {
		ip, err := netip.ParseAddr(cfg.PublicIP)
		if err != nil {
			return nil, fmt.Errorf("sfu: public IP %q: %w", cfg.PublicIP, err)
		}
		m.public = ip.Unmap()
	}
	base, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("sfu: network: %w", err)
	}
	m.net = &trackingNet{Net: base, media: m}
	if cfg.MediaPort == 0 {
		return m, nil
	}

	opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithNet(m.net)}
	if cfg.IncludeLoopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	udp, err := ice.NewMultiUDPMuxFromPort(int(cfg.MediaPort), opts...)
	if err != nil {
		return nil, fmt.Errorf("sfu: media UDP port %d: %w", cfg.MediaPort, err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: int(cfg.MediaPort)})
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("sfu: media TCP port %d: %w", cfg.MediaPort, err)
	}
	m.udpMux, m.tcpLn = udp, ln
	// The UDP sockets are recorded as the mux binds them (trackingNet); the TCP listener's
	// addresses are the same.
	m.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{
		Listener:       ln,
		ReadBufferSize: 8,
		// Writes to an ICE-TCP receiver go through this buffer and are dropped when it is
		// full, so a slow receiver never blocks a publisher's reader (docs/decisions.md, 2).
		// Its size bounds the delay a stalled TCP path builds up: about a second of video.
		WriteBufferSize: tcpWriteBuffer,
	})
	return m, nil
}

// configure points a SettingEngine at m's sockets. A nil m leaves ICE's defaults, bounded by
// the port range.
func (m *MediaNet) configure(se *webrtc.SettingEngine, cfg Config) error {
	switch {
	case m == nil && cfg.MediaPort != 0:
		return fmt.Errorf("sfu: media port %d needs a MediaNet from ListenMedia", cfg.MediaPort)
	case m != nil && m.port != cfg.MediaPort:
		return fmt.Errorf("sfu: the MediaNet listens on port %d, not %d", m.port, cfg.MediaPort)
	case m != nil && m.port != 0:
		se.SetICEUDPMux(m.udpMux)
		se.SetICETCPMux(m.tcpMux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6,
			webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
		// The server is the passive side of ICE-TCP; it never dials out to a candidate.
		se.DisableActiveTCP(true)
		return nil
	case m != nil:
		se.SetNet(m.net)
	}
	se.DisableActiveTCP(true)
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return fmt.Errorf("sfu: udp port range: %w", err)
		}
	}
	return nil
}

// Port is the single-port mode's UDP and TCP port, 0 in ephemeral mode.
func (m *MediaNet) Port() uint16 { return m.port }

// Resolve reports whether dst, an address a client may have learnt from the SFU's
// candidates, is one of the SFU's media sockets, and returns the local address to send to:
// dst itself, or for the public IP of a 1:1 NAT, the local socket with dst's port.
func (m *MediaNet) Resolve(dst netip.AddrPort) (netip.AddrPort, bool) {
	dst = canonicalAddrPort(dst)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.socks[dst] > 0 {
		return dst, true
	}
	if !m.public.IsValid() || dst.Addr() != m.public {
		return netip.AddrPort{}, false
	}
	var found netip.AddrPort
	for _, s := range m.byPort[dst.Port()] {
		if s.Addr().Is4() != m.public.Is4() {
			continue
		}
		if !s.Addr().IsLoopback() {
			return s, true
		}
		found = s
	}
	return found, found.IsValid()
}

// Advertise reports whether src is one of the SFU's media sockets and returns the address
// its candidates carry: src, or the public IP of a 1:1 NAT with src's port.
func (m *MediaNet) Advertise(src netip.AddrPort) (netip.AddrPort, bool) {
	src = canonicalAddrPort(src)
	m.mu.RLock()
	known := m.socks[src] > 0
	m.mu.RUnlock()
	switch {
	case !known:
		return netip.AddrPort{}, false
	case m.public.IsValid() && src.Addr().Is4() == m.public.Is4():
		return netip.AddrPortFrom(m.public, src.Port()), true
	}
	return src, true
}

// OwnsIP reports whether ip is an address the SFU's media sockets are on (or their public
// address): a TURN permission towards any other IP is refused.
func (m *MediaNet) OwnsIP(ip netip.Addr) bool {
	ip = canonicalAddr(ip)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.public.IsValid() && ip == m.public {
		return len(m.socks) > 0
	}
	return m.ips[ip] > 0
}

// Close closes the single-port listeners (ephemeral sockets belong to their connections).
func (m *MediaNet) Close() error {
	if m.port == 0 {
		return nil
	}
	return errors.Join(m.udpMux.Close(), m.tcpMux.Close())
}

// conn is the UDP socket bound to local (or, for the public IP of a 1:1 NAT, the one it
// stands for), nil if none. A candidate's link-local address comes without the zone its
// socket is recorded with.
func (m *MediaNet) conn(local netip.AddrPort) *trackedConn {
	if m == nil {
		return nil
	}
	if sock, ok := m.Resolve(local); ok {
		local = sock
	}
	local = routeKey(local)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.conns[local]; c != nil {
		return c
	}
	for ap, c := range m.conns {
		if ap.Port() != local.Port() {
			continue
		}
		// A socket bound to the unspecified address serves every address of its port.
		if routeKey(ap) == local || ap.Addr().IsUnspecified() {
			return c
		}
	}
	return nil
}

func (m *MediaNet) add(ap netip.AddrPort, c *trackedConn) {
	ap = canonicalAddrPort(ap)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns[ap] = c
	m.socks[ap]++
	m.ips[ap.Addr()]++
	m.byPort[ap.Port()] = append(m.byPort[ap.Port()], ap)
}

func (m *MediaNet) remove(ap netip.AddrPort) {
	ap = canonicalAddrPort(ap)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.socks[ap] == 0 {
		return
	}
	if m.socks[ap]--; m.socks[ap] == 0 {
		delete(m.socks, ap)
		delete(m.conns, ap)
	}
	if m.ips[ap.Addr()]--; m.ips[ap.Addr()] == 0 {
		delete(m.ips, ap.Addr())
	}
	list := m.byPort[ap.Port()]
	if i := slices.Index(list, ap); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(m.byPort, ap.Port())
	} else {
		m.byPort[ap.Port()] = list
	}
}

// trackingNet is the standard network with every UDP socket ICE binds recorded in a MediaNet
// until it is closed. Interfaces are listed afresh on each call, as ICE does without a shared
// network, so that a server keeps up with interfaces that come and go.
type trackingNet struct {
	*stdnet.Net
	media *MediaNet
}

func (n *trackingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	tc := &trackedConn{UDPConn: c, media: n.media, addr: ap}
	tc.routes.Store(&map[netip.AddrPort]router{})
	n.media.add(ap, tc)
	return tc, nil
}

func (n *trackingNet) Interfaces() ([]*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.Interfaces()
}

func (n *trackingNet) InterfaceByIndex(index int) (*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.InterfaceByIndex(index)
}

func (n *trackingNet) InterfaceByName(name string) (*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.InterfaceByName(name)
}

// trackedConn is an ICE socket that leaves its MediaNet when closed. It keeps ICE's
// allocation-free read and write path (ice.AddrPortReaderWriter), and its reads hand the RTP
// and RTCP of routed remote addresses to their direct receiver or sender instead of returning
// them.
type trackedConn struct {
	*net.UDPConn
	media  *MediaNet
	addr   netip.AddrPort
	once   sync.Once
	routes atomic.Pointer[map[netip.AddrPort]router] // copy on write under mu
	mu     sync.Mutex
}

// router takes RTP or RTCP datagrams from one remote address off a socket; it reports
// whether it took one (if not, the datagram goes on to Pion).
type router interface {
	receive(b []byte) bool
}

func (c *trackedConn) route(from netip.AddrPort, d router) {
	c.updateRoutes(func(m map[netip.AddrPort]router) { m[from] = d })
}

func (c *trackedConn) unroute(from netip.AddrPort, d router) {
	c.updateRoutes(func(m map[netip.AddrPort]router) {
		if m[from] == d {
			delete(m, from)
		}
	})
}

func (c *trackedConn) updateRoutes(f func(map[netip.AddrPort]router)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := maps.Clone(*c.routes.Load())
	f(m)
	c.routes.Store(&m)
}

func (c *trackedConn) Close() error {
	err := c.UDPConn.Close()
	c.once.Do(func() { c.media.remove(c.addr) })
	return err
}

// ReadFromAddrPort returns the next datagram that is not taken by a direct receiver.
func (c *trackedConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(b)
		if err != nil || n < 8 || b[0] < 128 || b[0] > 191 { // not RTP or RTCP (RFC 7983)
			return n, from, err
		}
		routes := *c.routes.Load()
		if len(routes) == 0 {
			return n, from, nil
		}
		d := routes[routeKey(from)]
		if d == nil || !d.receive(b[:n]) {
			return n, from, nil
		}
	}
}

// ReadFrom is ReadFromAddrPort for readers that want a net.Addr.
func (c *trackedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

func (c *trackedConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.UDPConn.WriteToUDPAddrPort(b, addr)
}

func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort(), true
	case *net.TCPAddr:
		return a.AddrPort(), true
	}
	return netip.AddrPort{}, false
}

// canonicalAddr unmaps IPv4-in-IPv6 and drops zones but for link-local addresses, so that one
// address has one key.
func canonicalAddr(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if !ip.IsLinkLocalUnicast() {
		ip = ip.WithZone("")
	}
	return ip
}

func canonicalAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(canonicalAddr(ap.Addr()), ap.Port())
}
