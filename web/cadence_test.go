package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ringside/internal/app/apptest"
	"ringside/web"
)

// call sends a JSON request to the test server with bearer as the credential and decodes the
// answer into out (if not nil); a status other than want fails the test.
func call(t *testing.T, srv *apptest.Server, bearer, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

type invited struct {
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	SignInURL string `json:"signInUrl"`
}

// invite creates a user in a team and returns it with its one-time sign-in link.
func invite(t *testing.T, srv *apptest.Server, name, role, team string) invited {
	t.Helper()
	var u invited
	call(t, srv, srv.AdminToken, "POST", "/api/users", map[string]any{
		"email": strings.ToLower(name) + "@example.com", "name": name, "role": role, "team": team}, http.StatusCreated, &u)
	return u
}

// linkToken is the token of a sign-in link (…/api/auth/link/<token>).
func linkToken(t *testing.T, link string) string { return tokenAfter(t, link, "/api/auth/link/") }

// tokenAt is the token of a join link (…/join/<token>).
func tokenAt(t *testing.T, link string) string { return tokenAfter(t, link, "/join/") }

// tokenAfter is the token that follows prefix in link.
func tokenAfter(t *testing.T, link, prefix string) string {
	t.Helper()
	_, token, ok := strings.Cut(link, prefix)
	if !ok || token == "" {
		t.Fatalf("link %q has no %s<token>", link, prefix)
	}
	return token
}

// assignScenario assigns scenario to the rep through the API, due in due, and returns the
// assignment's id.
func assignScenario(t *testing.T, srv *apptest.Server, scenario, rep, mode string, due time.Duration) string {
	t.Helper()
	var out struct {
		Assignments []struct {
			ID string `json:"id"`
		} `json:"assignments"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/assignments", map[string]any{"scenarioId": scenario, "repIds": []string{rep},
		"dueAt": time.Now().Add(due).UTC().Format(time.RFC3339Nano), "mode": mode}, http.StatusCreated, &out)
	return out.Assignments[0].ID
}

// center scrolls the element sel to the middle of the viewport.
func center(b *chrome, sel string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(document.querySelector(%s).scrollIntoView({block: 'center'}), true)`, js(sel)))
}

// disclosureRead waits until the join page has had the disclosure setting's answer.
func disclosureRead(b *chrome) {
	b.t.Helper()
	b.waitUntil("the join page read the disclosure setting", `performance.getEntriesByType('resource')
		.some((e) => e.name.includes('/api/auth/disclosure') && e.responseEnd > 0)`)
	time.Sleep(300 * time.Millisecond) // the answer's JSON is parsed and shown
}

// TestDisclosureBanner: with the organisation's observation disclosure on, the rep's join
// page says sessions may be observed, and nothing about who or when; with it off, nothing.
func TestDisclosureBanner(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	_, _, tokens := srv.CreateSession(t, "Discovery call")
	b := startBrowser(t, "rep", launch{phone: true, fakeUI: true})

	const text = "Sessions may be observed by a coach for training."
	call(t, srv, srv.AdminToken, "PUT", "/api/audit/disclosure", map[string]any{"enabled": true, "text": text}, http.StatusOK, nil)
	b.open(srv.URL + "/join/" + tokens["rep"])
	b.waitUntil("the disclosure banner shows", `probe.visible('#disclosure')`)
	if got := eval[string](b, `probe.text('#disclosure')`); got != text {
		t.Errorf("the banner says %q, want %q", got, text)
	}
	b.accessible("lobby with disclosure")
	b.screenshot("join-disclosure-phone")

	// The partner's page too; a coach's name never appears.
	b.open(srv.URL + "/join/" + tokens["partner"])
	b.waitUntil("the partner's disclosure banner shows", `probe.visible('#disclosure')`)

	call(t, srv, srv.AdminToken, "PUT", "/api/audit/disclosure", map[string]any{"enabled": false}, http.StatusOK, nil)
	b.open(srv.URL + "/join/" + tokens["rep"])
	disclosureRead(b)
	if eval[bool](b, `!!document.getElementById('disclosure')`) {
		t.Error("the disclosure banner shows with the setting off")
	}
	if !eval[bool](b, `probe.visible('#join')`) {
		t.Error("the lobby's join button is not shown")
	}
}

