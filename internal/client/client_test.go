package client

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"ringside/internal/media"
	"ringside/internal/proto"
)

const (
	audio = webrtc.RTPCodecTypeAudio
	video = webrtc.RTPCodecTypeVideo
)

// TestSession walks the whole protocol against the fake server: join, welcome and roster, up
// offer and answer, down offer and answer, trickled candidates both ways, media both ways with
// the right codecs, RTCP back to the publisher, mode, mark, mute, a bad frame, and leave.
func TestSession(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	c := dial(t, s, Audio|Video)
	feed(t, c)

	waitFor(t, c, "media both ways and a PLI", func(c *Client) bool {
		a, _ := c.Track(otherID, audio)
		v, _ := c.Track(otherID, video)
		return a.Packets >= 50 && v.Packets >= 20 &&
			s.upPacketCount(audio) >= 50 && s.upPacketCount(video) >= 20 &&
			c.SenderRTCP(video).PLI >= 1
	})
	a, _ := c.Track(otherID, audio)
	v, _ := c.Track(otherID, video)
	if a.MimeType != webrtc.MimeTypeOpus || a.TrackID != otherID+"-audio" || a.PayloadType != 111 {
		t.Errorf("audio track %s %s pt %d", a.TrackID, a.MimeType, a.PayloadType)
	}
	if v.MimeType != webrtc.MimeTypeVP8 || v.TrackID != otherID+"-video" || v.PayloadType != 96 {
		t.Errorf("video track %s %s pt %d", v.TrackID, v.MimeType, v.PayloadType)
	}
	if len(a.SSRCs) != 1 || len(v.SSRCs) != 1 || a.Tracks != 1 || v.Tracks != 1 {
		t.Errorf("audio SSRCs %v tracks %d, video SSRCs %v tracks %d", a.SSRCs, a.Tracks, v.SSRCs, v.Tracks)
	}
	if a.Bytes == 0 || a.Last.Before(a.First) || a.MaxInterArrival > 500*time.Millisecond {
		t.Errorf("audio counters: %+v", a)
	}
	s.mu.Lock()
	upCodecs, upCands, downCands := s.upCodecs, s.candidates[proto.PCUp], s.candidates[proto.PCDown]
	s.mu.Unlock()
	if upCodecs[audio] != webrtc.MimeTypeOpus || upCodecs[video] != webrtc.MimeTypeVP8 {
		t.Errorf("server received codecs %v", upCodecs)
	}
	if upCands == 0 || downCands == 0 {
		t.Errorf("server received %d up and %d down candidates", upCands, downCands)
	}
	for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
		info, ok := c.Peer(pc)
		if !ok || info.State != webrtc.PeerConnectionStateConnected ||
			len(info.RemoteSDPs) != 1 || len(info.LocalSDPs) != 1 ||
			info.CandidatesSent == 0 || info.CandidatesReceived == 0 {
			t.Errorf("%s: %v %+v", pc, ok, info)
		}
	}

	if w, _ := c.Welcome(); w.You.ID != selfID || c.ID() != selfID || w.Resumed || !w.Recording {
		t.Errorf("welcome %+v", w)
	}
	if r := c.Roster(); len(r) != 1 || r[0].ID != otherID {
		t.Errorf("roster %+v", r)
	}
	frames := c.Frames()
	for i, want := range []string{proto.TypeWelcome, proto.TypeRoster, proto.TypeOffer} {
		if got := frameType(t, frames[i]); got != want {
			t.Errorf("frame %d is %s, want %s", i, got, want)
		}
	}

	must(t, c.SetMode(proto.ModeWhisper, otherID))
	must(t, c.Mark("Great discovery question"))
	must(t, c.Mute(false, true))
	must(t, c.SendRaw([]byte("{")))
	waitFor(t, c, "mode, marked, roster and error", func(c *Client) bool {
		m, _ := c.Mode()
		r := c.Roster()
		return m.Mode == proto.ModeWhisper && m.Target == otherID &&
			len(c.Marks()) == 1 && len(r) == 1 && !r[0].Audio && len(c.Errors()) == 1
	})
	if mk := c.Marks()[0]; mk.Note != "Great discovery question" || mk.AtMs != 1500 {
		t.Errorf("marked %+v", mk)
	}
	if e := c.Errors()[0]; e.Code != proto.CodeBadMessage || e.Fatal {
		t.Errorf("error %+v", e)
	}

	must(t, c.Leave())
	select {
	case <-c.Disconnected():
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not close after leave")
	}
	if reason, ok := c.Ended(); !ok || reason != proto.EndedLeft {
		t.Errorf("ended %q %v", reason, ok)
	}
	if code, _ := c.CloseStatus(); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d", code)
	}
	if err := c.Mark("after leave"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("send after the websocket closed: %v", err)
	}
	if f := c.Failures(); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

