package coaching

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"ringside/internal/people"
	"ringside/internal/store"
)

// soloSession stores a session as POST /api/assignments/{id}/solo makes it (the rep's, with a
// rep invite only) and marks it live, as the rep's join does.
func (w *world) soloSession(t *testing.T, repID, repName string) string {
	t.Helper()
	ctx := context.Background()
	now := w.people.Now()
	sess := store.Session{ID: uuid.NewString(), Title: "Solo: " + w.scenario.Title, RepName: repName, Recorded: true,
		CreatedAt: now, RepID: repID, CreatedBy: repID}
	inv := store.Invite{SessionID: sess.ID, Role: store.RoleRep, Name: repName, TokenHash: uuid.NewString(),
		ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now}
	if err := w.store.CreateSession(ctx, sess, []store.Invite{inv}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.MarkSessionLive(ctx, sess.ID, now); err != nil {
		t.Fatal(err)
	}
	return sess.ID
}

func (w *world) sessionState(t *testing.T, id string) string {
	t.Helper()
	sess, err := w.store.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sess.State
}

// TestSubmittingASoloPitchEndsItsSession: the solo recording's session does not stay live once
// the pitch is handed in (its rep invite could otherwise record more into it, and lists would
// show it live); session.ended is emitted. Other sessions handed in are left to whoever runs
// them: a live call's, or a session that is not this rep's solo recording.
func TestSubmittingASoloPitchEndsItsSession(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	due := w.people.Now().Add(24 * time.Hour)
	assign := func(mode string) AssignmentView {
		t.Helper()
		list, err := w.svc.Assign(ctx, w.coach, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: due, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		return list[0]
	}

	solo := assign(store.ModeSolo)
	id := w.soloSession(t, w.rep.UserID, w.rep.Name)
	if _, err := w.svc.Submit(ctx, w.rep, solo.ID, id); err != nil {
		t.Fatal(err)
	}
	if got := w.sessionState(t, id); got != store.SessionEnded {
		t.Fatalf("after handing in the pitch its session is %q, want ended", got)
	}
	ended := w.events.of(EventSessionEnded)
	if len(ended) != 1 || ended[0].data.(map[string]any)["sessionId"] != id {
		t.Fatalf("session.ended events: %+v", ended)
	}

	// A live call handed in for a live assignment: its host ends it, not the submission.
	live := assign(store.ModeLive)
	if _, err := w.svc.Submit(ctx, w.rep, live.ID, w.session); err != nil {
		t.Fatal(err)
	}
	if err := w.store.MarkSessionLive(ctx, w.session, w.people.Now()); err != nil {
		t.Fatal(err)
	}
	// A solo assignment handed in with the rep's call that is not a solo recording (it has
	// no single rep invite) ends nothing; another rep's solo recording is refused outright
	// and left alone.
	if _, err := w.svc.Submit(ctx, w.rep, assign(store.ModeSolo).ID, w.session); err != nil {
		t.Fatal(err)
	}
	other := w.soloSession(t, w.repB.UserID, w.repB.Name)
	_, err := w.svc.Submit(ctx, w.rep, assign(store.ModeSolo).ID, other)
	wantKind(t, "another rep's solo recording", err, people.ErrNotFound)
	for _, sid := range []string{w.session, other} {
		if got := w.sessionState(t, sid); got != store.SessionLive {
			t.Errorf("session %s handed in for a solo assignment is %q, want it left live", sid, got)
		}
	}
	if n := len(w.events.of(EventSessionEnded)); n != 1 {
		t.Errorf("%d session.ended events, want 1", n)
	}
}
