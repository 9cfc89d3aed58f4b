package sfu

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// feedbackUnderTest is a video track's feedback with what it sent kept.
func feedbackUnderTest(t *testing.T) (*streamFeedback, *[]rtcp.Packet) {
	t.Helper()
	var sent []rtcp.Packet
	f := newFeedback(func(p []rtcp.Packet) error { sent = append(sent, p...); return nil }, discardLogger())
	codec := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}},
	}}
	return f.bind(42, codec, nil), &sent
}

func nacked(pkts []rtcp.Packet) [][]uint16 {
	var out [][]uint16
	for _, p := range pkts {
		if n, ok := p.(*rtcp.TransportLayerNack); ok {
			var seqs []uint16
			for _, pair := range n.Nacks {
				seqs = append(seqs, pair.PacketList()...)
			}
			out = append(out, seqs)
		}
	}
	return out
}

func reports(pkts []rtcp.Packet) []rtcp.ReceptionReport {
	var out []rtcp.ReceptionReport
	for _, p := range pkts {
		if rr, ok := p.(*rtcp.ReceiverReport); ok {
			out = append(out, rr.Reports...)
		}
	}
	return out
}

// TestFeedbackNACKs: a gap is asked for at once, asked again after nackRetry while still
// missing, given up after nackTries, and forgotten as soon as it arrives.
func TestFeedbackNACKs(t *testing.T) {
	s, sent := feedbackUnderTest(t)
	now := time.Unix(1000, 0)
	at := func(seq uint16, dt time.Duration) {
		now = now.Add(dt)
		s.packet(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq) * 3000}}, now)
	}
	at(65530, 0)
	at(65531, 10*time.Millisecond)
	at(2, 10*time.Millisecond) // 65532 … 1 lost, across the wrap
	at(3, 10*time.Millisecond)
	want := []uint16{65532, 65533, 65534, 65535, 0, 1}
	if got := nacked(*sent); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Fatalf("after the gap: NACKs %v, want one for %v", got, want)
	}
	at(65533, 10*time.Millisecond) // a late arrival
	at(4, 100*time.Millisecond)
	want = []uint16{65532, 65534, 65535, 0, 1}
	if got := nacked(*sent); len(got) != 2 || !slices.Equal(got[1], want) {
		t.Fatalf("after nackRetry: NACKs %v, want a second for %v", got, want)
	}
	for i := range 5 {
		at(uint16(5+i), nackRetry)
	}
	if got := nacked(*sent); len(got) != nackTries {
		t.Errorf("%d NACKs for packets that never come, want %d", len(got), nackTries)
	}
	if s.nMissing != 0 {
		t.Errorf("%d packets still tracked after %d tries", s.nMissing, nackTries)
	}
}

// TestFeedbackReceiverReports: one report a second, with the loss since the last one, the
// total, the extended highest sequence number and the round trip fields of the last sender
// report; jitter stays 0 for packets that arrive exactly on their clock.
func TestFeedbackReceiverReports(t *testing.T) {
	s, sent := feedbackUnderTest(t)
	s.nack = false
	start := time.Unix(1000, 0)
	const step = 20 * time.Millisecond // 1800 ticks of the 90 kHz clock
	for i := range 100 {
		seq := uint16(65500 + i)
		if i%10 == 3 {
			continue // 10 % lost
		}
		now := start.Add(time.Duration(i) * step)
		s.packet(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(i) * 1800}}, now)
		if i == 60 {
			s.senderReport(&rtcp.SenderReport{SSRC: 42, NTPTime: 0x0001_2345_6789_0000}, now)
		}
	}
	rs := reports(*sent)
	// The first packet reports at once; then one a second: packets 50 (1 s later) and none
	// after until 100.
	if len(rs) != 2 {
		t.Fatalf("%d reports in 2 s, want 2", len(rs))
	}
	last := rs[1]
	const wantExt = 65500 + 50 // across the wrap: cycle 1, sequence number 14
	if last.SSRC != 42 || last.LastSequenceNumber != wantExt {
		t.Errorf("report for %d up to %#x, want 42 up to %#x", last.SSRC, last.LastSequenceNumber, wantExt)
	}
	// Packets 1…50: 5 of 50 lost.
	if last.TotalLost != 5 || last.FractionLost != 5*256/50 {
		t.Errorf("lost %d, fraction %d/256; want 5, %d/256", last.TotalLost, last.FractionLost, 5*256/50)
	}
	if last.Jitter != 0 {
		t.Errorf("jitter %d for packets exactly on time", last.Jitter)
	}
	r := s.report(start.Add(99*step + 500*time.Millisecond))
	if r.LastSenderReport != 0x2345_6789 || r.Delay != uint32((39*step+500*time.Millisecond).Seconds()*65536) {
		t.Errorf("LSR %#x DLSR %d, want %#x, %d", r.LastSenderReport, r.Delay, 0x2345_6789,
			uint32((39*step+500*time.Millisecond).Seconds()*65536))
	}
}
