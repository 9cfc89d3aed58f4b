package coachapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ringside/internal/app/apptest"
	"ringside/internal/client"
	"ringside/internal/coachapi"
	"ringside/internal/httpapi"
	"ringside/internal/proto"
	"ringside/internal/store"
)

// tokenOf is the token at the end of a join link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	_, token, ok := strings.Cut(link, "/join/")
	if !ok || token == "" {
		t.Fatalf("join link %q has no /join/<token>", link)
	}
	return token
}

// answeredUp reports whether the server has answered c's up offer.
func answeredUp(c *client.Client) bool {
	for _, f := range c.Frames() {
		var m struct {
			Type string   `json:"type"`
			PC   proto.PC `json:"pc"`
		}
		if json.Unmarshal(f, &m) == nil && m.Type == proto.TypeAnswer && m.PC == proto.PCUp {
			return true
		}
	}
	return false
}

// TestLiveAssignmentCallHandsItselfIn walks a live assignment through its call, on both
// engines: coach A sets the call up (the rep's session, three links), asking again answers
// the same session with new links; rep A fetches their own link (a rep's, nothing else); rep
// and partner join the call for real; coach A ends it with the session API, and the assignment
// is handed in with that session, once, and waits in the coach's review queue.
func TestLiveAssignmentCallHandsItselfIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *apptest.Server) {
		w := newWorld(t, s)
		coachA, repA := w.callers["coachA"], w.callers["repA"]
		id := w.liveAssignment()
		path := "/api/assignments/" + id + "/live"
		roleOf := func(link string) string {
			inv, err := s.App.Store().InviteByTokenHash(t.Context(), store.HashToken(tokenOf(t, link)))
			if err != nil {
				return ""
			}
			return inv.Role
		}

		var first coachapi.LiveCall
		w.mustJSON(coachA, "POST", path, "", http.StatusCreated, &first)
		for role, link := range map[string]string{"rep": first.Invites.Rep, "partner": first.Invites.Partner, "coach": first.Invites.Coach} {
			if !strings.HasPrefix(link, s.URL+"/join/") || roleOf(link) != role {
				t.Errorf("the %s link %q admits as %q", role, link, roleOf(link))
			}
		}
		var detail httpapi.SessionDetail
		w.mustJSON(coachA, "GET", "/api/sessions/"+first.SessionID, "", http.StatusOK, &detail)
		if detail.RepID != w.ids["repA"] || detail.Title != "Price objection" || !detail.Recorded || len(detail.Invites) != 3 {
			t.Errorf("the call's session: %+v", detail)
		}
		var a coachapi.Assignment
		w.mustJSON(repA, "GET", "/api/assignments/"+id, "", http.StatusOK, &a)
		if a.LiveSessionID != first.SessionID || a.State != "assigned" {
			t.Errorf("the assignment: live session %q, state %s", a.LiveSessionID, a.State)
		}

		// Again: the same session, new links for the same seats.
		var again coachapi.LiveCall
		w.mustJSON(coachA, "POST", path, "", http.StatusOK, &again)
		if again.SessionID != first.SessionID || again.Invites.Partner == first.Invites.Partner || roleOf(first.Invites.Partner) != "" {
			t.Errorf("asking again: session %s (was %s); the first partner link admits as %q",
				again.SessionID, first.SessionID, roleOf(first.Invites.Partner))
		}

		// The rep's own link: the rep's seat, and no other link in the answer.
		resp, body := w.do(repA, "POST", path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the rep's link: %d %s", resp.StatusCode, body)
		}
		var mine coachapi.LiveCall
		if err := json.Unmarshal([]byte(body), &mine); err != nil {
			t.Fatal(err)
		}
		if mine.SessionID != first.SessionID || roleOf(mine.Invites.Rep) != "rep" || mine.Invites.Partner != "" ||
			mine.Invites.Coach != "" || strings.Contains(body, `"partner"`) || strings.Contains(body, `"coach"`) {
			t.Errorf("the rep was answered %s", body)
		}
		if roleOf(again.Invites.Partner) != "partner" || roleOf(again.Invites.Coach) != "coach" {
			t.Error("the rep's asking changed the partner's or the coach's link")
		}

		// The call, for real: rep and partner join; coach A ends it.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var clients []*client.Client
		for _, link := range []string{mine.Invites.Rep, again.Invites.Partner} {
			c, err := client.Dial(ctx, client.Config{URL: s.WSURL, Token: tokenOf(t, link), Publish: client.Audio})
			if err != nil {
				t.Fatalf("join %s: %v", link, err)
			}
			t.Cleanup(func() { c.Close() })
			// In the call: the server answered its up offer (an end in the middle of that
			// negotiation refuses the offer rather than ending the participant).
			if err := c.WaitFor(ctx, answeredUp); err != nil {
				t.Fatalf("%s's up offer: %v", link, err)
			}
			clients = append(clients, c)
		}
		w.mustJSON(coachA, "POST", "/api/sessions/"+first.SessionID+"/end", "", http.StatusOK, nil)
		for _, c := range clients {
			if err := c.WaitFor(ctx, func(c *client.Client) bool { _, ok := c.Ended(); return ok }); err != nil {
				t.Fatalf("the call did not end for a participant: %v", err)
			}
		}
		w.mustJSON(repA, "GET", "/api/assignments/"+id, "", http.StatusOK, &a)
		if a.State != "submitted" || a.SessionID != first.SessionID || a.SubmittedAt == nil {
			t.Fatalf("after the call the assignment is %s with session %q", a.State, a.SessionID)
		}
		var queue coachapi.ReviewQueue
		w.mustJSON(coachA, "GET", "/api/reviews", "", http.StatusOK, &queue)
		found := false
		for _, r := range queue.Reviews {
			found = found || (r.ID == id && r.SessionID == first.SessionID)
		}
		if !found {
			t.Errorf("the handed-in call is not in coach A's review queue: %+v", queue.Reviews)
		}

		// Once: the end again is refused, the submission stays; the call is not set up again,
		// and handing it in by hand is a conflict.
		w.mustJSON(coachA, "POST", "/api/sessions/"+first.SessionID+"/end", "", http.StatusConflict, nil)
		var after coachapi.Assignment
		w.mustJSON(repA, "GET", "/api/assignments/"+id, "", http.StatusOK, &after)
		if !after.SubmittedAt.Equal(*a.SubmittedAt) {
			t.Errorf("submitted at %v, then %v", a.SubmittedAt, after.SubmittedAt)
		}
		w.mustJSON(coachA, "POST", path, "", http.StatusConflict, nil)
		w.mustJSON(repA, "POST", "/api/assignments/"+id+"/submit", `{"sessionId":"`+first.SessionID+`"}`, http.StatusConflict, nil)

		// A solo assignment is not done live; a call nobody set up has no link for the rep.
		w.mustJSON(coachA, "POST", "/api/assignments/"+w.soloAssignment()+"/live", "", http.StatusBadRequest, nil)
		w.mustJSON(repA, "POST", "/api/assignments/"+w.liveAssignment()+"/live", "", http.StatusConflict, nil)
	})
}

