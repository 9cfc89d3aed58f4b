package load

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured. Packet counts, loss, jitter and latency cover the measured
// window only; joins cover the whole run.
type Result struct {
	Rooms          int `json:"rooms"`
	CoachesAsked   int `json:"coachesAsked"`
	CoachesPerRoom int `json:"coachesPerRoom"`
	Expected       int `json:"participants"`
	Joined         int `json:"joined"`
	Failed         int `json:"failed"`
	// JoinErrors are the first distinct reasons joins failed.
	JoinErrors  []string `json:"joinErrors,omitempty"`
	JoinSeconds float64  `json:"joinSeconds"`

	WindowSeconds   float64 `json:"windowSeconds"`
	PacketsSent     uint64  `json:"packetsSent"`
	PacketsReceived uint64  `json:"packetsReceived"`
	// Lost counts sequence numbers skipped at the receivers; LossPercent is Lost over
	// received plus lost. Late counts packets older than one already received (reordered,
	// or retransmitted after a NACK).
	Lost        uint64  `json:"lost"`
	LossPercent float64 `json:"lossPercent"`
	Late        uint64  `json:"late"`
	Duplicates  uint64  `json:"duplicates"`
	// ReceiversPerPacket is (received + lost) / sent: how many receivers each sent packet
	// reached on average.
	ReceiversPerPacket float64 `json:"receiversPerPacket"`
	// JitterMs is the mean RFC 3550 interarrival jitter of the received streams, in real
	// time from the send stamps; JitterMaxMs the largest stream's.
	JitterMs    float64 `json:"jitterMs"`
	JitterMaxMs float64 `json:"jitterMaxMs"`
	// Latency is the one-way time from a client handing a packet to Pion to a client reading
	// it, through the server.
	Latency Quantiles `json:"latencyMs"`
	// JoinToMedia runs from the moment a participant could first receive media (the later
	// of its own join and the first join of another rep or partner of its room) to its first
	// packet.
	JoinToMedia Quantiles `json:"joinToMediaMs"`
	ModeChanges int64     `json:"modeChanges"`
	ModeErrors  int64     `json:"modeErrors"`
	// ProtocolErrors counts error messages the server sent and failures the clients met.
	ProtocolErrors int `json:"protocolErrors"`

	Server *ServerResult `json:"server,omitempty"`
	// Generator is this load generator's own CPU over the window: it shares the machine with
	// a server on it, so the two figures are read side by side.
	Generator *GeneratorResult `json:"generator,omitempty"`
}

// GeneratorResult is the load generator's own share of the machine.
type GeneratorResult struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	// CPUPercent is of one core, over the window.
	CPUPercent float64 `json:"cpuPercent"`
	// MicrosPerReceivedPacket is its CPU per packet its clients received: they receive every
	// forwarded packet through Pion's whole stack, and send what the server forwards.
	MicrosPerReceivedPacket float64 `json:"microsPerReceivedPacket"`
}

// Quantiles are percentiles of a duration, in milliseconds.
type Quantiles struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95,omitempty"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max,omitempty"`
}

// ServerResult is the server's side, from /proc (by pid) or its metrics endpoint.
type ServerResult struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	// CPUPercent is of one core, over the window.
	CPUPercent float64 `json:"cpuPercent"`
	// ForwardedPackets is what the server forwarded in the window: its own counter when the
	// metrics endpoint has it (ForwardedSource "metrics"), else what the clients received plus
	// what they lost ("clients").
	ForwardedPackets     float64 `json:"forwardedPackets"`
	ForwardedSource      string  `json:"forwardedSource"`
	MicrosPerForwarded   float64 `json:"microsPerForwardedPacket"`
	RSSMiB               float64 `json:"rssMiB"`
	BaselineRSSMiB       float64 `json:"baselineRssMiB"`
	RSSPerParticipantMiB float64 `json:"rssPerParticipantMiB"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func lossPercent(received, lost uint64) float64 {
	if received+lost == 0 {
		return 0
	}
	return 100 * float64(lost) / float64(received+lost)
}

func (res *Result) fill(r *run, before, after counts, window time.Duration) {
	res.WindowSeconds = window.Seconds()
	res.PacketsSent = after.sent - before.sent
	res.PacketsReceived = after.received - before.received
	res.Lost = after.missing - before.missing
	res.LossPercent = lossPercent(res.PacketsReceived, res.Lost)
	res.Late = after.late - before.late
	res.Duplicates = after.duplicates - before.duplicates
	if res.PacketsSent > 0 {
		res.ReceiversPerPacket = float64(res.PacketsReceived+res.Lost) / float64(res.PacketsSent)
	}
	mean, most := r.meter.jitter()
	res.JitterMs, res.JitterMaxMs = ms(mean), ms(most)
	n, q := r.meter.latency.quantiles(0.5, 0.95, 0.99, 1)
	res.Latency = Quantiles{Samples: n, P50: ms(q[0]), P95: ms(q[1]), P99: ms(q[2]), Max: ms(q[3])}
	res.ModeChanges, res.ModeErrors = r.modeChange.Load(), r.modeErrors.Load()
	for _, m := range r.members {
		if m.c != nil {
			res.ProtocolErrors += len(m.c.Errors()) + len(m.c.Failures())
		}
	}
}

