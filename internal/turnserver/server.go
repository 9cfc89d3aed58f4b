// Package turnserver is Ringside's embedded TURN server (pion/turn) for phones on networks
// that block UDP or sit behind strict NATs: it listens on UDP and TCP (and TLS when given a
// certificate), authenticates clients with short-lived TURN REST credentials minted for each
// participant (Credentials), and relays only to the SFU's own media sockets.
//
// The relay is the part that needs care: a TURN server that relays anywhere is an open proxy
// into the host's network. Here every permission is checked against Peers (the SFU's media
// addresses), every datagram a relay sends goes to a port Peers owns, and every datagram it
// receives from anyone else is dropped.
//
// It must not know of sessions, rooms or signaling: it is told what the SFU's sockets are and
// hands out credentials for whichever participant id it is asked about.
package turnserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v4"

	"ringside/internal/proto"
)

// Realm is the TURN realm of the embedded server.
const Realm = "ringside"

// DefaultMaxAllocations bounds one participant's live allocations. A browser makes one per
// TURN URL, local network and PeerConnection (2 × 3 × 2 on a phone with Wi-Fi and cellular).
const DefaultMaxAllocations = 24

// Peers is what the relay may talk to: the SFU's media sockets (sfu.MediaNet implements it).
type Peers interface {
	// Resolve reports whether dst, as a client names it, is an SFU socket, and where to send.
	Resolve(dst netip.AddrPort) (netip.AddrPort, bool)
	// Advertise reports whether src is an SFU socket, and how clients know it.
	Advertise(src netip.AddrPort) (netip.AddrPort, bool)
	// OwnsIP reports whether a permission towards ip may be granted.
	OwnsIP(ip netip.Addr) bool
}

// Config configures a Server.
type Config struct {
	// Port is the UDP and TCP port on every IPv4 interface (0: a free port, the same for
	// both; 3478 is TURN's).
	Port uint16
	// TLS, when set, also serves TURN over TLS on TLSPort (0: a free port).
	TLS     *tls.Config
	TLSPort uint16
	// Host is the address clients are told to reach the server at (an IP or DNS name).
	Host string
	// TLSHost is the host of turns: URLs; it must match the certificate (default Host).
	TLSHost string
	// RelayIP is the local IPv4 address relay sockets are bound to; the SFU's sockets must be
	// reachable from it (any address of this machine is, for sockets on this machine).
	RelayIP netip.Addr
	// Peers are the only addresses relayed to (required).
	Peers Peers
	// Secret keys the credentials (required; see NewSecret).
	Secret string
	// CredentialTTL is how long minted credentials last (0: DefaultCredentialTTL).
	CredentialTTL time.Duration
	// MaxAllocations bounds one participant's live allocations (0: DefaultMaxAllocations).
	MaxAllocations int
	// Logger receives the server's logs (nil: slog.Default()).
	Logger *slog.Logger
}

// Stats counts what the server did since it started.
type Stats struct {
	Allocations        int    // live allocations
	AllocationsMade    uint64 // allocations ever made
	MadeOverTCP        uint64 // of those, by clients over TCP or TLS
	AuthFailures       uint64 // requests with unknown, forged or expired credentials
	PermissionsRefused uint64 // permissions (and channel binds) towards another address
	PacketsRelayed     uint64 // datagrams sent from a relay to an SFU socket
	PacketsReturned    uint64 // datagrams from an SFU socket relayed back to a client
	PacketsRefused     uint64 // datagrams to or from an address that is no SFU socket
}

// Server is a running TURN server.
type Server struct {
	// Immutable after Listen:
	cfg   Config
	log   *slog.Logger
	creds Credentials
	turn  *turn.Server
	udp   net.PacketConn
	tcp   *trackingListener
	tls   *trackingListener // nil without TLS
	port  uint16
	tport uint16

	counters counters

	mu      sync.Mutex // guards the following fields
	byOwner map[string]int
	closed  bool
}

