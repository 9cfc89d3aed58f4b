package sfu

import (
	"log/slog"
	"time"
)

// Config configures the media plane shared by all rooms.
type Config struct {
	// UDPPortMin and UDPPortMax bound the ports ICE gathers on (0 = any). They do not apply
	// in single-port mode (MediaPort).
	UDPPortMin, UDPPortMax uint16
	// PublicIP, when set, replaces host candidates' addresses (1:1 NAT, e.g. a cloud VM).
	PublicIP string
	// KeyframeInterval is the fixed cadence of keyframe requests to every video publisher
	// (default 5 s); see docs/no-trace.md for why it is unconditional.
	KeyframeInterval time.Duration
	// IncludeLoopback gathers loopback candidates too (tests on one machine).
	IncludeLoopback bool
	// MediaPort, when not 0, carries all media of all PeerConnections on this one UDP port
	// (Pion's UDP mux) and ICE-TCP (passive) on the same TCP port, so that a firewall needs
	// two rules. It needs Media, opened by ListenMedia.
	MediaPort uint16
	// Media, when set, is where ICE gets its sockets: the single-port muxes, or else the
	// ephemeral sockets of each connection, tracked so that Media can tell which addresses
	// are the SFU's own (what the embedded TURN server may relay to). Nil: plain ephemeral
	// sockets, untracked. Whoever opened it closes it after the last PeerConnection.
	Media *MediaNet
	// PionReceive has up connections receive through Pion's own stack only, not the direct
	// receiver (direct.go), which needs Media. For comparison (make bench) and as a way out.
	PionReceive bool
	// Logger receives Pion's errors (as warnings) and warnings (as debug lines); nil is
	// slog.Default().
	Logger *slog.Logger
	// Metrics, when set, counts tracks, packets and RTCP feedback for Prometheus (register it
	// with the server's registry). Nil counts nothing.
	Metrics *Metrics
}
