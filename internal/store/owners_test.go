package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestSessionOwners: a session keeps the rep it is for and who created it, and
// ListSessionsFor selects by them.
func TestSessionOwners(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		for _, id := range []string{"rep1", "rep2", "coach"} {
			role := RoleRep
			if id == "coach" {
				role = RoleCoach
			}
			if err := s.CreateUser(ctx, User{ID: id, Email: id + "@example.com", Name: id, Role: role, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		for i, sess := range []Session{
			{ID: "for-rep1", RepID: "rep1", CreatedBy: "coach"},
			{ID: "for-rep2", RepID: "rep2"},
			{ID: "coach-own", CreatedBy: "coach"},
			{ID: "nobody's"},
		} {
			sess.Title, sess.CreatedAt = "t", t0.Add(time.Duration(i)*time.Second)
			if err := s.CreateSession(ctx, sess, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Session(ctx, "for-rep1")
		if err != nil || got.RepID != "rep1" || got.CreatedBy != "coach" {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		if got, err := s.Session(ctx, "nobody's"); err != nil || got.RepID != "" || got.CreatedBy != "" {
			t.Fatalf("a session of no one = %+v, %v", got, err)
		}
		if err := s.CreateSession(ctx, Session{ID: "x", Title: "t", RepID: "no-such-user"}, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("a session for an unknown user: %v, want ErrNotFound", err)
		}

		for _, c := range []struct {
			f     SessionFilter
			limit int
			want  []string
		}{
			{SessionFilter{All: true}, 0, []string{"nobody's", "coach-own", "for-rep2", "for-rep1"}},
			{SessionFilter{All: true}, 1, []string{"nobody's"}},
			{SessionFilter{RepIDs: []string{"rep1"}}, 0, []string{"for-rep1"}},
			{SessionFilter{RepIDs: []string{"rep1", "rep2"}}, 0, []string{"for-rep2", "for-rep1"}},
			{SessionFilter{CreatedBy: "coach"}, 0, []string{"coach-own", "for-rep1"}},
			{SessionFilter{RepIDs: []string{"rep2"}, CreatedBy: "coach"}, 0, []string{"coach-own", "for-rep2", "for-rep1"}},
			{SessionFilter{RepIDs: []string{"rep2"}, CreatedBy: "coach"}, 2, []string{"coach-own", "for-rep2"}},
			{SessionFilter{}, 0, nil},
		} {
			list, err := s.ListSessionsFor(ctx, c.f, c.limit)
			if err != nil {
				t.Fatalf("ListSessionsFor(%+v): %v", c.f, err)
			}
			var ids []string
			for _, sess := range list {
				ids = append(ids, sess.ID)
			}
			if !slices.Equal(ids, c.want) || list == nil {
				t.Errorf("ListSessionsFor(%+v, %d) = %v, want %v", c.f, c.limit, ids, c.want)
			}
		}
	})
}

// TestSessionOwnersBackfill: migration 00006 makes a session handed in for the assignments of
// one rep that rep's, and leaves alone a session handed in by two reps and one handed in by
// nobody.
func TestSessionOwnersBackfill(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var (
			s   *Store
			err error
		)
		if isPostgres(dsn) {
			s, err = openPostgres(ctx, dsn)
		} else {
			s, err = openSQLite(ctx, dsn)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.migrateTo(ctx, 5); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, u := range []string{"ana", "bo"} {
			exec(`INSERT INTO users (id, email, name, role, created_at) VALUES (?, ?, ?, 'rep', 1)`, u, u+"@example.com", u)
		}
		exec(`INSERT INTO scenarios (id, title, persona, objections, good_looks_like, created_at, updated_at)
			VALUES ('sc', 'Price', 'CFO', '[]', '', 1, 1)`)
		for _, id := range []string{"ana-only", "shared", "nobody"} {
			exec(`INSERT INTO sessions (id, title, rep_name, partner_name, state, created_at) VALUES (?, 'call', '', '', 'ended', 1)`, id)
		}
		for i, a := range []struct{ rep, session string }{
			{"ana", "ana-only"}, {"ana", "ana-only"}, {"ana", "shared"}, {"bo", "shared"},
		} {
			exec(`INSERT INTO assignments (id, series_id, scenario_id, rep_id, mode, recurrence, state, due_at, session_id, submitted_at, created_at)
				VALUES (?, ?, 'sc', ?, 'live', 'none', 'submitted', 1, ?, 1, 1)`, fmt.Sprint("a", i), fmt.Sprint("s", i), a.rep, a.session)
		}
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{"ana-only": "ana", "shared": "", "nobody": ""} {
			sess, err := s.Session(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if sess.RepID != want || sess.CreatedBy != "" {
				t.Errorf("session %s after the migration: rep %q, created by %q; want rep %q", id, sess.RepID, sess.CreatedBy, want)
			}
		}
	})
}
