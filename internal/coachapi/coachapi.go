// Package coachapi is the HTTP API of people and sign-in, coaching (scenarios, scorecards,
// assignments, reviews), webhooks and the audit log (docs/coaching.md). It authenticates each
// request (a session cookie, an API key or the admin token as a bearer token), hands the
// resulting principal to the domain packages, which decide who may see and do what, and maps
// their errors to HTTP statuses in one table.
//
// It holds no rules of its own beyond the HTTP ones (cookies, cross-site checks, JSON shapes),
// except that webhooks, the audit log and the disclosure setting are for admins only.
package coachapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ringside/internal/audit"
	"ringside/internal/coaching"
	"ringside/internal/jsonhttp"
	"ringside/internal/people"
	"ringside/internal/store"
)

// CookieName is the browser session's cookie.
const CookieName = "ringside_session"

// maxBodyBytes bounds every request body.
const maxBodyBytes = 64 << 10

// Prefixes are the paths the handler answers under; the server mounts it at each. Both the
// bare and the slashed form are listed, so that the mux neither redirects the bare one nor
// hands it to another handler of /api/. The last is one route's pattern (SessionPath) under
// the session API's prefix.
func Prefixes() []string {
	var out []string
	for _, p := range []string{"auth", "users", "teams", "scenarios", "scorecards", "assignments", "reviews", "webhooks", "audit"} {
		out = append(out, "/api/"+p, "/api/"+p+"/")
	}
	return append(out, SessionPath)
}

// Config configures the handler.
type Config struct {
	Store    *store.Store
	People   *people.Service
	Coaching *coaching.Service
	Audit    *audit.Trail
	// PublicURL is the base of sign-in links and decides whether cookies are Secure (an
	// https:// URL: a TLS proxy in front). Empty: built from each request.
	PublicURL string
	Logger    *slog.Logger
	// Auth resolves callers; nil: one over People and PublicURL. The server shares one with
	// the session API, so that both authenticate alike.
	Auth *Authenticator
}

// api holds the handler's dependencies; all fields are immutable after New.
type api struct {
	store     *store.Store
	people    *people.Service
	coaching  *coaching.Service
	audit     *audit.Trail
	auth      *Authenticator
	publicURL string
	log       *slog.Logger
	mux       *http.ServeMux
	patterns  []string // every route, in registration order
}

// handler is one route's function; p is the caller (the zero Principal when anonymous).
type handler func(w http.ResponseWriter, r *http.Request, p people.Principal) error

// access says whether a route needs a signed-in caller.
type access int

const (
	anyone   access = iota // the handler decides (sign-in links, the disclosure banner)
	signedIn               // 401 without a valid credential
)

