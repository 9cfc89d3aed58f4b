package media

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Voice is a stretch of a LevelScript, from the script's start.
type Voice struct{ From, To time.Duration }

// LevelScript makes a Pion peer talk on a known schedule, as far as the server can tell: it
// writes the RFC 6464 audio level (sdp.AudioLevelURI) into every audio packet the peer sends,
// voice (-20 to -38 dBov) inside the script's stretches once Start has been called, room noise
// (-60 to -127 dBov) at every other time. The packets' Opus payloads are whatever the track is
// fed (LoopFixtures). Tests of the talk analytics use it; build the peer's client with API.
type LevelScript struct {
	voice []Voice
	start atomic.Int64 // Unix nanoseconds; 0: not started
}

// NewLevelScript returns a script with the given stretches of voice.
func NewLevelScript(voice ...Voice) *LevelScript { return &LevelScript{voice: voice} }

// Start starts the script's clock at at (several peers' scripts may share one start).
func (l *LevelScript) Start(at time.Time) { l.start.Store(at.UnixNano()) }

// Level is the audio level the script gives a packet sent at t.
func (l *LevelScript) Level(t time.Time) uint8 {
	if start := l.start.Load(); start != 0 {
		d := t.Sub(time.Unix(0, start))
		for _, v := range l.voice {
			if d >= v.From && d < v.To {
				return uint8(20 + rand.IntN(19))
			}
		}
	}
	return uint8(60 + rand.IntN(68))
}

// API is a Pion API like internal/client's default (Opus and VP8, Pion's default
// interceptors) that also negotiates the audio level extension and writes it from the script.
func (l *LevelScript) API() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("media: level script: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
	}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("media: level script: %w", err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("media: level script: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("media: level script: %w", err)
	}
	ir.Add(levelFactory{l})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)), nil
}

type levelFactory struct{ l *LevelScript }

func (f levelFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &levelInterceptor{l: f.l}, nil
}

// levelInterceptor sets the level on the audio streams of one PeerConnection.
type levelInterceptor struct {
	interceptor.NoOp
	l *LevelScript
}

func (i *levelInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 15 {
			id = uint8(e.ID)
		}
	}
	if id == 0 || !strings.HasPrefix(strings.ToLower(info.MimeType), "audio/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if err := h.SetExtension(id, []byte{i.l.Level(time.Now())}); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}
