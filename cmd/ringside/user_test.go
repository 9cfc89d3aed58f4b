package main

import (
	"net/http"
	"strings"
	"testing"

	"ringside/internal/app/apptest"
)

func TestUserInvitePrintsASignInLink(t *testing.T) {
	s := apptest.Start(t)
	e, stdout, stderr := testEnv(map[string]string{envAdminToken: s.AdminToken})
	code := run([]string{"user", "invite", "--email", "Ana@Example.com", "--role", "rep", "--team", "Sales", "--url", s.URL}, e)
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	link := strings.TrimSpace(stdout.String())
	_, token, ok := strings.Cut(link, "/api/auth/link/")
	if !ok || token == "" || strings.Contains(link, "\n") || !strings.Contains(stderr.String(), "ana@example.com") {
		t.Fatalf("stdout %q (want the link alone, for scripts), stderr %q", stdout, stderr)
	}
	resp, err := http.Post(s.URL+"/api/auth/signin", "application/json", strings.NewReader(`{"token":"`+token+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in with the printed link: %d", resp.StatusCode)
	}
	// The team was created on the way, and a second invite joins it.
	e, stdout, stderr = testEnv(map[string]string{envAdminToken: s.AdminToken, "RINGSIDE_URL": s.URL})
	if code := run([]string{"user", "invite", "--email", "ben@example.com", "--role", "coach", "--team", "Sales"}, e); code != 0 {
		t.Fatalf("second invite: exit %d; %s", code, stderr)
	}
	users, err := s.App.Store().ListUsers(t.Context(), nil)
	if err != nil || len(users) != 2 || len(users[0].TeamIDs) != 1 || users[0].TeamIDs[0] != users[1].TeamIDs[0] {
		t.Fatalf("users = %+v, %v", users, err)
	}

	for name, tc := range map[string]struct {
		args []string
		vars map[string]string
		code int
		want string
	}{
		"no email":           {[]string{"user", "invite", "--role", "rep"}, map[string]string{envAdminToken: s.AdminToken}, 2, "Usage"},
		"no token":           {[]string{"user", "invite", "--email", "c@example.com", "--role", "rep", "--url", s.URL}, nil, 2, envAdminToken},
		"bad role":           {[]string{"user", "invite", "--email", "c@example.com", "--role", "boss", "--url", s.URL}, map[string]string{envAdminToken: s.AdminToken}, 1, "role must be"},
		"taken email":        {[]string{"user", "invite", "--email", "ben@example.com", "--role", "rep", "--url", s.URL}, map[string]string{envAdminToken: s.AdminToken}, 1, "409"},
		"unknown subcommand": {[]string{"user", "promote"}, nil, 2, "unknown subcommand"},
	} {
		e, _, stderr := testEnv(tc.vars)
		if code := run(tc.args, e); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", name, code, stderr, tc.code, tc.want)
		}
	}
}
