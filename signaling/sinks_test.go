package signaling_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/sfu"
	"ringside/signaling"
)

// countingSink hands out writers that count what they are given; it stands for the recording
// and for the talk analysis.
type countingSink struct {
	refuse       error // StartTrack fails with it
	panics       bool  // in StartTrack
	writersPanic bool  // in their WriteRTP
	mu           sync.Mutex
	writers      []*countingWriter
	finished     atomic.Bool
}

type countingWriter struct {
	info             sfu.TrackInfo
	panics           bool
	packets, reports atomic.Int64
	closed           atomic.Int64
}

func (w *countingWriter) WriteRTP(*rtp.Packet, time.Time) {
	w.packets.Add(1)
	if w.panics {
		panic("analysis bug")
	}
}
func (w *countingWriter) SenderReport(uint64, uint32, time.Time) { w.reports.Add(1) }
func (w *countingWriter) Close()                                 { w.closed.Add(1) }

func (s *countingSink) StartTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	if s.panics {
		panic("analysis bug")
	}
	if s.refuse != nil {
		return nil, s.refuse
	}
	w := &countingWriter{info: info, panics: s.writersPanic}
	s.mu.Lock()
	s.writers = append(s.writers, w)
	s.mu.Unlock()
	return w, nil
}

// As a signaling.Recording and a signaling.Analysis.
func (s *countingSink) ModeChange(string, string, string, time.Time) {}
func (s *countingSink) Marker(string, string, string, time.Time)     {}
func (s *countingSink) Close(context.Context) error                  { return nil }
func (s *countingSink) Finish(context.Context) error                 { s.finished.Store(true); return nil }

func (s *countingSink) all() []*countingWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writers)
}

