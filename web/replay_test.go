package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/httpapi"
	"ringside/internal/media"
	"ringside/internal/proto"
	"ringside/web"
)

// maxSyncErrorMs is how far any playing element may be from the replay's master clock.
const maxSyncErrorMs = 100

// replayPeer joins with token as a Pion peer publishing the media fixtures in a loop until
// the test ends.
func replayPeer(t *testing.T, wsURL, token string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: wsURL, Token: token, Publish: client.Audio | client.Video})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	pctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = media.PublishLoop(pctx, c.AudioTrack(), media.Fixture("audio.ogg")); done <- struct{}{} }()
	go func() { _ = media.PublishLoop(pctx, c.VideoTrack(), media.Fixture("video.ivf")); done <- struct{}{} }()
	t.Cleanup(func() {
		stop()
		<-done
		<-done
		_ = c.Close()
	})
	return c
}

func replayWait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replayFlowing waits until c receives kind from the participant from.
func replayFlowing(t *testing.T, c *client.Client, from string, kind webrtc.RTPCodecType) {
	t.Helper()
	count := func() uint64 {
		s, _ := c.Track(from, kind)
		return s.Packets
	}
	start := count()
	replayWait(t, kind.String()+" from "+from, 15*time.Second, func() bool { return count() >= start+10 })
}

// recordSession records a call of a rep and a partner (Pion peers playing the fixtures) in
// which the coach joins silently, whispers to the rep for 5 s, goes silent again and sets a
// marker; then the admin ends it. It returns the session id and the invite tokens.
func recordSession(t *testing.T, srv *apptest.Server) (string, map[string]string) {
	t.Helper()
	return recordSessionWith(t, srv, httpapi.CreateSessionRequest{
		Title: "Discovery call practice", RepName: "Ana", PartnerName: "Ben", CoachName: "Cleo"})
}

// recordSessionWith is recordSession for a session created with req (a rep user's, say).
func recordSessionWith(t *testing.T, srv *apptest.Server, req httpapi.CreateSessionRequest) (string, map[string]string) {
	t.Helper()
	id, _, tokens := srv.CreateSessionWith(t, req)
	rep := replayPeer(t, srv.WSURL, tokens["rep"])
	partner := replayPeer(t, srv.WSURL, tokens["partner"])
	replayFlowing(t, partner, rep.ID(), webrtc.RTPCodecTypeVideo)
	replayFlowing(t, rep, partner.ID(), webrtc.RTPCodecTypeVideo)
	coach := replayPeer(t, srv.WSURL, tokens["coach"])
	replayFlowing(t, coach, rep.ID(), webrtc.RTPCodecTypeAudio)
	time.Sleep(time.Second)

	setMode := func(mode string) {
		t.Helper()
		if err := coach.SetMode(mode, ""); err != nil {
			t.Fatal(err)
		}
		replayWait(t, "mode "+mode, 5*time.Second, func() bool {
			m, ok := coach.Mode()
			return ok && m.Mode == mode
		})
	}
	setMode(proto.ModeWhisper)
	replayFlowing(t, rep, coach.ID(), webrtc.RTPCodecTypeAudio)
	time.Sleep(5 * time.Second)
	setMode(proto.ModeSilent)
	time.Sleep(time.Second)
	if err := coach.Mark("good question"); err != nil {
		t.Fatal(err)
	}
	replayWait(t, "marker stored", 5*time.Second, func() bool { return len(coach.Marks()) == 1 })
	time.Sleep(time.Second)
	srv.EndSession(t, id) // finalizes the recording before it returns
	return id, tokens
}

