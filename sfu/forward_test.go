package sfu

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// countingWriter is a webrtc.TrackLocalWriter that keeps what the last write carried.
type countingWriter struct {
	n        int
	last     rtp.Header
	lastSize int
}

func (w *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.n++
	w.last = *h
	w.lastSize = len(payload)
	return h.MarshalSize() + len(payload), nil
}

func (w *countingWriter) Write(b []byte) (int, error) { return len(b), nil }

func testUpTrack(kind webrtc.RTPCodecType) *UpTrack {
	t := &UpTrack{owner: "pub", trackID: "pub-" + kind.String(), kind: kind}
	t.out.Store(&fanout{})
	return t
}

// connectableVideo is a VP8 up-track to connect real down connections to. It has no publisher
// to ask for keyframes, which binding a down-track does, so it never asks.
func connectableVideo() *UpTrack {
	t := testUpTrack(webrtc.RTPCodecTypeVideo)
	t.codec = VP8Codec.RTPCodecCapability
	t.lastPLI.Store(math.MaxInt64)
	return t
}

func boundDown(t *UpTrack, recv ParticipantID, ssrc uint32, pt uint8) (*DownTrack, *countingWriter) {
	d := newDownTrack(t, recv, true)
	w := &countingWriter{}
	d.bind.Store(&binding{ssrc: ssrc, pt: pt, write: w})
	t.addDown(d)
	return d, w
}

// vp8Packet builds an RTP packet whose payload starts a VP8 frame (keyframe or not).
func vp8Packet(seq uint16, ts uint32, key bool) *rtp.Packet {
	payload := make([]byte, 1100)
	payload[0] = 0x10 // S=1, PID=0, no extensions
	if key {
		payload[1] = 0x00 // frame tag P=0: keyframe
	} else {
		payload[1] = 0x01
	}
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, Timestamp: ts, SSRC: 1234, Marker: true},
		Payload: payload,
	}
}

func TestDownTrackRewritesAndGates(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo)
	d, w := boundDown(up, "r1", 0xabcdef, 96)

	up.forward(vp8Packet(10, 900, false), time.Now())
	if w.n != 0 || d.Stats().Dropped != 1 {
		t.Fatalf("a video down-track must wait for a keyframe: writes=%d stats=%+v", w.n, d.Stats())
	}
	up.forward(vp8Packet(11, 1800, true), time.Now())
	up.forward(vp8Packet(12, 2700, false), time.Now())
	if w.n != 2 {
		t.Fatalf("writes after keyframe = %d, want 2", w.n)
	}
	if w.last.SSRC != 0xabcdef || w.last.PayloadType != 96 || w.last.SequenceNumber != 12 || w.last.Timestamp != 2700 {
		t.Errorf("rewritten header = %+v", w.last)
	}
	if w.last.Extension || len(w.last.Extensions) != 0 {
		t.Errorf("header extensions must not cross connections: %+v", w.last)
	}
	if s := d.Stats(); s.Packets != 2 || s.Bytes == 0 {
		t.Errorf("stats = %+v", s)
	}

	up.removeDown(d)
	up.forward(vp8Packet(13, 3600, true), time.Now())
	if w.n != 2 {
		t.Errorf("a removed down-track still receives packets")
	}
}

func TestDownTrackUnboundDropsSilently(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeAudio)
	d := newDownTrack(up, "r1", true)
	up.addDown(d)
	up.forward(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1}, Payload: []byte{1, 2, 3}}, time.Now())
	if s := d.Stats(); s.Packets != 0 {
		t.Errorf("unbound down-track wrote: %+v", s)
	}
}