// open lists the open spans as "role-kind", " whisper" appended to a whisper span, sorted.
func (s *countingSink) open() []string {
	var out []string
	for _, w := range s.all() {
		if w.closed.Load() == 0 {
			name := string(w.info.Role) + "-" + w.info.Kind.String()
			if w.info.Whisper {
				name += " whisper"
			}
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// fed reports whether every open writer has had at least n packets.
func (s *countingSink) fed(n int64) bool {
	for _, w := range s.all() {
		if w.closed.Load() == 0 && w.packets.Load() < n {
			return false
		}
	}
	return true
}

func (s *countingSink) packets() []int64 {
	var out []int64
	for _, w := range s.all() {
		out = append(out, w.packets.Load())
	}
	return out
}

type fakeRecorder struct{ rec *countingSink }

func (f fakeRecorder) StartRecording(string, time.Time) (signaling.Recording, error) {
	return f.rec, nil
}

type fakeAnalytics struct{ an *countingSink }

func (f fakeAnalytics) StartAnalysis(string, time.Time) signaling.Analysis { return f.an }

// sinkEnv is a server that records to rec and analyses with an, and a recorded session in
// which a rep and a partner talk, with their four tracks flowing.
func sinkEnv(t *testing.T, rec, an *countingSink) (e *env, tk tokens, rep, partner *client.Client) {
	t.Helper()
	e = newEnv(t, func(c *signaling.Config) {
		c.Recorder, c.Analytics = fakeRecorder{rec}, fakeAnalytics{an}
	})
	tk = e.recordedSession("Discovery call")
	rep = e.dial(tk.rep, client.Audio|client.Video)
	partner = e.dial(tk.partner, client.Audio|client.Video)
	for _, k := range []webrtc.RTPCodecType{audio, video} {
		flowing(t, partner, rep.ID(), k, 20)
		flowing(t, rep, partner.ID(), k, 20)
	}
	return e, tk, rep, partner
}

// talk is the spans of a rep and a partner, as open lists them.
var talk = []string{"partner-audio", "partner-video", "rep-audio", "rep-video"}

// TestFailedRecordingLeavesTheAnalysis: the room gives the recording and the analysis the same
// spans; when the recording fails its spans are closed and fed no more, old and new, while the
// analysis goes on and the call too.
func TestFailedRecordingLeavesTheAnalysis(t *testing.T) {
	rec, an := &countingSink{}, &countingSink{}
	e, tk, rep, partner := sinkEnv(t, rec, an)
	waitFor(t, "both sinks fed the four tracks", 5*time.Second, func() bool {
		return slices.Equal(rec.open(), talk) && slices.Equal(an.open(), talk) && rec.fed(10) && an.fed(10)
	})

	e.srv.RecordingFailed(tk.session, errors.New("disk full"))
	waitFor(t, "the recording's spans closed", 5*time.Second, func() bool { return len(rec.open()) == 0 })
	for _, c := range []*client.Client{rep, partner} {
		waitFor(t, "the failure announced", 5*time.Second, func() bool {
			r, ok := c.Recording()
			return ok && r.State == "failed"
		})
	}
	// Whatever was on its way when the recording was detached has arrived by the time the
	// analysis has had 20 more packets of every track; after that the recording gets nothing.
	base := an.packets()
	grown := func() bool {
		for i, n := range an.packets() {
			if n < base[i]+20 {
				return false
			}
		}
		return true
	}
	waitFor(t, "the analysis fed on", 5*time.Second, grown)
	recorded := rec.packets()
	base = an.packets()
	waitFor(t, "the analysis fed on", 5*time.Second, grown)
	if got := rec.packets(); !slices.Equal(got, recorded) {
		t.Errorf("the failed recording was fed on: %v packets, then %v", recorded, got)
	}
	for _, w := range rec.all() {
		if w.closed.Load() != 1 {
			t.Errorf("recording span %s-%s closed %d times", w.info.Role, w.info.Kind, w.closed.Load())
		}
	}
	flowing(t, partner, rep.ID(), audio, 20)

	// A new span (a coach whispering) goes to the analysis only.
	coach := e.dial(tk.coach, client.Audio)
	if err := coach.SetMode(proto.ModeWhisper, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the analysis' whisper span", 5*time.Second, func() bool {
		return slices.Equal(an.open(), append([]string{"coach-audio whisper"}, talk...))
	})
	if n := len(rec.all()); n != len(talk) {
		t.Errorf("the failed recording got %d spans, want the first %d", n, len(talk))
	}
}

// TestFailingAnalysisLeavesTheCallAndRecording: an analysis that refuses its tracks, panics
// starting them or panics on a packet costs neither the call nor the recording anything; a
// panicking writer is fed no more, and still closed when the room closes.
func TestFailingAnalysisLeavesTheCallAndRecording(t *testing.T) {
	for _, c := range []struct {
		name string
		an   *countingSink
	}{
		{"refuses", &countingSink{refuse: errors.New("no")}},
		{"panics starting", &countingSink{panics: true}},
		{"panics writing", &countingSink{writersPanic: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &countingSink{}
			_, _, rep, partner := sinkEnv(t, rec, c.an)
			waitFor(t, "the recording fed the four tracks", 5*time.Second, func() bool {
				return slices.Equal(rec.open(), talk) && rec.fed(50)
			})
			flowing(t, partner, rep.ID(), audio, 20)
			flowing(t, rep, partner.ID(), video, 20)
			if c.an.writersPanic {
				if !slices.Equal(c.an.open(), talk) {
					t.Errorf("analysis spans %q, want %q", c.an.open(), talk)
				}
				for _, w := range c.an.all() {
					if n := w.packets.Load(); n != 1 {
						t.Errorf("a panicking analysis writer was fed %d packets, want 1", n)
					}
				}
			}

			for _, c := range []*client.Client{rep, partner} {
				if err := c.Leave(); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "the room closed", 5*time.Second, func() bool {
				return len(rec.open()) == 0 && len(c.an.open()) == 0 && c.an.finished.Load()
			})
			for _, s := range []*countingSink{rec, c.an} {
				for _, w := range s.all() {
					if w.closed.Load() != 1 {
						t.Errorf("span %s-%s closed %d times", w.info.Role, w.info.Kind, w.closed.Load())
					}
				}
			}
		})
	}
}
