package coachapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/coachapi"
	"ringside/internal/httpapi"
	"ringside/internal/store"
)

// principals are the columns of the matrix: nobody, a rep and a coach of each team, an admin
// user and the server's admin token (bearer). Each user is asked twice, with the session
// cookie and with an API key of theirs; both must get the same answer.
var principals = [...]string{"anon", "repA", "repB", "coachA", "coachB", "admin", "token"}

// guests are the matrix's other columns: the invite tokens of rep A's session (its rep, its
// partner, its coach), sent as bearer tokens, as a guest with an invite link does.
var guests = [...]string{"repInvite", "partnerInvite", "coachInvite"}

// Statuses, short, so that each row of the matrix reads as one line.
const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s204 = http.StatusNoContent
	s303 = http.StatusSeeOther
	s400 = http.StatusBadRequest
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s404 = http.StatusNotFound
)

// matrixCase is one route and the exact status each principal gets. setup, when set, makes
// what the request acts on afresh for each principal (a key to revoke, an assignment to
// submit), so that one principal's success cannot change another's answer; it returns the
// path and body with the world's {placeholders} still allowed in them. cl is the credential
// the request will be sent with.
type matrixCase struct {
	pattern string // the route, as registered
	path    string
	body    string
	setup   func(w *world, who string, cl caller) (path, body string)
	// freshSession signs the principal in anew for this request (signing out spends it);
	// freshUser signs in a new user of the principal's role and team instead (signing out
	// everywhere would spend every session of the principal's own user). Neither is asked
	// with an API key.
	freshSession, freshUser bool
	want                    [len(principals)]int
	// guestsWant is what each of the guests gets. Left out (the coaching API's rows), the
	// guests are answered as anonymous: the coaching API knows no invites.
	guestsWant [len(guests)]int
}