// New returns the handler.
func New(cfg Config) http.Handler {
	a := &api{
		store:     cfg.Store,
		people:    cfg.People,
		coaching:  cfg.Coaching,
		audit:     cfg.Audit,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		log:       cfg.Logger,
		mux:       http.NewServeMux(),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.auth = cfg.Auth; a.auth == nil {
		a.auth = NewAuthenticator(cfg.People, cfg.PublicURL)
	}
	a.routes()
	return a
}

func (a *api) routes() {
	// Sign-in, sessions, keys (auth.go).
	a.handle("GET /api/auth/me", signedIn, a.me)
	a.handle("GET /api/auth/link/{token}", anyone, a.linkPage)
	a.handle("POST /api/auth/link/{token}", anyone, a.linkSignIn)
	a.handle("POST /api/auth/signin", anyone, a.signIn)
	a.handle("POST /api/auth/signout", signedIn, a.signOut)
	a.handle("POST /api/auth/signout-all", signedIn, a.signOutAll)
	a.handle("GET /api/auth/keys", signedIn, a.listKeys)
	a.handle("POST /api/auth/keys", signedIn, a.createKey)
	a.handle("DELETE /api/auth/keys/{id}", signedIn, a.revokeKey)
	a.handle("GET /api/auth/disclosure", anyone, a.publicDisclosure)
	// Users and teams (users.go).
	a.handle("POST /api/users", signedIn, a.inviteUser)
	a.handle("GET /api/users", signedIn, a.listUsers)
	a.handle("GET /api/users/{id}", signedIn, a.getUser)
	a.handle("PATCH /api/users/{id}", signedIn, a.updateUser)
	a.handle("POST /api/users/{id}/signin-link", signedIn, a.issueLink)
	a.handle("POST /api/users/{id}/signout", signedIn, a.signOutUser)
	a.handle("POST /api/teams", signedIn, a.createTeam)
	a.handle("GET /api/teams", signedIn, a.listTeams)
	a.handle("GET /api/teams/{id}", signedIn, a.getTeam)
	// Scenarios and scorecards (scenarios.go).
	a.handle("POST /api/scenarios", signedIn, a.createScenario)
	a.handle("GET /api/scenarios", signedIn, a.listScenarios)
	a.handle("GET /api/scenarios/{id}", signedIn, a.getScenario)
	a.handle("PATCH /api/scenarios/{id}", signedIn, a.updateScenario)
	a.handle("POST /api/scorecards", signedIn, a.createScorecard)
	a.handle("GET /api/scorecards", signedIn, a.listScorecards)
	a.handle("GET /api/scorecards/{id}", signedIn, a.getScorecard)
	a.handle("POST /api/scorecards/{id}/scores", signedIn, a.addScore)
	a.handle("GET /api/scorecards/{id}/scores", signedIn, a.listScores)
	a.handle("GET /api/scorecards/{id}/rollup", signedIn, a.rollup)
	// Assignments and reviews (assignments.go).
	a.handle("POST /api/assignments", signedIn, a.assign)
	a.handle("GET /api/assignments", signedIn, a.listAssignments)
	a.handle("GET /api/assignments/{id}", signedIn, a.getAssignment)
	a.handle("POST /api/assignments/{id}/submit", signedIn, a.submitAssignment)
	a.handle("POST /api/assignments/{id}/solo", signedIn, a.startSolo)
	a.handle("POST /api/assignments/{id}/live", signedIn, a.setUpLive)
	a.handle("DELETE /api/assignments/{id}", signedIn, a.cancelAssignment)
	a.handle("GET /api/reviews", signedIn, a.reviewQueue)
	a.handle("POST /api/reviews/{id}/claim", signedIn, a.claimReview)
	a.handle("POST /api/reviews/{id}/complete", signedIn, a.completeReview)
	a.handle("GET /api/reviews/stats", signedIn, a.reviewStats)
	// Webhooks, audit log, disclosure (integrations.go).
	a.handle("POST /api/webhooks", signedIn, a.createWebhook)
	a.handle("GET /api/webhooks", signedIn, a.listWebhooks)
	a.handle("DELETE /api/webhooks/{id}", signedIn, a.deleteWebhook)
	a.handle("GET /api/webhooks/{id}/deliveries", signedIn, a.listDeliveries)
	a.handle("GET /api/audit", signedIn, a.listAudit)
	a.handle("GET /api/audit/disclosure", signedIn, a.getDisclosure)
	a.handle("PUT /api/audit/disclosure", signedIn, a.setDisclosure)
	// Talk analytics (analytics.go); guests with an invite are let through to the handler.
	a.handle("GET "+SessionPath, anyone, a.sessionAnalytics)
	a.handle("GET /api/users/{id}/analytics", signedIn, a.userAnalytics)
}

// ServeHTTP routes the request; a miss gets the mux's 404 or 405 (with Allow) in the JSON
// error shape.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Serve(a.mux, w, r, func(err error) { a.writeError(w, r, err) })
}

// handle registers h at pattern behind authentication.
func (a *api) handle(pattern string, acc access, h handler) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, err := a.auth.Authenticate(r)
		if err != nil && acc == anyone {
			p, err = people.Principal{}, nil // a stale cookie must not lock anyone out of signing in
		}
		if err == nil && acc == signedIn && !isSignedIn(p) {
			err = jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "sign in, or send an API key or the admin token as a bearer token")
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

func isSignedIn(p people.Principal) bool { return p.Role != "" }

// baseURL is the scheme://host part of sign-in links.
func (a *api) baseURL(r *http.Request) string { return jsonhttp.BaseURL(a.publicURL, r) }

// writeError answers with the JSON error body for err, logging server-side failures.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ans := classify(err)
	if ans.Status >= 500 {
		a.log.Error("api request failed", "method", r.Method, "path", logPath(r), "status", ans.Status, "err", err)
	} else {
		a.log.Debug("api request rejected", "method", r.Method, "path", logPath(r), "status", ans.Status, "code", ans.Code)
	}
	if ans.Status == http.StatusUnauthorized {
		a.auth.Refused(w, r) // a dead session cookie: stop sending it
	}
	jsonhttp.WriteError(w, ans)
}

// logPath is the request's path for logs, with a sign-in link's token cut out.
func logPath(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/auth/link/"); ok && rest != "" {
		return "/api/auth/link/…"
	}
	return r.URL.Path
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) { jsonhttp.Write(w, status, v) }

// decodeJSON reads r's body, at most maxBodyBytes, as exactly one JSON object into dst.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return jsonhttp.Decode(w, r, dst, maxBodyBytes)
}

// queryLimit parses the limit query parameter: 1 to maxLimit, default def.
func queryLimit(r *http.Request, def, maxLimit int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s must be an RFC 3339 time, e.g. 2026-03-04T10:00:00Z", name)
	}
	return t, nil
}

// requireAdmin fails with 403 unless p is an admin.
func requireAdmin(p people.Principal, what string) error {
	if p.IsAdmin() {
		return nil
	}
	return people.Errorf(people.ErrForbidden, "only admins %s", what)
}
