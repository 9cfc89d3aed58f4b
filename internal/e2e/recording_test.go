package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ringside/internal/app"
	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/proto"
	"ringside/recorder"
)

// keyframeWait is how late a video span may start after it became live: the test publishers
// loop a fixture with a keyframe every second and ignore keyframe requests.
const keyframeWait = time.Second

func within(got, want time.Duration) bool {
	tol := max(want/20, 300*time.Millisecond)
	return got >= want-tol && got <= want+tol
}

// TestRecordedSessionWithCoachModes records a session with three Pion peers while the coach
// goes silent → whisper → open → silent, and checks every file with ffprobe.
func TestRecordedSessionWithCoachModes(t *testing.T) {
	srv := apptest.Start(t)
	id, _, tokens := srv.CreateSession(t, "Recorded role-play")

	rep := dial(t, srv.WSURL, tokens["rep"], client.Audio|client.Video)
	partner := dial(t, srv.WSURL, tokens["partner"], client.Audio|client.Video)
	if w, _ := rep.Welcome(); !w.Recording {
		t.Errorf("welcome says the session is not being recorded")
	}
	flowing(t, partner, rep.ID(), audio, 5)
	repLive := time.Now()
	flowing(t, rep, partner.ID(), audio, 5)
	partnerLive := time.Now()

	coach := dial(t, srv.WSURL, tokens["coach"], client.Audio|client.Video)
	flowing(t, coach, rep.ID(), audio, 25) // silent: the coach's media must not be recorded

	setMode := func(mode string) time.Time {
		t.Helper()
		if err := coach.SetMode(mode, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "mode "+mode, 5*time.Second, func() bool {
			m, ok := coach.Mode()
			return ok && m.Mode == mode
		})
		return time.Now()
	}
	whisperAt := setMode(proto.ModeWhisper)
	time.Sleep(3 * time.Second)
	openAt := setMode(proto.ModeOpen)
	time.Sleep(3 * time.Second)
	silentAt := setMode(proto.ModeSilent)
	time.Sleep(time.Second)
	if err := coach.Mark("strong close"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "marker stored", 5*time.Second, func() bool { return len(coach.Marks()) == 1 })

	srv.EndSession(t, id) // finalizes the recording before it returns
	endAt := time.Now()

	dir := filepath.Join(srv.DataDir, app.RecordingsDir, id)
	m, err := recorder.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != recorder.SessionComplete {
		t.Errorf("manifest status %q", m.Status)
	}
	type span struct {
		who, kind string
		whisper   bool
		live      time.Duration
	}
	want := map[span]bool{
		{"rep", "audio", false, endAt.Sub(repLive)}:         true,
		{"rep", "video", false, endAt.Sub(repLive)}:         true,
		{"partner", "audio", false, endAt.Sub(partnerLive)}: true,
		{"partner", "video", false, endAt.Sub(partnerLive)}: true,
		{"coach", "audio", true, openAt.Sub(whisperAt)}:     true,
		{"coach", "audio", false, silentAt.Sub(openAt)}:     true,
		{"coach", "video", false, silentAt.Sub(openAt)}:     true,
	}
	found := map[span]bool{}
	for _, tr := range m.Tracks {
		if tr.File == "" {
			t.Errorf("span without a file: %+v", tr)
			continue
		}
		var match *span
		for s := range want {
			if s.who == tr.Role && s.kind == tr.Kind && s.whisper == tr.Whisper && !found[s] {
				match = &s
				break
			}
		}
		if match == nil {
			t.Errorf("unexpected recorded span %+v (a silent coach's media must not be recorded)", tr)
			continue
		}
		found[*match] = true
		p := ffprobe(t, filepath.Join(dir, tr.File))
		wantCodec := map[string]string{"audio": "opus", "video": "vp8"}[tr.Kind]
		if p.Codec != wantCodec {
			t.Errorf("%s %s: codec %q, want %q", tr.Role, tr.Kind, p.Codec, wantCodec)
		}
		if !p.Monotonic || p.Packets < 10 {
			t.Errorf("%s %s: %d packets, increasing timestamps %v", tr.Role, tr.Kind, p.Packets, p.Monotonic)
		}
		live := match.live
		ok := within(p.Duration, live)
		if tr.Kind == "video" { // it starts at the first keyframe after it went live
			ok = p.Duration >= live-keyframeWait-300*time.Millisecond && p.Duration <= live+300*time.Millisecond
		}
		if !ok {
			t.Errorf("%s %s (whisper %v): file lasts %s, the track was live %s", tr.Role, tr.Kind,
				tr.Whisper, p.Duration.Round(time.Millisecond), live.Round(time.Millisecond))
		}
	}
	for s := range want {
		if !found[s] {
			t.Errorf("no recording of %s %s (whisper %v)", s.who, s.kind, s.whisper)
		}
	}
	if len(m.ModeChanges) != 3 || len(m.Markers) != 1 {
		t.Errorf("manifest has %d mode changes and %d markers, want 3 and 1", len(m.ModeChanges), len(m.Markers))
	}

	// The database holds the same spans.
	detail := srv.Session(t, id)
	if got := len(detail.Tracks); got != len(want) {
		t.Errorf("session detail lists %d tracks, want %d: %s", got, len(want), fmt.Sprint(detail.Tracks))
	}
}
