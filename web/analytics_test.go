package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/httpapi"
	"ringside/internal/media"
	"ringside/web"
)

// talkPeer joins with token as a Pion peer publishing the audio fixture with audio levels
// following script, until the test ends.
func talkPeer(t *testing.T, srv *apptest.Server, token string, script *media.LevelScript) *client.Client {
	t.Helper()
	api, err := script.API()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: srv.WSURL, Token: token, Publish: client.Audio, API: api})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	stop := media.LoopFixtures(c.AudioTrack(), nil)
	t.Cleanup(func() {
		stop()
		_ = c.Close()
	})
	return c
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// TestTalkAnalyticsPages: a rep and a partner (Pion peers) talk on a known script in a
// recorded session; once it has ended, the replay page's Talk card draws their talk, the
// overlap and the longest monologue from the stored analytics, states the figures the API
// gives and jumps the replay to an interruption; the rep's practice page shows the session in
// the talk trend.
func TestTalkAnalyticsPages(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	rep := invite(t, srv, "Ana", "rep", "Team North")
	id, _, tokens := srv.CreateSessionWith(t, httpapi.CreateSessionRequest{Title: "Talk practice", PartnerName: "Ben", RepID: rep.User.ID})
	// The rep talks 0.3–3 s and 5.5–6.5 s, the partner 2.5–5 s: the partner interrupts once,
	// the rep's talk ratio is 3.7 / 6.2 = 60 %, the longest monologue is the rep's first 2.2 s.
	repScript := media.NewLevelScript(media.Voice{From: ms(300), To: ms(3000)}, media.Voice{From: ms(5500), To: ms(6500)})
	partnerScript := media.NewLevelScript(media.Voice{From: ms(2500), To: ms(5000)})
	repPeer := talkPeer(t, srv, tokens["rep"], repScript)
	partnerPeer := talkPeer(t, srv, tokens["partner"], partnerScript)
	replayFlowing(t, partnerPeer, repPeer.ID(), webrtc.RTPCodecTypeAudio)
	replayFlowing(t, repPeer, partnerPeer.ID(), webrtc.RTPCodecTypeAudio)
	start := time.Now()
	repScript.Start(start)
	partnerScript.Start(start)
	time.Sleep(7500 * time.Millisecond)
	srv.EndSession(t, id)

	var talk struct {
		TalkRatio float64 `json:"talkRatio"`
		Rep       struct {
			Talk [][2]int64 `json:"talk"`
		} `json:"rep"`
		Partner struct {
			Interruptions int `json:"interruptions"`
		} `json:"partner"`
		Overlaps         []struct{ StartMs int64 } `json:"overlaps"`
		LongestMonologue struct{ By string }       `json:"longestMonologue"`
	}
	call(t, srv, tokens["rep"], "GET", "/api/sessions/"+id+"/analytics", nil, 200, &talk)
	if math.Abs(talk.TalkRatio-59.7) > 2 || len(talk.Overlaps) != 1 || talk.Partner.Interruptions != 1 || talk.LongestMonologue.By != "rep" {
		t.Fatalf("the stored analytics are not the script's: %+v", talk)
	}
	ratio := fmt.Sprintf("Rep %d%% · Partner %d%%", int(math.Round(talk.TalkRatio)), 100-int(math.Round(talk.TalkRatio)))

	// The replay, opened with the rep's link.
	b := startBrowser(t, "rep", launch{})
	b.open(srv.URL + "/replay/" + tokens["rep"])
	waitPlayer(b)
	b.waitUntil("the Talk card is drawn", `document.querySelector('#talk')?.dataset.state === 'ready'`)
	for sel, want := range map[string]int{"#talk .talk-rep": 2, "#talk .talk-partner": 1, "#talk .talk-overlap": 1,
		"#talk .talk-monologue": 1, "#talk-interruptions button": 1} {
		if got := eval[int](b, fmt.Sprintf(`probe.count(%s)`, js(sel))); got != want {
			t.Errorf("the Talk card shows %d of %s, want %d", got, sel, want)
		}
	}
	figures := eval[string](b, `probe.text('#talk-figures')`)
	for _, want := range []string{ratio, "Rep 0 · Partner 1", "by the rep", "1 time"} {
		if !strings.Contains(figures, want) {
			t.Errorf("the Talk card's figures %q do not say %q", figures, want)
		}
	}
	// The bars are where the analytics put them: the rep's first talk starts where the
	// timeline's scale says.
	var bar struct{ Left, Total float64 }
	raw := eval[string](b, `(() => {
		const s = document.querySelector('#talk .talk-rep');
		const lane = s.parentElement.getBoundingClientRect();
		return JSON.stringify({Left: s.getBoundingClientRect().left - lane.left, Total: lane.width});
	})()`)
	if err := json.Unmarshal([]byte(raw), &bar); err != nil {
		t.Fatal(err)
	}
	total := eval[float64](b, `ringsideReplay.state().elements.reduce((m, e) => Math.max(m, e.endMs), 0)`)
	if want := float64(talk.Rep.Talk[0][0]) / math.Max(total, 1) * bar.Total; math.Abs(bar.Left-want) > 0.05*bar.Total {
		t.Errorf("the rep's first bar starts %.0f px into the lane, want about %.0f", bar.Left, want)
	}
	b.accessible("replay with the Talk card")
	b.fullScreenshot("replay-talk")

	center(b, "#talk-interruptions button")
	b.click("#talk-interruptions button")
	b.waitUntil("the replay jumps to the interruption", fmt.Sprintf(
		`Math.abs(ringsideReplay.state().master - %d) < 600`, talk.Overlaps[0].StartMs))

	// The rep's practice page, signed in, shows the session in the talk trend.
	b.open(srv.URL + "/signin#" + linkToken(t, rep.SignInURL))
	b.waitUntil("the sign-in button shows", `probe.visible('#signin-go')`)
	b.click("#signin-go")
	b.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	b.waitUntil("the talk trend is drawn", `document.querySelector('#talk-trend')?.dataset.sessions === '1'`)
	if got, want := eval[string](b, `probe.text('#talk-trend [data-metric=talkRatio] td')`), fmt.Sprintf("%d%%", int(math.Round(talk.TalkRatio))); got != want {
		t.Errorf("the trend's talk ratio reads %q, want %q", got, want)
	}
	if got := eval[string](b, `probe.text('#talk-trend [data-metric=partnerInterruptions] td')`); got != "1" {
		t.Errorf("the trend says the rep was interrupted %q times, want 1", got)
	}
	if eval[bool](b, `probe.visible('#talk-trend-empty')`) {
		t.Error("the trend says there is nothing to show")
	}
	b.accessible("practice page with the talk trend")
	b.fullScreenshot("me-talk-trend")
}
