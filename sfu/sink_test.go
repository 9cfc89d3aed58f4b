package sfu

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// spanSink hands out writers that count what they are given.
type spanSink struct {
	mu      sync.Mutex
	writers []*spanWriter
	starts  int
	refuse  error // StartTrack fails with it
	decline bool  // StartTrack declines every span
}

type spanWriter struct {
	info             TrackInfo
	packets, reports atomic.Int64
	late             atomic.Int64 // packets after Close
	closed           atomic.Int64
}

func (s *spanSink) StartTrack(info TrackInfo) (TrackWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	switch {
	case s.refuse != nil:
		return nil, s.refuse
	case s.decline:
		return nil, nil
	}
	w := &spanWriter{info: info}
	s.writers = append(s.writers, w)
	return w, nil
}

func (w *spanWriter) WriteRTP(*rtp.Packet, time.Time) {
	w.packets.Add(1)
	if w.closed.Load() > 0 {
		w.late.Add(1)
	}
}
func (w *spanWriter) SenderReport(uint64, uint32, time.Time) { w.reports.Add(1) }
func (w *spanWriter) Close()                                 { w.closed.Add(1) }

// open lists the sink's open spans as "participant-kind", " whisper" appended to a whisper
// span, sorted.
func (s *spanSink) open() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, w := range s.writers {
		if w.closed.Load() == 0 {
			out = append(out, spanName(w.info))
		}
	}
	slices.Sort(out)
	return out
}

func spanName(info TrackInfo) string {
	name := string(info.ParticipantID) + "-" + info.Kind.String()
	if info.Whisper {
		name += " whisper"
	}
	return name
}

// all is every writer the sink handed out, in order.
func (s *spanSink) all() []*spanWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writers)
}

type quietEvents struct{}

func (quietEvents) Offer(string)                             {}
func (quietEvents) Answer(string)                            {}
func (quietEvents) Candidate(Conn, *webrtc.ICECandidateInit) {}
func (quietEvents) Roster([]RosterEntry)                     {}

// sinkRoom is a room with a rep, a partner and a (silent) coach who each publish audio and
// video; the tracks are made by the test, so packets are forwarded by calling forward.
type sinkRoom struct {
	*Room
	tracks map[ParticipantID]map[webrtc.RTPCodecType]*UpTrack
}

