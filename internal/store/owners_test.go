package store

import (
	"context"
	"errors"
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