type counters struct {
	made, madeTCP, authFailed, refusedPerm, relayed, returned, refused atomic.Uint64
	live                                                               atomic.Int64
}

// Listen starts a server.
func Listen(cfg Config) (*Server, error) {
	switch {
	case cfg.Peers == nil:
		return nil, fmt.Errorf("%w: no peers to relay to", ErrConfig)
	case cfg.Secret == "":
		return nil, fmt.Errorf("%w: no secret", ErrConfig)
	case cfg.Host == "":
		return nil, fmt.Errorf("%w: no host for the URLs", ErrConfig)
	case !cfg.RelayIP.Is4():
		return nil, fmt.Errorf("%w: relay IP %v is not an IPv4 address", ErrConfig, cfg.RelayIP)
	}
	if cfg.MaxAllocations <= 0 {
		cfg.MaxAllocations = DefaultMaxAllocations
	}
	if cfg.TLSHost == "" {
		cfg.TLSHost = cfg.Host
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, byOwner: map[string]int{}}
	s.creds = Credentials{Secret: cfg.Secret, TTL: cfg.CredentialTTL}

	var err error
	if s.udp, s.tcp, err = listenPair(cfg.Port); err != nil {
		return nil, err
	}
	s.port = uint16(s.udp.LocalAddr().(*net.UDPAddr).Port)
	if cfg.TLS != nil {
		ln, err := net.ListenTCP("tcp4", &net.TCPAddr{Port: int(cfg.TLSPort)})
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("%w: TLS port %d: %v", ErrListen, cfg.TLSPort, err)
		}
		s.tls = newTrackingListener(ln)
		s.tport = uint16(ln.Addr().(*net.TCPAddr).Port)
	}
	s.creds.URLs = s.urls()

	gen := &relayGenerator{ip: cfg.RelayIP, peers: cfg.Peers, c: &s.counters}
	perm := s.permit
	lcs := []turn.ListenerConfig{{Listener: s.tcp, RelayAddressGenerator: gen, PermissionHandler: perm}}
	if s.tls != nil {
		lcs = append(lcs, turn.ListenerConfig{
			Listener: tls.NewListener(s.tls, cfg.TLS), RelayAddressGenerator: gen, PermissionHandler: perm,
		})
	}
	s.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:       Realm,
		AuthHandler: s.authenticate,
		QuotaHandler: func(username, _ string, _ net.Addr) bool {
			return s.quota(username)
		},
		EventHandler: turn.EventHandler{
			OnAuth: func(_, _ net.Addr, _, _, _, _ string, ok bool) {
				if !ok {
					s.counters.authFailed.Add(1)
				}
			},
			OnAllocationCreated: func(src, _ net.Addr, _, username, _ string, relay net.Addr, _ int) {
				s.allocated(username, +1)
				s.counters.made.Add(1)
				transport := "udp"
				if _, ok := src.(*net.TCPAddr); ok {
					transport = "tcp"
					s.counters.madeTCP.Add(1)
				}
				s.log.Debug("TURN allocation", "client", src.String(), "transport", transport,
					"user", username, "relay", relay.String())
			},
			OnAllocationDeleted: func(_, _ net.Addr, _, username, _ string) {
				s.allocated(username, -1)
			},
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: s.udp, RelayAddressGenerator: gen, PermissionHandler: perm,
		}},
		ListenerConfigs: lcs,
		LoggerFactory:   pionLogs{log: log},
	})
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("%w: %v", ErrListen, err)
	}
	log.Info("TURN server listening", "port", s.port, "tls_port", s.tport, "urls", strings.Join(s.creds.URLs, " "),
		"relay_ip", cfg.RelayIP.String())
	return s, nil
}

