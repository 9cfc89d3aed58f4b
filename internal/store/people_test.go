package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// newTestPeople stores teams A and B and a coach and a rep in each, and returns their ids.
func newTestPeople(t *testing.T, s *Store, at time.Time) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	for _, team := range []string{"A", "B"} {
		tm := Team{Name: "Team " + team, CreatedAt: at}
		tm.ID = "team-" + team
		if err := s.CreateTeam(ctx, tm); err != nil {
			t.Fatalf("CreateTeam: %v", err)
		}
		ids["team"+team] = tm.ID
		for _, role := range []string{RoleCoach, RoleRep} {
			u := User{ID: role + team, Email: role + team + "@example.com", Name: role + " " + team, Role: role,
				CreatedAt: at, TeamIDs: []string{tm.ID}}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser %s: %v", u.ID, err)
			}
			ids[role+team] = u.ID
		}
	}
	return ids
}

func TestUsersAndTeams(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		ids := newTestPeople(t, s, at)

		u, err := s.User(ctx, ids["repA"])
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "User", u, User{ID: "repA", Email: "repA@example.com", Name: "rep A", Role: RoleRep,
			CreatedAt: ms(at), TeamIDs: []string{"team-A"}})
		if byEmail, err := s.UserByEmail(ctx, "repA@example.com"); err != nil || byEmail.ID != "repA" {
			t.Fatalf("UserByEmail = %+v, %v", byEmail, err)
		}
		_, err = s.User(ctx, "nobody")
		wantErr(t, "unknown user", err, ErrNotFound)

		err = s.CreateUser(ctx, User{Email: "repA@example.com", Name: "dup", Role: RoleRep})
		wantErr(t, "duplicate email", err, ErrConflict)
		err = s.CreateUser(ctx, User{Email: "x@example.com", Name: "x", Role: "boss"})
		wantErr(t, "bad role", err, ErrInvalid)
		err = s.CreateUser(ctx, User{Email: "y@example.com", Name: "y", Role: RoleRep, TeamIDs: []string{"no-team"}})
		wantErr(t, "unknown team", err, ErrNotFound)
		if _, err := s.UserByEmail(ctx, "y@example.com"); err == nil {
			t.Fatal("a user whose team was unknown was stored anyway")
		}
		err = s.CreateTeam(ctx, Team{Name: "Team A"})
		wantErr(t, "duplicate team name", err, ErrConflict)

		// A coach in both teams coaches both reps; the reps coach nobody.
		coach, _ := s.User(ctx, ids["coachA"])
		coach.TeamIDs = []string{"team-B", "team-A", "team-B"}
		disabled := at.Add(time.Hour)
		coach.DisabledAt = &disabled
		if err := s.UpdateUser(ctx, coach); err != nil {
			t.Fatal(err)
		}
		got, _ := s.User(ctx, ids["coachA"])
		mustEqual(t, "updated teams", got.TeamIDs, []string{"team-A", "team-B"})
		mustEqual(t, "disabled", got.DisabledAt, msp(&disabled))
		coached, err := s.CoachedUserIDs(ctx, ids["coachA"])
		mustEqual(t, "coached by A", coached, []string{"repA", "repB"})
		if err != nil {
			t.Fatal(err)
		}
		coached, _ = s.CoachedUserIDs(ctx, ids["coachB"])
		mustEqual(t, "coached by B", coached, []string{"repB"})
		coached, _ = s.CoachedUserIDs(ctx, ids["repA"])
		mustEqual(t, "coached by a rep", coached, []string{})
		err = s.UpdateUser(ctx, User{ID: "nobody", Role: RoleRep})
		wantErr(t, "update unknown", err, ErrNotFound)

		all, err := s.ListUsers(ctx, nil)
		if err != nil || len(all) != 4 {
			t.Fatalf("ListUsers(nil) = %d users, %v", len(all), err)
		}
		some, _ := s.ListUsers(ctx, []string{"repB", "repA"})
		if len(some) != 2 || some[0].ID != "repA" || some[1].ID != "repB" {
			t.Fatalf("ListUsers(ids) = %+v", some)
		}
		none, _ := s.ListUsers(ctx, []string{})
		mustEqual(t, "ListUsers(empty)", none, []User{})

		teams, _ := s.ListTeams(ctx, nil)
		if len(teams) != 2 || teams[0].Name != "Team A" {
			t.Fatalf("ListTeams = %+v", teams)
		}
		members, _ := s.TeamMemberIDs(ctx, "team-B")
		mustEqual(t, "members of B", members, []string{"coachA", "coachB", "repB"})
		if tm, err := s.TeamByName(ctx, "Team B"); err != nil || tm.ID != "team-B" {
			t.Fatalf("TeamByName = %+v, %v", tm, err)
		}
	})
}