// replayState is window.ringsideReplay.state() (web/static/js/replay-sync.js).
type replayState struct {
	Master   float64 `json:"master"`
	Wall     float64 `json:"wall"` // the page's performance.now() when Master was read
	Playing  bool    `json:"playing"`
	Held     bool    `json:"held"`
	Elements []struct {
		File        string   `json:"file"`
		Kind        string   `json:"kind"`
		Role        string   `json:"role"`
		Whisper     bool     `json:"whisper"`
		StartMs     float64  `json:"startMs"`
		EndMs       float64  `json:"endMs"`
		CurrentTime float64  `json:"currentTime"`
		Active      bool     `json:"active"`
		Paused      bool     `json:"paused"`
		Muted       bool     `json:"muted"`
		ReadyState  int      `json:"readyState"`
		Failed      bool     `json:"failed"`
		Played      bool     `json:"played"`
		ErrorMs     *float64 `json:"errorMs"`
	} `json:"elements"`
}

func playerState(b *chrome) replayState {
	b.t.Helper()
	return eval[replayState](b, `window.ringsideReplay.state()`)
}

// waitPlayer waits until the page's player is up and every media element can play.
func waitPlayer(b *chrome) replayState {
	b.t.Helper()
	b.waitUntil("the replay's media load", `!!(window.ringsideReplay && ringsideReplay.ready &&
		ringsideReplay.state().elements.every((e) => e.failed || e.readyState >= 2))`)
	st := playerState(b)
	for _, e := range st.Elements {
		if e.Failed {
			b.t.Errorf("%s: %s does not load in Chromium", b.name, e.File)
		}
	}
	return st
}

// seekWithSlider drags the position slider to ms, as a person does.
func seekWithSlider(b *chrome, ms float64) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
		const s = document.getElementById('rp-seek');
		s.value = %f;
		s.dispatchEvent(new Event('input', {bubbles: true}));
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, ms))
}

