package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"ringside/internal/app/apptest"
	"ringside/internal/httpapi"
	"ringside/web"
)

// party is one participant's browser with its participant id.
type party struct {
	*chrome
	id string
}

// join opens an invite link and joins: a tap on a phone, a click elsewhere.
func join(t *testing.T, b *chrome, link string, phone bool) *party {
	t.Helper()
	b.open(link)
	b.waitUntil("the lobby shows", `probe.visible('#join')`)
	if phone {
		b.tap("#join")
	} else {
		b.click("#join")
	}
	b.waitUntil("joined", `!!(window.ringside && ringside.you && ringside.state === 'connected')`)
	eval[bool](b, `(probe.watchConnection(), true)`)
	return &party{chrome: b, id: eval[string](b, `ringside.you.id`)}
}

// sees checks that p's page shows other's video playing and receives its audio.
func (p *party) sees(other *party, view string) {
	p.t.Helper()
	p.waitUntil(fmt.Sprintf("%s's video plays", other.name),
		fmt.Sprintf(`probe.playing('%s .tile[data-pid=%s] video')`, view, js(other.id)))
	p.waitUntil(fmt.Sprintf("%s's audio arrives", other.name),
		fmt.Sprintf(`probe.flowing(%s, 'audio')`, js(other.id)))
}

// noTrace is what a page holds of a participant it must not know of.
type noTrace struct {
	DOM       int  `json:"dom"`
	Text      bool `json:"text"`
	Roster    bool `json:"roster"`
	Remote    bool `json:"remote"`
	Receivers bool `json:"receivers"`
	SDP       bool `json:"sdp"`
	Stats     bool `json:"stats"`
	Whisper   bool `json:"whisper"`
}

// traceOf reads everything p's page holds of the coach: its DOM, visible text, roster, received
// tracks, transceivers, down SDP and every getStats entry.
func (p *party) traceOf(coach *party, coachName string) noTrace {
	p.t.Helper()
	return eval[noTrace](p.chrome, fmt.Sprintf(`(async () => {
		const pid = %s, name = %s;
		return {
			dom: document.querySelectorAll('.tile[data-role="coach"], [data-pid="' + pid + '"]').length,
			text: document.body.innerText.includes(name),
			roster: ringside.roster.some((m) => m.id === pid || m.role === 'coach'),
			remote: ringside.remote().some((r) => r.pid === pid),
			receivers: ringside.receivers().some((r) => r.trackId.includes(pid)),
			sdp: ringside.downSDP().includes(pid),
			stats: (await ringside.statsText()).includes(pid),
			whisper: probe.visible('#call-whisper'),
		};
	})()`, js(coach.id), js(coachName)))
}

