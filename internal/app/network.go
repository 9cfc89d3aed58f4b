package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"

	"ringside/internal/proto"
	"ringside/internal/turnserver"
	"ringside/sfu"
)

// networks is what media travels on besides the SFU's own PeerConnections: the media
// plane's sockets (single-port mode, or tracked ephemeral ones) and the TURN server phones
// fall back to.
type networks struct {
	media *sfu.MediaNet
	turn  *turnserver.Server                           // nil: no embedded TURN server
	ice   func(participantID string) []proto.ICEServer // nil: no ICE servers in welcomes
}

// startNetworks opens the single-port media listeners (cfg.MediaPort) and starts the
// embedded TURN server (cfg.TURNPort), or prepares credentials for an external one
// (cfg.TURNURLs). The TURN server relays only to the sockets of the MediaNet it is given,
// which is why one exists whenever TURN runs.
func startNetworks(cfg Config, sfuCfg sfu.Config, certs *certificates, log *slog.Logger) (*networks, error) {
	n := &networks{}
	if len(cfg.TURNURLs) > 0 {
		creds := turnserver.Credentials{Secret: cfg.TURNSecret, URLs: cfg.TURNURLs}
		n.ice = creds.ICEServers
		log.Info("TURN: external server", "urls", cfg.TURNURLs)
	}
	// The media plane's sockets are always a MediaNet's: the direct receiver needs to know
	// them, as does the embedded TURN server.
	var err error
	if n.media, err = sfu.ListenMedia(sfuCfg); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if cfg.MediaPort != 0 {
		log.Info("media on one port", "udp", cfg.MediaPort, "tcp", cfg.MediaPort)
	}
	if cfg.TURNPort == 0 || n.ice != nil {
		return n, nil
	}

	secret := cfg.TURNSecret
	if secret == "" {
		if secret, err = turnserver.NewSecret(); err != nil {
			n.close()
			return nil, err
		}
	}
	tc := turnserver.Config{
		Port:    cfg.TURNPort,
		Host:    turnHost(cfg),
		RelayIP: relayIP(),
		Peers:   n.media,
		Secret:  secret,
		Logger:  log.With("component", "turn"),
	}
	// TURN over TLS only with a real certificate: browsers check a turns: server's
	// certificate and offer no way to accept a self-signed one.
	if certs != nil && !certs.selfSigned && cfg.TURNTLSPort != 0 {
		tc.TLS, tc.TLSPort, tc.TLSHost = certs.config(), cfg.TURNTLSPort, tlsHost(cfg, tc.Host)
	}
	if n.turn, err = turnserver.Listen(tc); err != nil {
		n.close()
		return nil, fmt.Errorf("app: %w", err)
	}
	n.ice = n.turn.ICEServers
	return n, nil
}

// close stops the TURN server and then the media listeners; call it after the last
// PeerConnection has closed.
func (n *networks) close() error {
	var errs []error
	if n.turn != nil {
		errs = append(errs, n.turn.Close())
	}
	if n.media != nil {
		errs = append(errs, n.media.Close())
	}
	return errors.Join(errs...)
}

// turnHost is where phones reach the TURN server: --public-ip, else the host of an explicit
// --public-url, else this machine's address.
func turnHost(cfg Config) string {
	if cfg.PublicIP != "" {
		return cfg.PublicIP
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" && u.Hostname() != "" {
		return u.Hostname()
	}
	if ip, ok := machineIPv4(); ok {
		return ip.String()
	}
	return "127.0.0.1"
}

// tlsHost is the host of turns: URLs: the public URL's DNS name, which the certificate
// names, else the TURN host.
func tlsHost(cfg Config, turnHost string) string {
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		return u.Hostname()
	}
	return turnHost
}

// relayIP is where TURN relay sockets are bound: an address of this machine, from which the
// SFU's sockets (on this machine, whichever of its addresses) are reachable.
func relayIP() netip.Addr {
	if ip, ok := machineIPv4(); ok {
		return ip
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// checkNetworks rejects contradictory network and TLS settings.
func (c *Config) checkNetworks() error {
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("app: set both the TLS certificate and key, or neither")
	case c.TLSCert != "" && c.TLSSelfSigned:
		return errors.New("app: a TLS certificate and a self-signed one are exclusive")
	case c.MediaPort != 0 && c.UDPPortMin != 0:
		return errors.New("app: single-port media and a UDP port range are exclusive")
	case c.MediaPort != 0 && c.TURNPort == c.MediaPort && len(c.TURNURLs) == 0:
		return fmt.Errorf("app: media and TURN both on port %d", c.MediaPort)
	case c.TURNTLSPort != 0 && (c.TURNTLSPort == c.TURNPort || c.TURNTLSPort == c.MediaPort):
		return fmt.Errorf("app: TURN over TLS on port %d, which is taken", c.TURNTLSPort)
	case len(c.TURNURLs) > 0 && c.TURNSecret == "":
		return errors.New("app: an external TURN server needs its shared secret (--turn-secret)")
	case len(c.TURNURLs) > 0:
		return turnserver.ValidateURLs(c.TURNURLs)
	}
	return nil
}
