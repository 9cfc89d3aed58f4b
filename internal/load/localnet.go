package load

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// localAddrs is the set of addresses load may send to: loopback and this machine's own
// interface addresses. Load traffic never leaves the machine.
type localAddrs map[netip.Addr]bool

func newLocalAddrs() (localAddrs, error) {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("load: interface addresses: %w", err)
	}
	l := localAddrs{}
	for _, a := range ifAddrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			l[p.Addr().Unmap()] = true
		}
	}
	return l, nil
}

func (l localAddrs) allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || l[ip]
}

func (l localAddrs) allowsNet(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && l.allows(a)
}

// checkURL refuses a server URL whose host is not this machine.
func (l localAddrs) checkURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --url must be http(s)://HOST:PORT, got %q", ErrConfig, raw)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("load: resolve %s: %w", u.Hostname(), err)
	}
	for _, ip := range ips {
		if !l.allows(ip) {
			return fmt.Errorf("%w: %s is %s, not an address of this machine; load runs only against a local server",
				ErrNotLocal, u.Hostname(), ip)
		}
	}
	return nil
}

// guardedNet is the network the clients' ICE agents use: the real one, except that a UDP
// packet to an address that is not this machine's is refused. A server advertising another
// address (say its --public-ip) then fails ICE instead of drawing load traffic off the machine.
type guardedNet struct {
	*stdnet.Net
	local localAddrs
}

func newGuardedNet(local localAddrs) (*guardedNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("load: network: %w", err)
	}
	return &guardedNet{Net: n, local: local}, nil
}

func (g *guardedNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := g.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &guardedPacketConn{PacketConn: c, local: g.local}, nil
}

func (g *guardedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := g.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &guardedUDPConn{UDPConn: c, local: g.local}, nil
}

func (g *guardedNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	if raddr != nil && !g.local.allowsNet(raddr.IP) {
		return nil, fmt.Errorf("%w: %s", ErrNotLocal, raddr)
	}
	return g.Net.DialUDP(network, laddr, raddr)
}

func (g *guardedNet) Dial(network, address string) (net.Conn, error) {
	if err := g.checkHostPort(address); err != nil {
		return nil, err
	}
	return g.Net.Dial(network, address)
}

func (g *guardedNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	if raddr != nil && !g.local.allowsNet(raddr.IP) {
		return nil, fmt.Errorf("%w: %s", ErrNotLocal, raddr)
	}
	return g.Net.DialTCP(network, laddr, raddr)
}

func (g *guardedNet) checkHostPort(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !g.local.allows(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotLocal, address)
	}
	return nil
}

func refuse(local localAddrs, addr net.Addr) error {
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	}
	if ip != nil && local.allowsNet(ip) {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrNotLocal, addr)
}

type guardedUDPConn struct {
	transport.UDPConn
	local localAddrs
}

func (c *guardedUDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if err := refuse(c.local, addr); err != nil {
		return 0, err
	}
	return c.UDPConn.WriteTo(p, addr)
}

func (c *guardedUDPConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	if err := refuse(c.local, addr); err != nil {
		return 0, err
	}
	return c.UDPConn.WriteToUDP(p, addr)
}

func (c *guardedUDPConn) WriteMsgUDP(p, oob []byte, addr *net.UDPAddr) (int, int, error) {
	if addr != nil {
		if err := refuse(c.local, addr); err != nil {
			return 0, 0, err
		}
	}
	return c.UDPConn.WriteMsgUDP(p, oob, addr)
}

type guardedPacketConn struct {
	net.PacketConn
	local localAddrs
}

func (c *guardedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if err := refuse(c.local, addr); err != nil {
		return 0, err
	}
	return c.PacketConn.WriteTo(p, addr)
}
