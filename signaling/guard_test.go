package signaling

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtp"

	"ringside/sfu"
)

// buggy is an analysis sink and writer that panics where told to, counting every call.
type buggy struct {
	startPanics, startErr bool
	panicsIn              string // "write", "report" or "close"
	packets, reports      int
	closed                int
}

func (b *buggy) StartTrack(sfu.TrackInfo) (sfu.TrackWriter, error) {
	switch {
	case b.startPanics:
		panic("analysis bug")
	case b.startErr:
		return nil, errors.New("no")
	}
	return b, nil
}

func (b *buggy) WriteRTP(*rtp.Packet, time.Time) {
	b.packets++
	if b.panicsIn == "write" {
		panic("analysis bug")
	}
}

func (b *buggy) SenderReport(uint64, uint32, time.Time) {
	b.reports++
	if b.panicsIn == "report" {
		panic("analysis bug")
	}
}

func (b *buggy) Close() {
	b.closed++
	if b.panicsIn == "close" {
		panic("analysis bug")
	}
}

func guarded(b *buggy) guardedSink { return guardedSink{sink: b, log: slog.New(slog.DiscardHandler)} }

// TestGuardedAnalysis: a panic anywhere in the analysis is recovered; a panicking StartTrack
// declines its span, a panicking writer is fed no more but still closed; a refusal is the
// analysis' own error, for the room to log.
func TestGuardedAnalysis(t *testing.T) {
	if w, err := guarded(&buggy{startPanics: true}).StartTrack(sfu.TrackInfo{}); w != nil || err != nil {
		t.Errorf("a panicking StartTrack gave %v, %v; want a declined span", w, err)
	}
	if w, err := guarded(&buggy{startErr: true}).StartTrack(sfu.TrackInfo{}); w != nil || err == nil {
		t.Errorf("a refusing StartTrack gave %v, %v; want its error", w, err)
	}
	for _, where := range []string{"write", "report", "close", ""} {
		b := &buggy{panicsIn: where}
		w, err := guarded(b).StartTrack(sfu.TrackInfo{})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			w.WriteRTP(&rtp.Packet{}, time.Now())
			w.SenderReport(1, 2, time.Now())
		}
		w.Close()
		want := map[string][2]int{"write": {1, 0}, "report": {1, 1}, "close": {3, 3}, "": {3, 3}}[where]
		if b.packets != want[0] || b.reports != want[1] || b.closed != 1 {
			t.Errorf("panicking in %q: fed %d packets and %d reports, closed %d times; want %d, %d, 1",
				where, b.packets, b.reports, b.closed, want[0], want[1])
		}
	}
}

func TestGuardedWriteRTPAllocatesNothing(t *testing.T) {
	w, err := guarded(&buggy{}).StartTrack(sfu.TrackInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p, now := &rtp.Packet{}, time.Now()
	if allocs := testing.AllocsPerRun(1000, func() { w.WriteRTP(p, now) }); allocs != 0 {
		t.Errorf("the guard allocates %.1f times per packet", allocs)
	}
}

// BenchmarkGuardedWriteRTP is what the guard adds per packet to the analysis' writer (a
// counter here), on the track's reader goroutine.
func BenchmarkGuardedWriteRTP(b *testing.B) {
	w, err := guarded(&buggy{}).StartTrack(sfu.TrackInfo{})
	if err != nil {
		b.Fatal(err)
	}
	p, now := &rtp.Packet{}, time.Now()
	b.ReportAllocs()
	for b.Loop() {
		w.WriteRTP(p, now)
	}
}
