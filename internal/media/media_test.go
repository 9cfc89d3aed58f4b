package media

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
)

func TestLoadVideoFixture(t *testing.T) {
	clip, err := Load(Fixture("video.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	if clip.MimeType != webrtc.MimeTypeVP8 || clip.ClockRate != 90000 {
		t.Fatalf("codec %s/%d, want VP8/90000", clip.MimeType, clip.ClockRate)
	}
	if got := len(clip.Frames); got != 60 {
		t.Fatalf("%d frames, want 60 (4 s at 15 fps)", got)
	}
	frame := time.Second / 15
	for i, f := range clip.Frames {
		if d := f.Duration - frame; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("frame %d lasts %v, want %v", i, f.Duration, frame)
		}
		// A VP8 frame tag's lowest bit is 0 on a keyframe (RFC 6386, 9.1).
		if key := f.Data[0]&1 == 0; key != (i%15 == 0) {
			t.Errorf("frame %d: keyframe %v, want a keyframe every 15 frames", i, key)
		}
	}
	if d := clip.Duration(); d < 3999*time.Millisecond || d > 4001*time.Millisecond {
		t.Errorf("clip lasts %v, want 4 s", d)
	}
}

func TestLoadAudioFixture(t *testing.T) {
	clip, err := Load(Fixture("audio.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	if clip.MimeType != webrtc.MimeTypeOpus || clip.ClockRate != 48000 {
		t.Fatalf("codec %s/%d, want Opus/48000", clip.MimeType, clip.ClockRate)
	}
	for i, f := range clip.Frames {
		if f.Duration != 20*time.Millisecond {
			t.Fatalf("packet %d lasts %v, want 20ms", i, f.Duration)
		}
	}
	if n := len(clip.Frames); n < 195 || n > 205 {
		t.Errorf("%d packets, want about 200 (4 s of 20 ms)", n)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load("clip.mp4"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("mp4: %v, want ErrUnknownFormat", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.ivf")); err == nil {
		t.Error("missing file: no error")
	}
	clip, err := Load(Fixture("audio.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := clip.Publish(t.Context(), track); !errors.Is(err, ErrCodecMismatch) {
		t.Errorf("opus onto a VP8 track: %v, want ErrCodecMismatch", err)
	}
}

func TestOpusPacketDuration(t *testing.T) {
	tests := []struct {
		name   string
		packet []byte
		want   time.Duration
	}{
		{"silk 10ms", []byte{0 << 3}, 10 * time.Millisecond},
		{"silk 60ms", []byte{3 << 3}, 60 * time.Millisecond},
		{"hybrid 20ms", []byte{13 << 3}, 20 * time.Millisecond},
		{"celt 2.5ms", []byte{16 << 3}, 2500 * time.Microsecond},
		{"celt 20ms", []byte{31 << 3}, 20 * time.Millisecond},
		{"two equal frames", []byte{31<<3 | 1}, 40 * time.Millisecond},
		{"two frames", []byte{31<<3 | 2}, 40 * time.Millisecond},
		{"three frames", []byte{31<<3 | 3, 3}, 60 * time.Millisecond},
	}
	for _, tt := range tests {
		got, err := opusPacketDuration(tt.packet)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, {31<<3 | 3}, {31<<3 | 3, 0}} {
		if _, err := opusPacketDuration(bad); !errors.Is(err, ErrBadTiming) {
			t.Errorf("%x: %v, want ErrBadTiming", bad, err)
		}
	}
}

// TestPlayPacesAndLoops plays a three-frame clip for a second of fake time and checks every
// frame came on time, in order, looping.
func TestPlayPacesAndLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clip := &Clip{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Frames: []Frame{
			{Data: []byte{0}, Duration: 20 * time.Millisecond},
			{Data: []byte{1}, Duration: 30 * time.Millisecond},
			{Data: []byte{2}, Duration: 50 * time.Millisecond},
		}}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second+time.Millisecond)
		defer cancel()
		start := time.Now()
		var got []time.Duration
		err := clip.play(ctx, func(s pionmedia.Sample) error {
			i := len(got) % len(clip.Frames)
			if s.Data[0] != byte(i) || s.Duration != clip.Frames[i].Duration {
				t.Fatalf("sample %d is frame %d lasting %v, want frame %d", len(got), s.Data[0], s.Duration, i)
			}
			got = append(got, time.Since(start))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// 100 ms per loop: 10 loops of 3 frames, plus the first frame of the 11th at 1 s.
		if len(got) != 31 {
			t.Fatalf("%d samples in 1 s, want 31", len(got))
		}
		for i, at := range got {
			want := time.Duration(i/3)*100*time.Millisecond +
				[]time.Duration{0, 20 * time.Millisecond, 50 * time.Millisecond}[i%3]
			if at != want {
				t.Errorf("sample %d at %v, want %v", i, at, want)
			}
		}
	})
}

// TestPlayDropsBacklog checks that a publisher stalled for longer than maxLag resumes at the
// normal rate instead of bursting the frames it missed.
func TestPlayDropsBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clip := &Clip{Frames: []Frame{{Data: []byte{0}, Duration: 20 * time.Millisecond}}}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := time.Now()
		var got []time.Duration
		_ = clip.play(ctx, func(pionmedia.Sample) error {
			got = append(got, time.Since(start))
			switch len(got) {
			case 2:
				time.Sleep(time.Second)
			case 4:
				cancel()
			}
			return nil
		})
		want := []time.Duration{0, 20 * time.Millisecond, 1020 * time.Millisecond, 1040 * time.Millisecond}
		if len(got) != len(want) {
			t.Fatalf("samples at %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("samples at %v, want %v", got, want)
			}
		}
	})
}
