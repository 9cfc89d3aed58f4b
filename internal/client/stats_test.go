package client

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func marshalRTP(t testing.TB, p *rtp.Packet) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRTP(t *testing.T) {
	ext := rtp.Header{Version: 2, SequenceNumber: 7, SSRC: 0xdeadbeef, PayloadType: 96, CSRC: []uint32{1, 2}}
	if err := ext.SetExtension(1, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pkt  *rtp.Packet
		want rtpHeader
	}{
		{"plain", &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 65535, SSRC: 42, PayloadType: 111},
			Payload: make([]byte, 100)}, rtpHeader{seq: 65535, ssrc: 42, payloadType: 111, payload: 100}},
		{"csrc and extension", &rtp.Packet{Header: ext, Payload: make([]byte, 10)},
			rtpHeader{seq: 7, ssrc: 0xdeadbeef, payloadType: 96, payload: 10}},
		{"padding", &rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, SSRC: 1, PayloadType: 96},
			Payload: make([]byte, 5), PaddingSize: 3}, rtpHeader{ssrc: 1, payloadType: 96, payload: 5}},
	}
	for _, tt := range tests {
		got, ok := parseRTP(marshalRTP(t, tt.pkt))
		if !ok || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, ok, tt.want)
		}
	}
	for _, bad := range [][]byte{
		nil,
		make([]byte, 11),
		append([]byte{0x40}, make([]byte, 11)...),              // version 1
		append([]byte{0x81}, make([]byte, 11)...),              // a CSRC that is not there
		append([]byte{0x90}, make([]byte, 13)...),              // a cut extension header
		append([]byte{0xa0}, append(make([]byte, 11), 200)...), // padding over the packet
	} {
		if h, ok := parseRTP(bad); ok {
			t.Errorf("%x parsed as %+v", bad, h)
		}
	}
}

func FuzzParseRTP(f *testing.F) {
	f.Add(marshalRTP(f, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: []byte{1}}))
	f.Add([]byte{0x9f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseRTP(b)
		if ok && (h.payload < 0 || h.payload > len(b)-12) {
			t.Fatalf("payload %d of a %d-byte packet", h.payload, len(b))
		}
	})
}

func TestTrackStatsSequence(t *testing.T) {
	var ts trackStats
	at := time.Unix(0, 0)
	feed := func(ssrc uint32, seq uint16, gap time.Duration) {
		at = at.Add(gap)
		ts.packet(marshalRTP(t, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, SSRC: ssrc,
			PayloadType: 96}, Payload: make([]byte, 10)}), at)
	}
	feed(1, 65534, 0)
	feed(1, 65535, 20*time.Millisecond)
	feed(1, 0, 20*time.Millisecond) // wraps, no gap
	feed(1, 3, 20*time.Millisecond) // 1 and 2 missing
	feed(1, 2, 20*time.Millisecond) // late
	feed(1, 3, 20*time.Millisecond) // duplicate
	feed(2, 100, 700*time.Millisecond)
	feed(2, 101, 20*time.Millisecond)
	ts.packet([]byte{1, 2, 3}, at)

	s := ts.snapshot()
	want := TrackStats{Packets: 8, Bytes: 80, PayloadType: 96, SSRCs: []uint32{1, 2}, MaxSeqGap: 2, Missing: 2,
		Late: 1, Duplicates: 1, Malformed: 1, MaxInterArrival: 700 * time.Millisecond}
	if s.Packets != want.Packets || s.Bytes != want.Bytes || s.PayloadType != want.PayloadType ||
		len(s.SSRCs) != 2 || s.SSRCs[0] != 1 || s.SSRCs[1] != 2 || s.MaxSeqGap != want.MaxSeqGap ||
		s.Missing != want.Missing || s.Late != want.Late || s.Duplicates != want.Duplicates ||
		s.Malformed != want.Malformed || s.MaxInterArrival != want.MaxInterArrival {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	if got := s.Last.Sub(s.First); got != 820*time.Millisecond {
		t.Errorf("first to last %v", got)
	}
}

func TestTrackStatsDoesNotAllocate(t *testing.T) {
	var ts trackStats
	b := marshalRTP(t, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 9}, Payload: make([]byte, 1000)})
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		b[3]++ // next sequence number
		ts.packet(b, now)
	}); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

func TestRTCPStats(t *testing.T) {
	var r RTCPStats
	r.add([]rtcp.Packet{
		&rtcp.PictureLossIndication{}, &rtcp.PictureLossIndication{}, &rtcp.FullIntraRequest{},
		&rtcp.TransportLayerNack{}, &rtcp.SenderReport{}, &rtcp.ReceiverReport{},
		&rtcp.ReceiverEstimatedMaximumBitrate{}, &rtcp.TransportLayerCC{},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{
			{Type: rtcp.SDESCNAME, Text: "a"}, {Type: rtcp.SDESName, Text: "n"}}}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 2, Items: []rtcp.SourceDescriptionItem{
			{Type: rtcp.SDESCNAME, Text: "a"}, {Type: rtcp.SDESCNAME, Text: "b"}}}}},
		&rtcp.Goodbye{Sources: []uint32{1, 2}},
	})
	if r.Packets != 11 || r.PLI != 2 || r.FIR != 1 || r.NACK != 1 || r.SenderReports != 1 ||
		r.ReceiverReports != 1 || r.REMB != 1 || r.TWCC != 1 ||
		len(r.CNAMEs) != 2 || r.CNAMEs[1] != "b" || len(r.Byes) != 2 {
		t.Errorf("%+v", r)
	}
	c := r.clone()
	c.CNAMEs[0] = "changed"
	if r.CNAMEs[0] != "a" {
		t.Error("clone shares CNAMEs")
	}
}