func matrix() []matrixCase {
	freshKey := func(w *world, _ string, _ caller) (string, string) {
		var k coachapi.NewAPIKey
		w.mustJSON(w.callers["repA"], "POST", "/api/auth/keys", `{"name":"rep A's"}`, s201, &k)
		return "/api/auth/keys/" + k.ID, ""
	}
	freshLink := func(prefix string) func(w *world, _ string, _ caller) (string, string) {
		return func(w *world, _ string, _ caller) (string, string) {
			token := w.freshLink("repA")
			if prefix == "" {
				return "/api/auth/signin", `{"token":"` + token + `"}`
			}
			return prefix + token, ""
		}
	}
	freshRepA := func(w *world, who string, _ caller) (string, string) {
		inv := w.invite(fmt.Sprintf("fresh-%s-%d@example.com", who, time.Now().UnixNano()), "rep", `["`+w.ids["teamA"]+`"]`)
		return "/api/users/" + inv.User.ID + "/signout", ""
	}
	freshAssignment := func(submitted bool, suffix, body string) func(w *world, _ string, _ caller) (string, string) {
		return func(w *world, _ string, _ caller) (string, string) {
			return strings.Replace(suffix, "{id}", w.assignment(submitted), 1), body
		}
	}
	freshSoloAssignment := func(w *world, _ string, _ caller) (string, string) {
		return "/api/assignments/" + w.soloAssignment() + "/solo", ""
	}
	// A live assignment of rep A, fresh; for rep A its call is set up first (by coach A), since
	// the rep only fetches their link of a call already set up.
	freshLiveAssignment := func(w *world, who string, _ caller) (string, string) {
		id := w.liveAssignment()
		if who == "repA" {
			w.mustJSON(w.callers["coachA"], "POST", "/api/assignments/"+id+"/live", "", s201, nil)
		}
		return "/api/assignments/" + id + "/live", ""
	}
	freshWebhook := func(w *world, _ string, _ caller) (string, string) {
		var h coachapi.NewWebhook
		w.mustJSON(w.callers["token"], "POST", "/api/webhooks", `{"url":"https://example.com/h","events":["session.ended"]}`, s201, &h)
		return "/api/webhooks/" + h.ID, ""
	}
	unique := func(format string) func(w *world, who string, _ caller) (string, string) {
		return func(w *world, who string, _ caller) (string, string) {
			return "", fmt.Sprintf(format, who+fmt.Sprint(time.Now().UnixNano()))
		}
	}
	// Rep A's session, fresh, for ending; and the link to its rep's file that the caller's
	// replay gives (none without a replay: a bare URL).
	freshSessionOfRepA := func(w *world, _ string, _ caller) (string, string) {
		return "/api/sessions/" + w.sessionOfRepA().ID + "/end", ""
	}
	mediaLink := func(w *world, _ string, cl caller) (string, string) {
		bare := "/recordings/" + w.ids["sessionA"] + "/" + w.ids["repFile"]
		resp, body := w.do(cl, "GET", "/api/sessions/"+w.ids["sessionA"]+"/replay", "")
		if resp.StatusCode != http.StatusOK {
			return bare, ""
		}
		var rp httpapi.Replay
		if err := json.Unmarshal([]byte(body), &rp); err != nil {
			w.t.Fatalf("replay: %v", err)
		}
		for _, tr := range rp.Tracks {
			if tr.File == w.ids["repFile"] && tr.URL != "" {
				return tr.URL, ""
			}
		}
		w.t.Fatalf("the replay of rep A's session lists no link to %s: %s", w.ids["repFile"], body)
		return "", ""
	}
	// Rep A's session with its talk analytics stored (again, the same each time).
	analysedSessionOfRepA := func(w *world, _ string, _ caller) (string, string) {
		err := w.s.App.Store().SaveTalkAnalytics(w.t.Context(), store.TalkAnalytics{
			SessionID: w.ids["sessionA"], DurationMs: 60000, RepMeasured: true, PartnerMeasured: true,
			RepTalkMs: 3000, PartnerTalkMs: 2000, Rep: []store.TalkInterval{{StartMs: 1000, EndMs: 4000}},
			Partner: []store.TalkInterval{{StartMs: 5000, EndMs: 7000}},
		})
		if err != nil {
			w.t.Fatal(err)
		}
		return "", ""
	}
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	score := `{"sessionId":"{session}","repId":"{repA}","ratings":[{"criterionId":"{criterion}","value":4}]}`

	comment := `{"offsetMs":1000,"text":"Pause after the price."}`
	return []matrixCase{
		// The session API (internal/httpapi): rep A's session, its replay and media link.
		//                                                          anon  repA  repB  coachA coachB admin token          repInv partnerInv coachInv
		{pattern: "GET /healthz", path: "/healthz", want: [...]int{s200, s200, s200, s200, s200, s200, s200}, guestsWant: [...]int{s200, s200, s200}},
		{pattern: "POST /api/sessions", path: "/api/sessions", body: `{"title":"Practice","repId":"{repA}"}`,
			want: [...]int{s401, s403, s403, s201, s404, s201, s201}, guestsWant: [...]int{s401, s401, s401}},
		{pattern: "GET /api/sessions", path: "/api/sessions", want: [...]int{s401, s200, s200, s200, s200, s200, s200}, guestsWant: [...]int{s401, s401, s401}},
		{pattern: "GET /api/sessions/{id}", path: "/api/sessions/{sessionA}",
			want: [...]int{s401, s200, s404, s200, s404, s200, s200}, guestsWant: [...]int{s401, s401, s401}},
		{pattern: "POST /api/sessions/{id}/end", setup: freshSessionOfRepA,
			want: [...]int{s401, s403, s404, s200, s404, s200, s200}, guestsWant: [...]int{s401, s401, s401}},
		{pattern: "GET /api/replay", path: "/api/replay", want: [...]int{s401, s400, s400, s400, s400, s400, s400}, guestsWant: [...]int{s200, s403, s200}},
		{pattern: "GET /api/sessions/{id}/replay", path: "/api/sessions/{sessionA}/replay",
			want: [...]int{s401, s200, s404, s200, s404, s200, s200}, guestsWant: [...]int{s200, s403, s200}},
		{pattern: "GET /api/sessions/{id}/comments", path: "/api/sessions/{sessionA}/comments",
			want: [...]int{s401, s200, s404, s200, s404, s200, s200}, guestsWant: [...]int{s200, s403, s200}},
		{pattern: "POST /api/sessions/{id}/comments", path: "/api/sessions/{sessionA}/comments", body: comment,
			want: [...]int{s401, s403, s404, s201, s404, s201, s201}, guestsWant: [...]int{s403, s403, s201}},
		{pattern: "GET /recordings/{id}/{file}", setup: mediaLink,
			want: [...]int{s403, s200, s403, s200, s403, s200, s200}, guestsWant: [...]int{s200, s403, s200}},

		// The coaching API (internal/coachapi).
		//                                                                     anon  repA  repB  coachA coachB admin token
		{pattern: "GET /api/auth/me", path: "/api/auth/me", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/auth/link/{token}", setup: freshLink("/api/auth/link/"), want: [...]int{s200, s200, s200, s200, s200, s200, s200}},
		{pattern: "POST /api/auth/link/{token}", setup: freshLink("/api/auth/link/"), want: [...]int{s303, s303, s303, s303, s303, s303, s303}},
		{pattern: "POST /api/auth/signin", setup: freshLink(""), want: [...]int{s200, s200, s200, s200, s200, s200, s200}},
		{pattern: "POST /api/auth/signout", path: "/api/auth/signout", freshSession: true, want: [...]int{s401, s204, s204, s204, s204, s204, s204}},
		{pattern: "POST /api/auth/signout-all", path: "/api/auth/signout-all", freshUser: true, want: [...]int{s401, s200, s200, s200, s200, s200, s403}},
		{pattern: "GET /api/auth/keys", path: "/api/auth/keys", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "POST /api/auth/keys", path: "/api/auth/keys", body: `{"name":"CRM"}`, want: [...]int{s401, s201, s201, s201, s201, s201, s403}},
		{pattern: "DELETE /api/auth/keys/{id}", setup: freshKey, want: [...]int{s401, s204, s404, s404, s404, s204, s204}},
		{pattern: "GET /api/auth/disclosure", path: "/api/auth/disclosure", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},

		{pattern: "POST /api/users", path: "/api/users", setup: unique(`{"email":"%s@example.com","role":"rep"}`), want: [...]int{s401, s403, s403, s403, s403, s201, s201}},
		{pattern: "GET /api/users", path: "/api/users", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/users/{id}", path: "/api/users/{repA}", want: [...]int{s401, s200, s404, s200, s404, s200, s200}},
		{pattern: "PATCH /api/users/{id}", path: "/api/users/{repA}", body: `{"name":"Rep A"}`, want: [...]int{s401, s403, s404, s403, s404, s200, s200}},
		{pattern: "POST /api/users/{id}/signin-link", path: "/api/users/{repA}/signin-link", want: [...]int{s401, s403, s404, s403, s404, s201, s201}},
		{pattern: "POST /api/users/{id}/signout", setup: freshRepA, want: [...]int{s401, s404, s404, s403, s404, s200, s200}},
		{pattern: "POST /api/teams", path: "/api/teams", setup: unique(`{"name":"%s"}`), want: [...]int{s401, s403, s403, s403, s403, s201, s201}},
		{pattern: "GET /api/teams", path: "/api/teams", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/teams/{id}", path: "/api/teams/{teamA}", want: [...]int{s401, s200, s404, s200, s404, s200, s200}},

		{pattern: "POST /api/scenarios", path: "/api/scenarios", body: `{"title":"Cold call"}`, want: [...]int{s401, s403, s403, s201, s201, s201, s201}},
		{pattern: "GET /api/scenarios", path: "/api/scenarios", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/scenarios/{id}", path: "/api/scenarios/{scenario}", want: [...]int{s401, s200, s404, s200, s200, s200, s200}},
		{pattern: "PATCH /api/scenarios/{id}", path: "/api/scenarios/{scenario}", body: `{"persona":"A CFO"}`, want: [...]int{s401, s403, s404, s200, s403, s200, s200}},
		{pattern: "POST /api/scorecards", path: "/api/scorecards", body: `{"title":"T","criteria":[{"label":"L","kind":"yesno"}]}`, want: [...]int{s401, s403, s403, s201, s201, s201, s201}},
		{pattern: "GET /api/scorecards", path: "/api/scorecards", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/scorecards/{id}", path: "/api/scorecards/{scorecard}", want: [...]int{s401, s200, s404, s200, s200, s200, s200}},
		{pattern: "POST /api/scorecards/{id}/scores", path: "/api/scorecards/{scorecard}/scores", body: score, want: [...]int{s401, s403, s404, s201, s404, s201, s201}},
		{pattern: "GET /api/scorecards/{id}/scores", path: "/api/scorecards/{scorecard}/scores", want: [...]int{s401, s200, s404, s200, s200, s200, s200}},
		{pattern: "GET /api/scorecards/{id}/rollup", path: "/api/scorecards/{scorecard}/rollup", want: [...]int{s401, s200, s404, s200, s200, s200, s200}},

		{pattern: "POST /api/assignments", path: "/api/assignments", body: `{"scenarioId":"{scenario}","repIds":["{repA}"],"dueAt":"` + due + `"}`, want: [...]int{s401, s403, s403, s201, s404, s201, s201}},
		{pattern: "GET /api/assignments", path: "/api/assignments", want: [...]int{s401, s200, s200, s200, s200, s200, s200}},
		{pattern: "GET /api/assignments/{id}", path: "/api/assignments/{assignment}", want: [...]int{s401, s200, s404, s200, s404, s200, s200}},
		{pattern: "POST /api/assignments/{id}/solo", setup: freshSoloAssignment, want: [...]int{s401, s201, s404, s403, s404, s201, s201}},
		{pattern: "POST /api/assignments/{id}/live", setup: freshLiveAssignment, want: [...]int{s401, s200, s404, s201, s404, s201, s201}},
		{pattern: "POST /api/assignments/{id}/submit", setup: freshAssignment(false, "/api/assignments/{id}/submit", `{"sessionId":"{sessionA}"}`), want: [...]int{s401, s200, s404, s403, s404, s200, s200}},
		{pattern: "DELETE /api/assignments/{id}", setup: freshAssignment(false, "/api/assignments/{id}", ""), want: [...]int{s401, s403, s404, s204, s404, s204, s204}},
		{pattern: "GET /api/reviews", path: "/api/reviews", want: [...]int{s401, s403, s403, s200, s200, s200, s200}},
		{pattern: "POST /api/reviews/{id}/claim", setup: freshAssignment(true, "/api/reviews/{id}/claim", ""), want: [...]int{s401, s403, s404, s200, s404, s200, s200}},
		{pattern: "POST /api/reviews/{id}/complete", setup: freshAssignment(true, "/api/reviews/{id}/complete", `{"comments":[{"offsetMs":1000,"text":"good"}]}`), want: [...]int{s401, s403, s404, s200, s404, s200, s200}},
		{pattern: "GET /api/reviews/stats", path: "/api/reviews/stats", want: [...]int{s401, s403, s403, s200, s200, s200, s200}},

		{pattern: "POST /api/webhooks", path: "/api/webhooks", body: `{"url":"https://example.com/h","events":["feedback.posted"]}`, want: [...]int{s401, s403, s403, s403, s403, s201, s201}},
		{pattern: "GET /api/webhooks", path: "/api/webhooks", want: [...]int{s401, s403, s403, s403, s403, s200, s200}},
		{pattern: "DELETE /api/webhooks/{id}", setup: freshWebhook, want: [...]int{s401, s403, s403, s403, s403, s204, s204}},
		{pattern: "GET /api/webhooks/{id}/deliveries", path: "/api/webhooks/{webhook}/deliveries", want: [...]int{s401, s403, s403, s403, s403, s200, s200}},
		{pattern: "GET /api/audit", path: "/api/audit", want: [...]int{s401, s403, s403, s403, s403, s200, s200}},
		{pattern: "GET /api/audit/disclosure", path: "/api/audit/disclosure", want: [...]int{s401, s403, s403, s403, s403, s200, s200}},
		{pattern: "PUT /api/audit/disclosure", path: "/api/audit/disclosure", body: `{"enabled":true}`, want: [...]int{s401, s403, s403, s403, s403, s200, s200}},

		// Talk analytics (internal/coachapi, analytics.go): rep A's session, analysed. Its rep's
		// and coach's invites open them, as they open its replay; the partner's does not.
		//                                                                     anon  repA  repB  coachA coachB admin token          repInv partnerInv coachInv
		{pattern: "GET /api/sessions/{id}/analytics", setup: analysedSessionOfRepA, path: "/api/sessions/{sessionA}/analytics",
			want: [...]int{s401, s200, s404, s200, s404, s200, s200}, guestsWant: [...]int{s200, s403, s200}},
		{pattern: "GET /api/users/{id}/analytics", setup: analysedSessionOfRepA, path: "/api/users/{repA}/analytics",
			want: [...]int{s401, s200, s404, s200, s404, s200, s200}},
	}
}

// TestMatrixCoversEveryRoute keeps the matrix honest: a route of either API without a row,
// or with two, fails here.
func TestMatrixCoversEveryRoute(t *testing.T) {
	var rows []string
	for _, c := range matrix() {
		if slices.Contains(rows, c.pattern) {
			t.Errorf("route %q has two rows in the authorization matrix", c.pattern)
		}
		rows = append(rows, c.pattern)
	}
	routes := append(coachapi.RoutePatterns(), httpapi.RoutePatterns()...)
	for _, p := range routes {
		if !slices.Contains(rows, p) {
			t.Errorf("route %q has no row in the authorization matrix", p)
		}
	}
	for _, r := range rows {
		if !slices.Contains(routes, r) {
			t.Errorf("matrix row %q is not a route", r)
		}
	}
}

// TestAuthorizationMatrix sends every route of both APIs as every principal (each user with
// their cookie and with their API key) and every guest, on SQLite and PostgreSQL, and checks
// the exact status: 401 without a credential, 403 for what the caller's role may not do to
// something it can see, 404 for what it may not see (never told apart from what does not
// exist), 2xx otherwise.
func TestAuthorizationMatrix(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		w := newWorld(t, s)
		w.withKeys()
		var pairs []string
		for k, v := range w.ids {
			pairs = append(pairs, "{"+k+"}", v)
		}
		fill := strings.NewReplacer(pairs...)
		for _, c := range matrix() {
			t.Run(strings.ReplaceAll(c.pattern, "/", "_"), func(t *testing.T) {
				w.t = t
				method, _, _ := strings.Cut(c.pattern, " ")
				send := func(who, as string, cl caller, want int) {
					path, body := c.path, c.body
					if c.setup != nil {
						p, b := c.setup(w, who, cl)
						if p != "" {
							path = p
						}
						if b != "" {
							body = b
						}
					}
					resp, got := w.do(cl, method, fill.Replace(path), fill.Replace(body))
					if resp.StatusCode != want {
						t.Errorf("%s as %s: status %d, want %d; body %s", c.pattern, as, resp.StatusCode, want, got)
					}
				}
				for i, who := range principals {
					cl := w.callers[who]
					switch {
					case cl.cookie == "":
					case c.freshSession:
						cl = w.signIn(w.freshLink(who))
					case c.freshUser:
						cl = w.clone(who)
					}
					send(who, who, cl, c.want[i])
					if key, ok := w.keys[who]; ok && !c.freshSession && !c.freshUser {
						send(who, who+" (API key)", key, c.want[i])
					}
				}
				for i, who := range guests {
					want := c.guestsWant[i]
					if c.guestsWant == [len(guests)]int{} {
						want = c.want[0]
					}
					send(who, who, w.callers[who], want)
				}
			})
		}
	})
}

// TestSessionAPISharesTheAuthentication: the session API takes the coaching API's credentials
// the same way: the cookie's cross-site writes are refused, a dead cookie is 401 and cleared,
// a bearer token wins over the cookie; and what each lists is theirs.
func TestSessionAPISharesTheAuthentication(t *testing.T) {
	w := newWorld(t, apptest.Start(t))
	send := func(c caller, method, path, body string, header map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, w.s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: coachapi.CookieName, Value: c.cookie})
		}
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := w.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	comments := "/api/sessions/" + w.ids["sessionA"] + "/comments"
	note := `{"offsetMs":0,"text":"hi"}`
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"}} {
		if resp := send(w.callers["coachA"], "POST", comments, note, h); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site comment with the cookie (%v): %d", h, resp.StatusCode)
		}
		if resp := send(w.callers["admin"], "POST", "/api/sessions", `{"title":"x"}`, h); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site session with the cookie (%v): %d", h, resp.StatusCode)
		}
	}
	if resp := send(w.callers["coachA"], "POST", comments, note, map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("a same-origin comment with the cookie: %d", resp.StatusCode)
	}

	// A signed-out cookie is refused and cleared, on the session API as on the coaching API.
	dead := w.signIn(w.freshLink("repA"))
	w.mustJSON(dead, "POST", "/api/auth/signout", "", http.StatusNoContent, nil)
	resp := send(dead, "GET", "/api/sessions", "", nil)
	var cleared bool
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == coachapi.CookieName && c.MaxAge < 0)
	}
	if resp.StatusCode != http.StatusUnauthorized || !cleared || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("a dead cookie on the session API: %d, cleared %v, %v", resp.StatusCode, cleared, resp.Header)
	}

	// A bearer token wins over the cookie: rep A's invite with rep A's cookie lists nothing.
	both := caller{cookie: w.callers["repA"].cookie, bearer: w.callers["repInvite"].bearer}
	if resp := send(both, "GET", "/api/sessions", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an invite as bearer with a cookie lists sessions: %d", resp.StatusCode)
	}

	own := w.sessionOfRepA().ID
	for who, want := range map[string][]string{
		"repA": {w.ids["sessionA"], own}, "coachA": {w.ids["sessionA"], own}, "repB": {}, "coachB": {},
		"admin": {w.ids["session"], w.ids["sessionA"], own}, "token": {w.ids["session"], w.ids["sessionA"], own},
	} {
		var list httpapi.SessionList
		w.mustJSON(w.callers[who], "GET", "/api/sessions", "", http.StatusOK, &list)
		got := []string{}
		for _, s := range list.Sessions {
			got = append(got, s.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", who, got, want)
		}
	}
}
