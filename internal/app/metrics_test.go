package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"ringside/internal/app/apptest"
)

// TestObservabilityNeedsAdminToken checks that /metrics and /debug/pprof/ answer only the
// admin token, and that the metrics hold signaling's and the process's series.
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
	_, body := get("/metrics", srv.AdminToken)
	for _, name := range []string{"ringside_live_sessions", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "go_goroutines", "ringside_recording_bytes_total",
		"ringside_join_duration_seconds_bucket"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}
