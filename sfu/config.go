package sfu

import "time"

// Config configures the media plane shared by all rooms.
type Config struct {
	// UDPPortMin and UDPPortMax bound the ports ICE gathers on (0 = any).
	UDPPortMin, UDPPortMax uint16
	// PublicIP, when set, replaces host candidates' addresses (1:1 NAT, e.g. a cloud VM).
	PublicIP string
	// KeyframeInterval is the fixed cadence of keyframe requests to every video publisher
	// (default 5 s); see docs/no-trace.md for why it is unconditional.
	KeyframeInterval time.Duration
	// IncludeLoopback gathers loopback candidates too (tests on one machine).
	IncludeLoopback bool
}
