package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringside/internal/store"
)

func TestDefaultPublicURL(t *testing.T) {
	tests := []struct {
		explicit, listen, want string
	}{
		{"https://coach.example", ":8080", "https://coach.example"},
		{"", ":8080", "http://localhost:8080"},
		{"", "0.0.0.0:9000", "http://localhost:9000"},
		{"", "[::]:9000", "http://localhost:9000"},
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"", "192.0.2.7:443", "http://192.0.2.7:443"},
		{"", "[2001:db8::1]:8080", "http://[2001:db8::1]:8080"},
		{"", "ringside.lan:8080", "http://ringside.lan:8080"},
		{"", "127.0.0.1:0", ""},
	}
	for _, tt := range tests {
		got, err := defaultPublicURL(tt.explicit, tt.listen)
		if err != nil || got != tt.want {
			t.Errorf("defaultPublicURL(%q, %q) = %q, %v; want %q", tt.explicit, tt.listen, got, err, tt.want)
		}
	}
	if _, err := defaultPublicURL("", "no-port"); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.withDefaults(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.DataDir != "./data" || c.DB != filepath.Join("data", "ringside.db") || c.Stderr == nil {
		t.Errorf("defaults = %+v", c)
	}
	for _, bad := range []Config{{UDPPortMin: 5000}, {UDPPortMax: 5000}, {UDPPortMin: 6000, UDPPortMax: 5000}} {
		if err := bad.withDefaults(); err == nil {
			t.Errorf("UDP ports %d-%d accepted", bad.UDPPortMin, bad.UDPPortMax)
		}
	}
}

// newTestApp builds an App on a temp data dir; stderr collects the banner.
func newTestApp(t *testing.T, mod ...func(*Config)) (*App, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	cfg := Config{
		Listen:  "127.0.0.1:0",
		DataDir: filepath.Join(t.TempDir(), "data"),
		Logger:  slog.New(slog.DiscardHandler),
		Stderr:  &stderr,
	}
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()) })
	return a, &stderr
}

func TestAdminTokenGeneratedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, stderr := newTestApp(t, func(c *Config) { c.DataDir = dir })

	out := stderr.String()
	_, rest, ok := strings.Cut(out, "export RINGSIDE_ADMIN_TOKEN=")
	if !ok {
		t.Fatalf("no token banner on first start:\n%s", out)
	}
	token := strings.Fields(rest)[0]
	if len(token) < 22 {
		t.Fatalf("token %q too short", token)
	}
	if !strings.Contains(out, "┌") || !strings.Contains(out, "Bearer") {
		t.Errorf("banner is not a box with usage:\n%s", out)
	}
	hash, ok, err := a.Store().Setting(t.Context(), store.KeyAdminTokenHash)
	if err != nil || !ok || hash != store.HashToken(token) {
		t.Fatalf("stored hash %q, %v, %v; want HashToken(token)", hash, ok, err)
	}
	if status := get(t, a, "/api/sessions", token); status != http.StatusOK {
		t.Errorf("API with the printed token: %d", status)
	}
	if err := a.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, "ringside.db-wal"))
	if bytes.Contains(append(data, wal...), []byte(token)) {
		t.Error("the raw admin token is in the database")
	}

	// A second start keeps the token and does not show it again.
	b, stderr2 := newTestApp(t, func(c *Config) { c.DataDir = dir })
	if strings.Contains(stderr2.String(), token) || !strings.Contains(stderr2.String(), "an admin token exists") ||
		!strings.Contains(stderr2.String(), "RINGSIDE_ADMIN_TOKEN") {
		t.Errorf("second start said:\n%s", stderr2)
	}
	if status := get(t, b, "/api/sessions", token); status != http.StatusOK {
		t.Errorf("token after restart: %d", status)
	}
}

func TestAdminTokenFromEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, _ := newTestApp(t, func(c *Config) { c.DataDir = dir })
	if err := first.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	const token = "a-chosen-admin-token-of-some-length"
	a, stderr := newTestApp(t, func(c *Config) { c.DataDir = dir; c.AdminToken = token })
	if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), "┌") {
		t.Errorf("an explicit token was echoed:\n%s", stderr)
	}
	if status := get(t, a, "/api/sessions", token); status != http.StatusOK {
		t.Errorf("explicit token: %d", status)
	}
	if status := get(t, a, "/api/sessions", "wrong-token-wrong-token"); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", status)
	}

	_, err := New(t.Context(), Config{DataDir: t.TempDir(), AdminToken: "short", Logger: slog.New(slog.DiscardHandler), Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("short token: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "web:"+r.URL.Path) })
	a, _ := newTestApp(t, func(c *Config) { c.AdminToken = "route-test-admin-token"; c.Web = web })
	if got := get(t, a, "/healthz", ""); got != http.StatusOK {
		t.Errorf("/healthz: %d", got)
	}
	if got := get(t, a, "/api/sessions", "route-test-admin-token"); got != http.StatusOK {
		t.Errorf("/api/sessions: %d", got)
	}
	if got := get(t, a, "/api/sessions", ""); got != http.StatusUnauthorized {
		t.Errorf("/api/sessions without token: %d", got)
	}
	// /ws belongs to signaling: a plain GET is not a websocket, but it is not a 404 either.
	if got := get(t, a, "/ws", ""); got == http.StatusNotFound || got == http.StatusOK {
		t.Errorf("/ws: %d", got)
	}
	rec := serve(t, a, "/join/some-token")
	if rec.status != http.StatusOK || rec.body != "web:/join/some-token" {
		t.Errorf("/join: %d %q", rec.status, rec.body)
	}

	bare, _ := newTestApp(t)
	if got := get(t, bare, "/", ""); got != http.StatusNotFound {
		t.Errorf("/ without a web handler: %d", got)
	}
}

func TestServeAndShutdown(t *testing.T) {
	a, _ := newTestApp(t, func(c *Config) { c.AdminToken = "serve-test-admin-token" })
	if a.Addr() != nil {
		t.Error("Addr before Serve is not nil")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	waitAddr(t, a)
	if a.Addr().String() != ln.Addr().String() {
		t.Errorf("Addr = %v, want %v", a.Addr(), ln.Addr())
	}
	if err := a.Serve(ln); err == nil {
		t.Error("second Serve succeeded")
	}

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz over TCP: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()

	if err := a.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if err := a.Shutdown(t.Context()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after Shutdown")
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Serve(ln2); err == nil {
		t.Error("Serve after Shutdown succeeded")
	}
}

func TestRun(t *testing.T) {
	a, _ := newTestApp(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, 5*time.Second) }()
	waitAddr(t, a)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := a.Store().Ping(t.Context()); err == nil {
		t.Error("store still open after Run returned")
	}
}

func TestRunListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	a, _ := newTestApp(t, func(c *Config) { c.Listen = busy.Addr().String() })
	if err := a.Run(t.Context(), time.Second); err == nil {
		t.Fatal("Run on a busy port succeeded")
	}
	if err := a.Store().Ping(t.Context()); err == nil {
		t.Error("store still open after a failed Run")
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"data dir is a file": {DataDir: file},
		"bad listen":         {DataDir: t.TempDir(), Listen: "nope"},
		"bad udp range":      {DataDir: t.TempDir(), UDPPortMin: 9, UDPPortMax: 1},
	} {
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.Stderr = io.Discard
		if a, err := New(t.Context(), cfg); err == nil {
			a.Shutdown(context.Background())
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "ringside ") {
		t.Errorf("Version() = %q", v)
	}
}

func waitAddr(t *testing.T, a *App) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for a.Addr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("server did not start listening")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type result struct {
	status int
	body   string
}

func serve(t *testing.T, a *App, path string, token ...string) result {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
	if len(token) > 0 && token[0] != "" {
		req.Header.Set("Authorization", "Bearer "+token[0])
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return result{status: rec.Code, body: rec.Body.String()}
}

func get(t *testing.T, a *App, path, token string) int {
	t.Helper()
	return serve(t, a, path, token).status
}