// TestCall runs a whole call in real Chromium: a rep on a phone, a partner and a coach, and
// walks the coach through silent, whisper, open, push-to-whisper and back, checking what each
// page shows and what it receives on the wire.
func TestCall(t *testing.T) {
	start := time.Now()
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	sessionID, invites, _ := srv.CreateSessionWith(t, httpapi.CreateSessionRequest{
		Title: "Discovery call", RepName: "Ana", PartnerName: "Ben", CoachName: "Cleo",
	})

	repB := startBrowser(t, "rep", launch{fakeUI: true, phone: true})
	repB.setPermission(srv.URL, "screen-wake-lock", cdpbrowser.PermissionSettingGranted)
	repB.open(invites["rep"])
	repB.waitUntil("the lobby shows", `probe.visible('#join')`)
	repB.screenshot("join-lobby-phone")
	repB.accessible("lobby")
	rep := join(t, repB, invites["rep"], true)
	partner := join(t, startBrowser(t, "partner", launch{fakeUI: true}), invites["partner"], false)

	rep.sees(partner, "#call-stage")
	partner.sees(rep, "#call-stage")
	rep.waitUntil("the screen is kept awake", `ringside.wakeLock.held`)
	rep.waitUntil("the partner is the main tile", fmt.Sprintf(`probe.visible('.tile.main[data-pid=%s]')`, js(partner.id)))
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	step("rep and partner in a call")
	offersBefore := map[*party]int{rep: downOffers(rep), partner: downOffers(partner)}

	step("coach joins")
	// The coach joins silent: it sees and hears both, they learn nothing of it.
	coach := join(t, startBrowser(t, "coach", launch{fakeUI: true}), invites["coach"], false)
	coach.waitUntil("the console shows", `probe.visible('#console') && probe.visible('#mode-now')`)
	coach.sees(rep, "#console-grid")
	coach.sees(partner, "#console-grid")
	coach.waitUntil("the coach is silent", `document.querySelector('#mode-now').dataset.mode === 'silent'`)
	sendsNothing(coach)
	time.Sleep(time.Second) // time for any leak to show
	for _, p := range []*party{rep, partner} {
		if tr := p.traceOf(coach, "Cleo"); tr != (noTrace{}) {
			t.Errorf("%s holds a trace of the silent coach: %+v", p.name, tr)
		}
		if n := downOffers(p); n != offersBefore[p] {
			t.Errorf("%s got %d down offers after a silent coach joined", p.name, n-offersBefore[p])
		}
	}
	rep.screenshot("rep-phone-call")
	partner.screenshot("partner-call")
	rep.accessible("in a call")
	partner.accessible("in a call")
	coach.accessible("silent")
	both(rep, partner)

	step("whisper")
	// Whisper (to the rep, the default): only the rep hears it and sees the indicator.
	coach.click("#mode-whisper")
	coach.waitUntil("the coach whispers", `document.querySelector('#mode-now').dataset.mode === 'whisper'`)
	rep.waitUntil("the whisper indicator shows", `probe.visible('#call-whisper')`)
	rep.waitUntil("the coach's audio arrives", fmt.Sprintf(`probe.flowing(%s, 'audio')`, js(coach.id)))
	if n := eval[int](rep.chrome, fmt.Sprintf(`document.querySelectorAll('.tile[data-pid=%s]').length`, js(coach.id))); n != 0 {
		t.Errorf("the rep shows a tile for a whispering coach")
	}
	coach.waitUntil("the coach sends audio", `probe.sentRising('audio')`)
	if got := eval[[]sender](coach.chrome, `ringside.senders()`); !sends(got, "audio") || sends(got, "video") {
		t.Errorf("a whispering coach must send audio only, sends %+v", got)
	}
	if tr := partner.traceOf(coach, "Cleo"); tr != (noTrace{}) {
		t.Errorf("the partner holds a trace of the coach whispering to the rep: %+v", tr)
	}
	if n := downOffers(partner); n != offersBefore[partner] {
		t.Errorf("the partner got %d down offers because the coach whispered", n-offersBefore[partner])
	}
	rep.screenshot("rep-phone-whisper")
	rep.accessible("whisper")
	both(rep, partner)

	step("marker")
	// A marker with a note.
	coach.do(chromedp.SendKeys(chromedp.ID("mark-note"), "Great discovery question"))
	coach.click("#mark-add")
	coach.waitUntil("the marker is listed", `probe.text('#marks').includes('Great discovery question')`)
	if marks := srv.Session(t, sessionID).Markers; len(marks) != 1 || marks[0].Note != "Great discovery question" {
		t.Errorf("stored markers: %+v", marks)
	}

	step("open")
	// Open: everyone sees and hears the coach.
	coach.click("#mode-open")
	coach.waitUntil("the coach is open", `document.querySelector('#mode-now').dataset.mode === 'open'`)
	for _, p := range []*party{rep, partner} {
		p.sees(coach, "#call-stage")
		p.waitUntil("the whisper indicator is gone", `!probe.visible('#call-whisper')`)
	}
	coach.waitUntil("someone is shown speaking", `document.querySelectorAll('#console-grid .tile[data-speaking="true"]').length > 0`)
	rep.screenshot("rep-phone-open-coach")
	coach.screenshot("coach-console")
	coach.accessible("open")
	both(rep, partner)
	// Chromium's media takes the server's direct paths (decision 25): all but the first packets.
	for _, m := range []string{"ringside_packets_received", "ringside_packets_forwarded"} {
		all, direct := srv.Metric(t, m+"_total"), srv.Metric(t, m+"_direct_total")
		if all == 0 || direct < all*8/10 {
			t.Errorf("%s: %.0f of %.0f packets on the direct path, want ≥ 80%%", m, direct, all)
		}
	}

	step("silent again")
	// Back to silent: it all disappears, on the page and on the wire.
	coach.click("#mode-silent")
	coach.waitUntil("the coach is silent", `document.querySelector('#mode-now').dataset.mode === 'silent'`)
	for _, p := range []*party{rep, partner} {
		p.waitUntil("the coach is gone", fmt.Sprintf(`!document.querySelector('.tile[data-role="coach"]') &&
			!ringside.roster.some((m) => m.role === 'coach') && !ringside.remote().some((r) => r.pid === %s) &&
			!probe.visible('#call-whisper') && !document.body.innerText.includes('Cleo')`, js(coach.id)))
		p.waitUntil("no more coach media arrives", fmt.Sprintf(`(async () => !(await probe.flowing(%s, 'audio')) &&
			!(await probe.flowing(%s, 'video')))()`, js(coach.id), js(coach.id)))
	}
	for _, p := range []*party{rep, partner} {
		// What may remain is what they already knew: the now inactive transceivers that carried
		// the open coach (Chrome keeps their receiver's track, named after its msid).
		tr := p.traceOf(coach, "Cleo")
		t.Logf("%s after the coach went silent again: %+v", p.name, tr)
		if tr.DOM != 0 || tr.Text || tr.Roster || tr.Remote || tr.SDP || tr.Stats || tr.Whisper {
			t.Errorf("%s still holds the coach after it went silent: %+v", p.name, tr)
		}
	}
	coach.waitUntil("the coach sends nothing", `ringside.senders().every((s) => !s.hasTrack && s.direction !== 'sendonly')`)
	sendsNothing(coach)
	both(rep, partner)

	step("push-to-whisper")
	// Push-to-whisper: whisper while held, silent again on release.
	box := eval[rect](coach.chrome, `(() => { const r = document.querySelector('#ptt').getBoundingClientRect();
		return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`)
	coach.do(chromedp.MouseEvent(chromedp.MousePressed, box.X, box.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	rep.waitUntil("the whisper indicator shows while held", `probe.visible('#call-whisper')`)
	rep.waitUntil("the held whisper is heard", fmt.Sprintf(`probe.flowing(%s, 'audio')`, js(coach.id)))
	coach.do(chromedp.MouseEvent(chromedp.MouseReleased, box.X, box.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	rep.waitUntil("the indicator goes on release", `!probe.visible('#call-whisper')`)
	coach.waitUntil("the coach is silent after release", `ringside.mode.mode === 'silent' &&
		ringside.senders().every((s) => !s.hasTrack)`)
	if tr := partner.traceOf(coach, "Cleo"); tr.DOM != 0 || tr.Text || tr.Roster || tr.Remote || tr.Whisper {
		t.Errorf("the partner saw the coach's push-to-whisper: %+v", tr)
	}
	step("whisper to the partner")
	// Whisper to the partner instead: now only the partner hears it.
	coach.do(chromedp.SetValue(chromedp.ID("whisper-target"), partner.id))
	coach.click("#mode-whisper")
	coach.waitUntil("the coach whispers to the partner", fmt.Sprintf(`ringside.mode.mode === 'whisper' &&
		ringside.mode.target === %s && probe.text('#mode-now').includes('Ben')`, js(partner.id)))
	partner.waitUntil("the partner shows the whisper indicator", `probe.visible('#call-whisper')`)
	partner.waitUntil("the partner hears the coach", fmt.Sprintf(`probe.flowing(%s, 'audio')`, js(coach.id)))
	if tr := rep.traceOf(coach, "Cleo"); tr.DOM != 0 || tr.Text || tr.Roster || tr.Remote || tr.Whisper {
		t.Errorf("the rep learns of a whisper to the partner: %+v", tr)
	}
	coach.click("#mode-silent")
	partner.waitUntil("the partner's indicator goes", `!probe.visible('#call-whisper') && !ringside.roster.some((m) => m.role === 'coach')`)
	coach.do(chromedp.SetValue(chromedp.ID("whisper-target"), rep.id))

	if n := strings.Count(eval[string](coach.chrome, `ringside.upSDP()`), "\r\nm="); n > 3 {
		t.Errorf("the coach's up SDP grew to %d m-lines over mode switches; rejected ones should be recycled", n)
	}
	coach.keyboardReaches("mode-silent", "mode-whisper", "mode-open", "whisper-target", "ptt", "mark-note", "mark-add")

	step("dropped websocket")
	// A dropped websocket: "Reconnecting…", then back to normal, the call going on meanwhile.
	rep.do(offline(srv.WSURL, true))
	eval[bool](rep.chrome, `(ringside.dropSocket(), true)`)
	rep.waitUntil("the page says it is reconnecting", `probe.visible('#call-reconnecting')`)
	rep.screenshot("rep-phone-reconnecting")
	rep.sees(partner, "#call-stage") // media keeps flowing while signaling is down
	rep.do(offline(srv.WSURL, false))
	rep.waitUntilFor("the page recovers", `ringside.state === 'connected' && ringside.connection === 'connected' &&
		!probe.visible('#call-reconnecting') && ringside.counters.resumes === 1`, 30*time.Second)
	if h := eval[[]string](rep.chrome, `probe.history`); !slices.Contains(h, "reconnecting") || h[len(h)-1] != "connected" {
		t.Errorf("connection states shown: %v; want reconnecting, then connected", h)
	}
	both(rep, partner)
	partner.holds("the rep stays in the partner's roster", fmt.Sprintf(`ringside.roster.some((m) => m.id === %s)`, js(rep.id)), time.Second)

	step("landscape")
	// The phone held sideways.
	rep.do(chromedp.EmulateViewport(844, 390, chromedp.EmulateMobile, chromedp.EmulateTouch,
		chromedp.EmulateLandscape, chromedp.EmulateScale(2)))
	rep.waitUntil("the controls move to the side", `(() => { const c = document.querySelector('.controls').getBoundingClientRect();
		return c.height > c.width && c.right >= innerWidth - 1; })()`)
	rep.sees(partner, "#call-stage")
	rep.screenshot("rep-phone-landscape")
	rep.accessible("landscape")

	step("leave")
	// Leaving ends the call for the rep and drops it from the others' rosters.
	rep.tap("#call-leave")
	rep.waitUntil("the ended screen shows", `probe.visible('#ended') && probe.text('#ended-title') === 'You left the call'`)
	partner.waitUntil("the rep is gone", fmt.Sprintf(`!ringside.roster.some((m) => m.id === %s) &&
		!document.querySelector('.tile[data-pid=%s]') && probe.visible('#call-waiting')`, js(rep.id), js(rep.id)))
	if tr := partner.traceOf(coach, "Cleo"); tr.DOM != 0 || tr.Roster || tr.Remote {
		t.Errorf("the partner holds a trace of the coach at the end: %+v", tr)
	}
	step("done")
}

type rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

type sender struct {
	Kind      string `json:"kind"`
	Direction string `json:"direction"`
	HasTrack  bool   `json:"hasTrack"`
}

func sends(ss []sender, kind string) bool {
	for _, s := range ss {
		if s.Kind == kind && s.HasTrack && s.Direction == "sendonly" {
			return true
		}
	}
	return false
}

func downOffers(p *party) int {
	p.t.Helper()
	return eval[int](p.chrome, `ringside.counters.downOffers`)
}

// sendsNothing checks that a silent coach's up connection negotiates and sends nothing: no
// track on any sender, no sending m-line, no RTP bytes.
func sendsNothing(coach *party) {
	coach.t.Helper()
	coach.waitUntil("the up connection is negotiated", `ringside.upSDP() !== '' && ringside.senders().every((s) => s.direction === 'inactive')`)
	if got := eval[[]sender](coach.chrome, `ringside.senders()`); sends(got, "audio") || sends(got, "video") {
		coach.t.Errorf("a silent coach sends: %+v", got)
	}
	if sdp := eval[string](coach.chrome, `ringside.upSDP()`); strings.Contains(sdp, "a=sendonly") || strings.Contains(sdp, "a=sendrecv") {
		coach.t.Errorf("a silent coach's up offer sends media:\n%s", sdp)
	}
	a := eval[int](coach.chrome, `probe.sentBytes()`)
	time.Sleep(800 * time.Millisecond)
	if b := eval[int](coach.chrome, `probe.sentBytes()`); b != a {
		coach.t.Errorf("a silent coach sent %d RTP bytes", b-a)
	}
}

// offline cuts (or restores) the page's access to the signaling websocket only, as a phone
// losing its network would, but leaving WebRTC's UDP alone.
func offline(wsURL string, off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{URLPattern: wsURL, Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule,
			network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds})
		return err
	})
}

// both checks that rep and partner still see and hear each other.
func both(rep, partner *party) {
	rep.sees(partner, "#call-stage")
	partner.sees(rep, "#call-stage")
}
