package e2e

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
)

const (
	audio = webrtc.RTPCodecTypeAudio
	video = webrtc.RTPCodecTypeVideo
)

// dial joins wsURL with token and loops the fixtures on what it publishes until the test ends.
func dial(t *testing.T, wsURL, token string, kinds client.Kinds) *client.Client {
	t.Helper()
	return apptest.Dial(t, wsURL, client.Config{Token: token, Publish: kinds})
}

// probe is what ffprobe reads of one file.
type probe struct {
	Codec    string
	Duration time.Duration
	Packets  int
	// Monotonic is false if any packet's pts is not after the one before.
	Monotonic bool
}

// ffprobe runs the real ffprobe; a missing ffprobe fails the test (make test installs it).
func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatalf("ffprobe is not installed (make test installs ffmpeg): %v", err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"stream=codec_name:format=duration:packet=pts_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	p := probe{Packets: len(r.Packets), Monotonic: true}
	if len(r.Streams) > 0 {
		p.Codec = r.Streams[0].CodecName
	}
	last := -1.0
	var lastPTS float64
	for _, pk := range r.Packets {
		v, err := strconv.ParseFloat(pk.PTS, 64)
		if err != nil {
			continue
		}
		if v <= last {
			p.Monotonic = false
		}
		last, lastPTS = v, v
	}
	if d, err := strconv.ParseFloat(r.Format.Duration, 64); err == nil {
		p.Duration = time.Duration(d * float64(time.Second))
	} else {
		p.Duration = time.Duration(lastPTS * float64(time.Second))
	}
	return p
}

// The shared polling helpers (internal/app/apptest).
var (
	waitFor = apptest.WaitFor
	flowing = apptest.Flowing
)
