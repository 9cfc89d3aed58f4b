package media

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"ringside/internal/rtctest"
)

// TestPublishOverPeerConnection publishes both fixtures over a real pair of PeerConnections on
// this machine's addresses for longer than the clips last, and checks codecs, rates, and that
// RTP timestamps advance by exactly one frame across the loop.
func TestPublishOverPeerConnection(t *testing.T) {
	checkGoroutines(t)
	const run = 4600 * time.Millisecond // past the end of the 4 s clips

	sender, receiver := newPair(t)
	audio, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, track := range []webrtc.TrackLocal{audio, video} {
		if _, err := sender.AddTrack(track); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu   sync.Mutex
		recv = map[webrtc.RTPCodecType]*received{}
		wg   sync.WaitGroup
	)
	receiver.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		r := &received{mime: track.Codec().MimeType}
		mu.Lock()
		recv[track.Kind()] = r
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			r.add(pkt.SequenceNumber, pkt.Timestamp, time.Now())
			mu.Unlock()
		}
	})
	signalPair(t, sender, receiver)

	ctx, cancel := context.WithTimeout(t.Context(), run)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- PublishLoop(ctx, audio, Fixture("audio.ogg")) }()
	go func() { errs <- PublishLoop(ctx, video, Fixture("video.ivf")) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	closePeers(t, sender, receiver)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	checkReceived(t, "audio", recv[webrtc.RTPCodecTypeAudio], webrtc.MimeTypeOpus, 50, []uint32{960}, run)
	checkReceived(t, "video", recv[webrtc.RTPCodecTypeVideo], webrtc.MimeTypeVP8, 15, []uint32{5999, 6000, 6001}, run)
}

// received records one remote track: its packets in order of sequence number, and each new
// RTP timestamp (a new frame) with its arrival.
type received struct {
	mime     string
	packets  int
	lastSeq  uint16
	frames   []uint32 // RTP timestamps of consecutive packets, one per frame
	gaps     int      // sequence gaps, after which the frame step is unknown
	steps    []uint32 // timestamp steps between frames received without a gap
	first    time.Time
	last     time.Time
	lastTS   uint32
	haveLast bool
}

func (r *received) add(seq uint16, ts uint32, at time.Time) {
	r.packets++
	if !r.haveLast {
		r.first, r.lastSeq, r.lastTS, r.haveLast = at, seq, ts, true
		r.frames = append(r.frames, ts)
		return
	}
	r.last = at
	contiguous := seq == r.lastSeq+1
	if !contiguous {
		r.gaps++
	}
	r.lastSeq = seq
	if ts != r.lastTS {
		if contiguous {
			r.steps = append(r.steps, ts-r.lastTS)
		}
		r.frames = append(r.frames, ts)
		r.lastTS = ts
	}
}

func checkReceived(t *testing.T, kind string, r *received, mime string, fps float64, steps []uint32, run time.Duration) {
	t.Helper()
	if r == nil {
		t.Errorf("%s: no track received", kind)
		return
	}
	if !strings.EqualFold(r.mime, mime) {
		t.Errorf("%s: codec %s, want %s", kind, r.mime, mime)
	}
	elapsed := r.last.Sub(r.first)
	if elapsed < run-time.Second {
		t.Errorf("%s: media for %v of %v", kind, elapsed, run)
	}
	rate := float64(len(r.frames)-1) / elapsed.Seconds()
	if rate < fps*0.85 || rate > fps*1.15 {
		t.Errorf("%s: %.1f frames/s, want %v", kind, rate, fps)
	}
	if r.gaps > 2 {
		t.Errorf("%s: %d sequence gaps", kind, r.gaps)
	}
	for i, step := range r.steps {
		ok := false
		for _, s := range steps {
			ok = ok || step == s
		}
		if !ok {
			t.Errorf("%s: frame %d: timestamp step %d, want one of %v", kind, i+1, step, steps)
		}
	}
	t.Logf("%s: %d packets, %d frames in %v (%.1f/s)", kind, r.packets, len(r.frames), elapsed, rate)
}

func newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

func newPair(t *testing.T) (offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	api, err := newAPI()
	if err != nil {
		t.Fatal(err)
	}
	if offerer, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if answerer, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closePeers(t, offerer, answerer) })
	return offerer, answerer
}

// signalPair exchanges a complete offer and answer (no trickle) and waits until both are
// connected.
func signalPair(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	connected := func(pc *webrtc.PeerConnection) <-chan struct{} {
		ch := make(chan struct{})
		var once sync.Once
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				once.Do(func() { close(ch) })
			}
		})
		return ch
	}
	c1, c2 := connected(offerer), connected(answerer)

	if err := answerer.SetRemoteDescription(rtctest.Describe(t, offerer, true)); err != nil {
		t.Fatal(err)
	}
	if err := offerer.SetRemoteDescription(rtctest.Describe(t, answerer, false)); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan struct{}{c1, c2} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("peers did not connect")
		}
	}
}

func closePeers(t *testing.T, pcs ...*webrtc.PeerConnection) {
	t.Helper()
	for _, pc := range pcs {
		if err := pc.GracefulClose(); err != nil {
			t.Error(err)
		}
	}
}

// checkGoroutines fails the test if it leaves goroutines behind.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines left behind:\n%s",
					runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
