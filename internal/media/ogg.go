package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// opusClockRate is Opus's RTP clock rate, whatever the encoder's input rate.
const opusClockRate = 48000

// loadOgg reads every Opus packet of an Ogg Opus file. oggreader returns whole pages, so the
// file must hold one packet per page (ffmpeg's -page_duration equal to -frame_duration); a
// page after the first whose granule position advances by more than its packet's duration is
// refused. A packet's duration comes from its own TOC byte, so a trimmed last page does not
// shorten it.
func loadOgg(path string) (*Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	clip := &Clip{MimeType: webrtc.MimeTypeOpus, ClockRate: opusClockRate}
	var granule uint64
	for {
		page, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if _, isHeader := ph.HeaderType(page); isHeader || len(page) == 0 {
			continue
		}
		d, err := opusPacketDuration(page)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", len(clip.Frames), err)
		}
		samples := uint64(d * opusClockRate / time.Second)
		if len(clip.Frames) > 0 && ph.GranulePosition > granule+samples {
			return nil, fmt.Errorf("%w: page %d spans %d samples, its first packet %d",
				ErrMultiPacketPage, len(clip.Frames), ph.GranulePosition-granule, samples)
		}
		granule = ph.GranulePosition
		clip.Frames = append(clip.Frames, Frame{Data: page, Duration: d})
	}
	return clip, nil
}

// opusPacketDuration reads an Opus packet's duration from its TOC byte (RFC 6716, 3.1).
func opusPacketDuration(packet []byte) (time.Duration, error) {
	if len(packet) == 0 {
		return 0, fmt.Errorf("%w: empty opus packet", ErrBadTiming)
	}
	toc := packet[0]
	config := toc >> 3
	var frame time.Duration
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [...]time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid: 10, 20 ms
		frame = [...]time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [...]time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, fmt.Errorf("%w: opus packet without frame count", ErrBadTiming)
		}
		frames = int(packet[1] & 0x3f)
	}
	if frames == 0 {
		return 0, fmt.Errorf("%w: opus packet of zero frames", ErrBadTiming)
	}
	return time.Duration(frames) * frame, nil
}
