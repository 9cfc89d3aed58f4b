// Package httpapi is Ringside's session API (docs/api.md): health, creating, listing,
// inspecting and ending sessions with their role invite links, and their replay, comments and
// media links. It owns the JSON shapes of that API, the rule of who sees which session (an
// admin all, a coach their reps' and their own, a rep theirs; guests through invites), and the
// mapping of its errors to HTTP statuses (the statuses and codes themselves are jsonhttp's,
// shared with the coaching API).
//
// It does not authenticate by itself: the Auth seam resolves cookies, API keys and the admin
// token the one way the coaching API does. It must not know of websockets or media: ending a
// live call goes through the LiveSessions seam, and everything persistent goes through
// internal/store.
package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

// DefaultInviteTTL is how long invite links stay valid when Config.InviteTTL is zero.
const DefaultInviteTTL = 7 * 24 * time.Hour

// maxBodyBytes bounds every request body.
const maxBodyBytes = 64 << 10

// healthTimeout bounds the database ping of GET /healthz.
const healthTimeout = 2 * time.Second

// LiveSessions is what the API needs of the live call plane: ending a session disconnects
// everyone in it. The signaling server implements it.
type LiveSessions interface {
	EndSession(ctx context.Context, id string) error
}

// Config configures the API handler.
type Config struct {
	Store *store.Store
	// Live ends running calls; nil means there are none to end (tests, tools).
	Live LiveSessions
	// PublicURL is the base of invite links (scheme://host[:port], no trailing slash needed).
	// Empty means each link is built from the request's Host header and TLS state.
	PublicURL string
	// Auth resolves callers (the admin token, API keys, the session cookie). Nil: everyone is
	// anonymous, so only health, media links and invites work.
	Auth Auth
	// InviteTTL is how long invite links stay valid (default DefaultInviteTTL).
	InviteTTL time.Duration
	Logger    *slog.Logger
	// Now returns the current time (default time.Now); tests may pin it.
	Now func() time.Time
	// RecordingsDir is the recorder's directory (DATA/recordings), one directory per session
	// holding its manifest.json and WebM files. Empty: no session has a recording to replay.
	RecordingsDir string
	// MediaSecret keys the HMAC of media links (/recordings/…?t=). Nil: 32 random bytes, so
	// links die with the process (a reload of the replay page gets new ones).
	MediaSecret []byte
	// MediaTTL is how long media links stay valid (default DefaultMediaTTL).
	MediaTTL time.Duration
}

// api holds the handler's dependencies; all fields are immutable after New.
type api struct {
	store     *store.Store
	live      LiveSessions
	publicURL string
	auth      Auth
	inviteTTL time.Duration
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	patterns  []string // every route, in registration order

	recordingsDir string
	mediaSecret   []byte
	mediaTTL      time.Duration
}

// New returns the API's handler, serving /healthz, /api/ and /recordings/.
func New(cfg Config) http.Handler {
	a := &api{
		store:     cfg.Store,
		live:      cfg.Live,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		auth:      cfg.Auth,
		inviteTTL: cfg.InviteTTL,
		log:       cfg.Logger,
		now:       cfg.Now,
		mux:       http.NewServeMux(),

		recordingsDir: cfg.RecordingsDir,
		mediaSecret:   cfg.MediaSecret,
		mediaTTL:      cfg.MediaTTL,
	}
	if a.inviteTTL <= 0 {
		a.inviteTTL = DefaultInviteTTL
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.auth == nil {
		a.auth = nobody{}
	}
	if len(a.mediaSecret) == 0 {
		a.mediaSecret = make([]byte, 32)
		_, _ = rand.Read(a.mediaSecret) // crypto/rand.Read never fails (Go 1.24+)
	}
	if a.mediaTTL <= 0 {
		a.mediaTTL = DefaultMediaTTL
	}
	a.handle("GET /healthz", public, a.health)
	// Sessions (sessions.go): users and the admin token.
	a.handle("POST /api/sessions", signedIn, a.createSession)
	a.handle("GET /api/sessions", signedIn, a.listSessions)
	a.handle("GET /api/sessions/{id}", signedIn, a.getSession)
	a.handle("POST /api/sessions/{id}/end", signedIn, a.endSession)
	// Replay and comments (replay.go, comments.go): users, or a session's invite.
	a.handle("GET /api/replay", orInvite, a.ownReplay)
	a.handle("GET /api/sessions/{id}/replay", orInvite, a.sessionReplay)
	a.handle("GET /api/sessions/{id}/comments", orInvite, a.listComments)
	a.handle("POST /api/sessions/{id}/comments", orInvite, a.addComment)
	// Recorded files: the media link in the URL is the capability.
	a.handle("GET /recordings/{id}/{file}", public, a.media)
	return a
}

// RoutePatterns lists every route the API registers, so that the authorization matrix can
// prove it covers them all.
func RoutePatterns() []string {
	return New(Config{}).(*api).patterns
}

// ServeHTTP routes the request. Requests that match no route get the mux's 404 or 405
// status (with its Allow header) but in the API's JSON error shape.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	jsonhttp.Serve(a.mux, w, r, func(err error) { a.writeError(w, r, err) })
}

// handler is one route's function; c is the caller (the zero Caller on public routes).
type handler func(w http.ResponseWriter, r *http.Request, c Caller) error

// handle registers h at pattern behind the authentication acc asks for.
func (a *api) handle(pattern string, acc access, h handler) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		var (
			c   Caller
			err error
		)
		if acc != public {
			c, err = a.caller(r, acc)
		}
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// health answers GET /healthz: ok when the database answers a ping.
func (a *api) health(w http.ResponseWriter, r *http.Request, _ Caller) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.Error("health check: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{
			Status: "unavailable",
			Error:  &ErrorBody{Code: jsonhttp.CodeUnavailable, Message: "database unreachable"},
		})
		return nil
	}
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
	return nil
}

// writeError answers with the JSON error body for err. Server-side failures are logged with
// their cause and shown to the client only as a generic message.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ans := classify(err)
	switch {
	case ans.Status >= 500:
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "status", ans.Status, "err", err)
	default:
		a.log.Debug("api request rejected", "method", r.Method, "path", r.URL.Path, "status", ans.Status, "code", ans.Code)
	}
	if ans.Status == http.StatusUnauthorized {
		a.auth.Refused(w, r)
	}
	jsonhttp.WriteError(w, ans)
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) { jsonhttp.Write(w, status, v) }
