package recorder

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ringside/internal/store"
	"ringside/sfu"
)

// copyDir copies the regular files of src into dst (created), as they are on disk now.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
}

// TestCrashThenRecover records audio and video in real time for about 3 s with a 1 s flush
// interval and takes the files as they are on disk at that moment, as kill -9 would leave
// them: they play to at least 1.5 s. Recover then finalizes them (Cues, Duration, every
// complete frame kept), marks the spans and the session interrupted in the catalog and the
// manifest, and completes the manifest's timeline from the catalog.
func TestCrashThenRecover(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	const sid = "crash1"
	start := time.Now()
	st := testStore(t, sid, start, map[string]string{"rep00001": store.RoleRep, "coach0001": store.RoleCoach})
	dir := t.TempDir()
	rec := New(Config{Dir: dir, Catalog: st, Logger: testLogger(t), FlushInterval: time.Second})
	sess, err := rec.StartSession(sid, start)
	if err != nil {
		t.Fatal(err)
	}
	wa, _ := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
	wv, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	sess.Marker("mk1", "coach0001", "before the crash", start.Add(100*time.Millisecond))
	// Signaling stores a mode change the manifest has not caught (its write was cut).
	if err := st.AddModeChange(ctx, store.ModeChange{SessionID: sid, ParticipantID: "coach0001",
		Mode: "whisper", Target: "rep00001", At: start.Add(time.Second), OffsetMs: 1000}); err != nil {
		t.Fatal(err)
	}

	// Publish in real time, as a browser does.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	publish := func(w sfu.TrackWriter, c clip) {
		defer wg.Done()
		s := newStream(c, 3000, 10, time.Now())
		for {
			for _, p := range s.frame(0) {
				w.WriteRTP(p.p, time.Now())
			}
			next := s.t0.Add(s.clock)
			select {
			case <-stop:
				return
			case <-time.After(time.Until(next)):
			}
		}
	}
	wg.Add(2)
	go publish(wa, loadOpus(t))
	go publish(wv, loadVP8(t))
	time.Sleep(3200 * time.Millisecond)

	// kill -9: what is on disk now is all there is.
	crashed := filepath.Join(t.TempDir(), sid)
	copyDir(t, filepath.Join(dir, sid), crashed)
	rows, err := st.Tracks(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	closeSession(t, sess) // only to end the goroutines; its results are thrown away below

	m := readManifest(t, crashed)
	if m.Status != SessionRecording || len(m.Tracks) != 2 {
		t.Fatalf("manifest at the crash: %+v", m)
	}
	cutDur := map[string]time.Duration{}
	for _, tr := range m.Tracks {
		path := filepath.Join(crashed, tr.File)
		p := ffprobe(t, path)
		pts := p.pts(t)
		last := pts[len(pts)-1]
		if last < 1500*time.Millisecond {
			t.Errorf("%s cut by the crash plays to %v, want at least 1.5 s", tr.File, last)
		}
		cutDur[tr.File] = last
	}

	// Restart: the recording directory and the catalog as the crash left them.
	if err := os.RemoveAll(filepath.Join(dir, sid)); err != nil {
		t.Fatal(err)
	}
	copyDir(t, crashed, filepath.Join(dir, sid))
	for _, r := range rows {
		if r.Status != store.TrackRecording {
			t.Fatalf("catalog row at the crash: %+v", r)
		}
		if err := st.UpdateTrack(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rec2 := New(Config{Dir: dir, Catalog: st, Logger: testLogger(t)})
	if err := rec2.Recover(ctx); err != nil {
		t.Fatalf("Recover: %v", err)
	}

	sr, err := st.Session(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if sr.State != store.SessionInterrupted || sr.EndedAt == nil {
		t.Errorf("session after Recover: %+v", sr)
	}
	m = readManifest(t, filepath.Join(dir, sid))
	if m.Status != SessionInterrupted || m.EndedAt == nil {
		t.Errorf("manifest status %q", m.Status)
	}
	if len(m.Markers) != 1 || len(m.ModeChanges) != 1 || m.ModeChanges[0].Mode != "whisper" || m.ModeChanges[0].OffsetMs != 1000 {
		t.Errorf("timeline after Recover: modes %+v markers %+v", m.ModeChanges, m.Markers)
	}
	for _, tr := range m.Tracks {
		if tr.Status != store.TrackInterrupted || tr.File == "" {
			t.Errorf("track after Recover: %+v", tr)
			continue
		}
		path := filepath.Join(dir, sid, tr.File)
		p := ffprobe(t, path)
		p.pts(t)
		want := cutDur[tr.File]
		if d := p.duration(t); !within(d, want, 0.05) || d < want {
			t.Errorf("%s: duration after Recover %v, the cut file played to %v", tr.File, d, want)
		}
		if d := time.Duration(tr.DurationMs) * time.Millisecond; !within(d, want, 0.05) {
			t.Errorf("%s: manifest duration %v, want about %v", tr.File, d, want)
		}
		checkSeekable(t, path, 2)
		decodeClean(t, path)
	}
	rows, err = st.Tracks(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != store.TrackInterrupted || r.DurationMs < 1500 || r.EndedAt == nil || r.File == "" {
			t.Errorf("catalog row after Recover: %+v", r)
		}
	}
	// Recover again: nothing left to do, nothing broken.
	if err := rec2.Recover(ctx); err != nil {
		t.Errorf("second Recover: %v", err)
	}
	if got := readManifest(t, filepath.Join(dir, sid)); len(got.Tracks) != 2 || got.Tracks[0].Status != store.TrackInterrupted {
		t.Errorf("manifest after a second Recover: %+v", got.Tracks)
	}
}

// TestCutAnywhere cuts a live file at many byte offsets: every cut reads back as a prefix of
// the frames, and finalizes into a file ffprobe reads.
func TestCutAnywhere(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	rec := New(Config{Dir: dir, Logger: testLogger(t)})
	sess, err := rec.StartSession("cut", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A span whose file is left live: the session fails before it ends, so it is not
	// finalized.
	w, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	s := newStream(loadVP8(t), 0, 0, time.Now())
	feed(t, w, s.framesFor(2*time.Second, 0))
	tw := w.(*trackWriter)
	whole := filepath.Join(dir, "whole.webm")
	sess.fail(errTestStop)
	<-tw.exited
	if err := os.Rename(tw.path, whole); err != nil {
		t.Fatal(err)
	}
	closeSession(t, sess)

	data, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	full := scanBytes(t, data)
	if len(full.blocks) != 30 || full.truncated {
		t.Fatalf("whole live file: %d frames, truncated %v", len(full.blocks), full.truncated)
	}
	prev := 0
	for cut := int(full.blocks[0].off); cut < len(data); cut += 211 {
		sc := scanBytes(t, data[:cut])
		if len(sc.blocks) < prev {
			t.Fatalf("cut at %d reads %d frames, an earlier cut read %d", cut, len(sc.blocks), prev)
		}
		for i, b := range sc.blocks {
			if b != full.blocks[i] {
				t.Fatalf("cut at %d: frame %d differs", cut, i)
			}
		}
		prev = len(sc.blocks)
	}
	for _, cut := range []int{len(data) / 3, len(data) / 2, len(data) - 5} {
		path := filepath.Join(dir, "cut.webm")
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := finalizeFile(path, createFile)
		if err != nil {
			t.Fatalf("finalize the file cut at %d: %v", cut, err)
		}
		p := ffprobe(t, path)
		if n := len(p.pts(t)); n != res.frames {
			t.Errorf("cut at %d: ffprobe sees %d frames, finalize kept %d", cut, n, res.frames)
		}
		checkSeekable(t, path, 1)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTestStop = testError("test stops the session")

func scanBytes(t *testing.T, b []byte) *scanned {
	t.Helper()
	sc, err := scanWebM(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("scan %d bytes: %v", len(b), err)
	}
	return sc
}

// TestRecoverSessionWithoutRecording: a session the crash left live that never recorded a
// thing is still ended as interrupted; a directory whose manifest says recording is repaired
// even without a catalog.
func TestRecoverSessionWithoutRecording(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	st := testStore(t, "norec", time.Now(), nil)
	dir := t.TempDir()
	if err := New(Config{Dir: dir, Catalog: st, Logger: testLogger(t)}).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := st.Session(ctx, "norec"); err != nil || s.State != store.SessionInterrupted {
		t.Errorf("session after Recover: %+v, %v", s, err)
	}

	// No catalog: the manifest alone says the recording was cut.
	rec := New(Config{Dir: dir, Logger: testLogger(t), FlushInterval: 20 * time.Millisecond})
	sess, err := rec.StartSession("diskonly", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := sess.StartTrack(opusInfo("rep00001", sfu.RoleRep))
	as := newStream(loadOpus(t), 1, 1, time.Now())
	feed(t, w, as.framesFor(2*time.Second, 0))
	var fed int64
	for _, f := range as.sent {
		fed += int64(len(f))
	}
	snapshot := filepath.Join(t.TempDir(), "diskonly")
	waitUntil(t, func() bool { // everything fed is on disk
		st, err := os.Stat(filepath.Join(dir, "diskonly", "rep-rep00001-audio-1.webm"))
		return err == nil && st.Size() >= fed+6*int64(len(as.sent))+100 // frames, block headers, file header
	})
	copyDir(t, filepath.Join(dir, "diskonly"), snapshot)
	closeSession(t, sess)
	os.RemoveAll(filepath.Join(dir, "diskonly"))
	copyDir(t, snapshot, filepath.Join(dir, "diskonly"))
	if m := readManifest(t, filepath.Join(dir, "diskonly")); m.Status != SessionRecording {
		t.Fatalf("snapshot manifest status %q", m.Status)
	}
	if err := New(Config{Dir: dir, Logger: testLogger(t)}).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, filepath.Join(dir, "diskonly"))
	if m.Status != SessionInterrupted || len(m.Tracks) != 1 || m.Tracks[0].Status != store.TrackInterrupted {
		t.Fatalf("manifest after Recover: %+v", m)
	}
	path := filepath.Join(dir, "diskonly", m.Tracks[0].File)
	if d := ffprobe(t, path).duration(t); !within(d, 2*time.Second, 0.05) {
		t.Errorf("recovered duration %v, want 2 s", d)
	}
	checkSeekable(t, path, 2)
}
