package coachapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"ringside/internal/people"
	"ringside/internal/store"
)

// soloInviteTTL is how long the invite of a solo recording stays valid: enough to record.
const soloInviteTTL = 24 * time.Hour

// SoloSession is the answer of POST /api/assignments/{id}/solo.
type SoloSession struct {
	SessionID string    `json:"sessionId"`
	Token     string    `json:"token"`   // the rep's invite token, for the join page
	JoinURL   string    `json:"joinUrl"` // PUBLIC_URL/join/<token>
	ExpiresAt time.Time `json:"expiresAt"`
}

// startSolo answers POST /api/assignments/{id}/solo: a recorded session with only the rep in
// it, for a pitch recorded alone; the rep joins it, records, leaves and submits its id.
func (a *api) startSolo(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	v, err := a.coaching.Assignment(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !p.IsAdmin() && p.UserID != v.RepID {
		return fmt.Errorf("%w: only the assigned rep records a solo pitch", people.ErrForbidden)
	}
	if v.Mode != store.ModeSolo {
		return badRequest("assignment %s is done live, not solo", v.ID)
	}
	token, hash, err := store.NewToken()
	if err != nil {
		return err
	}
	now := time.Now()
	sess := store.Session{
		ID: uuid.NewString(), Title: "Solo: " + v.ScenarioTitle, RepName: v.RepName, Recorded: true, CreatedAt: now,
		RepID: v.RepID, CreatedBy: p.UserID, // the rep's: they and their coaches see it
	}
	inv := store.Invite{
		SessionID: sess.ID, Role: store.RoleRep, Name: v.RepName, TokenHash: hash,
		ExpiresAt: now.Add(soloInviteTTL), CreatedAt: now,
	}
	if err := a.store.CreateSession(r.Context(), sess, []store.Invite{inv}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SoloSession{
		SessionID: sess.ID, Token: token, JoinURL: a.baseURL(r) + "/join/" + token, ExpiresAt: inv.ExpiresAt,
	})
	return nil
}
