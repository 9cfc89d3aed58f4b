package coaching

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ringside/internal/people"
	"ringside/internal/store"
)

// events records what the service emits, with the time it was emitted.
type events struct {
	mu   sync.Mutex
	list []emitted
}

type emitted struct {
	event string
	data  any
	at    time.Time
}

func (e *events) Emit(event string, data any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, emitted{event: event, data: data, at: time.Now()})
}

func (e *events) of(event string) []emitted {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []emitted
	for _, x := range e.list {
		if x.event == event {
			out = append(out, x)
		}
	}
	return out
}

// world is a coaching service on a fresh SQLite store with a team A (coach A, rep A), a rep
// B in team B, and a scenario with a rating + yes/no scorecard.
type world struct {
	svc      *Service
	people   *people.Service
	store    *store.Store
	events   *events
	admin    people.Principal
	coach    people.Principal
	rep      people.Principal
	repB     people.Principal
	scenario store.Scenario
	card     store.Scorecard
	session  string
}

// newWorld builds a world; now nil means time.Now (the fake clock inside a synctest bubble).
func newWorld(t *testing.T, now func() time.Time) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token = "coaching-test-admin-token-0123456789"
	hash := store.HashToken(token)
	w := &world{store: st, events: &events{}}
	w.people = people.New(people.Config{Store: st, AdminTokenHash: func() string { return hash }, Now: now})
	w.svc = New(Config{Store: st, People: w.people, Events: w.events})
	w.admin, _ = w.people.BearerPrincipal(ctx, token)
	principal := func(email, role, team string) people.Principal {
		inv, err := w.people.Invite(ctx, w.admin, people.InviteParams{Email: email, Role: role, TeamName: team})
		if err != nil {
			t.Fatal(err)
		}
		u := inv.User
		return people.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, TeamIDs: u.TeamIDs}
	}
	w.coach = principal("coach@example.com", people.RoleCoach, "A")
	w.rep = principal("rep@example.com", people.RoleRep, "A")
	w.repB = principal("rep-b@example.com", people.RoleRep, "B")
	one, three := 1, 3
	w.card, err = w.svc.CreateScorecard(ctx, w.coach, ScorecardInput{Title: "Discovery", Criteria: []CriterionInput{
		{Label: "Open questions", Kind: store.CriterionRating, Weight: &three},
		{Label: "Next step", Kind: store.CriterionYesNo, Weight: &one},
		{Label: "Notes", Kind: store.CriterionComment},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.scenario, err = w.svc.CreateScenario(ctx, w.coach, ScenarioInput{Title: "Price objection", Persona: "CFO",
		Objections: []string{"too dear"}, GoodLooksLike: "value first", ScorecardID: w.card.ID})
	if err != nil {
		t.Fatal(err)
	}
	sess := store.Session{ID: "session-1", Title: "practice", CreatedAt: w.people.Now(), RepID: w.rep.UserID}
	if err := st.CreateSession(ctx, sess, nil); err != nil {
		t.Fatal(err)
	}
	w.session = sess.ID
	// Another's session, and one for no one (an ad hoc call): a rep hands in neither.
	for _, other := range []store.Session{
		{ID: "session-other", Title: "theirs", CreatedAt: w.people.Now(), RepID: w.repB.UserID},
		{ID: "session-adhoc", Title: "ad hoc", CreatedAt: w.people.Now()},
	} {
		if err := st.CreateSession(ctx, other, nil); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) assign(t *testing.T, due time.Time, recurrence string) AssignmentView {
	t.Helper()
	list, err := w.svc.Assign(context.Background(), w.coach, AssignInput{
		ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: due, Recurrence: recurrence,
	})
	if err != nil {
		t.Fatalf("Assign: %v", err)
	}
	return list[0]
}

func (w *world) queue(t *testing.T) []AssignmentView {
	t.Helper()
	list, err := w.svc.Assignments(context.Background(), w.rep, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestSchedulerRecurrenceAndOverdueOnTheDot runs the real scheduler loop on the fake clock of
// a synctest bubble: the next instance of a weekly assignment appears, and the assignment
// turns overdue (state and event), exactly at the due time, not a millisecond before.
func TestSchedulerRecurrenceAndOverdueOnTheDot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.svc.RunScheduler(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		t0 := time.Now()
		due := t0.Add(time.Hour)
		first := w.assign(t, due, store.RecurWeekly)
		synctest.Wait()
		if q := w.queue(t); len(q) != 1 || q[0].State != store.AssignmentAssigned {
			t.Fatalf("queue at assignment: %+v", q)
		}

		time.Sleep(time.Hour - time.Millisecond)
		synctest.Wait()
		if q := w.queue(t); len(q) != 1 || q[0].State != store.AssignmentAssigned || len(w.events.of(EventAssignmentOverdue)) != 0 {
			t.Fatalf("a millisecond before due: %d assignments, state %s, %d overdue events", len(q), q[0].State, len(w.events.of(EventAssignmentOverdue)))
		}

		time.Sleep(time.Millisecond)
		synctest.Wait()
		q := w.queue(t)
		if len(q) != 2 {
			t.Fatalf("at the due time: %d assignments, want the next instance too", len(q))
		}
		if q[0].ID != first.ID || q[0].State != StateOverdue {
			t.Fatalf("first instance at its due time: %+v", q[0])
		}
		next := q[1]
		if next.SeriesID != first.SeriesID || !next.DueAt.Equal(due.Add(7*24*time.Hour)) || next.State != store.AssignmentAssigned ||
			next.Recurrence != store.RecurWeekly || next.RepID != w.rep.UserID || next.AssignedBy != w.coach.UserID {
			t.Fatalf("next instance = %+v", next)
		}
		overdue := w.events.of(EventAssignmentOverdue)
		if len(overdue) != 1 || !overdue[0].at.Equal(due) {
			t.Fatalf("overdue events = %+v, want one at %v", overdue, due)
		}
		if data := overdue[0].data.(AssignmentOverdue); data.AssignmentID != first.ID || data.RepID != w.rep.UserID {
			t.Fatalf("overdue event data = %+v", data)
		}

		// The rep submits the second one on time: it is not announced overdue, but its
		// successor still appears at its due time.
		if _, err := w.svc.Submit(context.Background(), w.rep, next.ID, w.session); err != nil {
			t.Fatal(err)
		}
		time.Sleep(7 * 24 * time.Hour)
		synctest.Wait()
		q = w.queue(t)
		if len(q) != 3 || q[1].State != store.AssignmentSubmitted || !q[2].DueAt.Equal(due.Add(14*24*time.Hour)) {
			t.Fatalf("after another week: %+v", q)
		}
		if n := len(w.events.of(EventAssignmentOverdue)); n != 1 {
			t.Fatalf("%d overdue events; a submitted assignment is never overdue", n)
		}

		// Cancelling the newest instance ends the series.
		if err := w.svc.Cancel(context.Background(), w.coach, q[2].ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * 24 * time.Hour)
		synctest.Wait()
		if q := w.queue(t); len(q) != 2 {
			t.Fatalf("a cancelled series went on: %d assignments", len(q))
		}
	})
}

func TestSchedulerBiweeklyAndOneOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.svc.RunScheduler(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		due := time.Now().Add(24 * time.Hour)
		w.assign(t, due, store.RecurBiweekly)
		w.assign(t, due.Add(time.Minute), store.RecurNone)
		time.Sleep(25 * time.Hour)
		synctest.Wait()
		q := w.queue(t)
		if len(q) != 3 || !q[2].DueAt.Equal(due.Add(14*24*time.Hour)) || q[2].Recurrence != store.RecurBiweekly {
			t.Fatalf("after the first due time: %+v", q)
		}
		if n := len(w.events.of(EventAssignmentOverdue)); n != 2 {
			t.Fatalf("%d overdue events, want 2", n)
		}
	})
}

// clock is a settable time source for tests that call Tick themselves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestTickCatchesUpWithoutPilingUp(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	w := newWorld(t, c.now)
	due := c.now().Add(time.Hour)
	w.assign(t, due, store.RecurWeekly)

	// The server was down for three weeks and a bit.
	c.set(due.Add(3*7*24*time.Hour + time.Hour))
	next, err := w.svc.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	q := w.queue(t)
	if len(q) != 2 || !q[1].DueAt.Equal(due.Add(4*7*24*time.Hour)) {
		t.Fatalf("after the outage: %+v; want one next instance, due after now", q)
	}
	if next == nil || !next.Equal(q[1].DueAt) {
		t.Fatalf("Tick's next wake-up = %v, want %v", next, q[1].DueAt)
	}
}

