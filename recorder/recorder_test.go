package recorder

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/store"
	"ringside/sfu"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRecordsOpusAndVP8 records the committed fixtures, packetized into RTP as a browser
// sends them, and checks the files with the real ffprobe and ffmpeg: codecs, dimensions,
// durations, strictly increasing timestamps, clean decoding, Cues; and the manifest and the
// catalog rows.
func TestRecordsOpusAndVP8(t *testing.T) {
	checkLeaks(t)
	const sid = "s1"
	start := time.Now()
	st := testStore(t, sid, start, map[string]string{"rep0001aaaa": store.RoleRep})
	rec := New(Config{Dir: t.TempDir(), Catalog: st, Logger: testLogger(t)})
	sess, err := rec.StartSession(sid, start)
	if err != nil {
		t.Fatal(err)
	}
	audio, video := loadOpus(t), loadVP8(t)

	var keyframeRequests atomic.Int32
	vi := vp8Info("rep0001aaaa", sfu.RoleRep)
	vi.RequestKeyframe = func() { keyframeRequests.Add(1) }
	wa, err := sess.StartTrack(opusInfo("rep0001aaaa", sfu.RoleRep))
	if err != nil {
		t.Fatal(err)
	}
	wv, err := sess.StartTrack(vi)
	if err != nil {
		t.Fatal(err)
	}
	as := newStream(audio, 1000, 100, start.Add(200*time.Millisecond))
	vs := newStream(video, 5000, 200, start.Add(200*time.Millisecond))
	feed(t, wa, as.framesFor(audio.duration(), 20*time.Millisecond))
	feed(t, wv, vs.framesFor(video.duration(), 20*time.Millisecond))
	if rec.Stats().Tracks != 2 {
		t.Errorf("Stats().Tracks = %d while recording, want 2", rec.Stats().Tracks)
	}
	wa.Close()
	wv.Close()
	closeSession(t, sess)

	dir := filepath.Join(rec.dir, sid)
	m := readManifest(t, dir)
	if m.Status != SessionComplete || m.SessionID != sid || len(m.Tracks) != 2 {
		t.Fatalf("manifest: %+v", m)
	}
	want := map[string]clip{store.KindAudio: audio, store.KindVideo: video}
	for _, tr := range m.Tracks {
		c := want[tr.Kind]
		if tr.Status != store.TrackComplete || tr.File == "" {
			t.Errorf("%s track: status %q file %q", tr.Kind, tr.Status, tr.File)
			continue
		}
		path := filepath.Join(dir, tr.File)
		p := ffprobe(t, path)
		s := p.Streams[0]
		wantCodec := map[string]string{store.KindAudio: "opus", store.KindVideo: "vp8"}[tr.Kind]
		if s.CodecName != wantCodec || tr.Codec != wantCodec {
			t.Errorf("%s: codec %q (manifest %q), want %q", tr.File, s.CodecName, tr.Codec, wantCodec)
		}
		if tr.Kind == store.KindVideo && (s.Width != 320 || s.Height != 240) {
			t.Errorf("%s: %dx%d, want 320x240", tr.File, s.Width, s.Height)
		}
		if tr.Kind == store.KindAudio && s.Channels != 1 {
			t.Errorf("%s: %d channels, want 1", tr.File, s.Channels)
		}
		if d := p.duration(t); !within(d, c.duration(), 0.05) {
			t.Errorf("%s: duration %v, fed %v", tr.File, d, c.duration())
		}
		if d := time.Duration(tr.DurationMs) * time.Millisecond; !within(d, c.duration(), 0.05) {
			t.Errorf("%s: manifest duration %v, fed %v", tr.File, d, c.duration())
		}
		if n := len(p.pts(t)); n != len(c.frames) {
			t.Errorf("%s: %d packets, fed %d frames", tr.File, n, len(c.frames))
		}
		if tr.StartOffsetMs < 200 || tr.StartOffsetMs > 260 {
			t.Errorf("%s: start offset %d ms, want about 220", tr.File, tr.StartOffsetMs)
		}
		checkSeekable(t, path, 3)
		decodeClean(t, path)
	}

	rows, err := st.Tracks(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d catalog rows, want 2", len(rows))
	}
	for _, r := range rows {
		mt := m.track(r.ID)
		if mt == nil {
			t.Errorf("catalog row %s is not in the manifest", r.ID)
			continue
		}
		if r.Status != store.TrackComplete || r.File != sid+"/"+mt.File || r.DurationMs != mt.DurationMs ||
			r.OffsetMs != mt.StartOffsetMs || r.EndedAt == nil || r.Codec != mt.Codec {
			t.Errorf("catalog row %+v does not match manifest %+v", r, *mt)
		}
	}
	if keyframeRequests.Load() < 1 {
		t.Error("the video span never asked for a keyframe")
	}
	if st := rec.Stats(); st.BytesWritten == 0 || st.Failures != 0 || st.Sessions != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

// TestOffsetsFromSenderReports places spans through the senders' RTCP reports: a video whose
// first packets arrive 300 ms late still lines up with its audio, even though the sender's
// clock is 5 s off the server's; a publisher without reports is placed by arrival.
func TestOffsetsFromSenderReports(t *testing.T) {
	checkLeaks(t)
	start := time.Now()
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t)})
	sess, err := rec.StartSession("s2", start)
	if err != nil {
		t.Fatal(err)
	}
	audio, video := loadOpus(t), loadVP8(t)
	const skew = 5 * time.Second // the sender's clock is ahead of the server's
	const netDelay = 20 * time.Millisecond

	record := func(pid string, c clip, captureAt time.Duration, ts0 uint32, firstDelay time.Duration, reports bool) {
		info := opusInfo(pid, sfu.RolePartner)
		if c.video {
			info = vp8Info(pid, sfu.RolePartner)
		}
		w, err := sess.StartTrack(info)
		if err != nil {
			t.Fatal(err)
		}
		s := newStream(c, ts0, 1, start.Add(captureAt))
		var pkts []sent
		for i := 0; s.clock < 2*time.Second; i++ {
			delay := netDelay
			if i < 3 {
				delay = firstDelay
			}
			if reports && i > 0 && i%10 == 0 {
				// A sender report at the sender's "now": the next frame's RTP time.
				capture := start.Add(captureAt + s.clock)
				rtpNow := ts0 + uint32(s.clock*time.Duration(c.clock)/time.Second)
				feed(t, w, pkts)
				pkts = nil
				w.SenderReport(ntpOf(capture.Add(skew)), rtpNow, capture.Add(netDelay+time.Duration(i%3)*7*time.Millisecond))
			}
			pkts = append(pkts, s.frame(delay)...)
		}
		feed(t, w, pkts)
		w.Close()
	}
	record("alice000", audio, 1000*time.Millisecond, 4000000000, netDelay, true)
	record("alice000", video, 1500*time.Millisecond, 123456, 300*time.Millisecond, true)
	record("bob00000", audio, 700*time.Millisecond, 77, 150*time.Millisecond, false)
	closeSession(t, sess)

	m := readManifest(t, filepath.Join(rec.dir, "s2"))
	got := map[string]int64{}
	for _, tr := range m.Tracks {
		got[tr.ParticipantID+"/"+tr.Kind] = tr.StartOffsetMs
	}
	for k, want := range map[string]int64{
		"alice000/audio": 1020, // capture + least network delay
		"alice000/video": 1520, // not 1800: the late first packets are not believed
		"bob00000/audio": 850,  // no reports: the first packet's arrival
	} {
		if d := got[k] - want; d < -10 || d > 10 {
			t.Errorf("%s starts at %d ms, want %d", k, got[k], want)
		}
	}
}

