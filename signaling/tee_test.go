package signaling

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"ringside/sfu"
)

// countingSink hands out writers that count what they are given.
type countingSink struct {
	mu      sync.Mutex
	writers []*countingWriter
	refuse  error
	panics  bool // in StartTrack
	writing bool // in its writers' WriteRTP
}

type countingWriter struct {
	packets, reports atomic.Int64
	closed           atomic.Int64
	panics           bool
}

func (w *countingWriter) WriteRTP(*rtp.Packet, time.Time) {
	w.packets.Add(1)
	if w.panics {
		panic("analysis bug")
	}
}
func (w *countingWriter) SenderReport(uint64, uint32, time.Time) { w.reports.Add(1) }
func (w *countingWriter) Close()                                 { w.closed.Add(1) }

func (s *countingSink) StartTrack(sfu.TrackInfo) (sfu.TrackWriter, error) {
	if s.panics {
		panic("analysis bug")
	}
	if s.refuse != nil {
		return nil, s.refuse
	}
	w := &countingWriter{panics: s.writing}
	s.mu.Lock()
	s.writers = append(s.writers, w)
	s.mu.Unlock()
	return w, nil
}

var testInfo = sfu.TrackInfo{ParticipantID: "p1", Role: sfu.RoleRep, Kind: webrtc.RTPCodecTypeAudio}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestTeeStopsRecordingNotAnalysis: a failed recording closes the recording's writers and is
// fed no more, while the analysis goes on, for the spans open and for new ones.
func TestTeeStopsRecordingNotAnalysis(t *testing.T) {
	rec, an := &countingSink{}, &countingSink{}
	tee := newTeeSink(rec, an, discard())
	w, err := tee.StartTrack(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	p := &rtp.Packet{}
	w.WriteRTP(p, time.Now())
	w.SenderReport(1, 2, time.Now())
	tee.stopPrimary()
	tee.stopPrimary()
	w.WriteRTP(p, time.Now())
	later, err := tee.StartTrack(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	later.WriteRTP(p, time.Now())
	w.Close()
	later.Close()

	r, a := rec.writers[0], an.writers[0]
	if r.packets.Load() != 1 || r.reports.Load() != 1 || r.closed.Load() != 1 {
		t.Errorf("recording writer: %d packets, %d reports, closed %d times; want 1, 1, 1",
			r.packets.Load(), r.reports.Load(), r.closed.Load())
	}
	if len(rec.writers) != 1 {
		t.Errorf("the stopped recording was asked for %d spans", len(rec.writers))
	}
	if a.packets.Load() != 2 || a.reports.Load() != 1 || a.closed.Load() != 1 || an.writers[1].packets.Load() != 1 {
		t.Errorf("analysis writers: %d packets, %d reports, closed %d; the later one %d packets",
			a.packets.Load(), a.reports.Load(), a.closed.Load(), an.writers[1].packets.Load())
	}
}

// TestTeeAnalysisCannotHurtRecording: an analysis that refuses a track or panics leaves the
// recording as it is; a recording that refuses leaves the analysis.
func TestTeeAnalysisCannotHurtRecording(t *testing.T) {
	for _, an := range []*countingSink{{refuse: errors.New("no")}, {panics: true}} {
		rec := &countingSink{}
		w, err := newTeeSink(rec, an, discard()).StartTrack(testInfo)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteRTP(&rtp.Packet{}, time.Now())
		w.Close()
		if r := rec.writers[0]; r.packets.Load() != 1 || r.closed.Load() != 1 {
			t.Errorf("recording writer beside a failing analysis: %d packets, closed %d", r.packets.Load(), r.closed.Load())
		}
	}

	// An analysis that panics on a packet is stopped; the recording is fed on.
	rec, buggy := &countingSink{}, &countingSink{writing: true}
	w, err := newTeeSink(rec, buggy, discard()).StartTrack(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.WriteRTP(&rtp.Packet{}, time.Now())
	}
	w.Close()
	if r := rec.writers[0]; r.packets.Load() != 3 || r.closed.Load() != 1 {
		t.Errorf("recording writer beside a panicking analysis: %d packets, closed %d", r.packets.Load(), r.closed.Load())
	}
	if n := buggy.writers[0].packets.Load(); n != 1 {
		t.Errorf("the panicking analysis was fed %d packets, want 1 (stopped at its panic)", n)
	}

	an := &countingSink{}
	w, err = newTeeSink(&countingSink{refuse: errors.New("disk full")}, an, discard()).StartTrack(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteRTP(&rtp.Packet{}, time.Now())
	if an.writers[0].packets.Load() != 1 {
		t.Error("a refused recording stopped the analysis")
	}
	if _, err := newTeeSink(&countingSink{refuse: errors.New("disk full")}, &countingSink{panics: true}, discard()).
		StartTrack(testInfo); err == nil {
		t.Error("a track neither sink took is not refused")
	}
	if w, err := newTeeSink(nil, an, discard()).StartTrack(testInfo); err != nil || w == nil {
		t.Errorf("without a recording: %v, %v", w, err)
	}
}

// TestTeeStopRacesWrites: the recording failing while readers write and spans close (run
// with -race): every recording writer is closed exactly once.
func TestTeeStopRacesWrites(t *testing.T) {
	rec, an := &countingSink{}, &countingSink{}
	tee := newTeeSink(rec, an, discard())
	var wg sync.WaitGroup
	for range 4 {
		w, err := tee.StartTrack(testInfo)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			p := &rtp.Packet{}
			for range 2000 {
				w.WriteRTP(p, time.Now())
			}
			w.Close()
		})
	}
	wg.Go(tee.stopPrimary)
	wg.Wait()
	for i, w := range rec.writers {
		if w.closed.Load() != 1 {
			t.Errorf("recording writer %d closed %d times", i, w.closed.Load())
		}
	}
}

// BenchmarkTeeWriteRTP is what the tee adds per packet on the track's reader goroutine, over
// its two writers (counters here).
func BenchmarkTeeWriteRTP(b *testing.B) {
	w, err := newTeeSink(&countingSink{}, &countingSink{}, discard()).StartTrack(testInfo)
	if err != nil {
		b.Fatal(err)
	}
	p, now := &rtp.Packet{}, time.Now()
	b.ReportAllocs()
	for b.Loop() {
		w.WriteRTP(p, now)
	}
}