// TestDialRefused checks a refused join comes back as a *ServerError and leaves nothing
// running.
func TestDialRefused(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	c, err := Dial(t.Context(), Config{URL: s.url(), Token: "forged", Publish: Audio | Video})
	var se *ServerError
	if !errors.As(err, &se) || se.Code != proto.CodeBadToken || !se.Fatal {
		t.Fatalf("Dial: %v, %v; want a fatal bad_token", c, err)
	}
}

// TestWatchOnly checks a client that publishes nothing has no up connection yet receives.
func TestWatchOnly(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	c := dial(t, s, 0)
	waitFor(t, c, "down media", func(c *Client) bool {
		a, _ := c.Track(otherID, audio)
		v, _ := c.Track(otherID, video)
		return a.Packets >= 25 && v.Packets >= 10
	})
	if _, ok := c.Peer(proto.PCUp); ok || c.AudioTrack() != nil || c.VideoTrack() != nil {
		t.Error("an up connection or tracks without anything to publish")
	}
	for _, f := range c.Frames() {
		if typ := frameType(t, f); typ == proto.TypeAnswer {
			t.Error("the server answered an up offer never sent")
		}
	}
}

// TestResume cuts the websocket while media flows, resumes, and checks the resume: join with
// the secret, resumed welcome, ICE restarts on both connections, and media that never gapped.
// Then the server forgets the secret and the next resume is refused.
func TestResume(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	c := dial(t, s, Audio|Video)
	feed(t, c)
	waitFor(t, c, "media", func(c *Client) bool {
		a, _ := c.Track(otherID, audio)
		return a.Packets >= 25 && s.upPacketCount(audio) >= 25 && peersConnected(c)
	})

	c.CutWebsocket()
	if c.Connected() {
		t.Fatal("connected after the cut")
	}
	if err := c.SetMode(proto.ModeOpen, ""); !errors.Is(err, ErrNotConnected) {
		t.Errorf("send while cut: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // media keeps flowing meanwhile
	before, _ := c.Track(otherID, audio)
	upBefore := s.upPacketCount(audio)

	if err := c.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w, _ := c.Welcome(); !w.Resumed {
		t.Errorf("welcome after resume: %+v", w)
	}
	waitFor(t, c, "both ICE restarts done and media after them", func(c *Client) bool {
		up, _ := c.Peer(proto.PCUp)
		down, _ := c.Peer(proto.PCDown)
		a, _ := c.Track(otherID, audio)
		return len(up.RemoteSDPs) == 2 && len(down.LocalSDPs) == 2 && peersConnected(c) &&
			a.Packets >= before.Packets+50 && s.upPacketCount(audio) >= upBefore+50
	})
	s.mu.Lock()
	joins := slices.Clone(s.joins)
	s.mu.Unlock()
	if len(joins) != 2 || joins[1].Resume != "secret-1" || joins[1].Token != goodToken {
		t.Errorf("joins %+v", joins)
	}
	up, _ := c.Peer(proto.PCUp)
	down, _ := c.Peer(proto.PCDown)
	if u0, u1 := ufrag(up.LocalSDPs[0]), ufrag(up.LocalSDPs[1]); u0 == u1 {
		t.Errorf("up offer kept ice-ufrag %q across the restart", u0)
	}
	if u0, u1 := ufrag(down.RemoteSDPs[0]), ufrag(down.RemoteSDPs[1]); u0 == u1 {
		t.Errorf("down offer kept ice-ufrag %q across the restart", u0)
	}
	for _, kind := range []webrtc.RTPCodecType{audio, video} {
		st, _ := c.Track(otherID, kind)
		if st.MaxInterArrival > 500*time.Millisecond || len(st.SSRCs) != 1 {
			t.Errorf("%s: max inter-arrival %v, SSRCs %v", kind, st.MaxInterArrival, st.SSRCs)
		}
	}

	s.forgetResume()
	err := c.Resume(t.Context())
	var se *ServerError
	if !errors.As(err, &se) || se.Code != proto.CodeResumeFailed {
		t.Errorf("resume with a stale secret: %v", err)
	}
	if f := c.Failures(); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

// TestDownRenegotiation has the server take the down video away and give it back: the client
// answers each offer, sees the track end, and counts the new track under the same key.
func TestDownRenegotiation(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	c := dial(t, s, 0)
	waitFor(t, c, "down media", func(c *Client) bool {
		v, _ := c.Track(otherID, video)
		return v.Packets >= 10
	})

	s.toggleDownVideo()
	waitFor(t, c, "the video track to end", func(c *Client) bool {
		v, _ := c.Track(otherID, video)
		down, _ := c.Peer(proto.PCDown)
		return v.Active == 0 && len(down.LocalSDPs) == 2
	})
	a, _ := c.Track(otherID, audio)
	v, _ := c.Track(otherID, video)

	s.toggleDownVideo()
	waitFor(t, c, "video back, audio on", func(c *Client) bool {
		a2, _ := c.Track(otherID, audio)
		v2, _ := c.Track(otherID, video)
		return v2.Active == 1 && v2.Tracks == 2 && v2.Packets >= v.Packets+10 && a2.Packets >= a.Packets+25
	})
	if down, _ := c.Peer(proto.PCDown); len(down.RemoteSDPs) != 3 {
		t.Errorf("%d down offers, want 3", len(down.RemoteSDPs))
	}
	if f := c.Failures(); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

// TestCandidatesBeforeSDP has the server send every candidate before the SDP it belongs to:
// the client must keep them until the remote description is set (down) or the answer came
// (up), then apply them.
func TestCandidatesBeforeSDP(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	s.mu.Lock()
	s.candidatesFirst = true
	s.mu.Unlock()
	c := dial(t, s, Audio)
	feed(t, c)
	waitFor(t, c, "media both ways", func(c *Client) bool {
		a, _ := c.Track(otherID, audio)
		return a.Packets >= 25 && s.upPacketCount(audio) >= 25
	})
	frames := c.Frames()
	if typ := frameType(t, frames[2]); typ != proto.TypeCandidate {
		t.Errorf("the third frame is %s, want a candidate ahead of the down offer", typ)
	}
	if f := c.Failures(); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

// TestDialTimeout checks Dial gives up at its context's deadline when no welcome comes, and
// leaves nothing running.
func TestDialTimeout(t *testing.T) {
	checkGoroutines(t)
	s := newFakeServer(t)
	s.mu.Lock()
	s.mute = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, Config{URL: s.url(), Token: goodToken}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want the deadline", err)
	}
}

func dial(t *testing.T, s *fakeServer, publish Kinds) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, Config{URL: s.url(), Token: goodToken, Publish: publish})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// feed publishes the fixtures on the client's tracks until the test ends.
func feed(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for path, track := range map[string]*webrtc.TrackLocalStaticSample{
		"audio.ogg": c.AudioTrack(), "video.ivf": c.VideoTrack(),
	} {
		if track == nil {
			continue
		}
		wg.Go(func() {
			if err := media.PublishLoop(ctx, track, media.Fixture(path)); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func waitFor(t *testing.T, c *Client, what string, cond func(*Client) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if err := c.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v; tracks %+v; failures %v", what, err, c.Tracks(), c.Failures())
	}
}

func peersConnected(c *Client) bool {
	for _, pc := range []proto.PC{proto.PCUp, proto.PCDown} {
		if info, ok := c.Peer(pc); ok && info.State != webrtc.PeerConnectionStateConnected {
			return false
		}
	}
	return true
}

func ufrag(sdp string) string {
	for line := range strings.SplitSeq(sdp, "\r\n") {
		if u, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok {
			return u
		}
	}
	return ""
}

func frameType(t *testing.T, frame []byte) string {
	t.Helper()
	var env proto.Envelope
	if err := json.Unmarshal(frame, &env); err != nil {
		t.Fatal(err)
	}
	return env.Type
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkGoroutines fails the test if it leaves goroutines behind. Call it first, so that its
// check runs after every other cleanup.
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