// checkSync samples the player n times and fails on any element that should play and does
// not, or that is maxSyncErrorMs or more off the master clock, and unless wantActive < 0 on
// a number of playing elements other than wantActive. It returns the worst error.
func checkSync(b *chrome, n, wantActive int) float64 {
	b.t.Helper()
	var worst float64
	for i := range n {
		st := playerState(b)
		active := 0
		for _, e := range st.Elements {
			if !e.Active || e.Failed {
				continue
			}
			active++
			if e.Paused {
				b.t.Errorf("%s at %.0f ms: %s should play but is paused", b.name, st.Master, e.File)
			}
			if e.ErrorMs != nil {
				worst = math.Max(worst, math.Abs(*e.ErrorMs))
				if math.Abs(*e.ErrorMs) >= maxSyncErrorMs {
					b.t.Errorf("%s at %.0f ms: %s is %.0f ms off the clock (currentTime %.3f s, start %.0f ms)",
						b.name, st.Master, e.File, *e.ErrorMs, e.CurrentTime, e.StartMs)
				}
			}
		}
		if wantActive >= 0 && active != wantActive {
			b.t.Errorf("%s sample %d at %.0f ms: %d elements play, want %d", b.name, i, st.Master, active, wantActive)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return worst
}

// TestReplayInChromium records a real session, then replays it in Chromium at phone size as
// the admin, the coach and the rep: every track plays; a seek to the middle plays from there
// with every element within 100 ms of the master clock; a comment added at a time is on the
// timeline after a reload and jumps there when tapped; the rep sees the whisper to the rep.
func TestReplayInChromium(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	id, tokens := recordSession(t, srv)
	b := startBrowser(t, "replay", launch{phone: true})

	// The admin's address, on a desktop screen, asks for the admin token, then plays.
	b.do(chromedp.EmulateViewport(1280, 800))
	b.open(srv.URL + "/sessions/" + id + "/replay")
	b.waitUntil("the sign-in form shows", `probe.visible('#signin-form')`)
	b.accessible("admin sign-in")
	b.do(chromedp.SendKeys(chromedp.ID("signin-token"), srv.AdminToken))
	b.click("#signin-form button[type=submit]")
	st := waitPlayer(b)
	if len(st.Elements) != 5 {
		t.Errorf("the admin's replay has %d media elements, want 5", len(st.Elements))
	}
	seekWithSlider(b, st.Elements[0].EndMs/2)
	b.waitUntil("the videos show", `probe.count('.rp-tile[data-video="on"]') === 2`)
	b.accessible("admin, desktop")
	b.screenshot("replay-admin-desktop")
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch,
		chromedp.EmulatePortrait, chromedp.EmulateScale(2)))

	// The coach's address: play, seek, comment.
	b.open(srv.URL + "/replay/" + tokens["coach"])
	st = waitPlayer(b)
	kinds := map[string]int{}
	var durationMs, whisperStart, whisperEnd float64
	for _, e := range st.Elements {
		kinds[fmt.Sprintf("%s %s whisper=%v", e.Role, e.Kind, e.Whisper)]++
		durationMs = math.Max(durationMs, e.EndMs)
		if e.Whisper {
			whisperStart, whisperEnd = e.StartMs, e.EndMs
		}
	}
	for _, want := range []string{"rep audio whisper=false", "rep video whisper=false", "partner audio whisper=false",
		"partner video whisper=false", "coach audio whisper=true"} {
		if kinds[want] != 1 {
			t.Errorf("the coach's replay has %d elements of %s; all: %v", kinds[want], want, kinds)
		}
	}
	if whisperEnd-whisperStart < 4000 {
		t.Fatalf("the whisper lasts %.0f ms in the replay, want about 5 s", whisperEnd-whisperStart)
	}
	b.accessible("coach, paused")
	b.keyboardReaches("rp-seek", "rp-back", "rp-play", "rp-fwd", "rp-speed", "rp-whisper", "comment-text", "comment-add")

	b.tap("#rp-play")
	time.Sleep(2 * time.Second)
	st = playerState(b)
	if !st.Playing || st.Master < 1200 {
		t.Fatalf("after 2 s of playing the clock is at %.0f ms (playing %v, waiting %v)", st.Master, st.Playing, st.Held)
	}
	checkSync(b, 3, 4) // before the whisper: rep and partner, audio and video

	// The middle of the recording, inside the coach's whisper.
	mid := durationMs / 2
	if mid < whisperStart+500 || mid > whisperEnd-2500 {
		mid = whisperStart + 500
	}
	seekWithSlider(b, mid)
	time.Sleep(1000 * time.Millisecond)
	if st = playerState(b); st.Master < mid || st.Master > mid+2500 || !st.Playing {
		t.Errorf("after seeking to %.0f ms the clock is at %.0f ms (playing %v)", mid, st.Master, st.Playing)
	}
	worst := checkSync(b, 5, 5)
	t.Logf("after the seek to %.0f ms (of %.0f): worst error of an element against the clock %.1f ms", mid, durationMs, worst)
	for _, e := range playerState(b).Elements {
		if !e.Played {
			t.Errorf("%s (%s %s) never played", e.File, e.Role, e.Kind)
		}
	}

	// Whisper audio mutes on its own.
	b.tap("#rp-whisper")
	for _, e := range playerState(b).Elements {
		if e.Kind == "audio" && e.Muted != e.Whisper {
			t.Errorf("with whisper audio off, %s (whisper %v) muted = %v", e.File, e.Whisper, e.Muted)
		}
	}
	b.tap("#rp-whisper")

	// Speed: 2× runs the clock and the elements twice as fast.
	b.do(chromedp.SetValue(chromedp.ID("rp-speed"), "2"))
	eval[bool](b, `(document.getElementById('rp-speed').dispatchEvent(new Event('change')), true)`)
	seekWithSlider(b, 0)
	time.Sleep(600 * time.Millisecond)
	before := playerState(b)
	time.Sleep(500 * time.Millisecond)
	after := playerState(b)
	if rate := (after.Master - before.Master) / (after.Wall - before.Wall); rate < 1.9 || rate > 2.1 {
		t.Errorf("at 2× the clock runs at %.2f×", rate)
	}
	checkSync(b, 2, -1)
	b.do(chromedp.SetValue(chromedp.ID("rp-speed"), "1"))
	eval[bool](b, `(document.getElementById('rp-speed').dispatchEvent(new Event('change')), true)`)

	// A comment at a time: pause, go there, write, save.
	b.tap("#rp-play")
	at := math.Round((whisperStart+700)/1000) * 1000 // the slider moves in whole seconds
	seekWithSlider(b, at)
	b.tap("#comment-text")
	b.do(chromedp.SendKeys(chromedp.ID("comment-text"), "Good pause before the price"))
	b.tap("#comment-add")
	b.waitUntil("the comment is saved", `probe.text('#comment-status').startsWith('Comment added')`)
	comments := fetchComments(t, srv, id, tokens["rep"])
	if len(comments) != 1 || comments[0].Text != "Good pause before the price" || comments[0].Author != "Cleo" ||
		math.Abs(float64(comments[0].OffsetMs)-at) > 1 {
		t.Fatalf("stored comments %+v, want one by Cleo at %.0f ms", comments, at)
	}

	// After a reload it is on the timeline; a tap on it jumps there.
	b.do(chromedp.Reload())
	waitPlayer(b)
	seekWithSlider(b, durationMs-300)
	b.tap(fmt.Sprintf(`.tl-point.comment[data-comment-id=%s]`, js(comments[0].ID)))
	if st = playerState(b); math.Abs(st.Master-at) > maxSyncErrorMs {
		t.Errorf("tapping the comment on the timeline jumped to %.0f ms, want %.0f ms", st.Master, at)
	}
	b.tap("#rp-play")
	time.Sleep(1500 * time.Millisecond)
	b.tap("#rp-play")
	b.screenshot("replay-coach-phone")
	b.fullScreenshot("replay-coach-phone-full")
	b.accessible("coach, after a comment")

	// The rep's address: the whisper to the rep shows; the comment is there; no form.
	b.open(srv.URL + "/replay/" + tokens["rep"])
	st = waitPlayer(b)
	if len(st.Elements) != 5 {
		t.Errorf("the rep's replay has %d media elements, want 5", len(st.Elements))
	}
	if eval[bool](b, `probe.visible('#comment-form')`) {
		t.Error("the rep is offered the comment form")
	}
	if text := eval[string](b, `probe.text('#timeline')`); !strings.Contains(text, "Coach mode") {
		t.Errorf("the rep's timeline shows no coach mode: %q", text)
	}
	if n := eval[int](b, `probe.count('.tl-span.whisper')`); n < 2 {
		t.Errorf("the rep's timeline shows %d whisper spans, want the mode and the audio", n)
	}
	if n := eval[int](b, `probe.count('.tl-point.comment') + probe.count('.tl-point.marker')`); n != 2 {
		t.Errorf("the rep's timeline shows %d notes, want the comment and the marker", n)
	}
	seekWithSlider(b, mid)
	b.tap("#rp-play")
	time.Sleep(1500 * time.Millisecond)
	checkSync(b, 3, 5)
	if got := eval[string](b, `probe.text('#rp-mode')`); got != "Coach whispering to you" {
		t.Errorf("during the whisper the rep's replay says %q, want \"Coach whispering to you\"", got)
	}
	b.tap("#rp-play")
	b.screenshot("replay-rep-phone")
	b.fullScreenshot("replay-rep-phone-full")
	b.accessible("rep")
}

func fetchComments(t *testing.T, srv *apptest.Server, id, token string) []httpapi.Comment {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/sessions/"+id+"/comments", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list httpapi.CommentList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("comments: %d %v", resp.StatusCode, err)
	}
	return list.Comments
}

// TestReplayPages: both replay addresses serve the page, never cached (the URL may hold an
// invite token).
func TestReplayPages(t *testing.T) {
	h := web.Handler()
	for _, p := range []string{"/sessions/f1239b47-1e8f-42e0-b8c6-68d3d8506346/replay", "/replay/zVvvKWVebnJJVPl2vT-jIBbJb90IowT-PYYaH8e3_7M"} {
		rec := get(t, h, p)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `src="/static/js/replay.js"`) {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q", p, got)
		}
	}
	for _, p := range []string{"/static/js/replay-sync.js", "/static/js/replay-timeline.js", "/static/css/replay.css"} {
		if rec := get(t, h, p); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
}
