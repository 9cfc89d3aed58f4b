package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// videoClockRate is the RTP clock rate of every video codec WebRTC carries.
const videoClockRate = 90000

var ivfCodecs = map[string]string{
	"VP80": webrtc.MimeTypeVP8,
	"VP90": webrtc.MimeTypeVP9,
	"AV01": webrtc.MimeTypeAV1,
}

// loadIVF reads every frame of an IVF file. A frame lasts until the next frame's timestamp;
// the last frame lasts as long as the one before it, so that looping keeps the rate.
func loadIVF(path string) (*Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, header, err := ivfreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	mime, ok := ivfCodecs[header.FourCC]
	if !ok {
		return nil, fmt.Errorf("%w: fourcc %q", ErrUnknownCodec, header.FourCC)
	}
	// ivfreader scales each frame's pts by den/num; undo it to get seconds (pts·num/den). The
	// reader's integer division makes this exact for a timebase of 1/n and off by under
	// (num/den)² seconds otherwise, which never accumulates.
	num, den := float64(header.TimebaseNumerator), float64(header.TimebaseDenominator)
	at := func(ts uint64) time.Duration {
		return time.Duration(float64(ts) * num * num / (den * den) * float64(time.Second))
	}

	clip := &Clip{MimeType: mime, ClockRate: videoClockRate}
	var starts []time.Duration
	for {
		frame, fh, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		clip.Frames = append(clip.Frames, Frame{Data: frame})
		starts = append(starts, at(fh.Timestamp))
	}
	for i := 1; i < len(starts); i++ {
		d := starts[i] - starts[i-1]
		if d <= 0 {
			return nil, fmt.Errorf("%w: frame %d at %v after %v", ErrBadTiming, i, starts[i], starts[i-1])
		}
		clip.Frames[i-1].Duration = d
	}
	if n := len(clip.Frames); n > 1 {
		clip.Frames[n-1].Duration = clip.Frames[n-2].Duration
	} else if n == 1 {
		clip.Frames[0].Duration = time.Duration(num / den * float64(time.Second))
	}
	return clip, nil
}
