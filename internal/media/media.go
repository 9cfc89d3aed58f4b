// Package media plays encoded media files onto Pion tracks in real time, looping, for tests and
// the load generator. It owns reading IVF (VP8, VP9, AV1) and Ogg Opus files into memory and
// pacing their frames by their own timing; it must not know of signaling, rooms or sessions.
package media

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
)

// maxLag is how far behind its schedule a publisher may fall (a stalled machine) before it
// gives up catching up and restarts its clock, as a live camera drops frames rather than
// bursting them.
const maxLag = 200 * time.Millisecond

// Frame is one encoded frame and the time until the next one.
type Frame struct {
	Data     []byte
	Duration time.Duration
}

// Clip is a media file held in memory. It is immutable once loaded, so many publishers (the
// load generator's clients) may share one.
type Clip struct {
	MimeType  string // webrtc.MimeTypeVP8, webrtc.MimeTypeOpus, …
	ClockRate uint32
	Frames    []Frame
}

// Duration is the clip's length, the sum of its frame durations.
func (c *Clip) Duration() time.Duration {
	var d time.Duration
	for _, f := range c.Frames {
		d += f.Duration
	}
	return d
}

// Load reads a media file, choosing the container by its extension: ".ivf" or ".ogg" (Opus).
func Load(path string) (*Clip, error) {
	var (
		clip *Clip
		err  error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".ivf":
		clip, err = loadIVF(path)
	case ".ogg", ".opus":
		clip, err = loadOgg(path)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownFormat, ext)
	}
	if err != nil {
		return nil, fmt.Errorf("media: load %s: %w", path, err)
	}
	if len(clip.Frames) == 0 {
		return nil, fmt.Errorf("media: load %s: %w", path, ErrEmpty)
	}
	return clip, nil
}

// PublishLoop loads the file at path and publishes it onto track until ctx is done; see
// Clip.Publish.
func PublishLoop(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string) error {
	clip, err := Load(path)
	if err != nil {
		return err
	}
	return clip.Publish(ctx, track)
}

// Publish writes the clip's frames onto track in real time, from the start again after the
// last frame, until ctx is done; it then returns nil. The track derives RTP timestamps from the
// frame durations, so they keep increasing across loops. Write errors (a sender not connected
// yet, or one of several bindings closed) do not stop it. The track's codec must be the clip's.
func (c *Clip) Publish(ctx context.Context, track *webrtc.TrackLocalStaticSample) error {
	if track == nil {
		return ErrNoTrack
	}
	if got := track.Codec().MimeType; !strings.EqualFold(got, c.MimeType) {
		return fmt.Errorf("%w: track is %s, clip is %s", ErrCodecMismatch, got, c.MimeType)
	}
	return c.play(ctx, func(s pionmedia.Sample) error {
		_ = track.WriteSample(s) // not fatal, see above
		return nil
	})
}

// play hands each frame to write at its time, looping, until ctx is done. write's error ends
// play.
func (c *Clip) play(ctx context.Context, write func(pionmedia.Sample) error) error {
	if ctx.Err() != nil {
		return nil
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := time.Now()
	for {
		for _, f := range c.Frames {
			if err := write(pionmedia.Sample{Data: f.Data, Duration: f.Duration}); err != nil {
				return err
			}
			next = next.Add(f.Duration)
			wait := time.Until(next)
			if wait < -maxLag {
				next = time.Now()
				continue
			}
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		}
	}
}

// LoopFixtures loops testdata/audio.ogg on audio and testdata/video.ivf on video (either may be
// nil) until the returned stop is called; stop returns once both publishers have ended. Tests
// and tools use it to make a client talk.
func LoopFixtures(audio, video *webrtc.TrackLocalStaticSample) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if audio != nil {
		wg.Go(func() { _ = PublishLoop(ctx, audio, Fixture("audio.ogg")) })
	}
	if video != nil {
		wg.Go(func() { _ = PublishLoop(ctx, video, Fixture("video.ivf")) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}