func ntpOf(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1_000_000_000
	return secs<<32 | frac
}

// TestUnsupportedCodecIsNotRecorded: an H.264 track gets a clear not_recorded entry and row,
// no file, and a writer that takes packets harmlessly.
func TestUnsupportedCodecIsNotRecorded(t *testing.T) {
	checkLeaks(t)
	const sid = "s3"
	start := time.Now()
	st := testStore(t, sid, start, map[string]string{"partner01": store.RolePartner})
	rec := New(Config{Dir: t.TempDir(), Catalog: st, Logger: testLogger(t)})
	sess, err := rec.StartSession(sid, start)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sess.StartTrack(trackInfo("partner01", sfu.RolePartner, webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264, 90000))
	if err != nil {
		t.Fatal(err)
	}
	feed(t, w, newStream(loadVP8(t), 1, 1, start).framesFor(time.Second, 0))
	w.Close()
	closeSession(t, sess)

	dir := filepath.Join(rec.dir, sid)
	m := readManifest(t, dir)
	if len(m.Tracks) != 1 || m.Tracks[0].Status != store.TrackNotRecorded || m.Tracks[0].File != "" ||
		m.Tracks[0].Codec != "h264" || m.Tracks[0].Reason == "" {
		t.Fatalf("manifest tracks: %+v", m.Tracks)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != ManifestName {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	rows, err := st.Tracks(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Status != store.TrackNotRecorded || rows[0].File != "" {
		t.Fatalf("catalog rows: %+v", rows)
	}
}

// TestManifestTimeline: mode changes and markers land in the manifest at their offsets, and
// spans of one track get distinct files.
func TestManifestTimeline(t *testing.T) {
	checkLeaks(t)
	start := time.Now()
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t)})
	sess, err := rec.StartSession("s4", start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.StartSession("s4", start); err == nil {
		t.Error("a second StartSession of a recording session succeeded")
	}
	audio := loadOpus(t)
	info := opusInfo("coach001", sfu.RoleCoach)
	info.Whisper = true
	w1, _ := sess.StartTrack(info)
	s := newStream(audio, 1, 1, start.Add(time.Second))
	feed(t, w1, s.framesFor(time.Second, 0))
	w1.Close()
	sess.ModeChange("coach001", "whisper", "rep00001", start.Add(900*time.Millisecond))
	sess.ModeChange("coach001", "open", "", start.Add(2*time.Second))
	info.Whisper = false
	w2, _ := sess.StartTrack(info)
	feed(t, w2, s.framesFor(time.Second, 0))
	sess.Marker("m1", "coach001", "nice objection handling", start.Add(2500*time.Millisecond))
	closeSession(t, sess)
	w2.Close() // after the session: harmless

	m := readManifest(t, filepath.Join(rec.dir, "s4"))
	if len(m.Tracks) != 2 || m.Tracks[0].File == m.Tracks[1].File || !m.Tracks[0].Whisper || m.Tracks[1].Whisper {
		t.Fatalf("tracks: %+v", m.Tracks)
	}
	if m.Tracks[0].File != "coach-coach001-audio-1.webm" || m.Tracks[1].File != "coach-coach001-audio-2.webm" {
		t.Errorf("file names %q, %q", m.Tracks[0].File, m.Tracks[1].File)
	}
	if len(m.ModeChanges) != 2 || m.ModeChanges[0].OffsetMs != 900 || m.ModeChanges[1].Mode != "open" ||
		m.ModeChanges[0].Target != "rep00001" {
		t.Errorf("mode changes: %+v", m.ModeChanges)
	}
	if len(m.Markers) != 1 || m.Markers[0].OffsetMs != 2500 || m.Markers[0].Note != "nice objection handling" {
		t.Errorf("markers: %+v", m.Markers)
	}
	if d := m.Tracks[1].StartOffsetMs - m.Tracks[0].StartOffsetMs; d < 990 || d > 1010 {
		t.Errorf("second span starts %d ms after the first, want 1000", d)
	}
}

// TestSessionRestartKeepsEarlierSpans: a session recorded again (the server restarted it)
// keeps the earlier spans, its timeline and its file names.
func TestSessionRestartKeepsEarlierSpans(t *testing.T) {
	checkLeaks(t)
	start := time.Now()
	dir := t.TempDir()
	audio := loadOpus(t)
	for round := range 2 {
		rec := New(Config{Dir: dir, Logger: testLogger(t)})
		sess, err := rec.StartSession("again", start.Add(time.Duration(round)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
		feed(t, w, newStream(audio, 1, 1, start.Add(time.Duration(round)*time.Minute)).framesFor(time.Second, 0))
		closeSession(t, sess)
	}
	m := readManifest(t, filepath.Join(dir, "again"))
	if len(m.Tracks) != 2 || m.Tracks[0].File != "rep-rep00001-audio-1.webm" || m.Tracks[1].File != "rep-rep00001-audio-2.webm" {
		t.Fatalf("tracks: %+v", m.Tracks)
	}
	if !m.StartedAt.Equal(start) || m.Tracks[1].StartOffsetMs < 59900 || m.Tracks[1].StartOffsetMs > 60100 {
		t.Errorf("timeline: start %v, second span at %d ms", m.StartedAt, m.Tracks[1].StartOffsetMs)
	}
	for _, tr := range m.Tracks {
		if tr.Status != store.TrackComplete {
			t.Errorf("track %s: %s", tr.File, tr.Status)
		}
		ffprobe(t, filepath.Join(dir, "again", tr.File)).pts(t)
	}
}
