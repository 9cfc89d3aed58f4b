package coachapi

import (
	"net/http"
	"time"

	"ringside/internal/people"
	"ringside/internal/store"
)

// LiveCall is the answer of POST /api/assignments/{id}/live: the call's session and the links
// issued by this request. A rep gets their own link only.
type LiveCall struct {
	SessionID    string      `json:"sessionId"`
	AssignmentID string      `json:"assignmentId"`
	Title        string      `json:"title"`
	Invites      LiveInvites `json:"invites"`
	ExpiresAt    time.Time   `json:"expiresAt"`
}

// LiveInvites are a live call's join links (PUBLIC_URL/join/<token>), each left out when not
// issued to the caller.
type LiveInvites struct {
	Rep     string `json:"rep,omitempty"`
	Partner string `json:"partner,omitempty"`
	Coach   string `json:"coach,omitempty"`
}

// setUpLive answers POST /api/assignments/{id}/live: 201 with a new call for a live assignment
// (its rep's, recorded, with rep, partner and coach links), or 200 with the call already set up
// and links issued afresh. Ending that call hands the assignment in.
func (a *api) setUpLive(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	call, err := a.coaching.SetUpLiveCall(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	link := func(role string) string {
		if t, ok := call.Tokens[role]; ok {
			return a.baseURL(r) + "/join/" + t
		}
		return ""
	}
	status := http.StatusOK
	if call.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, LiveCall{
		SessionID: call.Session.ID, AssignmentID: call.Assignment.ID, Title: call.Session.Title,
		Invites:   LiveInvites{Rep: link(store.RoleRep), Partner: link(store.RolePartner), Coach: link(store.RoleCoach)},
		ExpiresAt: call.ExpiresAt.UTC().Truncate(time.Millisecond),
	})
	return nil
}