func TestIsVP8Keyframe(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"empty", nil, false},
		{"key, no ext", []byte{0x10, 0x00, 0, 0}, true},
		{"delta, no ext", []byte{0x10, 0x01}, false},
		{"not start of partition", []byte{0x00, 0x00}, false},
		{"key, 15-bit picture id", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"key, 7-bit picture id", []byte{0x90, 0x80, 0x05, 0x00}, true},
		{"delta, picture id + tl0 + tid", []byte{0x90, 0xe0, 0x05, 0x01, 0x40, 0x01}, false},
		{"key, picture id + tl0 + tid", []byte{0x90, 0xe0, 0x05, 0x01, 0x40, 0x00}, true},
		{"truncated ext", []byte{0x90}, false},
		{"truncated after picture id", []byte{0x90, 0x80, 0x81, 0x23}, false},
	}
	for _, c := range cases {
		if got := isVP8Keyframe(c.payload); got != c.want {
			t.Errorf("%s: isVP8Keyframe = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestForwardAllocatesNothing: the fan-out to three down-tracks, with and without sinks'
// writers beside them, allocates nothing per packet.
func TestForwardAllocatesNothing(t *testing.T) {
	for _, sinks := range []int{0, 2} { // two: the recording and the talk analysis
		up := testUpTrack(webrtc.RTPCodecTypeVideo)
		for i := range 3 {
			boundDown(up, ParticipantID(rune('a'+i)), uint32(i+1), 96)
		}
		for range sinks {
			up.addSink(&spanWriter{})
		}
		pkt, now := vp8Packet(1, 0, true), time.Now()
		allocs := testing.AllocsPerRun(1000, func() {
			pkt.SequenceNumber++
			up.forward(pkt, now)
		})
		if allocs != 0 {
			t.Errorf("forwarding to 3 down-tracks and %d sinks allocates %.1f times per packet", sinks, allocs)
		}
	}
}

// BenchmarkForward measures the SFU's own per-packet work for one published packet reaching
// three receivers (the reference shape: rep, partner and two silent coaches each get every
// track of the others), excluding Pion's SRTP and socket write.
func BenchmarkForward(b *testing.B) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo)
	for i := range 3 {
		boundDown(up, ParticipantID(rune('a'+i)), uint32(i+1), 96)
	}
	pkt, now := vp8Packet(1, 0, true), time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt.Payload)))
	for b.Loop() {
		pkt.SequenceNumber++
		up.forward(pkt, now)
	}
}

// BenchmarkReadPath measures unmarshal plus fan-out, what the reader goroutine does per packet.
func BenchmarkReadPath(b *testing.B) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo)
	for i := range 3 {
		boundDown(up, ParticipantID(rune('a'+i)), uint32(i+1), 96)
	}
	raw, err := vp8Packet(1, 0, true).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var pkt rtp.Packet
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := pkt.Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
		up.forward(&pkt, now)
	}
}

// TestNACKHistory: a video down-track answers a NACK with the packet it wrote, header and
// payload, while it is within nackHistory packets of the newest; not a packet it never wrote,
// an older one, or one from the future.
func TestNACKHistory(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo)
	d, w := boundDown(up, "r1", 7, 96)
	const first, last = 100, 100 + 3*nackHistory
	for seq := uint16(first); seq <= last; seq++ {
		if seq == last-5 {
			continue // lost on the way in: never written
		}
		p := vp8Packet(seq, uint32(seq)*10, true)
		p.Payload = p.Payload[:int(seq)%300+10] // each packet its own length
		up.forward(p, time.Now())
	}
	written := w.n
	for _, c := range []struct {
		seq  uint16
		sent bool
	}{
		{last, true},
		{last - nackHistory + 1, true},
		{last - nackHistory, false}, // one too old
		{last - 5, false},           // never written
		{last + 1, false},           // not yet
		{first, false},
	} {
		before := w.n
		d.resend(c.seq)
		if sent := w.n > before; sent != c.sent {
			t.Errorf("NACK for %d: resent %v, want %v", c.seq, sent, c.sent)
			continue
		}
		if c.sent && (w.last.SequenceNumber != c.seq || w.last.SSRC != 7 || w.lastSize != int(c.seq)%300+10) {
			t.Errorf("NACK for %d resent sequence %d, SSRC %d, %d bytes", c.seq, w.last.SequenceNumber, w.last.SSRC, w.lastSize)
		}
	}
	if got := d.resent.Load(); got != 2 || w.n != written+2 {
		t.Errorf("resent %d packets (%d writes), want 2", got, w.n-written)
	}
}