func newSinkRoom(t *testing.T) *sinkRoom {
	t.Helper()
	api, err := NewAPI(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := &sinkRoom{
		Room:   NewRoom(RoomParams{ID: "sinks", API: api, Logger: discardLogger()}),
		tracks: map[ParticipantID]map[webrtc.RTPCodecType]*UpTrack{},
	}
	t.Cleanup(r.Close)
	for _, j := range []struct {
		id   ParticipantID
		role Role
	}{{"rep", RoleRep}, {"partner", RolePartner}, {"coach", RoleCoach}} {
		p, err := r.Join(JoinParams{ID: j.id, Role: j.role, Name: string(j.id), Events: quietEvents{}, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		r.publishTracks(p)
	}
	return r
}

// publishTracks publishes fresh audio and video tracks of p.
func (r *sinkRoom) publishTracks(p *Participant) {
	tracks := map[webrtc.RTPCodecType]*UpTrack{}
	for kind, codec := range map[webrtc.RTPCodecType]webrtc.RTPCodecCapability{
		webrtc.RTPCodecTypeAudio: OpusCodec.RTPCodecCapability,
		webrtc.RTPCodecTypeVideo: VP8Codec.RTPCodecCapability,
	} {
		t := testUpTrack(kind)
		t.owner, t.trackID, t.codec = p.id, string(p.id)+"-"+kind.String(), codec
		t.lastPLI.Store(time.Now().Add(time.Hour).UnixNano()) // no publisher to ask for keyframes
		tracks[kind] = t
	}
	r.tracks[p.id] = tracks
	r.publish(p, tracks)
}

// forwardAll forwards one packet and one sender report on every track.
func (r *sinkRoom) forwardAll() {
	for _, tracks := range r.tracks {
		for _, t := range tracks {
			t.forward(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1}, Payload: []byte{1}}, time.Now())
			t.senderReport(&rtcp.SenderReport{SSRC: t.ssrc}, time.Now())
		}
	}
}

func (r *sinkRoom) mode(t *testing.T, m Mode) {
	t.Helper()
	if _, err := r.SetMode("coach", m, ""); err != nil {
		t.Fatal(err)
	}
}

func wantOpen(t *testing.T, what string, s *spanSink, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := s.open(); !slices.Equal(got, want) {
		t.Errorf("%s: open spans %q, want %q", what, got, want)
	}
}

// TestSinksGetTheRecordersSpans: every sink gets a span of each track the policy grants the
// recorder, never a silent coach's, with the Whisper flag; a coach going from whisper to open
// ends the whisper span and starts new ones, in every sink alike.
func TestSinksGetTheRecordersSpans(t *testing.T) {
	r := newSinkRoom(t)
	rec, an := &spanSink{}, &spanSink{}
	r.SetSink("recording", rec)
	r.SetSink("analysis", an)
	talk := []string{"partner-audio", "partner-video", "rep-audio", "rep-video"}
	for _, s := range []*spanSink{rec, an} {
		wantOpen(t, "silent coach", s, talk...)
	}

	r.mode(t, ModeWhisper)
	for _, s := range []*spanSink{rec, an} {
		wantOpen(t, "whispering coach", s, append(slices.Clone(talk), "coach-audio whisper")...)
	}
	whisper := map[*spanSink]*spanWriter{}
	for _, s := range []*spanSink{rec, an} {
		all := s.all()
		if len(all) != len(talk)+1 {
			t.Fatalf("%d spans started, want %d", len(all), len(talk)+1)
		}
		whisper[s] = all[len(talk)]
	}

	r.mode(t, ModeOpen)
	for _, s := range []*spanSink{rec, an} {
		wantOpen(t, "open coach", s, append(slices.Clone(talk), "coach-audio", "coach-video")...)
		if n := whisper[s].closed.Load(); n != 1 {
			t.Errorf("the whisper span was closed %d times", n)
		}
	}

	r.forwardAll()
	for i, s := range []*spanSink{rec, an} {
		for _, w := range s.all() {
			want := int64(1)
			if w.closed.Load() > 0 {
				want = 0
			}
			if w.packets.Load() != want || w.reports.Load() != want {
				t.Errorf("sink %d, span %s: %d packets, %d reports; want %d", i, spanName(w.info),
					w.packets.Load(), w.reports.Load(), want)
			}
		}
	}

	r.mode(t, ModeSilent)
	for _, s := range []*spanSink{rec, an} {
		wantOpen(t, "silent again", s, talk...)
	}
}

// TestDetachingASinkLeavesTheOthers: detaching the recording (it failed) closes its writers
// once and feeds it no more, for open spans and new ones; the analysis beside it goes on.
func TestDetachingASinkLeavesTheOthers(t *testing.T) {
	r := newSinkRoom(t)
	rec, an := &spanSink{}, &spanSink{}
	r.SetSink("recording", rec)
	r.SetSink("analysis", an)
	r.forwardAll()
	r.SetSink("recording", nil)
	r.SetSink("recording", nil)
	r.forwardAll()
	r.mode(t, ModeWhisper) // a new span

	if n := len(rec.all()); n != 4 {
		t.Errorf("the detached recording was asked for %d spans, want the first 4", n)
	}
	for _, w := range rec.all() {
		if w.packets.Load() != 1 || w.reports.Load() != 1 || w.closed.Load() != 1 {
			t.Errorf("recording span %s: %d packets, %d reports, closed %d times; want 1, 1, 1",
				spanName(w.info), w.packets.Load(), w.reports.Load(), w.closed.Load())
		}
	}
	wantOpen(t, "analysis", an, "partner-audio", "partner-video", "rep-audio", "rep-video", "coach-audio whisper")
	for _, w := range an.all()[:4] {
		if w.packets.Load() != 2 || w.reports.Load() != 2 {
			t.Errorf("analysis span %s: %d packets, %d reports; want 2, 2", spanName(w.info), w.packets.Load(), w.reports.Load())
		}
	}

	// Attached again (or another sink under the name): it starts afresh, the analysis as it was.
	again := &spanSink{}
	r.SetSink("recording", again)
	wantOpen(t, "recording attached again", again, "partner-audio", "partner-video", "rep-audio", "rep-video", "coach-audio whisper")
	if n := len(an.all()); n != 5 {
		t.Errorf("attaching a recording made the analysis start %d spans, want 5 in all", n)
	}

	r.Close()
	for _, s := range []*spanSink{an, again} {
		for _, w := range s.all() {
			if w.closed.Load() != 1 {
				t.Errorf("span %s closed %d times by the room's close", spanName(w.info), w.closed.Load())
			}
		}
	}
}

// TestSinkRefusalIsItsOwn: a sink that refuses a track loses that span only, and is asked
// again at the next change; one that declines is not asked again until the grant changes.
func TestSinkRefusalIsItsOwn(t *testing.T) {
	r := newSinkRoom(t)
	full, an, quiet := &spanSink{refuse: errors.New("disk full")}, &spanSink{}, &spanSink{decline: true}
	r.SetSink("recording", full)
	r.SetSink("analysis", an)
	r.SetSink("quiet", quiet)
	r.forwardAll()
	wantOpen(t, "analysis beside a refusing recording", an, "partner-audio", "partner-video", "rep-audio", "rep-video")
	for _, w := range an.all() {
		if w.packets.Load() != 1 {
			t.Errorf("analysis span %s: %d packets", spanName(w.info), w.packets.Load())
		}
	}
	for _, tracks := range r.tracks {
		for _, tr := range tracks {
			if n := len(tr.out.Load().sinks); n > 1 {
				t.Errorf("track %s feeds %d writers, want the analysis' at most", tr.trackID, n)
			}
		}
	}
	starts := quiet.starts

	full.mu.Lock()
	full.refuse = nil
	full.mu.Unlock()
	r.SetMute("rep", true, true) // a change the policy's grants do not see
	wantOpen(t, "recording asked again", full, "partner-audio", "partner-video", "rep-audio", "rep-video")
	if quiet.starts != starts {
		t.Errorf("a sink that declined was asked %d times more", quiet.starts-starts)
	}
}

// TestDetachRacesWrites (run with -race): a sink detached while its tracks' readers forward
// has each writer closed exactly once and written after its close by no more than the one
// packet that may have been on its way; the other sink is not closed.
func TestDetachRacesWrites(t *testing.T) {
	r := newSinkRoom(t)
	r.mode(t, ModeOpen)
	rec, an := &spanSink{}, &spanSink{}
	r.SetSink("recording", rec)
	r.SetSink("analysis", an)
	var wg sync.WaitGroup
	for _, tracks := range r.tracks {
		for _, tr := range tracks {
			wg.Go(func() {
				p := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{1}}
				for i := range 2000 {
					p.SequenceNumber = uint16(i)
					tr.forward(p, time.Now())
				}
			})
		}
	}
	wg.Go(func() { r.SetSink("recording", nil) })
	wg.Wait()
	for _, w := range rec.all() {
		if w.closed.Load() != 1 || w.late.Load() > 1 {
			t.Errorf("recording span %s: closed %d times, %d packets after", spanName(w.info), w.closed.Load(), w.late.Load())
		}
	}
	for _, w := range an.all() {
		if w.closed.Load() != 0 || w.packets.Load() != 2000 {
			t.Errorf("analysis span %s: closed %d times, %d packets", spanName(w.info), w.closed.Load(), w.packets.Load())
		}
	}
}

// TestRemoveSinkTakesOneWriter: equal writers of two spans on one track are removed one by one.
func TestRemoveSinkTakesOneWriter(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeAudio)
	w := &spanWriter{}
	up.addSink(w)
	up.addSink(w)
	up.removeSink(w)
	up.forward(&rtp.Packet{}, time.Now())
	if n := w.packets.Load(); n != 1 {
		t.Errorf("after removing one of two equal writers, it got %d packets, want 1", n)
	}
}