// listenPair binds UDP and TCP on one port; port 0 finds one free for both.
func listenPair(port uint16) (net.PacketConn, *trackingListener, error) {
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{Port: int(port)})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: UDP port %d: %v", ErrListen, port, err)
		}
		got := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.ListenTCP("tcp4", &net.TCPAddr{Port: got})
		if err == nil {
			return udp, newTrackingListener(tcp), nil
		}
		udp.Close()
		if port != 0 || attempt == 20 {
			return nil, nil, fmt.Errorf("%w: TCP port %d: %v", ErrListen, got, err)
		}
	}
}

func (s *Server) urls() []string {
	hostPort := net.JoinHostPort(s.cfg.Host, strconv.Itoa(int(s.port)))
	urls := []string{"turn:" + hostPort + "?transport=udp", "turn:" + hostPort + "?transport=tcp"}
	if s.tls != nil {
		urls = append(urls, "turns:"+net.JoinHostPort(s.cfg.TLSHost, strconv.Itoa(int(s.tport)))+"?transport=tcp")
	}
	return urls
}

// ICEServers is the welcome's iceServers for a participant: the server's URLs with
// credentials minted for it. It has the signature of signaling.Config.ICEServers.
func (s *Server) ICEServers(participantID string) []proto.ICEServer {
	return s.creds.ICEServers(participantID)
}

// Credentials mints and checks the server's credentials.
func (s *Server) Credentials() Credentials { return s.creds }

// URLs are the turn: (UDP, TCP) and turns: URLs clients are given.
func (s *Server) URLs() []string { return append([]string(nil), s.creds.URLs...) }

// Port is the UDP and TCP port; TLSPort the TLS one (0 without TLS).
func (s *Server) Port() uint16    { return s.port }
func (s *Server) TLSPort() uint16 { return s.tport }

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Allocations:        int(s.counters.live.Load()),
		AllocationsMade:    s.counters.made.Load(),
		MadeOverTCP:        s.counters.madeTCP.Load(),
		AuthFailures:       s.counters.authFailed.Load(),
		PermissionsRefused: s.counters.refusedPerm.Load(),
		PacketsRelayed:     s.counters.relayed.Load(),
		PacketsReturned:    s.counters.returned.Load(),
		PacketsRefused:     s.counters.refused.Load(),
	}
}

// Close stops the server: its listeners, every client's TCP or TLS connection, and (as pion
// tears them down) every allocation.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.turn.Close()
	s.tcp.closeConns()
	if s.tls != nil {
		s.tls.closeConns()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("turnserver: close: %w", err)
	}
	return nil
}

func (s *Server) closeListeners() {
	s.udp.Close()
	s.tcp.Close()
	s.tcp.closeConns()
	if s.tls != nil {
		s.tls.Close()
	}
}

// authenticate is pion's AuthHandler: the long-term key of a well-formed, unexpired username.
// A forged password fails pion's message integrity check against that key.
func (s *Server) authenticate(username, realm string, src net.Addr) ([]byte, bool) {
	password, _, err := s.creds.Check(username)
	if err != nil {
		s.counters.authFailed.Add(1)
		s.log.Debug("TURN credentials refused", "client", src.String(), "err", err)
		return nil, false
	}
	return turn.GenerateAuthKey(username, realm, password), true
}

// permit is pion's PermissionHandler, for CreatePermission and ChannelBind.
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	if ip, ok := netip.AddrFromSlice(peer); ok && s.cfg.Peers.OwnsIP(ip.Unmap()) {
		return true
	}
	s.counters.refusedPerm.Add(1)
	s.log.Info("TURN permission refused: not an address of the SFU", "client", client.String(), "peer", peer.String())
	return false
}

// quota admits an allocation while the participant has fewer than MaxAllocations.
func (s *Server) quota(username string) bool {
	_, owner, _ := strings.Cut(username, ":")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byOwner[owner] < s.cfg.MaxAllocations
}

func (s *Server) allocated(username string, delta int) {
	_, owner, _ := strings.Cut(username, ":")
	s.counters.live.Add(int64(delta))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byOwner[owner] += delta; s.byOwner[owner] <= 0 {
		delete(s.byOwner, owner)
	}
}
