// Package apptest runs a whole Ringside server inside a test: real store (SQLite in a temp
// directory by default), real signaling and HTTP API, listening on 127.0.0.1 on a free port,
// with a known admin token, and shut down when the test ends.
//
// It is test support only: nothing outside tests may import it.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ringside/internal/app"
	"ringside/internal/httpapi"
	"ringside/signaling"
)

// AdminToken is the admin token of every server Start runs.
const AdminToken = "apptest-admin-token-not-secret-0123456789"

// shutdownTimeout bounds the graceful shutdown at the end of a test.
const shutdownTimeout = 10 * time.Second

// Option adjusts the server's configuration before it starts; any app.Config field may be
// set this way, e.g. func(c *app.Config) { c.GracePeriod = time.Second }, except Listen:
// the server always listens on the 127.0.0.1 port Start picked.
type Option func(*app.Config)

// WithGracePeriod sets how long a dropped participant may resume.
func WithGracePeriod(d time.Duration) Option {
	return func(c *app.Config) { c.GracePeriod = d }
}

// WithLimits sets the signaling limits.
func WithLimits(l signaling.Limits) Option {
	return func(c *app.Config) { c.Limits = l }
}

// WithDB sets the database DSN (a postgres:// URL runs the server on PostgreSQL).
func WithDB(dsn string) Option {
	return func(c *app.Config) { c.DB = dsn }
}

// WithDataDir uses dir instead of a fresh temporary directory, so that a test can start a
// second server on the data of the first (restart and crash-recovery tests).
func WithDataDir(dir string) Option {
	return func(c *app.Config) { c.DataDir = dir }
}

// WithWeb mounts a web client handler at "/".
func WithWeb(h http.Handler) Option {
	return func(c *app.Config) { c.Web = h }
}

// WithLogLevel sets the level of the default logger (info), which writes to the test's log.
func WithLogLevel(l slog.Level) Option {
	return func(c *app.Config) { c.LogLevel = l }
}

// WithLogger replaces the default logger, which writes to the test's log.
func WithLogger(l *slog.Logger) Option {
	return func(c *app.Config) { c.Logger = l }
}

// Server is a running test server.
type Server struct {
	App *app.App
	// URL is the HTTP base, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// WSURL is the signaling websocket, e.g. ws://127.0.0.1:41234/ws.
	WSURL string
	// AdminToken authenticates admin API calls (the AdminToken constant unless an Option
	// changed it).
	AdminToken string
	// DataDir holds the database (when SQLite) and the recordings.
	DataDir string
	// API is an admin API client for this server.
	API *httpapi.Client
}

// Start runs a server on 127.0.0.1:0 with a temporary data directory and the known admin
// token, and shuts it down (gracefully, as on SIGTERM) when the test ends. It fails the
// test if the server cannot start.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("apptest: listen: %v", err)
	}
	addr := ln.Addr().String()
	logs := &testWriter{t: t}
	cfg := app.Config{
		Listen:          addr,
		DataDir:         t.TempDir(),
		PublicURL:       "http://" + addr,
		IncludeLoopback: true,
		AdminToken:      AdminToken,
		LogLevel:        slog.LevelInfo,
		Stderr:          logs,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(t.Context(), cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("apptest: start server: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()

	transport := &http.Transport{}
	s := &Server{
		App:        a,
		URL:        "http://" + addr,
		WSURL:      "ws://" + addr + "/ws",
		AdminToken: cfg.AdminToken,
		DataDir:    cfg.DataDir,
		API:        httpapi.NewClient("http://"+addr, cfg.AdminToken, &http.Client{Transport: transport, Timeout: 30 * time.Second}),
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("apptest: shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("apptest: serve: %v", err)
		}
		transport.CloseIdleConnections()
		logs.stop()
	})
	return s
}

// CreateSession creates a session titled title through the admin API and returns its id, the
// invite URL of each role ("rep", "partner", "coach") and each role's invite token (the last
// part of its URL, what a client sends in `join`).
func (s *Server) CreateSession(t testing.TB, title string) (id string, invites, tokens map[string]string) {
	t.Helper()
	return s.CreateSessionWith(t, httpapi.CreateSessionRequest{Title: title})
}

// CreateSessionWith is CreateSession with every field of the request (names, recording).
func (s *Server) CreateSessionWith(t testing.TB, req httpapi.CreateSessionRequest) (id string, invites, tokens map[string]string) {
	t.Helper()
	resp, err := s.API.CreateSession(t.Context(), req)
	if err != nil {
		t.Fatalf("apptest: create session: %v", err)
	}
	invites = map[string]string{
		"rep":     resp.Invites.Rep,
		"partner": resp.Invites.Partner,
		"coach":   resp.Invites.Coach,
	}
	tokens = make(map[string]string, len(invites))
	for role, link := range invites {
		_, token, ok := strings.Cut(link, "/join/")
		if !ok || token == "" {
			t.Fatalf("apptest: %s invite %q has no /join/<token>", role, link)
		}
		tokens[role] = token
	}
	return resp.ID, invites, tokens
}

// Session returns a session with its participants, tracks, mode changes and markers.
func (s *Server) Session(t testing.TB, id string) httpapi.SessionDetail {
	t.Helper()
	d, err := s.API.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("apptest: get session %s: %v", id, err)
	}
	return d
}

// EndSession ends a session through the admin API, as an admin would.
func (s *Server) EndSession(t testing.TB, id string) httpapi.Session {
	t.Helper()
	sess, err := s.API.EndSession(t.Context(), id)
	if err != nil {
		t.Fatalf("apptest: end session %s: %v", id, err)
	}
	return sess
}

// testWriter sends the server's log lines to the test's log until the test's cleanup is done;
// after that (a goroutine logging late) they are dropped, since testing.TB forbids logging
// after the test has finished.
type testWriter struct {
	mu      sync.Mutex // guards stopped
	t       testing.TB
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// Metric sums every series of the Prometheus metric name that /metrics serves now.
func (s *Server) Metric(t testing.TB, name string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		t.Fatalf("apptest: metrics: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("apptest: metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("apptest: metrics: %s %v", resp.Status, err)
	}
	var sum float64
	for line := range strings.SplitSeq(string(body), "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("apptest: metric %s: %v", line, err)
		}
		sum += v
	}
	return sum
}