func (res *Result) fillGenerator(cpu0, cpu1 time.Duration, window time.Duration) {
	if cpu1 <= 0 || window <= 0 {
		return
	}
	g := &GeneratorResult{CPUSeconds: (cpu1 - cpu0).Seconds()}
	g.CPUPercent = 100 * g.CPUSeconds / window.Seconds()
	if res.PacketsReceived > 0 {
		g.MicrosPerReceivedPacket = g.CPUSeconds * 1e6 / float64(res.PacketsReceived)
	}
	res.Generator = g
}

func (res *Result) fillServer(baseline, s0, s1 serverSample, before, after counts) {
	if !s0.haveCPU && !s1.haveRSS {
		return
	}
	s := &ServerResult{}
	if s0.haveCPU && s1.haveCPU {
		cpu := s1.cpu - s0.cpu
		s.CPUSeconds = cpu.Seconds()
		if secs := s1.at.Sub(s0.at).Seconds(); secs > 0 {
			s.CPUPercent = 100 * s.CPUSeconds / secs
		}
		if s0.haveFwd && s1.haveFwd {
			s.ForwardedPackets, s.ForwardedSource = s1.forwarded-s0.forwarded, "metrics"
		} else {
			s.ForwardedPackets = float64((after.received + after.missing) - (before.received + before.missing))
			s.ForwardedSource = "clients"
		}
		if s.ForwardedPackets > 0 {
			s.MicrosPerForwarded = s.CPUSeconds * 1e6 / s.ForwardedPackets
		}
	}
	if s1.haveRSS {
		s.RSSMiB = mib(s1.rss)
		if baseline.haveRSS {
			s.BaselineRSSMiB = mib(baseline.rss)
			if res.Joined > 0 && s1.rss > baseline.rss {
				s.RSSPerParticipantMiB = mib(s1.rss-baseline.rss) / float64(res.Joined)
			}
		}
	}
	res.Server = s
}

// WriteText writes the result for people.
func (res *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("rooms\t%d (%d coaches each%s)", res.Rooms, res.CoachesPerRoom, coachNote(res))
	p("sessions joined\t%d of %d, %d failed, in %.1fs", res.Joined, res.Expected, res.Failed, res.JoinSeconds)
	for _, e := range res.JoinErrors {
		p("  join error\t%s", e)
	}
	p("window\t%.1fs", res.WindowSeconds)
	p("packets sent\t%d (%.0f/s)", res.PacketsSent, perSec(res.PacketsSent, res.WindowSeconds))
	p("packets received\t%d (%.0f/s, %.2f receivers per packet)", res.PacketsReceived,
		perSec(res.PacketsReceived, res.WindowSeconds), res.ReceiversPerPacket)
	p("loss\t%.3f%% (%d lost, %d late, %d duplicate)", res.LossPercent, res.Lost, res.Late, res.Duplicates)
	p("jitter\t%.2fms mean, %.2fms worst stream", res.JitterMs, res.JitterMaxMs)
	p("one-way latency\tp50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms  (%d packets)",
		res.Latency.P50, res.Latency.P95, res.Latency.P99, res.Latency.Max, res.Latency.Samples)
	p("join → first media\tp50 %.0fms  p99 %.0fms  (%d participants)",
		res.JoinToMedia.P50, res.JoinToMedia.P99, res.JoinToMedia.Samples)
	if res.ModeChanges > 0 || res.ModeErrors > 0 {
		p("coach mode changes\t%d (%d failed to send)", res.ModeChanges, res.ModeErrors)
	}
	p("protocol errors\t%d", res.ProtocolErrors)
	if s := res.Server; s != nil {
		if s.ForwardedSource != "" {
			p("server cpu\t%.2fs (%.0f%% of a core), %.0f packets forwarded (from %s)",
				s.CPUSeconds, s.CPUPercent, s.ForwardedPackets, s.ForwardedSource)
			p("server cpu per forwarded packet\t%.2fµs", s.MicrosPerForwarded)
		}
		if s.RSSMiB > 0 {
			p("server rss\t%.1fMiB (%.1fMiB before the run; %.3fMiB per participant)",
				s.RSSMiB, s.BaselineRSSMiB, s.RSSPerParticipantMiB)
		}
	}
	if g := res.Generator; g != nil {
		p("load generator cpu\t%.2fs (%.0f%% of a core; %.2fµs per packet received), beside the server",
			g.CPUSeconds, g.CPUPercent, g.MicrosPerReceivedPacket)
	}
	return tw.Flush()
}

func coachNote(res *Result) string {
	if res.CoachesPerRoom < res.CoachesAsked {
		return fmt.Sprintf("; %d asked, the server issued fewer invites", res.CoachesAsked)
	}
	return ""
}

func perSec(n uint64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// String is WriteText's output.
func (res *Result) String() string {
	var b strings.Builder
	_ = res.WriteText(&b)
	return b.String()
}
