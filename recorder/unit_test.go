package recorder

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestUnwrap(t *testing.T) {
	var u unwrapper
	var got []int64
	for _, ts := range []uint32{1<<32 - 20, 1<<32 - 10, 5, 15, 10, 1<<30 + 10, 1<<31 + 1<<30, 7} {
		got = append(got, u.unwrap(ts))
	}
	b := int64(1<<32 - 20)
	want := []int64{b, b + 10, b + 25, b + 35, b + 30, 1<<32 + 1<<30 + 10, 1<<32 + 1<<31 + 1<<30,
		2<<32 + 7} // wrapped twice
	if !slices.Equal(got, want) {
		t.Errorf("unwrap: got %v, want %v", got, want)
	}
	if p := u.peek(1); p != 2<<32+1 {
		t.Errorf("peek: %d", p)
	}
}

// reorderRun pushes seqs (arriving 1 ms apart) and returns what was emitted, with a '!'
// before a packet that follows a gap given up on.
func reorderRun(window int, seqs []uint16, gaps map[int]time.Duration) (out []string, lost int64) {
	var b reorderBuffer
	b = newReorderBuffer(window, func(s *slot, l bool) {
		v := ""
		if l {
			v = "!"
		}
		out = append(out, v+strconv.Itoa(int(s.seq)))
	}, func(*slot) {})
	at := time.Unix(0, 0)
	for i, q := range seqs {
		at = at.Add(time.Millisecond + gaps[i])
		b.push(&slot{seq: q, arrival: at})
	}
	b.flush()
	return out, b.lost
}

