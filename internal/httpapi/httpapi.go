// Package httpapi is Ringside's HTTP admin API (docs/api.md): health, and creating, listing,
// inspecting and ending sessions with their role invite links. It owns the JSON shapes of that
// API, bearer-token authentication of the admin, and the mapping of errors to HTTP statuses.
//
// It must not know of websockets or media: ending a live call goes through the LiveSessions
// seam, and everything persistent goes through internal/store.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
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
	// AdminTokenHash returns store.HashToken of the admin token. A nil func, or one returning
	// "", rejects every admin request.
	AdminTokenHash func() string
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
	adminHash func() string
	inviteTTL time.Duration
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux

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
		adminHash: cfg.AdminTokenHash,
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
	if a.adminHash == nil {
		a.adminHash = func() string { return "" }
	}
	if len(a.mediaSecret) == 0 {
		a.mediaSecret = make([]byte, 32)
		_, _ = rand.Read(a.mediaSecret) // crypto/rand.Read never fails (Go 1.24+)
	}
	if a.mediaTTL <= 0 {
		a.mediaTTL = DefaultMediaTTL
	}
	a.handle("GET /healthz", false, a.health)
	a.handle("POST /api/sessions", true, a.createSession)
	a.handle("GET /api/sessions", true, a.listSessions)
	a.handle("GET /api/sessions/{id}", true, a.getSession)
	a.handle("POST /api/sessions/{id}/end", true, a.endSession)
	// Replay and comments authenticate the admin or an invite themselves (replay.go).
	a.handle("GET /api/replay", false, a.ownReplay)
	a.handle("GET /api/sessions/{id}/replay", false, a.sessionReplay)
	a.handle("GET /api/sessions/{id}/comments", false, a.listComments)
	a.handle("POST /api/sessions/{id}/comments", false, a.addComment)
	a.handle("GET /recordings/{id}/{file}", false, a.media)
	return a
}

// ServeHTTP routes the request. Requests that match no route get the mux's 404 or 405
// status (with its Allow header) but in the API's JSON error shape.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own handler for a miss only sets headers and a status; keep those, drop its
	// plain-text body, and answer in JSON.
	rec := &jsonhttp.StatusRecorder{HeaderMap: w.Header()}
	h.ServeHTTP(rec, r)
	if rec.Status == http.StatusMethodNotAllowed {
		a.writeError(w, r, errMethodNotAllowed)
		return
	}
	a.writeError(w, r, errNotFound)
}

// handle registers h at pattern; admin routes first check the bearer token.
func (a *api) handle(pattern string, admin bool, h func(http.ResponseWriter, *http.Request) error) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if admin && !a.authorized(r) {
			a.writeError(w, r, errUnauthorized)
			return
		}
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authorized reports whether r carries the admin's bearer token. Hashes, not tokens, are
// compared, in constant time.
func (a *api) authorized(r *http.Request) bool {
	want := a.adminHash()
	if want == "" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	got := store.HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// health answers GET /healthz: ok when the database answers a ping.
func (a *api) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.Error("health check: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{
			Status: "unavailable",
			Error:  &ErrorBody{Code: CodeUnavailable, Message: "database unreachable"},
		})
		return nil
	}
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
	return nil
}

// writeError answers with the JSON error body for err. Server-side failures are logged with
// their cause and shown to the client only as a generic message.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, message := classify(err)
	switch {
	case status >= 500:
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	default:
		a.log.Debug("api request rejected", "method", r.Method, "path", r.URL.Path, "status", status, "code", code)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringside"`)
	}
	writeJSON(w, status, errorResponse{Error: ErrorBody{Code: code, Message: message}})
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) { jsonhttp.Write(w, status, v) }
