package web_test

import (
	"fmt"
	"strings"
	"testing"

	"ringside/internal/app/apptest"
	"ringside/internal/httpapi"
	"ringside/web"
)

// TestRepOpensTheirReplayFromMe: a rep signed in on a phone finds their recorded session on
// "My practice" and opens its replay with the sign-in alone (no token in the address, none
// stored), and sees the rep's view: the coach's whisper to them, no trace of the coach's
// silent watching, the marker, and no comment form. Another rep's session is not listed.
func TestRepOpensTheirReplayFromMe(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	rep := invite(t, srv, "Ana", "rep", "Team North")
	other := invite(t, srv, "Bo", "rep", "Team South")
	otherID, _, _ := srv.CreateSessionWith(t, httpapi.CreateSessionRequest{Title: "Bo's call", RepID: other.User.ID})
	id, _ := recordSessionWith(t, srv, httpapi.CreateSessionRequest{
		Title: "Discovery call practice", PartnerName: "Ben", CoachName: "Cleo", RepID: rep.User.ID})

	b := startBrowser(t, "rep", launch{phone: true})
	b.open(srv.URL + "/signin#" + linkToken(t, rep.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	item := fmt.Sprintf(`#sessions-list [data-session-id=%s]`, js(id))
	if text := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(item))); !strings.Contains(text, "Discovery call practice") {
		t.Fatalf("My practice lists %q for the recorded session; all: %q", text, eval[string](b, `probe.text('#sessions-list')`))
	}
	if eval[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, js(fmt.Sprintf(`[data-session-id=%s]`, js(otherID))))) {
		t.Error("My practice lists another rep's session")
	}
	b.accessible("rep's practice with a recording")
	b.fullScreenshot("me-phone-recordings")

	center(b, item+" a.button")
	b.tap(item + " a.button")
	st := waitPlayer(b)
	if got := eval[string](b, `location.pathname + location.search + location.hash`); got != "/sessions/"+id+"/replay" {
		t.Errorf("the replay's address is %q, want /sessions/%s/replay (no token in it)", got, id)
	}
	if eval[bool](b, `!!(localStorage.getItem('ringside.adminToken') || sessionStorage.getItem('ringside.adminToken'))`) {
		t.Error("the browser holds an admin token: the replay did not open with the sign-in alone")
	}
	kinds := map[string]int{}
	for _, e := range st.Elements {
		kinds[fmt.Sprintf("%s %s whisper=%v", e.Role, e.Kind, e.Whisper)]++
	}
	for _, want := range []string{"rep audio whisper=false", "rep video whisper=false", "partner audio whisper=false",
		"partner video whisper=false", "coach audio whisper=true"} {
		if kinds[want] != 1 {
			t.Errorf("the rep's replay has %d elements of %s; all: %v", kinds[want], want, kinds)
		}
	}
	if meta := eval[string](b, `probe.text('#rp-meta')`); !strings.Contains(meta, "watching as the rep") {
		t.Errorf("the replay says %q, want it watched as the rep", meta)
	}
	if eval[bool](b, `probe.visible('#comment-form')`) {
		t.Error("the rep is offered the comment form")
	}
	if n := eval[int](b, `probe.count('.tl-point.marker')`); n != 1 {
		t.Errorf("the rep's timeline shows %d markers, want the coach's one", n)
	}

	// What the page was given, fetched again with the same cookie: the rep's view.
	view := eval[string](b, `fetch(location.pathname.replace('/sessions/', '/api/sessions/'), {credentials: 'same-origin'})
		.then((r) => r.json()).then((rp) => JSON.stringify({
			role: rp.viewer.role, canComment: rp.viewer.canComment, modeChanges: rp.modeChanges.length,
			modes: rp.coachModes.map((c) => c.mode + ':' + c.label).join('|'),
			markerBy: rp.markers.map((k) => k.participantId || '').join('')}))`)
	if want := `{"role":"rep","canComment":false,"modeChanges":0,"modes":"whisper:Coach whispering to you","markerBy":""}`; view != want {
		t.Errorf("the replay API gave the rep %s, want %s", view, want)
	}

	// During the whisper the rep is told the coach whispers to them, and nothing else.
	var whisperStart float64
	for _, e := range st.Elements {
		if e.Whisper {
			whisperStart = e.StartMs
		}
	}
	seekWithSlider(b, whisperStart+1000)
	b.waitUntil("the whisper's label shows", `probe.text('#rp-mode') === 'Coach whispering to you'`)
	b.accessible("rep's replay, signed in")
	b.screenshot("replay-rep-signed-in-phone")
}