// TestLiveCallHandedInByHandStaysSo: a rep who hands in their live assignment by hand before
// the call ends keeps that submission; ending the call (through the end route, no one in the
// room) changes nothing.
func TestLiveCallHandedInByHandStaysSo(t *testing.T) {
	w := newWorld(t, apptest.Start(t))
	id := w.liveAssignment()
	var call coachapi.LiveCall
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments/"+id+"/live", "", http.StatusCreated, &call)
	w.mustJSON(w.callers["repA"], "POST", "/api/assignments/"+id+"/submit", `{"sessionId":"`+w.ids["sessionA"]+`"}`, http.StatusOK, nil)
	w.mustJSON(w.callers["token"], "POST", "/api/sessions/"+call.SessionID+"/end", "", http.StatusOK, nil)
	var a coachapi.Assignment
	w.mustJSON(w.callers["repA"], "GET", "/api/assignments/"+id, "", http.StatusOK, &a)
	if a.State != "submitted" || a.SessionID != w.ids["sessionA"] {
		t.Errorf("after the call ended the assignment is %s with %q, want submitted with %s", a.State, a.SessionID, w.ids["sessionA"])
	}
}

// TestLiveCallCalledOffStaysOpen: a call ended before anyone joined hands nothing in; the
// assignment stays open and the next "set up" makes a new call.
func TestLiveCallCalledOffStaysOpen(t *testing.T) {
	w := newWorld(t, apptest.Start(t))
	id := w.liveAssignment()
	var call, next coachapi.LiveCall
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments/"+id+"/live", "", http.StatusCreated, &call)
	w.mustJSON(w.callers["coachA"], "POST", "/api/sessions/"+call.SessionID+"/end", "", http.StatusOK, nil)
	var a coachapi.Assignment
	w.mustJSON(w.callers["repA"], "GET", "/api/assignments/"+id, "", http.StatusOK, &a)
	if a.State != "assigned" || a.SessionID != "" {
		t.Errorf("a call nobody joined left the assignment %s with %q", a.State, a.SessionID)
	}
	w.mustJSON(w.callers["repA"], "POST", "/api/assignments/"+id+"/live", "", http.StatusConflict, nil)
	w.mustJSON(w.callers["coachA"], "POST", "/api/assignments/"+id+"/live", "", http.StatusCreated, &next)
	if next.SessionID == call.SessionID {
		t.Error("the ended call was set up again")
	}
}
