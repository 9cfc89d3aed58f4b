package sfu

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Feedback cadences: Pion's and libwebrtc's defaults.
const (
	twccInterval   = 100 * time.Millisecond // transport-wide congestion feedback
	reportInterval = time.Second            // receiver reports
	nackRetry      = 100 * time.Millisecond // before asking again for a packet still missing
	nackTries      = 3                      // times a packet is asked for
	maxMissing     = 64                     // packets tracked as missing; a longer gap wants a keyframe
)

// feedback is what an up connection tells its publisher about the packets it receives: NACKs
// for lost video packets, receiver reports, and transport-wide congestion feedback for the
// publisher's bandwidth estimation.
//
// It is driven by the packets themselves, on the up-track's reader (or the direct receiver's
// socket loop), not by timers: Pion's interceptors run a ticker goroutine each per connection
// (the TWCC one also a channel hand-off per packet), and at 20 rooms their wake-ups cost more
// CPU than forwarding audio. A track whose packets stop needs no feedback: there is nothing to
// report, nothing missing that a retry would still bring in time.
type feedback struct {
	write func([]rtcp.Packet) error
	log   *slog.Logger
	ssrc  uint32 // the SSRC the feedback is sent from
	start time.Time

	mu       sync.Mutex // guards twcc and lastTWCC: the connection's tracks share them
	twcc     *twcc.Recorder
	lastTWCC time.Time
}

func newFeedback(write func([]rtcp.Packet) error, log *slog.Logger) *feedback {
	f := &feedback{write: write, log: log, ssrc: rand.Uint32(), start: time.Now()}
	f.twcc = twcc.NewRecorder(f.ssrc)
	return f
}

func (f *feedback) send(pkts ...rtcp.Packet) {
	if err := f.write(pkts); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		f.log.Debug("feedback to publisher failed", "err", err)
	}
}

// streamFeedback is one track's share: its reception statistics (RFC 3550 A.3, A.8) and the
// packets it is missing. Only the track's reader uses it (under UpTrack.rmu).
type streamFeedback struct {
	f       *feedback
	ssrc    uint32
	clock   int64 // RTP clock rate
	nack    bool  // the receiver negotiated NACKs for it
	twccExt uint8

	started          bool
	maxSeq           uint16
	cycles           uint32 // sequence number wraps, shifted left 16
	baseSeq          uint32
	received         uint32
	expectedPrior    uint32
	receivedPrior    uint32
	transit          int64
	jitter           float64
	lastSR           uint32 // middle 32 bits of the last sender report's NTP time
	lastSRAt, lastRR time.Time
	missing          [maxMissing]missingPacket
	nMissing         int
	nackBuf          []uint16
}

type missingPacket struct {
	seq   uint16
	tries int
	last  time.Time
}

// bind starts feedback for a track with the codec and header extensions its receiver
// negotiated.
func (f *feedback) bind(ssrc uint32, codec webrtc.RTPCodecParameters, exts []webrtc.RTPHeaderExtensionParameter) *streamFeedback {
	s := &streamFeedback{f: f, ssrc: ssrc, clock: int64(codec.ClockRate), nackBuf: make([]uint16, 0, maxMissing)}
	for _, e := range exts {
		if e.URI == sdp.TransportCCURI && e.ID > 0 && e.ID < 15 {
			s.twccExt = uint8(e.ID)
		}
	}
	for _, fb := range codec.RTCPFeedback {
		if fb.Type == webrtc.TypeRTCPFBNACK && fb.Parameter == "" {
			s.nack = true
		}
	}
	return s
}

// packet takes one received packet, arrived at now.
func (s *streamFeedback) packet(p *rtp.Packet, now time.Time) {
	s.count(p, now)
	if s.twccExt != 0 {
		if ext := p.Header.GetExtension(s.twccExt); len(ext) >= 2 {
			s.recordTWCC(uint16(ext[0])<<8|uint16(ext[1]), now)
		}
	}
	if s.nack && s.nMissing > 0 {
		s.askAgain(now)
	}
	if now.Sub(s.lastRR) >= reportInterval {
		s.lastRR = now
		s.f.send(&rtcp.ReceiverReport{SSRC: s.f.ssrc, Reports: []rtcp.ReceptionReport{s.report(now)}})
	}
}

