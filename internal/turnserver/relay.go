package turnserver

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// relayGenerator makes allocations' relay sockets: UDP on the relay IP, wrapped so that they
// exchange datagrams with the SFU's sockets only. TCP relays (RFC 6062) are refused.
type relayGenerator struct {
	ip    netip.Addr
	peers Peers
	c     *counters
}

func (g *relayGenerator) Validate() error { return nil }

func (g *relayGenerator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	if network != "udp4" && network != "udp" {
		return nil, nil, fmt.Errorf("%w: %s relays are not offered", ErrRelay, network)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: g.ip.AsSlice(), Port: requestedPort})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrRelay, err)
	}
	return &relayConn{UDPConn: conn, peers: g.peers, c: g.c}, conn.LocalAddr(), nil
}

func (g *relayGenerator) AllocateConn(string, int) (net.Conn, net.Addr, error) {
	return nil, nil, fmt.Errorf("%w: TCP relays are not offered", ErrRelay)
}

// relayConn is a relay socket that sends only to SFU sockets and hears only from them. A
// permission already limits peers to the SFU's IPs; this limits them to its ports, and
// translates the public address of a 1:1 NAT to the local socket behind it.
type relayConn struct {
	*net.UDPConn
	peers Peers
	c     *counters
}

// WriteTo relays a client's datagram. One to an address that is no SFU socket is dropped
// (reported as sent: the client learns nothing it could probe with).
func (r *relayConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var dst netip.AddrPort
	if ua, ok := addr.(*net.UDPAddr); ok {
		dst = ua.AddrPort()
	}
	local, ok := r.peers.Resolve(dst)
	if !ok {
		r.c.refused.Add(1)
		return len(b), nil
	}
	r.c.relayed.Add(1)
	return r.UDPConn.WriteToUDPAddrPort(b, local)
}

// ReadFrom returns the next datagram from an SFU socket, as its address is advertised;
// datagrams from anywhere else are dropped.
func (r *relayConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, src, err := r.UDPConn.ReadFromUDPAddrPort(b)
		if err != nil {
			return n, nil, err
		}
		adv, ok := r.peers.Advertise(src)
		if !ok {
			r.c.refused.Add(1)
			continue
		}
		r.c.returned.Add(1)
		return n, net.UDPAddrFromAddrPort(adv), nil
	}
}

// trackingListener remembers the connections it accepted, so that closing the server also
// ends clients' TURN-over-TCP connections (pion leaves them to the client).
type trackingListener struct {
	net.Listener
	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

func newTrackingListener(ln net.Listener) *trackingListener {
	return &trackingListener{Listener: ln, conns: map[net.Conn]struct{}{}}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) closeConns() {
	l.mu.Lock()
	l.closed = true
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

// tcpWriteTimeout is how long a write to a TURN-over-TCP client may block. A client that takes
// nothing for that long is gone for a live call; its connection is closed rather than left to
// hold its allocation's goroutine until TCP gives up.
const tcpWriteTimeout = 10 * time.Second

// Write writes b whole or closes the connection: a partial write would break the framing.
func (c *trackedConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	if err != nil {
		c.Close()
	}
	return n, err
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return err
}