func TestTwoServersActOnce(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	w := newWorld(t, c.now)
	other := New(Config{Store: w.store, People: w.people, Events: w.events})
	due := c.now().Add(time.Hour)
	w.assign(t, due, store.RecurWeekly)
	c.set(due)
	var wg sync.WaitGroup
	for _, s := range []*Service{w.svc, other, w.svc, other} {
		wg.Go(func() {
			if _, err := s.Tick(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if q := w.queue(t); len(q) != 2 {
		t.Fatalf("%d assignments after racing ticks, want 2", len(q))
	}
	if n := len(w.events.of(EventAssignmentOverdue)); n != 1 {
		t.Fatalf("%d overdue events after racing ticks, want 1", n)
	}
}

func TestOverdueStateFlipsAtDueTime(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	w := newWorld(t, c.now)
	due := c.now().Add(time.Hour)
	a := w.assign(t, due, store.RecurNone)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{{due.Add(-time.Millisecond), store.AssignmentAssigned}, {due, StateOverdue}, {due.Add(time.Hour), StateOverdue}} {
		c.set(tc.at)
		v, err := w.svc.Assignment(context.Background(), w.rep, a.ID)
		if err != nil || v.State != tc.want {
			t.Errorf("at due%+v: state %q, %v; want %q", tc.at.Sub(due), v.State, err, tc.want)
		}
		for _, f := range []string{StateOverdue, store.AssignmentAssigned, StateOpen} {
			list, _ := w.svc.Assignments(context.Background(), w.rep, ListFilter{State: f})
			want := 0
			if f == StateOpen || f == tc.want {
				want = 1
			}
			if len(list) != want {
				t.Errorf("at due%+v: %d assignments in state filter %q, want %d", tc.at.Sub(due), len(list), f, want)
			}
		}
	}
	// Late submission is allowed; then it is no longer overdue.
	v, err := w.svc.Submit(context.Background(), w.rep, a.ID, w.session)
	if err != nil || v.State != store.AssignmentSubmitted {
		t.Fatalf("late submission = %+v, %v", v, err)
	}
}

func TestReviewFlowAndTimeToFeedback(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	w := newWorld(t, c.now)
	ctx := context.Background()
	a := w.assign(t, c.now().Add(24*time.Hour), store.RecurNone)
	_, err := w.svc.Claim(ctx, w.coach, a.ID)
	wantKind(t, "claim before submission", err, people.ErrConflict)
	_, err = w.svc.Submit(ctx, w.coach, a.ID, w.session)
	wantKind(t, "coach submits for the rep", err, people.ErrForbidden)
	_, err = w.svc.Submit(ctx, w.rep, a.ID, "no-such-session")
	wantKind(t, "unknown session", err, people.ErrNotFound)
	_, err = w.svc.Submit(ctx, w.rep, a.ID, "session-other")
	wantKind(t, "another rep's session", err, people.ErrNotFound)
	_, err = w.svc.Submit(ctx, w.rep, a.ID, "session-adhoc")
	wantKind(t, "a session for no one", err, people.ErrNotFound)
	submitted := c.now().Add(time.Hour)
	c.set(submitted)
	if _, err := w.svc.Submit(ctx, w.rep, a.ID, w.session); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Submit(ctx, w.rep, a.ID, w.session)
	wantKind(t, "submit twice", err, people.ErrConflict)

	c.set(submitted.Add(30 * time.Minute))
	queue, err := w.svc.Queue(ctx, w.coach)
	if err != nil || len(queue) != 1 || queue[0].Waiting != 30*time.Minute || queue[0].RepName != "rep" || queue[0].ScenarioTitle != "Price objection" {
		t.Fatalf("queue = %+v, %v", queue, err)
	}
	_, err = w.svc.Queue(ctx, w.rep)
	wantKind(t, "rep reads the review queue", err, people.ErrForbidden)
	if _, err := w.svc.Claim(ctx, w.coach, a.ID); err != nil {
		t.Fatal(err)
	}

	c.set(submitted.Add(2 * time.Hour))
	five, yes := 5, 1
	bad := []RatingInput{{CriterionID: w.card.Criteria[0].ID, Value: &yes}, {CriterionID: w.card.Criteria[0].ID, Value: &five}}
	_, err = w.svc.Complete(ctx, w.coach, a.ID, ReviewInput{Ratings: bad})
	wantKind(t, "a criterion rated twice", err, people.ErrInvalid)
	v, err := w.svc.Complete(ctx, w.coach, a.ID, ReviewInput{
		Comments: []CommentInput{{OffsetMs: 12000, Text: "great opener"}},
		Ratings:  []RatingInput{{CriterionID: w.card.Criteria[0].ID, Value: &five}, {CriterionID: w.card.Criteria[1].ID, Value: &yes}},
	})
	if err != nil || v.State != store.AssignmentReviewed || v.TimeToFeedback != 2*time.Hour || v.ReviewedBy != w.coach.UserID {
		t.Fatalf("completed review = %+v, %v", v, err)
	}
	posted := w.events.of(EventFeedbackPosted)
	if len(posted) != 1 {
		t.Fatalf("%d feedback.posted events", len(posted))
	}
	if fp := posted[0].data.(FeedbackPosted); fp.TimeToFeedbackMs != (2*time.Hour).Milliseconds() || !fp.Scored || fp.Comments != 1 || fp.SessionID != w.session {
		t.Fatalf("feedback.posted = %+v", fp)
	}
	if _, err := json.Marshal(posted[0].data); err != nil {
		t.Fatal(err)
	}
	comments, _ := w.store.Comments(ctx, w.session)
	if len(comments) != 1 || comments[0].Author != "coach" || comments[0].OffsetMs != 12000 {
		t.Fatalf("replay comments = %+v", comments)
	}

	stats, err := w.svc.Stats(ctx, w.coach, time.Time{})
	if err != nil || len(stats.Coaches) != 1 || stats.Coaches[0].Average != 2*time.Hour || stats.Coaches[0].Name != "coach" ||
		len(stats.Teams) != 1 || stats.Teams[0].Name != "A" || stats.Teams[0].Median != 2*time.Hour || stats.Pending != 0 {
		t.Fatalf("stats = %+v, %v", stats, err)
	}
	later, _ := w.svc.Stats(ctx, w.admin, c.now().Add(time.Minute))
	if len(later.Coaches) != 0 {
		t.Fatalf("stats since after the review = %+v", later)
	}
	_, card, err := w.svc.Rollup(ctx, w.rep, w.card.ID)
	if err != nil || len(card) != 1 || *card[0].Overall != 100 {
		t.Fatalf("rep's rollup = %+v, %v", card, err)
	}
}

func TestAssignRules(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	w := newWorld(t, c.now)
	ctx := context.Background()
	future := c.now().Add(time.Hour)
	for name, tc := range map[string]struct {
		p    people.Principal
		in   AssignInput
		kind error
	}{
		"rep assigns":         {w.rep, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: future}, people.ErrForbidden},
		"other team's rep":    {w.coach, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.repB.UserID}, DueAt: future}, people.ErrNotFound},
		"a coach, not a rep":  {w.admin, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.coach.UserID}, DueAt: future}, people.ErrNotFound},
		"due in the past":     {w.coach, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: c.now()}, people.ErrInvalid},
		"bad recurrence":      {w.coach, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: future, Recurrence: "daily"}, people.ErrInvalid},
		"bad mode":            {w.coach, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID}, DueAt: future, Mode: "group"}, people.ErrInvalid},
		"unknown scenario":    {w.coach, AssignInput{ScenarioID: "nope", RepIDs: []string{w.rep.UserID}, DueAt: future}, people.ErrNotFound},
		"no reps":             {w.coach, AssignInput{ScenarioID: w.scenario.ID, DueAt: future}, people.ErrInvalid},
		"one bad rep of many": {w.admin, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID, "nobody"}, DueAt: future}, people.ErrNotFound},
	} {
		_, err := w.svc.Assign(ctx, tc.p, tc.in)
		wantKind(t, name, err, tc.kind)
	}
	if q := w.queue(t); len(q) != 0 {
		t.Fatalf("failed assignments left %d behind", len(q))
	}
	list, err := w.svc.Assign(ctx, w.admin, AssignInput{ScenarioID: w.scenario.ID, RepIDs: []string{w.rep.UserID, w.repB.UserID, w.rep.UserID}, DueAt: future, Mode: store.ModeSolo})
	if err != nil || len(list) != 2 || list[0].Mode != store.ModeSolo || list[0].Recurrence != store.RecurNone {
		t.Fatalf("admin assigns to two reps = %+v, %v", list, err)
	}
	// Reps see the scenario and its scorecard once assigned, and nobody else's assignment.
	if _, err := w.svc.Scenario(ctx, w.repB, w.scenario.ID); err != nil {
		t.Fatalf("assigned rep B reads the scenario: %v", err)
	}
	if _, err := w.svc.Scorecard(ctx, w.repB, w.card.ID); err != nil {
		t.Fatalf("assigned rep B reads the scorecard: %v", err)
	}
	_, err = w.svc.Assignment(ctx, w.repB, list[0].ID)
	wantKind(t, "rep B reads rep A's assignment", err, people.ErrNotFound)
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error %v, want kind %v", what, err, kind)
	}
}