func TestMagicLinksAreSingleUse(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		newTestPeople(t, s, at)
		_, hash, _ := NewToken()
		link := MagicLink{UserID: "repA", TokenHash: hash, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateMagicLink(ctx, link); err != nil {
			t.Fatal(err)
		}
		got, err := s.MagicLinkByTokenHash(ctx, hash)
		if err != nil || got.UsedAt != nil || got.ExpiresAt != ms(at.Add(time.Hour)) {
			t.Fatalf("MagicLinkByTokenHash = %+v, %v", got, err)
		}

		// Many racing redemptions: exactly one wins.
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := range 5 {
			wg.Go(func() {
				_, shash, _ := NewToken()
				_, err := s.RedeemMagicLink(ctx, hash, at.Add(time.Minute),
					UserSession{TokenHash: shash, UserAgent: "ua", CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)})
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !isConflict(err) {
					t.Errorf("redemption %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d redemptions succeeded, want 1", wins)
		}
		sessions, err := s.UserSessions(ctx, "repA")
		if err != nil || len(sessions) != 1 {
			t.Fatalf("UserSessions = %d, %v", len(sessions), err)
		}

		// An expired link cannot be redeemed, and an unknown one is not found.
		_, old, _ := NewToken()
		if err := s.CreateMagicLink(ctx, MagicLink{UserID: "repA", TokenHash: old, CreatedAt: at, ExpiresAt: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		_, shash, _ := NewToken()
		_, err = s.RedeemMagicLink(ctx, old, at.Add(time.Minute), UserSession{TokenHash: shash, ExpiresAt: at.Add(time.Hour)})
		wantErr(t, "expired link", err, ErrConflict)
		_, err = s.RedeemMagicLink(ctx, HashToken("nope"), at, UserSession{TokenHash: shash, ExpiresAt: at.Add(time.Hour)})
		wantErr(t, "unknown link", err, ErrNotFound)
	})
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

func TestUserSessionsRevoke(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		newTestPeople(t, s, at)
		var hashes []string
		for range 3 {
			_, h, _ := NewToken()
			hashes = append(hashes, h)
			if err := s.CreateUserSession(ctx, UserSession{UserID: "repA", TokenHash: h, UserAgent: "phone",
				CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		_, other, _ := NewToken()
		if err := s.CreateUserSession(ctx, UserSession{UserID: "repB", TokenHash: other, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		first, err := s.UserSessionByTokenHash(ctx, hashes[0])
		if err != nil || first.UserID != "repA" || first.LastSeenAt != ms(at) || first.RevokedAt != nil {
			t.Fatalf("UserSessionByTokenHash = %+v, %v", first, err)
		}
		if err := s.TouchUserSession(ctx, first.ID, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeUserSession(ctx, first.ID, at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeUserSession(ctx, first.ID, at.Add(3*time.Minute)); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		got, _ := s.UserSessionByTokenHash(ctx, hashes[0])
		if got.LastSeenAt != ms(at.Add(time.Minute)) || *got.RevokedAt != ms(at.Add(2*time.Minute)) {
			t.Fatalf("after touch and revoke: %+v", got)
		}
		wantErr(t, "revoke unknown", s.RevokeUserSession(ctx, "nope", at), ErrNotFound)

		_, lh, _ := NewToken()
		if err := s.CreateMagicLink(ctx, MagicLink{UserID: "repA", TokenHash: lh, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		n, err := s.RevokeUserSessions(ctx, "repA", at.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("RevokeUserSessions = %d, %v; want the 2 still live", n, err)
		}
		for _, h := range hashes {
			if got, _ := s.UserSessionByTokenHash(ctx, h); got.RevokedAt == nil {
				t.Errorf("session %s not revoked", got.ID)
			}
		}
		if got, _ := s.UserSessionByTokenHash(ctx, other); got.RevokedAt != nil {
			t.Error("another user's session was revoked")
		}
		if l, _ := s.MagicLinkByTokenHash(ctx, lh); l.UsedAt == nil {
			t.Error("an outstanding magic link survived sign-out everywhere")
		}
	})
}

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		newTestPeople(t, s, at)
		_, h, _ := NewToken()
		k := APIKey{UserID: "coachA", Name: "CRM", Prefix: "rsk_abcd", TokenHash: h, CreatedAt: at}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := s.APIKeyByTokenHash(ctx, h)
		if err != nil || got.Name != "CRM" || got.Prefix != "rsk_abcd" || got.RevokedAt != nil {
			t.Fatalf("APIKeyByTokenHash = %+v, %v", got, err)
		}
		wantErr(t, "duplicate hash", s.CreateAPIKey(ctx, APIKey{UserID: "repA", TokenHash: h}), ErrConflict)
		wantErr(t, "unknown user", s.CreateAPIKey(ctx, APIKey{UserID: "nobody", TokenHash: "x"}), ErrNotFound)
		if err := s.TouchAPIKey(ctx, got.ID, at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, got.ID, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.APIKey(ctx, got.ID)
		if *got.LastUsedAt != ms(at.Add(time.Second)) || *got.RevokedAt != ms(at.Add(time.Minute)) {
			t.Fatalf("after touch and revoke: %+v", got)
		}
		wantErr(t, "revoke unknown", s.RevokeAPIKey(ctx, "nope", at), ErrNotFound)
		mine, _ := s.ListAPIKeys(ctx, "coachA")
		all, _ := s.ListAPIKeys(ctx, "")
		none, _ := s.ListAPIKeys(ctx, "repA")
		if len(mine) != 1 || len(all) != 1 || len(none) != 0 {
			t.Fatalf("ListAPIKeys: mine %d all %d none %d", len(mine), len(all), len(none))
		}
	})
}
