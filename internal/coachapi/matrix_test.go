package coachapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/coachapi"
)

// principals are the columns of the matrix: nobody, a rep and a coach of each team, an admin
// user (session cookie) and the server's admin token (bearer).
var principals = [...]string{"anon", "repA", "repB", "coachA", "coachB", "admin", "token"}

// Statuses, short, so that each row of the matrix reads as one line.
const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s204 = http.StatusNoContent
	s303 = http.StatusSeeOther
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s404 = http.StatusNotFound
)

// matrixCase is one route and the exact status each principal gets. setup, when set, makes
// what the request acts on afresh for each principal (a key to revoke, an assignment to
// submit), so that one principal's success cannot change another's answer; it returns the
// path and body with the world's {placeholders} still allowed in them.
type matrixCase struct {
	pattern string // the route, as registered
	path    string
	body    string
	setup   func(w *world, who string) (path, body string)
	// freshSession signs the principal in anew for this request (signing out spends it);
	// freshUser signs in a new user of the principal's role and team instead (signing out
	// everywhere would spend every session of the principal's own user).
	freshSession, freshUser bool
	want                    [len(principals)]int
}

func matrix() []matrixCase {
	freshKey := func(w *world, _ string) (string, string) {
		var k coachapi.NewAPIKey
		w.mustJSON(w.callers["repA"], "POST", "/api/auth/keys", `{"name":"rep A's"}`, s201, &k)
		return "/api/auth/keys/" + k.ID, ""
	}
	freshLink := func(prefix string) func(w *world, _ string) (string, string) {
		return func(w *world, _ string) (string, string) {
			token := w.freshLink("repA")
			if prefix == "" {
				return "/api/auth/signin", `{"token":"` + token + `"}`
			}
			return prefix + token, ""
		}
	}
	freshRepA := func(w *world, who string) (string, string) {
		inv := w.invite(fmt.Sprintf("fresh-%s-%d@example.com", who, time.Now().UnixNano()), "rep", `["`+w.ids["teamA"]+`"]`)
		return "/api/users/" + inv.User.ID + "/signout", ""
	}
	freshAssignment := func(submitted bool, suffix, body string) func(w *world, _ string) (string, string) {
		return func(w *world, _ string) (string, string) {
			return strings.Replace(suffix, "{id}", w.assignment(submitted), 1), body
		}
	}
	freshSoloAssignment := func(w *world, _ string) (string, string) {
		return "/api/assignments/" + w.soloAssignment() + "/solo", ""
	}
	freshWebhook := func(w *world, _ string) (string, string) {
		var h coachapi.NewWebhook
		w.mustJSON(w.callers["token"], "POST", "/api/webhooks", `{"url":"https://example.com/h","events":["session.ended"]}`, s201, &h)
		return "/api/webhooks/" + h.ID, ""
	}
	unique := func(format string) func(w *world, who string) (string, string) {
		return func(w *world, who string) (string, string) {
			return "", fmt.Sprintf(format, who+fmt.Sprint(time.Now().UnixNano()))
		}
	}
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	score := `{"sessionId":"{session}","repId":"{repA}","ratings":[{"criterionId":"{criterion}","value":4}]}`

	return []matrixCase{
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
		{pattern: "POST /api/assignments/{id}/submit", setup: freshAssignment(false, "/api/assignments/{id}/submit", `{"sessionId":"{session}"}`), want: [...]int{s401, s200, s404, s403, s404, s200, s200}},
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
	}
}

// TestMatrixCoversEveryRoute keeps the matrix honest: a new route without a row fails here.
func TestMatrixCoversEveryRoute(t *testing.T) {
	var rows []string
	for _, c := range matrix() {
		rows = append(rows, c.pattern)
	}
	for _, p := range coachapi.RoutePatterns() {
		if !slices.Contains(rows, p) {
			t.Errorf("route %q has no row in the authorization matrix", p)
		}
	}
	for _, r := range rows {
		if !slices.Contains(coachapi.RoutePatterns(), r) {
			t.Errorf("matrix row %q is not a route", r)
		}
	}
}

// TestAuthorizationMatrix sends every route as every principal, on SQLite and PostgreSQL,
// and checks the exact status: 401 without a credential, 403 for what the caller's role may
// not do to something it can see, 404 for what it may not see (never told apart from what
// does not exist), 2xx otherwise.
func TestAuthorizationMatrix(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		w := newWorld(t, s)
		var pairs []string
		for k, v := range w.ids {
			pairs = append(pairs, "{"+k+"}", v)
		}
		fill := strings.NewReplacer(pairs...)
		for _, c := range matrix() {
			t.Run(strings.ReplaceAll(c.pattern, "/", "_"), func(t *testing.T) {
				w.t = t
				for i, who := range principals {
					path, body := c.path, c.body
					if c.setup != nil {
						p, b := c.setup(w, who)
						if p != "" {
							path = p
						}
						if b != "" {
							body = b
						}
					}
					cl := w.callers[who]
					switch {
					case cl.cookie == "":
					case c.freshSession:
						cl = w.signIn(w.freshLink(who))
					case c.freshUser:
						cl = w.clone(who)
					}
					method, _, _ := strings.Cut(c.pattern, " ")
					resp, got := w.do(cl, method, fill.Replace(path), fill.Replace(body))
					if resp.StatusCode != c.want[i] {
						t.Errorf("%s as %s: status %d, want %d; body %s", c.pattern, who, resp.StatusCode, c.want[i], got)
					}
				}
			})
		}
	})
}