// count updates the statistics and the missing packets with p.
func (s *streamFeedback) count(p *rtp.Packet, now time.Time) {
	seq := p.SequenceNumber
	arrival := now.Sub(s.f.start).Nanoseconds() * s.clock / int64(time.Second)
	transit := arrival - int64(p.Timestamp)
	if !s.started {
		s.started, s.maxSeq, s.baseSeq, s.transit = true, seq, uint32(seq), transit
		s.received = 1
		return
	}
	s.received++
	d := transit - s.transit
	if d < 0 {
		d = -d
	}
	s.jitter += (float64(d) - s.jitter) / 16
	s.transit = transit
	switch delta := int16(seq - s.maxSeq); {
	case delta > 0:
		for gap := s.maxSeq + 1; gap != seq; gap++ {
			s.addMissing(gap)
		}
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	default: // late or repeated: no longer missing
		s.removeMissing(seq)
	}
}

func (s *streamFeedback) addMissing(seq uint16) {
	if !s.nack {
		return
	}
	if s.nMissing == maxMissing { // the oldest is the least likely to arrive in time
		copy(s.missing[:], s.missing[1:])
		s.nMissing--
	}
	s.missing[s.nMissing] = missingPacket{seq: seq}
	s.nMissing++
}

func (s *streamFeedback) removeMissing(seq uint16) {
	for i := 0; i < s.nMissing; i++ {
		if s.missing[i].seq == seq {
			copy(s.missing[i:], s.missing[i+1:s.nMissing])
			s.nMissing--
			return
		}
	}
}

// askAgain sends one NACK for the missing packets due: never asked for, or asked nackRetry
// ago, at most nackTries times each.
func (s *streamFeedback) askAgain(now time.Time) {
	seqs := s.nackBuf[:0]
	kept := 0
	for i := 0; i < s.nMissing; i++ {
		m := s.missing[i]
		if m.tries > 0 && now.Sub(m.last) < nackRetry {
			s.missing[kept] = m
			kept++
			continue
		}
		if m.tries == nackTries {
			continue // given up on
		}
		m.tries++
		m.last = now
		seqs = append(seqs, m.seq)
		s.missing[kept] = m
		kept++
	}
	s.nMissing = kept
	if len(seqs) > 0 {
		s.f.send(&rtcp.TransportLayerNack{SenderSSRC: s.f.ssrc, MediaSSRC: s.ssrc,
			Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)})
	}
}

func (s *streamFeedback) recordTWCC(seq uint16, now time.Time) {
	f := s.f
	f.mu.Lock()
	f.twcc.Record(s.ssrc, seq, now.Sub(f.start).Microseconds())
	var pkts []rtcp.Packet
	if now.Sub(f.lastTWCC) >= twccInterval {
		f.lastTWCC = now
		pkts = f.twcc.BuildFeedbackPacket()
	}
	f.mu.Unlock()
	if len(pkts) > 0 {
		f.send(pkts...)
	}
}

// report is the track's reception report at now (RFC 3550 6.4.1, A.3).
func (s *streamFeedback) report(now time.Time) rtcp.ReceptionReport {
	extMax := s.cycles | uint32(s.maxSeq)
	expected := extMax - s.baseSeq + 1
	lost := int64(expected) - int64(s.received)
	expectedInterval := expected - s.expectedPrior
	receivedInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval > 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expectedInterval))
	}
	lost = min(max(lost, -(1<<23)), 1<<23-1)
	r := rtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xffffff,
		LastSequenceNumber: extMax,
		Jitter:             uint32(s.jitter),
	}
	if !s.lastSRAt.IsZero() {
		r.LastSenderReport = s.lastSR
		r.Delay = uint32(now.Sub(s.lastSRAt).Seconds() * 65536)
	}
	return r
}

// senderReport takes the publisher's sender report for the track, for the next receiver
// report's round-trip fields.
func (s *streamFeedback) senderReport(sr *rtcp.SenderReport, now time.Time) {
	s.lastSR, s.lastSRAt = uint32(sr.NTPTime>>16), now
}
