package analytics

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzAnalysis feeds packets made from arbitrary bytes (any timestamps, levels and extensions;
// arrivals that only move forward, as a clock does) to two spans, and checks that what comes
// out is well formed: no panic, every interval non-empty and in order, overlaps inside both
// sides' talk, the ratio a percentage, monologues inside their side's talk.
func FuzzAnalysis(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 30, 20, 0, 0, 3, 192, 30, 20})
	f.Add([]byte{255, 255, 255, 200, 10, 255, 0, 0, 0, 0, 127, 1, 0, 0, 3, 192, 30, 0})
	f.Fuzz(checkAnalysis)
}

// checkAnalysis is FuzzAnalysis' body.
func checkAnalysis(t *testing.T, data []byte) {
	start := time.Unix(1000, 0)
	s := New(Config{Store: &memStore{}}).Start("s1", start)
	rep, _ := s.StartTrack(audioInfo("rep"))
	partner, _ := s.StartTrack(audioInfo("partner"))
	var arrival time.Duration
	p := &rtp.Packet{Header: rtp.Header{Version: 2}}
	for i := 0; len(data) >= 6; i++ {
		ts, level, step := binary.BigEndian.Uint32(data), data[4], data[5]
		data = data[6:]
		arrival += time.Duration(step) * 10 * time.Millisecond
		p.Header = rtp.Header{Version: 2, Timestamp: ts}
		if level&0x80 == 0 { // the high bit: a packet without the level
			_ = p.Header.SetExtension(testExt, []byte{level})
		}
		w := rep
		if i%2 == 1 {
			w = partner
		}
		w.WriteRTP(p, start.Add(arrival))
	}
	var sides [2][]Interval
	s.mu.Lock()
	spans := s.spans
	s.mu.Unlock()
	for i, sp := range spans {
		iv, _, _ := sp.finish()
		for k, x := range iv {
			if x.EndMs <= x.StartMs {
				t.Fatalf("span %d interval %d is empty: %+v", i, k, x)
			}
		}
		sides[i] = iv
	}
	sum := Summarize(sides[0], sides[1], Params{})
	for _, talk := range [][]Interval{sum.Rep, sum.Partner} {
		for k := 1; k < len(talk); k++ {
			if talk[k].StartMs <= talk[k-1].EndMs {
				t.Fatalf("talk not sorted and disjoint: %v", talk)
			}
		}
	}
	for _, o := range sum.Overlaps {
		if !touches(sum.Rep, o.StartMs, o.EndMs) || !touches(sum.Partner, o.StartMs, o.EndMs) || o.Len() <= 0 {
			t.Fatalf("overlap %+v outside the talk %v / %v", o, sum.Rep, sum.Partner)
		}
	}
	if r, ok := sum.TalkRatio(); ok && (r < 0 || r > 100) {
		t.Fatalf("talk ratio %v", r)
	}
	for _, m := range []Monologue{sum.RepMonologue, sum.PartnerMonologue} {
		talk := sum.Rep
		if m.By == Partner {
			talk = sum.Partner
		}
		if m.Len() > 0 && (!touches(talk, m.StartMs, m.StartMs+1) || !touches(talk, m.EndMs-1, m.EndMs)) {
			t.Fatalf("monologue %+v not bounded by its side's talk %v", m, talk)
		}
	}
}
