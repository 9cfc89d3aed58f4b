package apptest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"ringside/internal/store"
)

func TestStart(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.WSURL != "ws"+strings.TrimPrefix(s.URL, "http")+"/ws" {
		t.Fatalf("URL %q, WSURL %q", s.URL, s.WSURL)
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || health.Status != "ok" {
		t.Fatalf("healthz: %d %+v %v", resp.StatusCode, health, err)
	}

	id, invites, tokens := s.CreateSession(t, "Discovery call")
	if id == "" || len(invites) != 3 || len(tokens) != 3 {
		t.Fatalf("id %q invites %v tokens %v", id, invites, tokens)
	}
	for _, role := range []string{"rep", "partner", "coach"} {
		if invites[role] != s.URL+"/join/"+tokens[role] {
			t.Errorf("%s invite %q, token %q", role, invites[role], tokens[role])
		}
		inv, err := s.App.Store().InviteByTokenHash(t.Context(), store.HashToken(tokens[role]))
		if err != nil || inv.SessionID != id || inv.Role != role {
			t.Errorf("%s invite in store: %+v, %v", role, inv, err)
		}
	}
	if d := s.Session(t, id); d.Title != "Discovery call" || d.State != store.SessionCreated {
		t.Errorf("session = %+v", d.Session)
	}
	if ended := s.EndSession(t, id); ended.State != store.SessionEnded {
		t.Errorf("ended = %+v", ended)
	}
}

func TestStartTwiceOnOneDataDir(t *testing.T) {
	dir := t.TempDir()
	first := Start(t, WithDataDir(dir))
	id, _, _ := first.CreateSession(t, "kept")
	if err := first.App.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := Start(t, WithDataDir(dir))
	if d := second.Session(t, id); d.Title != "kept" {
		t.Errorf("after restart: %+v", d.Session)
	}
}
