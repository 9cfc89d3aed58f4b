package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"ringside/internal/app/apptest"
)

// userKey invites a user of role, signs them in and returns an API key of theirs.
func userKey(t *testing.T, srv *apptest.Server, role string) string {
	t.Helper()
	post := func(path, bearer, cookie, body string, out any) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "ringside_session", Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 || json.NewDecoder(resp.Body).Decode(out) != nil {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		return resp
	}
	var inv struct {
		SignInURL string `json:"signInUrl"`
	}
	post("/api/users", srv.AdminToken, "", `{"email":"`+role+`@example.com","role":"`+role+`"}`, &inv)
	_, link, _ := strings.Cut(inv.SignInURL, "/api/auth/link/")
	var in struct{}
	var cookie string
	for _, c := range post("/api/auth/signin", "", "", `{"token":"`+link+`"}`, &in).Cookies() {
		if c.Name == "ringside_session" {
			cookie = c.Value
		}
	}
	var key struct {
		Key string `json:"key"`
	}
	post("/api/auth/keys", "", cookie, `{"name":"metrics"}`, &key)
	return key.Key
}

// TestObservabilityNeedsAdminToken checks that /metrics and /debug/pprof/ answer only admins
// (the admin token, an admin user's API key; a rep's key is 403), and that the metrics hold
// signaling's and the process's series.
func TestObservabilityNeedsAdminToken(t *testing.T) {
	srv := apptest.Start(t)
	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		for _, token := range []string{"", "not-the-admin-token"} {
			if code, _ := get(path, token); code != http.StatusUnauthorized {
				t.Errorf("GET %s with token %q: %d, want 401", path, token, code)
			}
		}
		if code, _ := get(path, srv.AdminToken); code != http.StatusOK {
			t.Errorf("GET %s with the admin token: %d, want 200", path, code)
		}
	}
	for role, want := range map[string]int{"admin": http.StatusOK, "rep": http.StatusForbidden, "coach": http.StatusForbidden} {
		if code, _ := get("/metrics", userKey(t, srv, role)); code != want {
			t.Errorf("GET /metrics with a %s's API key: %d, want %d", role, code, want)
		}
	}
	_, body := get("/metrics", srv.AdminToken)
	for _, name := range []string{"ringside_live_sessions", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "go_goroutines", "ringside_recording_bytes_total",
		"ringside_join_duration_seconds_bucket"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}