// TestCadencePages walks the coaching cadence through the browser on a phone: a rep signs in
// with a magic link and sees their open assignments (one overdue) and one handed in; a coach
// pastes their link into the sign-in page, finds it in the team review queue, claims it, scores it
// on the replay page; the rep then sees the score and their progress.
func TestCadencePages(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	coach := invite(t, srv, "Cleo", "coach", "Team North")
	rep := invite(t, srv, "Ana", "rep", "Team North")

	var card struct {
		ID       string `json:"id"`
		Criteria []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"criteria"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/scorecards", map[string]any{"title": "Discovery basics", "criteria": []map[string]any{
		{"label": "Open questions", "kind": "rating", "weight": 3},
		{"label": "Agreed next step", "kind": "yesno"},
		{"label": "Notes", "kind": "comment"},
	}}, http.StatusCreated, &card)
	var scenario struct {
		ID string `json:"id"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/scenarios", map[string]any{
		"title": "Price objection", "persona": "A CFO who thinks it costs too much", "scorecardId": card.ID}, http.StatusCreated, &scenario)
	type assignment struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	assign := func(due time.Duration, mode, recurrence string) assignment {
		t.Helper()
		var out struct {
			Assignments []assignment `json:"assignments"`
		}
		call(t, srv, srv.AdminToken, "POST", "/api/assignments", map[string]any{
			"scenarioId": scenario.ID, "repIds": []string{rep.User.ID}, "dueAt": time.Now().Add(due).UTC().Format(time.RFC3339Nano),
			"mode": mode, "recurrence": recurrence}, http.StatusCreated, &out)
		return out.Assignments[0]
	}
	soon := assign(3*time.Second, "live", "none") // overdue by the time the rep looks
	later := assign(48*time.Hour, "solo", "weekly")
	handedIn := assign(24*time.Hour, "live", "none")

	// A recorded call, handed in for the third assignment.
	sessionID, tokens := recordSession(t, srv)
	call(t, srv, srv.AdminToken, "POST", "/api/assignments/"+handedIn.ID+"/submit", map[string]any{"sessionId": sessionID}, http.StatusOK, nil)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		var a assignment
		call(t, srv, srv.AdminToken, "GET", "/api/assignments/"+soon.ID, nil, http.StatusOK, &a)
		if a.State == "overdue" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	b := startBrowser(t, "cadence", launch{phone: true})

	// The rep signs in with the magic link, on the sign-in page.
	b.open(srv.URL + "/signin#" + linkToken(t, rep.SignInURL))
	b.waitUntil("the sign-in button shows", `probe.visible('#signin-go')`)
	b.accessible("sign-in")
	b.keyboardReaches("signin-go")
	b.screenshot("signin-phone")
	b.tap("#signin-go")
	b.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	item := func(list, id string) string { return fmt.Sprintf(`#%s [data-assignment-id=%s]`, list, js(id)) }
	for _, a := range []assignment{soon, later} {
		if !eval[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, js(item("open-list", a.ID)))) {
			t.Errorf("/me does not list open assignment %s: %s", a.ID, eval[string](b, `probe.text('#open-list')`))
		}
	}
	if got := eval[string](b, fmt.Sprintf(`document.querySelector(%s).dataset.state`, js(item("open-list", soon.ID)))); got != "overdue" {
		t.Errorf("the past-due assignment shows as %q", got)
	}
	if text := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(item("open-list", soon.ID)))); !strings.Contains(text, "Overdue") || !strings.Contains(text, "Price objection") {
		t.Errorf("the overdue assignment reads %q", text)
	}
	if text := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(item("past-list", handedIn.ID)))); !strings.Contains(text, "Waiting for feedback") {
		t.Errorf("the handed-in assignment reads %q", text)
	}
	b.accessible("rep's practice, before feedback")
	b.fullScreenshot("me-phone-before-feedback")
	b.tap("#sign-out")
	b.waitUntil("back on the sign-in page", `location.pathname === '/signin' && probe.visible('#signin-link')`)

	// The coach pastes the whole link into the sign-in page and lands on the team page.
	b.do(chromedp.SendKeys(chromedp.ID("signin-link"), coach.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the team page shows", `location.pathname === '/team' && document.body?.dataset.state === 'page'`)
	queued := item("queue", handedIn.ID)
	if !eval[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, js(queued))) {
		t.Fatalf("the review queue lacks the handed-in assignment: %s", eval[string](b, `probe.text('#queue')`))
	}
	if text := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(queued))); !strings.Contains(text, "Ana: Price objection") || !strings.Contains(text, "Waiting") {
		t.Errorf("the queued review reads %q", text)
	}
	if got := eval[string](b, `probe.text('#stat-pending') + '/' + probe.text('#stat-overdue')`); got != "1/1" {
		t.Errorf("pending/overdue shows %s, want 1/1", got)
	}
	if text := eval[string](b, `probe.text('#reps')`); !strings.Contains(text, "Ana") {
		t.Errorf("the done-vs-assigned table reads %q", text)
	}
	b.accessible("team page")
	b.keyboardReaches("refresh", "sign-out")
	b.tap(fmt.Sprintf(`%s button[data-claim]`, queued))
	b.waitUntil("the review is claimed", fmt.Sprintf(`document.querySelector(%s)?.dataset.claimed === 'me'`, js(queued)))
	b.fullScreenshot("team-phone")

	// The coach scores it on the replay (opened with the session's coach link; the scorecard
	// speaks to the coaching API with the coach's sign-in).
	b.open(srv.URL + "/replay/" + tokens["coach"] + "?assignment=" + handedIn.ID)
	waitPlayer(b)
	b.waitUntil("the scorecard shows", `probe.visible('#sc-form')`)
	b.accessible("replay with scorecard")
	b.keyboardReaches("sc-submit")
	b.click(fmt.Sprintf(`[data-criterion-id=%s] input[value="4"]`, js(card.Criteria[0].ID)))
	b.click(fmt.Sprintf(`[data-criterion-id=%s] input[value="1"]`, js(card.Criteria[1].ID)))
	b.do(chromedp.SendKeys(chromedp.ID("crit-"+card.Criteria[2].ID), "Strong opening, rushed the close."))
	center(b, "#comment-text")
	b.tap("#comment-text")
	b.do(chromedp.SendKeys(chromedp.ID("comment-text"), "Good pause before the price"))
	center(b, "#comment-add") // clear of the playback bar pinned to the bottom of a phone's screen
	b.tap("#comment-add")
	b.waitUntil("the comment is saved", `probe.text('#comment-status').startsWith('Comment added')`)
	center(b, "#sc-submit")
	b.click("#sc-submit")
	b.waitUntil("the review is done", `probe.visible('#sc-done')`)
	b.fullScreenshot("replay-scorecard-phone")
	var done assignment
	call(t, srv, srv.AdminToken, "GET", "/api/assignments/"+handedIn.ID, nil, http.StatusOK, &done)
	if done.State != "reviewed" {
		t.Errorf("after scoring the assignment is %q, want reviewed", done.State)
	}

	// The rep, signed in again, sees the score and the progress.
	var link invited
	call(t, srv, srv.AdminToken, "POST", "/api/users/"+rep.User.ID+"/signin-link", nil, http.StatusCreated, &link)
	b.open(srv.URL + "/signin#" + linkToken(t, link.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the rep's practice page shows again", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	past := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(item("past-list", handedIn.ID))))
	for _, want := range []string{"Reviewed", "Score 81 / 100", "4 / 5", "Yes", "Strong opening, rushed the close."} {
		if !strings.Contains(past, want) {
			t.Errorf("the reviewed assignment on /me lacks %q: %q", want, past)
		}
	}
	if got := eval[string](b, fmt.Sprintf(`document.querySelector('[data-scorecard-id="%s"] tr[data-criterion-id="%s"] td')?.dataset.score || ''`,
		card.ID, card.Criteria[0].ID)); got != "75" {
		t.Errorf("the progress table shows %q for Open questions, want 75", got)
	}
	b.accessible("rep's practice, after feedback")
	b.fullScreenshot("me-phone-after-feedback")
}

// TestSoloPitch: a rep on a phone opens a solo assignment, records a 10 s pitch with the
// camera and microphone (POST /api/assignments/{id}/solo, then the call protocol), and hands
// it in; the coach finds it in the review queue, opens its replay from the team page with the
// sign-in alone (a solo session has no coach invite), comments and scores it; the rep sees
// the score.
func TestSoloPitch(t *testing.T) {
	srv := apptest.Start(t, apptest.WithWeb(web.Handler()))
	base := srv.URL
	coach := invite(t, srv, "Cleo", "coach", "Team North")
	rep := invite(t, srv, "Ana", "rep", "Team North")
	var card struct {
		ID       string `json:"id"`
		Criteria []struct {
			ID string `json:"id"`
		} `json:"criteria"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/scorecards", map[string]any{"title": "Elevator pitch", "criteria": []map[string]any{
		{"label": "Clear value", "kind": "rating"}, {"label": "Asked for a meeting", "kind": "yesno"}}}, http.StatusCreated, &card)
	var scenario struct {
		ID string `json:"id"`
	}
	call(t, srv, srv.AdminToken, "POST", "/api/scenarios", map[string]any{"title": "Two-minute pitch", "persona": "A busy VP of sales",
		"objections": []string{"We already have a tool", "No budget this quarter"}, "goodLooksLike": "One clear outcome, then a meeting.",
		"scorecardId": card.ID}, http.StatusCreated, &scenario)
	id := assignScenario(t, srv, scenario.ID, rep.User.ID, "solo", 24*time.Hour)

	b := startBrowser(t, "rep", launch{phone: true, fakeUI: true})
	b.open(base + "/signin#" + linkToken(t, rep.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	b.tap(fmt.Sprintf(`[data-assignment-id=%s] a.button`, js(id)))
	b.waitUntil("the solo page shows", `location.pathname === '/solo' && document.body?.dataset.state === 'page'`)
	if text := eval[string](b, `probe.text('#page')`); !strings.Contains(text, "We already have a tool") || !strings.Contains(text, "A busy VP of sales") {
		t.Errorf("the solo page does not show the brief: %q", text)
	}
	b.accessible("solo, before recording")
	b.keyboardReaches("solo-start")
	b.tap("#solo-start")
	b.waitUntil("recording", `probe.visible('#solo-stop') && probe.visible('#solo-rec')`)
	b.waitUntil("camera and microphone are sent", `(async () => {
		const s = window.ringsideSolo.session; if (!s || !s.up) return false;
		const kinds = new Set(); (await s.up.getStats()).forEach((v) => { if (v.type === 'outbound-rtp' && v.bytesSent > 0) kinds.add(v.kind); });
		return kinds.has('audio') && kinds.has('video');
	})()`)
	time.Sleep(10 * time.Second)
	b.accessible("solo, recording")
	b.screenshot("solo-recording-phone")
	b.tap("#solo-stop")
	b.waitUntilFor("handed in", `document.body?.dataset.submitted === 'true'`, 40*time.Second)
	b.screenshot("solo-submitted-phone")
	soloID := eval[string](b, `window.ringsideSolo.sessionId`)
	detail := srv.Session(t, soloID)
	var recorded int64
	kinds := map[string]bool{}
	for _, tr := range detail.Tracks {
		if tr.Role == "rep" {
			kinds[tr.Kind] = true
			recorded = max(recorded, tr.DurationMs)
		}
	}
	if !kinds["audio"] || !kinds["video"] || recorded < 9000 {
		t.Errorf("the solo session recorded %v for %d ms, want the rep's audio and video for about 10 s", kinds, recorded)
	}

	// The coach finds it in the review queue.
	b.open(base + "/me")
	b.waitUntil("the practice page", `document.body?.dataset.state === 'page'`)
	if got := eval[string](b, fmt.Sprintf(`document.querySelector('#past-list [data-assignment-id=%s]')?.dataset.state || ''`, js(id))); got != "submitted" {
		t.Errorf("after handing in, /me lists the pitch as %q", got)
	}
	b.tap("#sign-out")
	b.waitUntil("the sign-in page", `probe.visible('#signin-link')`)
	b.do(chromedp.SendKeys(chromedp.ID("signin-link"), coach.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the team page shows", `location.pathname === '/team' && document.body?.dataset.state === 'page'`)
	queued := fmt.Sprintf(`#queue [data-assignment-id=%s]`, js(id))
	if text := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(queued))); !strings.Contains(text, "Ana: Two-minute pitch") || !strings.Contains(text, "Solo pitch") {
		t.Fatalf("the review queue shows %q", eval[string](b, `probe.text('#queue')`))
	}

	// The coach, signed in, opens the replay from the team page.
	b.tap(queued + " a.button")
	st := waitPlayer(b)
	if len(st.Elements) != 2 {
		t.Errorf("the solo replay has %d media elements, want the rep's audio and video", len(st.Elements))
	}
	b.waitUntil("the scorecard shows", `probe.visible('#sc-form')`)
	center(b, "#comment-text")
	b.tap("#comment-text")
	b.do(chromedp.SendKeys(chromedp.ID("comment-text"), "Lead with the outcome"))
	center(b, "#comment-add")
	b.tap("#comment-add")
	b.waitUntil("the comment is saved", `probe.text('#comment-status').startsWith('Comment added')`)
	center(b, fmt.Sprintf(`[data-criterion-id=%s]`, js(card.Criteria[0].ID)))
	b.click(fmt.Sprintf(`[data-criterion-id=%s] input[value="5"]`, js(card.Criteria[0].ID)))
	b.click(fmt.Sprintf(`[data-criterion-id=%s] input[value="0"]`, js(card.Criteria[1].ID)))
	center(b, "#sc-submit")
	b.click("#sc-submit")
	b.waitUntil("the review is done", `probe.visible('#sc-done')`)
	b.accessible("solo replay, scored")
	b.fullScreenshot("replay-solo-scored-phone")
	if meta := eval[string](b, `probe.text('#rp-meta')`); !strings.Contains(meta, "watching as the coach") {
		t.Errorf("the coach's replay says %q", meta)
	}

	// The rep sees the score; the comment is on the session for the rep's replay.
	var link invited
	call(t, srv, srv.AdminToken, "POST", "/api/users/"+rep.User.ID+"/signin-link", nil, http.StatusCreated, &link)
	b.open(base + "/signin#" + linkToken(t, link.SignInURL))
	b.tap("#signin-go")
	b.waitUntil("the rep's practice page shows", `location.pathname === '/me' && document.body?.dataset.state === 'page'`)
	past := eval[string](b, fmt.Sprintf(`probe.text(%s)`, js(fmt.Sprintf(`#past-list [data-assignment-id="%s"]`, id))))
	for _, want := range []string{"Reviewed", "Score 50 / 100", "5 / 5", "No"} {
		if !strings.Contains(past, want) {
			t.Errorf("the reviewed pitch on /me lacks %q: %q", want, past)
		}
	}
	b.fullScreenshot("me-phone-solo-reviewed")
	if c := fetchComments(t, srv, soloID, srv.AdminToken); len(c) != 1 || c[0].Text != "Lead with the outcome" || c[0].Author != "Cleo" {
		t.Errorf("the rep's comments on the pitch: %+v", c)
	}
}