func TestReorder(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint16
		gaps map[int]time.Duration
		want []string
		lost int64
	}{
		{"in order", []uint16{1, 2, 3}, nil, []string{"1", "2", "3"}, 0},
		{"swapped", []uint16{1, 3, 2, 4}, nil, []string{"1", "2", "3", "4"}, 0},
		{"duplicate", []uint16{1, 2, 2, 3, 1}, nil, []string{"1", "2", "3"}, 0},
		{"lost, flushed at the end", []uint16{1, 2, 4, 5}, nil, []string{"1", "2", "!4", "5"}, 1},
		{"wrap", []uint16{65534, 65535, 0, 1}, nil, []string{"65534", "65535", "0", "1"}, 0},
		{"wrap swapped", []uint16{65535, 1, 0, 2}, nil, []string{"65535", "0", "1", "2"}, 0},
		{"late after giving up", []uint16{1, 3, 4, 2, 5}, map[int]time.Duration{2: 600 * time.Millisecond},
			[]string{"1", "!3", "4", "5"}, 1},
		{"window overrun", []uint16{1, 3, 4, 5, 6, 7, 8, 9, 10}, nil,
			[]string{"1", "!3", "4", "5", "6", "7", "8", "9", "10"}, 1},
		{"new numbering", []uint16{1, 2, 40000, 40001}, nil, []string{"1", "2", "!40000", "40001"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, lost := reorderRun(4, tc.seqs, tc.gaps)
			if !slices.Equal(got, tc.want) || lost != tc.lost {
				t.Errorf("got %v (lost %d), want %v (lost %d)", got, lost, tc.want, tc.lost)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tl := newTimeline(48000)
	type step struct {
		ts      uint32
		arrival time.Time
		want    int64
	}
	for i, s := range []step{
		{1<<32 - 960, ms(0), 0},
		{0, ms(20), 20},                   // wraps
		{960, ms(45), 40},                 // jitter: RTP time rules
		{960, ms(60), 41},                 // same timestamp: +1 ms
		{1920, ms(2060), 2041},            // paused without the RTP clock: the 2 s arrival gap kept
		{2880, ms(2080), 2061},            // and on from there
		{2880 + 48000*60, ms(2100), 2081}, // a jump of the RTP clock: the arrival step rules
		{3840 + 48000*60, ms(2120), 2101},
	} {
		if got := tl.frame(s.ts, s.arrival); got != s.want {
			t.Errorf("step %d: file time %d, want %d", i, got, s.want)
		}
	}
}

func TestSenderReportMapping(t *testing.T) {
	t0 := time.Now()
	tl := newTimeline(90000)
	// A report before the first frame, from a sender whose clock is 3 s ahead.
	tl.senderReport(senderReport{ntp: ntpOf(t0.Add(3 * time.Second)), rtp: 90000, arrival: t0.Add(30 * time.Millisecond)})
	tl.frame(90000+45000, t0.Add(800*time.Millisecond)) // captured at t0+0.5 s, arrived late
	at, fromSR := tl.start(-3*time.Second+30*time.Millisecond, true)
	if d := at.Sub(t0) - 530*time.Millisecond; !fromSR || d.Abs() > time.Microsecond {
		t.Errorf("start %v (from report %v), want t0+530ms", at.Sub(t0), fromSR)
	}
	// Without a clock offset estimate, the arrival.
	if at, fromSR := tl.start(0, false); fromSR || !at.Equal(t0.Add(800*time.Millisecond)) {
		t.Errorf("start without offset %v", at.Sub(t0))
	}
	// An implausible mapping is not believed.
	if at, fromSR := tl.start(time.Hour, true); fromSR || !at.Equal(t0.Add(800*time.Millisecond)) {
		t.Errorf("start with a wild offset %v", at.Sub(t0))
	}
	if got := ntpTime(ntpOf(t0)); got.Sub(t0).Abs() > time.Microsecond {
		t.Errorf("ntp round trip: %v", got.Sub(t0))
	}
}

func TestOpusSamples(t *testing.T) {
	for _, tc := range []struct {
		pkt  []byte
		want int
	}{
		{[]byte{0x78}, 960},        // CELT FB 20 ms
		{[]byte{0x08}, 960},        // SILK NB 20 ms (config 1)
		{[]byte{0x00}, 480},        // SILK 10 ms
		{[]byte{0x18}, 2880},       // SILK 60 ms (config 3)
		{[]byte{0x79}, 1920},       // two 20 ms frames
		{[]byte{0x7b, 0x03}, 2880}, // code 3, three frames
		{[]byte{0x7b}, 0},          // code 3 without its count
		{nil, 0},
	} {
		if got := opusSamples(tc.pkt); got != tc.want {
			t.Errorf("opusSamples(%x) = %d, want %d", tc.pkt, got, tc.want)
		}
	}
}

// liveFile writes a short live file of the video fixture and returns its bytes.
func liveFile(t testing.TB, frames int) []byte {
	var buf bytes.Buffer
	lw, err := newLiveWriter(&buf, trackSpec{video: true, width: 320, height: 240, uidSeed: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if err := lw.writeFrame(int64(i*66), i%15 == 0, []byte{byte(i), 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFinalizeIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.webm")
	if err := os.WriteFile(path, liveFile(t, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := finalizeFile(path, createFile)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	second, err := finalizeFile(path, createFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Equal(a, b) || first != second || first.frames != 100 || first.durationMs != 99*66+66 {
		t.Errorf("second finalize differs: %+v vs %+v, %d vs %d bytes", first, second, len(a), len(b))
	}
	d := readFinal(t, path)
	// Keyframes every 990 ms; a cluster (and cue) starts at one a second or more in.
	if d.Segment.Cues == nil || len(d.Segment.Cues.CuePoint) != 4 || d.Segment.Cues.CuePoint[1].CueTime != 1980 {
		t.Errorf("cues: %+v", d.Segment.Cues)
	}
	// A file without a frame is removed.
	if err := os.WriteFile(path, liveFile(t, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := finalizeFile(path, createFile); err != ErrNoMedia {
		t.Errorf("finalize an empty file: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the empty file is still there: %v", err)
	}
}

// FuzzScanWebM: the reader of files a crash cut (outside input, as far as this package is
// concerned) never panics, and every frame it reports lies inside the file.
func FuzzScanWebM(f *testing.F) {
	live := liveFile(f, 40)
	f.Add(live)
	f.Add(live[:len(live)/2])
	dir := f.TempDir()
	path := filepath.Join(dir, "f.webm")
	if err := os.WriteFile(path, live, 0o644); err != nil {
		f.Fatal(err)
	}
	if _, err := finalizeFile(path, createFile); err != nil {
		f.Fatal(err)
	}
	final, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(final)
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := scanWebM(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, blk := range sc.blocks {
			if blk.off < 0 || blk.n < 0 || blk.off+int64(blk.n) > int64(len(b)) {
				t.Fatalf("frame at %d+%d outside a %d-byte file", blk.off, blk.n, len(b))
			}
		}
	})
}

// FuzzVP8Assembler: any packet sequence (outside input) assembles without panicking, and
// whatever it emits starts at a keyframe.
func FuzzVP8Assembler(f *testing.F) {
	f.Add([]byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0x00, 0x00}, true)
	f.Add([]byte{0x90, 0x80, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0x01}, false)
	f.Fuzz(func(t *testing.T, payload []byte, marker bool) {
		a := newVP8Assembler()
		first := true
		for i := range 3 {
			s := &slot{seq: uint16(i), ts: 1, marker: marker || i == 2}
			s.n = copy(s.buf[:], payload)
			frame, key, ok := a.push(s, false)
			if ok && first && !key {
				t.Fatal("first frame emitted is not a keyframe")
			}
			if ok {
				first = false
				if len(frame) == 0 {
					t.Fatal("empty frame")
				}
			}
		}
	})
}
