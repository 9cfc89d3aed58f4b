package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLiveSessions: a live assignment's call is stored and linked in one go, only while the
// assignment is open and linked as the caller saw it; invites get new tokens for their seats;
// a coach seat per name, one however many ask at once; found again from the session.
func TestLiveSessions(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		_, scen, _ := newTestCoaching(t, s, at)
		live := Assignment{ID: "live", ScenarioID: scen.ID, RepID: "repA", Mode: ModeLive, Recurrence: RecurNone, DueAt: at.Add(time.Hour), CreatedAt: at}
		solo := Assignment{ID: "solo", ScenarioID: scen.ID, RepID: "repA", Mode: ModeSolo, Recurrence: RecurNone, DueAt: at.Add(time.Hour), CreatedAt: at}
		if err := s.CreateAssignments(ctx, []Assignment{live, solo}); err != nil {
			t.Fatal(err)
		}
		call := func(id string) (Session, []Invite) {
			sess := Session{ID: id, Title: scen.Title, RepID: "repA", CreatedBy: "coachA", Recorded: true, CreatedAt: at}
			return sess, []Invite{{Role: RoleRep, Name: "Ana", TokenHash: id + "-rep", ExpiresAt: at.Add(time.Hour)},
				{Role: RolePartner, Name: "Partner", TokenHash: id + "-partner", ExpiresAt: at.Add(time.Hour)}}
		}
		sess, invites := call("call-1")
		if err := s.CreateLiveSession(ctx, "live", "", sess, invites); err != nil {
			t.Fatal(err)
		}
		// Lost races, a solo assignment, an unknown one: nothing is stored.
		for _, c := range []struct{ assignment, prev, id string }{{"live", "", "call-2"}, {"live", "call-0", "call-3"}, {"solo", "", "call-4"}} {
			sess, invites := call(c.id)
			wantErr(t, "linking "+c.id, s.CreateLiveSession(ctx, c.assignment, c.prev, sess, invites), ErrConflict)
			wantErr(t, c.id+" stored", func() error { _, err := s.Session(ctx, c.id); return err }(), ErrNotFound)
		}
		sess5, inv5 := call("call-5")
		wantErr(t, "unknown assignment", s.CreateLiveSession(ctx, "nope", "", sess5, inv5), ErrNotFound)
		a, err := s.AssignmentByLiveSession(ctx, "call-1")
		if err != nil || a.ID != "live" || a.LiveSessionID != "call-1" {
			t.Fatalf("AssignmentByLiveSession = %+v, %v", a, err)
		}
		wantErr(t, "no assignment's call", func() error { _, err := s.AssignmentByLiveSession(ctx, "call-2"); return err }(), ErrNotFound)

		// A new token for a seat: the old one admits nobody, the new one the same invite.
		rep, err := s.InviteByTokenHash(ctx, "call-1-rep")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ReissueInvite(ctx, rep.ID, "call-1-rep-2", at.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "the old rep token", func() error { _, err := s.InviteByTokenHash(ctx, "call-1-rep"); return err }(), ErrNotFound)
		if got, err := s.InviteByTokenHash(ctx, "call-1-rep-2"); err != nil || got.ID != rep.ID || got.Role != RoleRep || !got.ExpiresAt.Equal(ms(at.Add(2*time.Hour))) {
			t.Errorf("the reissued rep invite = %+v, %v", got, err)
		}
		wantErr(t, "unknown invite", s.ReissueInvite(ctx, "nope", "x", at), ErrNotFound)

		// Coaches asking for their seat at once: one seat per name.
		var wg sync.WaitGroup
		for i := range 6 {
			name := []string{"Cleo", "Dan"}[i%2]
			wg.Go(func() {
				if err := s.CoachSeat(ctx, "call-1", name, "coach-"+name+"-"+string(rune('a'+i)), at.Add(time.Hour)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		all, err := s.Invites(ctx, "call-1")
		if err != nil {
			t.Fatal(err)
		}
		seats := map[string]int{}
		for _, inv := range all {
			seats[inv.Role+":"+inv.Name]++
		}
		if len(all) != 4 || seats["coach:Cleo"] != 1 || seats["coach:Dan"] != 1 {
			t.Errorf("seats after concurrent coach seats: %v", seats)
		}
		wantErr(t, "coach seat of an unknown session", s.CoachSeat(ctx, "nope", "Cleo", "h", at), ErrNotFound)

		// Handed in: no new call is linked.
		if err := s.SubmitAssignment(ctx, "live", "call-1", at); err != nil {
			t.Fatal(err)
		}
		sess6, inv6 := call("call-6")
		wantErr(t, "linking a handed-in assignment", s.CreateLiveSession(ctx, "live", "call-1", sess6, inv6), ErrConflict)
	})
}
