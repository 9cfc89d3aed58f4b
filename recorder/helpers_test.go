package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"ringside/internal/store"
	"ringside/sfu"
)

// checkLeaks fails the test if it leaves goroutines behind. Register it first, so that it
// runs after every other cleanup.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines leaked:\n%s", n-before, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// clip is an encoded media fixture: its frames and each one's length in RTP clock ticks.
type clip struct {
	video  bool
	clock  uint32
	frames [][]byte
	ticks  []uint32
}

func (c clip) duration() time.Duration {
	var n uint64
	for _, t := range c.ticks {
		n += uint64(t)
	}
	return time.Duration(n) * time.Second / time.Duration(c.clock)
}

// fixture returns testdata/<name> at the repository root, generating an equivalent with
// ffmpeg into a temporary directory if the committed one is missing.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "testdata", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	ffmpeg := needTool(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), name)
	var args []string
	switch name {
	case "video.ivf":
		args = []string{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "4",
			"-c:v", "libvpx", "-g", "15", "-b:v", "300k", out}
	case "audio.ogg":
		args = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4",
			"-c:a", "libopus", "-frame_duration", "20", "-page_duration", "20000", out}
	default:
		t.Fatalf("no recipe for fixture %s", name)
	}
	cmd := exec.Command(ffmpeg, append([]string{"-v", "error", "-y"}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generating %s: %v\n%s", name, err, b)
	}
	return out
}

func loadVP8(t *testing.T) clip {
	t.Helper()
	f, err := os.Open(fixture(t, "video.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	c := clip{video: true, clock: 90000}
	var pts []uint64
	for {
		frame, fh, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.frames = append(c.frames, frame)
		// pion reports pts·denominator/numerator; undo that to get the IVF pts back.
		pts = append(pts, fh.Timestamp*uint64(hdr.TimebaseNumerator)/uint64(hdr.TimebaseDenominator))
	}
	// IVF timestamps count timebase units (numerator/denominator seconds).
	tick := func(d uint64) uint32 {
		return uint32(d * 90000 * uint64(hdr.TimebaseNumerator) / uint64(hdr.TimebaseDenominator))
	}
	for i := range pts {
		d := uint64(1)
		if i+1 < len(pts) {
			d = pts[i+1] - pts[i]
		} else if i > 0 {
			d = pts[i] - pts[i-1]
		}
		c.ticks = append(c.ticks, tick(d))
	}
	if len(c.frames) < 30 {
		t.Fatalf("video fixture has %d frames", len(c.frames))
	}
	return c
}

func loadOpus(t *testing.T) clip {
	t.Helper()
	f, err := os.Open(fixture(t, "audio.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	c := clip{clock: 48000}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(page, []byte("OpusHead")) || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		n := opusSamples(page)
		if n == 0 {
			t.Fatalf("unreadable opus packet")
		}
		c.frames = append(c.frames, page)
		c.ticks = append(c.ticks, uint32(n))
	}
	if len(c.frames) < 100 {
		t.Fatalf("audio fixture has %d packets", len(c.frames))
	}
	return c
}

// sent is one packet as the SFU would hand it over.
type sent struct {
	p       *rtp.Packet
	arrival time.Time
}

// stream packetizes a clip's frames into RTP with pion's packetizers, at realistic timing.
type stream struct {
	c     clip
	pk    rtp.Packetizer
	t0    time.Time
	clock time.Duration // media time sent so far
	next  int           // next frame of the clip (looping)
	sent  [][]byte      // every frame packetized, in order
}

func newStream(c clip, ts0 uint32, seq0 uint16, t0 time.Time) *stream {
	var pay rtp.Payloader = &codecs.OpusPayloader{}
	if c.video {
		pay = &codecs.VP8Payloader{EnablePictureID: true}
	}
	pk := rtp.NewPacketizerWithOptions(1200, pay, rtp.NewFixedSequencer(seq0), c.clock,
		rtp.WithTimestamp(ts0), rtp.WithSSRC(0x1234), rtp.WithPayloadType(96))
	return &stream{c: c, pk: pk, t0: t0}
}

// frame packetizes the next frame; its packets arrive at its capture time plus delay.
func (s *stream) frame(delay time.Duration) []sent {
	i := s.next % len(s.c.frames)
	s.next++
	at := s.t0.Add(s.clock + delay)
	pkts := s.pk.Packetize(s.c.frames[i], s.c.ticks[i])
	s.sent = append(s.sent, s.c.frames[i])
	s.clock += time.Duration(s.c.ticks[i]) * time.Second / time.Duration(s.c.clock)
	out := make([]sent, len(pkts))
	for j, p := range pkts {
		out[j] = sent{p: p, arrival: at}
	}
	return out
}

// pause stops sending for d; with advanceTS the RTP clock runs on meanwhile, as a
// browser's does.
func (s *stream) pause(d time.Duration, advanceTS bool) {
	if advanceTS {
		s.pk.SkipSamples(uint32(d * time.Duration(s.c.clock) / time.Second))
	}
	s.clock += d
}

// framesFor packetizes frames covering d of media (give or take rounding).
func (s *stream) framesFor(d time.Duration, delay time.Duration) []sent {
	var out []sent
	end := s.clock + d - time.Millisecond
	for s.clock < end {
		out = append(out, s.frame(delay)...)
	}
	return out
}

// feed writes packets to w as the SFU would, giving the writer goroutine time to keep up
// (the tests are about content, not about outrunning the queue).
func feed(t *testing.T, w sfu.TrackWriter, pkts []sent) {
	t.Helper()
	tw, _ := w.(*trackWriter)
	for i, s := range pkts {
		w.WriteRTP(s.p, s.arrival)
		if tw != nil && i%32 == 31 {
			waitDrained(t, tw)
		}
	}
	if tw != nil {
		waitDrained(t, tw)
	}
}

func waitDrained(t *testing.T, w *trackWriter) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.queue) > 0 {
		select {
		case <-w.exited: // stopped (a failure); what is queued stays there
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("writer goroutine does not drain its queue")
		}
		time.Sleep(time.Millisecond)
	}
}

func trackInfo(pid string, role sfu.Role, kind webrtc.RTPCodecType, mime string, clock uint32) sfu.TrackInfo {
	return sfu.TrackInfo{
		SessionID: "s1", ParticipantID: sfu.ParticipantID(pid), Role: role, Name: pid + " name",
		TrackID: pid + "-" + kind.String(), Kind: kind,
		Codec: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock, Channels: 2},
	}
}

