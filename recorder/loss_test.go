package recorder

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ringside/internal/store"
	"ringside/sfu"
)

// damage applies network trouble to a packet sequence: every dropEvery-th packet lost,
// neighbours swapped every swapEvery, one packet duplicated every dupEvery.
func damage(pkts []sent, dropEvery, swapEvery, dupEvery int) []sent {
	var out []sent
	for i, p := range pkts {
		if dropEvery > 0 && i%dropEvery == dropEvery-1 {
			continue
		}
		out = append(out, p)
		if dupEvery > 0 && i%dupEvery == dupEvery-1 {
			out = append(out, p)
		}
	}
	for i := 1; swapEvery > 0 && i < len(out); i += swapEvery {
		out[i-1], out[i] = out[i], out[i-1]
	}
	return out
}

// recordOne records one track from pkts and returns its manifest entry and file path.
func recordOne(t *testing.T, info sfu.TrackInfo, pkts []sent) (ManifestTrack, string, *Recorder) {
	t.Helper()
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t)})
	sess, err := rec.StartSession("loss", pkts[0].arrival.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sess.StartTrack(info)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, w, pkts)
	w.Close()
	closeSession(t, sess)
	m := readManifest(t, filepath.Join(rec.dir, "loss"))
	if len(m.Tracks) != 1 {
		t.Fatalf("manifest tracks: %+v", m.Tracks)
	}
	tr := m.Tracks[0]
	if tr.Status != store.TrackComplete || tr.File == "" {
		t.Fatalf("track: %+v", tr)
	}
	return tr, filepath.Join(rec.dir, "loss", tr.File), rec
}

// maxGap is the largest step between consecutive packet times.
func maxGap(pts []time.Duration) time.Duration {
	var g time.Duration
	for i := 1; i < len(pts); i++ {
		g = max(g, pts[i]-pts[i-1])
	}
	return g
}

// TestVideoLossWrapAndPause feeds VP8 with lost, reordered and duplicated packets, an RTP
// timestamp and a sequence number that wrap, and a 2 s pause: the file is valid, decodes
// without a corrupt frame, keeps the pause as time, and is seekable.
func TestVideoLossWrapAndPause(t *testing.T) {
	checkLeaks(t)
	video := loadVP8(t)
	t0 := time.Now()
	// The timestamp wraps 1 s in; the sequence number after 40 packets.
	s := newStream(video, 1<<32-90000, 65535-40, t0)
	pkts := s.frame(20 * time.Millisecond) // the first keyframe arrives whole
	pkts = append(pkts, damage(s.framesFor(2*time.Second, 20*time.Millisecond), 13, 7, 11)...)
	pkts = append(pkts, s.framesFor(time.Second-s.clock+2*time.Second, 20*time.Millisecond)...)
	s.pause(2*time.Second, true)
	pkts = append(pkts, s.framesFor(3*time.Second, 20*time.Millisecond)...)
	fed := s.clock // 8 s

	var requests atomic.Int32
	info := vp8Info("rep00001", sfu.RoleRep)
	info.RequestKeyframe = func() { requests.Add(1) }
	tr, path, rec := recordOne(t, info, pkts)

	p := ffprobe(t, path)
	if p.Streams[0].CodecName != "vp8" {
		t.Errorf("codec %q", p.Streams[0].CodecName)
	}
	pts := p.pts(t)
	if d := p.duration(t); !within(d, fed, 0.05) {
		t.Errorf("duration %v, fed %v (pause included)", d, fed)
	}
	if g := maxGap(pts); g < 1900*time.Millisecond || g > 2200*time.Millisecond {
		t.Errorf("largest gap between frames %v, want the 2 s pause", g)
	}
	if d := time.Duration(tr.DurationMs) * time.Millisecond; !within(d, fed, 0.05) {
		t.Errorf("manifest duration %v, fed %v", d, fed)
	}
	decodeClean(t, path)
	checkFramesIntact(t, path, s.sent, true)
	checkSeekable(t, path, 4)
	if p.Packets[0].Flags[0] != 'K' {
		t.Error("the file does not start with a keyframe")
	}
	if requests.Load() < 2 {
		t.Errorf("%d keyframe requests; loss should have asked again", requests.Load())
	}
	if rec.Stats().LostPackets == 0 {
		t.Error("no lost packets counted")
	}
}

// TestAudioWrapAndPauseWithoutTimestamps: an Opus publisher pauses 3 s without advancing its
// RTP timestamps (the arrival gap is kept as time), across a timestamp wrap, with loss.
func TestAudioWrapAndPauseWithoutTimestamps(t *testing.T) {
	checkLeaks(t)
	audio := loadOpus(t)
	t0 := time.Now()
	s := newStream(audio, 1<<32-48000/2, 65000, t0)
	var pkts []sent
	pkts = append(pkts, damage(s.framesFor(2*time.Second, 10*time.Millisecond), 17, 5, 13)...)
	s.pause(3*time.Second, false)
	pkts = append(pkts, s.framesFor(2*time.Second, 10*time.Millisecond)...)
	fed := s.clock // 7 s

	_, path, _ := recordOne(t, opusInfo("partner1", sfu.RolePartner), pkts)
	p := ffprobe(t, path)
	if p.Streams[0].CodecName != "opus" {
		t.Errorf("codec %q", p.Streams[0].CodecName)
	}
	pts := p.pts(t)
	if d := p.duration(t); !within(d, fed, 0.05) {
		t.Errorf("duration %v, fed %v (pause included)", d, fed)
	}
	if g := maxGap(pts); g < 2900*time.Millisecond || g > 3200*time.Millisecond {
		t.Errorf("largest gap between packets %v, want the 3 s pause", g)
	}
	decodeClean(t, path)
	checkFramesIntact(t, path, s.sent, false)
	checkSeekable(t, path, 4) // clusters at 0, 1, 5 and 6 s
}

// TestVideoWithoutKeyframeIsEmpty: a video span that never sees a keyframe writes no file and
// says so.
func TestVideoWithoutKeyframeIsEmpty(t *testing.T) {
	checkLeaks(t)
	video := loadVP8(t)
	s := newStream(video, 0, 0, time.Now())
	s.frame(0) // the keyframe is lost
	var pkts []sent
	for range 10 {
		pkts = append(pkts, s.frame(0)...)
	}
	rec := New(Config{Dir: t.TempDir(), Logger: testLogger(t)})
	sess, err := rec.StartSession("nokey", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := sess.StartTrack(vp8Info("rep00001", sfu.RoleRep))
	feed(t, w, pkts)
	w.Close()
	closeSession(t, sess)
	m := readManifest(t, filepath.Join(rec.dir, "nokey"))
	if len(m.Tracks) != 1 || m.Tracks[0].Status != TrackEmpty || m.Tracks[0].File != "" {
		t.Fatalf("tracks: %+v", m.Tracks)
	}
}
