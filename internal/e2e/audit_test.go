package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/proto"
)

// TestAuditLogRecordsCoachActions: what a coach does live lands in the admin's audit log, with
// whom a whisper went to, while the rep and partner learn nothing of the silent part.
func TestAuditLogRecordsCoachActions(t *testing.T) {
	srv := apptest.Start(t)
	id, _, tokens := srv.CreateSession(t, "Audited")
	rep := dial(t, srv.WSURL, tokens["rep"], client.Audio)
	coach := dial(t, srv.WSURL, tokens["coach"], client.Audio)
	flowing(t, coach, rep.ID(), audio, 10)
	for _, mode := range []string{proto.ModeWhisper, proto.ModeOpen, proto.ModeSilent} {
		if err := coach.SetMode(mode, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "mode "+mode, 5*time.Second, func() bool {
			m, ok := coach.Mode()
			return ok && m.Mode == mode
		})
	}
	if err := coach.Leave(); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Action, ActorID, TargetID, TargetName, SessionID string
	}
	var got []entry
	waitFor(t, "five audit entries", 10*time.Second, func() bool {
		req, _ := http.NewRequest("GET", srv.URL+"/api/audit?session="+id, nil)
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct{ Entries []entry }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
			return false
		}
		got = body.Entries
		return len(got) >= 5
	})
	var actions []string
	for i := len(got) - 1; i >= 0; i-- { // newest first on the wire
		e := got[i]
		actions = append(actions, e.Action)
		if e.ActorID != coach.ID() || e.SessionID != id {
			t.Errorf("entry of the wrong actor or session: %+v", e)
		}
		if e.Action == "whisper" && (e.TargetID != rep.ID() || e.TargetName == "") {
			t.Errorf("whisper entry without its target: %+v", e)
		}
	}
	if want := []string{"monitor", "whisper", "open", "monitor", "leave"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
}
