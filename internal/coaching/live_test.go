package coaching

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ringside/internal/people"
	"ringside/internal/store"
)

func (w *world) assignMode(t *testing.T, mode string) AssignmentView {
	t.Helper()
	list, err := w.svc.Assign(context.Background(), w.coach, AssignInput{ScenarioID: w.scenario.ID,
		RepIDs: []string{w.rep.UserID}, DueAt: w.people.Now().Add(24 * time.Hour), Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return list[0]
}

// roleOf is the role of the invite that token admits to, "" when it admits to nothing.
func (w *world) roleOf(t *testing.T, token string) string {
	t.Helper()
	inv, err := w.store.InviteByTokenHash(context.Background(), store.HashToken(token))
	if err != nil {
		return ""
	}
	return inv.Role
}

// TestSetUpLiveCallOnceUnderRace: coaches and admins setting up one assignment's call at the
// same moment make one session between them; each gets links to it; and a rep's link, asked
// for by the rep, admits as the rep and nothing else.
func TestSetUpLiveCallOnceUnderRace(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	a := w.assignMode(t, store.ModeLive)

	if _, err := w.svc.SetUpLiveCall(ctx, w.rep, a.ID); !errors.Is(err, people.ErrConflict) {
		t.Fatalf("the rep sets up a call nobody set up: %v, want a conflict", err)
	}
	const n = 8
	calls := make([]LiveCall, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		who := w.coach
		if i%2 == 1 {
			who = w.admin
		}
		wg.Go(func() { calls[i], errs[i] = w.svc.SetUpLiveCall(ctx, who, a.ID) })
	}
	wg.Wait()
	created := 0
	for i, c := range calls {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if c.Session.ID != calls[0].Session.ID {
			t.Fatalf("two sessions for one assignment: %s and %s", c.Session.ID, calls[0].Session.ID)
		}
		if c.Created {
			created++
		}
		for _, role := range []string{store.RoleRep, store.RolePartner, store.RoleCoach} {
			if c.Tokens[role] == "" {
				t.Errorf("call %d issued no %s link", i, role)
			}
		}
	}
	if created != 1 {
		t.Errorf("%d calls say they created the session, want 1", created)
	}
	sess := calls[0].Session
	if sess.RepID != w.rep.UserID || sess.Title != w.scenario.Title || !sess.Recorded {
		t.Errorf("the call's session: %+v", sess)
	}
	got, err := w.svc.Assignment(ctx, w.rep, a.ID)
	if err != nil || got.LiveSessionID != sess.ID {
		t.Fatalf("the assignment links %q (%v), want %s", got.LiveSessionID, err, sess.ID)
	}
	// One rep seat, one partner seat, and a coach seat for each name that asked (the coach,
	// the admin token's "Admin").
	invites, err := w.store.Invites(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	seats := map[string]int{}
	for _, inv := range invites {
		seats[inv.Role+":"+inv.Name]++
	}
	want := map[string]int{"rep:" + w.rep.Name: 1, "partner:Partner": 1, "coach:" + w.coach.Name: 1, "coach:Admin": 1}
	if len(seats) != len(want) {
		t.Errorf("seats %v, want %v", seats, want)
	}
	for k, v := range want {
		if seats[k] != v {
			t.Errorf("seats %v, want %v", seats, want)
		}
	}

	// The rep's own link: theirs alone, a rep's seat; the partner's and coach's links stand.
	last, err := w.svc.SetUpLiveCall(ctx, w.coach, a.ID)
	if err != nil || last.Created || last.Session.ID != sess.ID {
		t.Fatalf("asking again: %v, created %v, session %s", err, last.Created, last.Session.ID)
	}
	if got := w.roleOf(t, calls[0].Tokens[store.RolePartner]); got != "" && calls[0].Created {
		t.Errorf("the first partner link still admits as %q after new links were issued", got)
	}
	mine, err := w.svc.SetUpLiveCall(ctx, w.rep, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Tokens) != 1 || w.roleOf(t, mine.Tokens[store.RoleRep]) != store.RoleRep || mine.Created {
		t.Fatalf("the rep got %v (created %v)", mine.Tokens, mine.Created)
	}
	if got := w.roleOf(t, last.Tokens[store.RoleRep]); got != "" {
		t.Errorf("the rep link issued before still admits as %q", got)
	}
	if w.roleOf(t, last.Tokens[store.RolePartner]) != store.RolePartner {
		t.Error("the rep's asking for their link changed the partner's")
	}

	// Solo: not this way; another rep's: not theirs to see.
	if _, err := w.svc.SetUpLiveCall(ctx, w.coach, w.assignMode(t, store.ModeSolo).ID); !errors.Is(err, people.ErrInvalid) {
		t.Errorf("a solo assignment's call: %v", err)
	}
	if _, err := w.svc.SetUpLiveCall(ctx, w.repB, a.ID); !errors.Is(err, people.ErrNotFound) {
		t.Errorf("another rep: %v", err)
	}
}

// TestHandInLiveExactlyOnce: the end of a live assignment's call hands it in with that call,
// once however many times (and from however many servers) the end is reported; a manual
// submission first is kept; a call that ended unsubmitted makes room for a new one.
func TestHandInLiveExactlyOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	a := w.assignMode(t, store.ModeLive)
	call, err := w.svc.SetUpLiveCall(ctx, w.coach, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Called off before anyone joined: not handed in.
	if err := w.svc.HandInLive(ctx, call.Session.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.Assignment(ctx, w.rep, a.ID); got.State != store.AssignmentAssigned {
		t.Fatalf("a call nobody joined handed the assignment in: %s", got.State)
	}
	if err := w.store.MarkSessionLive(ctx, call.Session.ID, w.people.Now()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := w.svc.HandInLive(ctx, call.Session.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := w.svc.Assignment(ctx, w.rep, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.AssignmentSubmitted || got.SessionID != call.Session.ID || got.SubmittedAt == nil {
		t.Fatalf("after the call ended the assignment is %s with %q", got.State, got.SessionID)
	}
	first := *got.SubmittedAt
	if err := w.svc.HandInLive(ctx, call.Session.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := w.svc.Assignment(ctx, w.rep, a.ID); !again.SubmittedAt.Equal(first) {
		t.Error("a second end moved the submission")
	}
	if _, err := w.svc.SetUpLiveCall(ctx, w.coach, a.ID); !errors.Is(err, people.ErrConflict) {
		t.Errorf("setting up the call of a handed-in assignment: %v", err)
	}
	// A session that is no assignment's call: nothing happens.
	if err := w.svc.HandInLive(ctx, w.session); err != nil {
		t.Fatal(err)
	}

	// Handed in by hand with another of the rep's sessions before the call ends: kept.
	b := w.assignMode(t, store.ModeLive)
	callB, err := w.svc.SetUpLiveCall(ctx, w.coach, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Submit(ctx, w.rep, b.ID, w.session); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.HandInLive(ctx, callB.Session.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.Assignment(ctx, w.rep, b.ID); got.SessionID != w.session {
		t.Errorf("the manual submission with %s was replaced by %s", w.session, got.SessionID)
	}

	// A call that ended without a hand-in (the server stopped: interrupted): a new call.
	c := w.assignMode(t, store.ModeLive)
	callC, err := w.svc.SetUpLiveCall(ctx, w.coach, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.EndSession(ctx, callC.Session.ID, w.people.Now(), store.SessionInterrupted); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SetUpLiveCall(ctx, w.rep, c.ID); !errors.Is(err, people.ErrConflict) {
		t.Errorf("the rep's link of an interrupted call: %v, want a conflict", err)
	}
	next, err := w.svc.SetUpLiveCall(ctx, w.coach, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !next.Created || next.Session.ID == callC.Session.ID {
		t.Errorf("after an interrupted call: created %v, session %s (was %s)", next.Created, next.Session.ID, callC.Session.ID)
	}
}