func opusInfo(pid string, role sfu.Role) sfu.TrackInfo {
	return trackInfo(pid, role, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 48000)
}

func vp8Info(pid string, role sfu.Role) sfu.TrackInfo {
	return trackInfo(pid, role, webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 90000)
}

// testStore opens a real SQLite store with a live session and its participants.
func testStore(t *testing.T, sessionID string, start time.Time, participants map[string]string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateSession(ctx, store.Session{ID: sessionID, Title: "test", RepName: "r", PartnerName: "p", Recorded: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSessionLive(ctx, sessionID, start); err != nil {
		t.Fatal(err)
	}
	for id, role := range participants {
		if err := st.AddParticipant(ctx, store.Participant{ID: id, SessionID: sessionID, Role: role, Name: id, JoinedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for this test and is not installed (apt-get install -y ffmpeg)", name)
	}
	return p
}

type probeResult struct {
	Streams []struct {
		CodecName string `json:"codec_name"`
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Channels  int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	Packets []struct {
		PtsTime string `json:"pts_time"`
		Flags   string `json:"flags"`
	} `json:"packets"`
}

// ffprobe runs the real ffprobe on a file: streams, format and packets. It must not
// complain.
func ffprobe(t *testing.T, path string) probeResult {
	t.Helper()
	return runFFprobe(t, path, false)
}

// ffprobeCut is ffprobe for a file cut mid-write: it may say the file ended prematurely,
// nothing else.
func ffprobeCut(t *testing.T, path string) probeResult {
	t.Helper()
	return runFFprobe(t, path, true)
}

func runFFprobe(t *testing.T, path string, cut bool) probeResult {
	t.Helper()
	bin := needTool(t, "ffprobe")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-v", "error", "-show_streams", "-show_format", "-show_packets", "-of", "json", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.Bytes())
	}
	complaint := stderr.String()
	if cut {
		var rest []string
		for _, l := range strings.Split(strings.TrimSpace(complaint), "\n") {
			if l != "" && !strings.HasSuffix(l, "File ended prematurely") {
				rest = append(rest, l)
			}
		}
		complaint = strings.Join(rest, "\n")
	}
	if complaint != "" {
		t.Errorf("ffprobe %s complains:\n%s", filepath.Base(path), complaint)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Streams) != 1 {
		t.Fatalf("%s: %d streams", path, len(r.Streams))
	}
	return r
}

func (r probeResult) duration(t *testing.T) time.Duration {
	t.Helper()
	f, err := strconv.ParseFloat(r.Format.Duration, 64)
	if err != nil {
		t.Fatalf("no duration in the file: %q", r.Format.Duration)
	}
	return time.Duration(f * float64(time.Second))
}

// pts returns the packets' presentation times, checking they strictly increase.
func (r probeResult) pts(t *testing.T) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i, p := range r.Packets {
		f, err := strconv.ParseFloat(p.PtsTime, 64)
		if err != nil {
			t.Fatalf("packet %d has no pts: %q", i, p.PtsTime)
		}
		d := time.Duration(f * float64(time.Second))
		if len(out) > 0 && d <= out[len(out)-1] {
			t.Fatalf("packet %d pts %v after %v: not strictly increasing", i, d, out[len(out)-1])
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		t.Fatal("no packets")
	}
	return out
}

// decodeClean decodes the whole file with ffmpeg and fails on any decoder complaint: a
// corrupt frame would show here.
func decodeClean(t *testing.T, path string) {
	t.Helper()
	bin := needTool(t, "ffmpeg")
	cmd := exec.Command(bin, "-v", "error", "-xerror", "-i", path, "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("decoding %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// finalHeader reads a finalized file's Info and Cues with ebml-go, independently of this
// package's reader.
type finalDoc struct {
	Header  webm.EBMLHeader `ebml:"EBML"`
	Segment struct {
		SeekHead *webm.SeekHead `ebml:"SeekHead"`
		Info     webm.Info      `ebml:"Info"`
		Tracks   webm.Tracks    `ebml:"Tracks"`
		Cues     *webm.Cues     `ebml:"Cues"`
	} `ebml:"Segment"`
}

func readFinal(t *testing.T, path string) finalDoc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d finalDoc
	if err := ebml.Unmarshal(f, &d, ebml.WithIgnoreUnknown(true)); err != nil {
		t.Fatalf("ebml-go cannot read %s: %v", filepath.Base(path), err)
	}
	return d
}

// checkSeekable asserts a finalized file has Duration, a SeekHead and Cues.
func checkSeekable(t *testing.T, path string, wantCues int) finalDoc {
	t.Helper()
	d := readFinal(t, path)
	if d.Segment.Info.Duration <= 0 {
		t.Errorf("%s: no Duration", filepath.Base(path))
	}
	if d.Segment.SeekHead == nil || len(d.Segment.SeekHead.Seek) < 3 {
		t.Errorf("%s: no SeekHead to the Cues", filepath.Base(path))
	}
	if d.Segment.Cues == nil || len(d.Segment.Cues.CuePoint) < wantCues {
		n := 0
		if d.Segment.Cues != nil {
			n = len(d.Segment.Cues.CuePoint)
		}
		t.Errorf("%s: %d cue points, want at least %d", filepath.Base(path), n, wantCues)
	}
	return d
}

func within(got, want time.Duration, frac float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return float64(d) <= frac*float64(want)
}

func readManifest(t *testing.T, dir string) *Manifest {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func closeSession(t *testing.T, s *Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// checkFramesIntact reads the file's frames back and checks each is exactly one of the frames
// sent, in order, and that after a frame that is missing (lost on the way) the next one kept
// is a keyframe: a VP8 frame whose reference is missing would decode to garbage, and ffmpeg
// would not say so.
func checkFramesIntact(t *testing.T, path string, sentFrames [][]byte, video bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	sc, err := scanWebM(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	j := -1
	for i, b := range sc.blocks {
		data := make([]byte, b.n)
		if _, err := f.ReadAt(data, b.off); err != nil {
			t.Fatal(err)
		}
		k := j + 1
		for k < len(sentFrames) && !bytes.Equal(sentFrames[k], data) {
			k++
		}
		if k == len(sentFrames) {
			t.Fatalf("frame %d of the file (%d bytes) is none of the frames sent after #%d", i, len(data), j)
		}
		if video && k != j+1 && !isVP8Keyframe(data) {
			t.Fatalf("frame %d of the file follows a missing frame but is not a keyframe", i)
		}
		if b.key != (!video || isVP8Keyframe(data)) {
			t.Fatalf("frame %d: keyframe flag %v is wrong", i, b.key)
		}
		j = k
	}
}
