package people

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ringside/internal/store"
)

const adminToken = "people-test-admin-token-0123456789"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *Service
	store *store.Store
	clock *clock
	super Principal
	teams map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
	hash := store.HashToken(adminToken)
	f := &fixture{
		svc:   New(Config{Store: st, AdminTokenHash: func() string { return hash }, Now: c.now, LinkTTL: time.Hour, SessionTTL: 24 * time.Hour}),
		store: st, clock: c, teams: map[string]string{},
	}
	f.super, err = f.svc.BearerPrincipal(t.Context(), adminToken)
	if err != nil || !f.super.SuperAdmin || !f.super.IsAdmin() {
		t.Fatalf("admin token principal = %+v, %v", f.super, err)
	}
	return f
}

// invite invites email as role in team (created if new) and returns the invitation.
func (f *fixture) invite(t *testing.T, email, role, team string) Invitation {
	t.Helper()
	inv, err := f.svc.Invite(t.Context(), f.super, InviteParams{Email: email, Role: role, TeamName: team})
	if err != nil {
		t.Fatalf("Invite %s: %v", email, err)
	}
	return inv
}

// signIn invites and signs in someone and returns their principal and cookie token.
func (f *fixture) signIn(t *testing.T, email, role, team string) (Principal, string) {
	t.Helper()
	inv := f.invite(t, email, role, team)
	in, err := f.svc.Redeem(t.Context(), inv.Token, "test")
	if err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	p, err := f.svc.SessionPrincipal(t.Context(), in.Token)
	if err != nil {
		t.Fatalf("SessionPrincipal: %v", err)
	}
	return p, in.Token
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error %v, want kind %v", what, err, kind)
	}
	if _, ok := errors.AsType[*Error](err); !ok {
		t.Fatalf("%s: %v is not a *people.Error with a client-safe message", what, err)
	}
}

func TestMagicLinkIsSingleUseAndStoredHashed(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	inv := f.invite(t, "  Ana@Example.COM ", RoleRep, "Team A")
	if inv.User.Email != "ana@example.com" || inv.User.Name != "ana" || len(inv.User.TeamIDs) != 1 {
		t.Fatalf("invited user = %+v", inv.User)
	}
	if len(inv.Token) < 40 || inv.ExpiresAt != f.clock.now().Add(time.Hour) {
		t.Fatalf("invitation token %q expires %v", inv.Token, inv.ExpiresAt)
	}

	// Only the hash is stored: the token itself finds nothing.
	if _, err := f.store.MagicLinkByTokenHash(ctx, inv.Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the plain token is a stored key: %v", err)
	}
	link, err := f.store.MagicLinkByTokenHash(ctx, store.HashToken(inv.Token))
	if err != nil || link.TokenHash == inv.Token || strings.Contains(link.TokenHash, inv.Token) {
		t.Fatalf("stored link = %+v, %v", link, err)
	}

	// Peeking (the page a link opens) does not spend it.
	for range 2 {
		if u, err := f.svc.PeekLink(ctx, inv.Token); err != nil || u.ID != inv.User.ID {
			t.Fatalf("PeekLink = %+v, %v", u, err)
		}
	}
	in, err := f.svc.Redeem(ctx, inv.Token, "phone")
	if err != nil {
		t.Fatal(err)
	}
	if in.User.ID != inv.User.ID || in.ExpiresAt != f.clock.now().Add(24*time.Hour) {
		t.Fatalf("sign-in = %+v", in)
	}
	if _, err := f.store.UserSessionByTokenHash(ctx, in.Token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the plain session token is a stored key: %v", err)
	}
	_, err = f.svc.Redeem(ctx, inv.Token, "phone")
	wantKind(t, "second use", err, ErrUnauthenticated)
	_, err = f.svc.PeekLink(ctx, inv.Token)
	wantKind(t, "peek a used link", err, ErrUnauthenticated)
	_, err = f.svc.Redeem(ctx, "not-a-token", "phone")
	wantKind(t, "unknown link", err, ErrUnauthenticated)
}

func TestMagicLinkRacingRedemptionsOneWins(t *testing.T) {
	f := newFixture(t)
	inv := f.invite(t, "ana@example.com", RoleRep, "")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 6 {
		wg.Go(func() {
			_, err := f.svc.Redeem(context.Background(), inv.Token, "racer")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("racing redemption: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d redemptions won, want exactly 1", wins)
	}
}

func TestMagicLinkExpires(t *testing.T) {
	f := newFixture(t)
	inv := f.invite(t, "ana@example.com", RoleRep, "")
	f.clock.advance(time.Hour - time.Millisecond)
	if _, err := f.svc.PeekLink(t.Context(), inv.Token); err != nil {
		t.Fatalf("a link a millisecond before expiry: %v", err)
	}
	f.clock.advance(time.Millisecond)
	_, err := f.svc.Redeem(t.Context(), inv.Token, "late")
	wantKind(t, "expired link", err, ErrUnauthenticated)

	// A new link for the same person works.
	fresh, err := f.svc.IssueLink(t.Context(), f.super, inv.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Redeem(t.Context(), fresh.Token, "on time"); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
}

func TestSessionsExpireAndSignOutEverywhereRevokesAStolenCookie(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	p, phone := f.signIn(t, "ana@example.com", RoleRep, "Team A")
	second, err := f.svc.IssueLink(ctx, f.super, p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	laptop, err := f.svc.Redeem(ctx, second.Token, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	stolen := phone // a copy of the phone's cookie, elsewhere
	spare, err := f.svc.IssueLink(ctx, f.super, p.UserID)
	if err != nil {
		t.Fatal(err)
	}

	lp, err := f.svc.SessionPrincipal(ctx, laptop.Token)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.SignOutEverywhere(ctx, lp, lp.UserID)
	if err != nil || n != 2 {
		t.Fatalf("SignOutEverywhere = %d, %v; want both sessions", n, err)
	}
	for name, tok := range map[string]string{"stolen": stolen, "laptop": laptop.Token} {
		_, err := f.svc.SessionPrincipal(ctx, tok)
		wantKind(t, name+" cookie after sign-out everywhere", err, ErrUnauthenticated)
	}
	_, err = f.svc.Redeem(ctx, spare.Token, "attacker")
	wantKind(t, "an outstanding link after sign-out everywhere", err, ErrUnauthenticated)

	// Sessions also end by themselves, and with the user's disabling.
	_, fresh := f.signIn(t, "ben@example.com", RoleCoach, "Team A")
	f.clock.advance(24 * time.Hour)
	_, err = f.svc.SessionPrincipal(ctx, fresh)
	wantKind(t, "expired session", err, ErrUnauthenticated)

	cp, cookie := f.signIn(t, "cleo@example.com", RoleCoach, "Team A")
	yes := true
	if _, err := f.svc.UpdateUser(ctx, f.super, cp.UserID, UserPatch{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SessionPrincipal(ctx, cookie)
	wantKind(t, "disabled user's session", err, ErrUnauthenticated)
	_, err = f.svc.IssueLink(ctx, f.super, cp.UserID)
	wantKind(t, "link for a disabled user", err, ErrConflict)
}

func TestSignOutEndsOnlyThisSession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	p, phone := f.signIn(t, "ana@example.com", RoleRep, "")
	link, _ := f.svc.IssueLink(ctx, f.super, p.UserID)
	laptop, _ := f.svc.Redeem(ctx, link.Token, "laptop")
	if err := f.svc.SignOut(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.SessionPrincipal(ctx, phone)
	wantKind(t, "signed-out session", err, ErrUnauthenticated)
	if _, err := f.svc.SessionPrincipal(ctx, laptop.Token); err != nil {
		t.Fatalf("the other session ended too: %v", err)
	}
}

func TestScopeAndVisibility(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	repA, _ := f.signIn(t, "rep-a@example.com", RoleRep, "A")
	repB, _ := f.signIn(t, "rep-b@example.com", RoleRep, "B")
	coachA, _ := f.signIn(t, "coach-a@example.com", RoleCoach, "A")
	coachB, _ := f.signIn(t, "coach-b@example.com", RoleCoach, "B")
	admin, _ := f.signIn(t, "admin@example.com", RoleAdmin, "")

	for _, tc := range []struct {
		who     Principal
		name    string
		visible []Principal
		hidden  []Principal
	}{
		{repA, "rep A", []Principal{repA}, []Principal{repB, coachA, coachB, admin}},
		{coachA, "coach A", []Principal{coachA, repA}, []Principal{repB, coachB, admin}},
		{coachB, "coach B", []Principal{coachB, repB}, []Principal{repA, coachA, admin}},
		{admin, "admin", []Principal{repA, repB, coachA, coachB, admin}, nil},
		{f.super, "admin token", []Principal{repA, repB, coachA, coachB, admin}, nil},
	} {
		for _, v := range tc.visible {
			if ok, err := f.svc.CanSee(ctx, tc.who, v.UserID); !ok || err != nil {
				t.Errorf("%s cannot see %s: %v", tc.name, v.Email, err)
			}
			if _, err := f.svc.User(ctx, tc.who, v.UserID); err != nil {
				t.Errorf("%s: User(%s): %v", tc.name, v.Email, err)
			}
		}
		for _, h := range tc.hidden {
			if ok, _ := f.svc.CanSee(ctx, tc.who, h.UserID); ok {
				t.Errorf("%s sees %s", tc.name, h.Email)
			}
			_, err := f.svc.User(ctx, tc.who, h.UserID)
			wantKind(t, tc.name+" reads "+h.Email, err, ErrNotFound)
		}
		users, err := f.svc.Users(ctx, tc.who)
		if err != nil || len(users) != len(tc.visible) {
			t.Errorf("%s: Users = %d, %v; want %d", tc.name, len(users), err, len(tc.visible))
		}
	}
	for _, tc := range []struct {
		who  Principal
		rep  Principal
		want bool
	}{
		{coachA, repA, true}, {coachA, repB, false}, {coachA, coachA, false}, {repA, repA, false}, {admin, repB, true},
	} {
		if got, _ := f.svc.CoachOf(ctx, tc.who, tc.rep.UserID); got != tc.want {
			t.Errorf("CoachOf(%s, %s) = %v, want %v", tc.who.Email, tc.rep.Email, got, tc.want)
		}
	}
	teams, _ := f.svc.Teams(ctx, coachA)
	if len(teams) != 1 || teams[0].Name != "A" {
		t.Fatalf("coach A's teams = %+v", teams)
	}
	_, members, err := f.svc.Team(ctx, repA, repA.TeamIDs[0])
	if err != nil || len(members) != 1 || members[0].ID != repA.UserID {
		t.Fatalf("rep A sees team A's members as %+v, %v; want only themself", members, err)
	}
	_, _, err = f.svc.Team(ctx, repA, repB.TeamIDs[0])
	wantKind(t, "rep A reads team B", err, ErrNotFound)
}

func TestRulesOfInvitingAndChangingUsers(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	coach, _ := f.signIn(t, "coach@example.com", RoleCoach, "A")
	admin, _ := f.signIn(t, "admin@example.com", RoleAdmin, "")
	_, err := f.svc.Invite(ctx, coach, InviteParams{Email: "x@example.com", Role: RoleRep})
	wantKind(t, "coach invites", err, ErrForbidden)
	for _, bad := range []InviteParams{{Email: "nope", Role: RoleRep}, {Email: "a@b.c", Role: "boss"}, {Email: "", Role: RoleRep},
		{Email: "a b@c.d", Role: RoleRep}, {Email: "a@b.c", Role: RoleRep, TeamIDs: []string{"no-such-team"}}} {
		_, err := f.svc.Invite(ctx, admin, bad)
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) {
			t.Errorf("Invite(%+v) = %v, want invalid or not found", bad, err)
		}
	}
	_, err = f.svc.Invite(ctx, admin, InviteParams{Email: "COACH@example.com", Role: RoleRep})
	wantKind(t, "invite a taken email", err, ErrConflict)
	rep := "rep"
	_, err = f.svc.UpdateUser(ctx, admin, admin.UserID, UserPatch{Role: &rep})
	wantKind(t, "admin demotes themself", err, ErrConflict)
	_, err = f.svc.UpdateUser(ctx, coach, coach.UserID, UserPatch{Role: &rep})
	wantKind(t, "coach changes themself", err, ErrForbidden)
	teams := []string{}
	u, err := f.svc.UpdateUser(ctx, admin, coach.UserID, UserPatch{TeamIDs: &teams})
	if err != nil || len(u.TeamIDs) != 0 {
		t.Fatalf("remove from teams = %+v, %v", u, err)
	}
	_, err = f.svc.CreateTeam(ctx, coach, "C")
	wantKind(t, "coach creates a team", err, ErrForbidden)
	_, err = f.svc.CreateTeam(ctx, admin, "A")
	wantKind(t, "duplicate team", err, ErrConflict)
}

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	coach, _ := f.signIn(t, "coach@example.com", RoleCoach, "A")
	other, _ := f.signIn(t, "other@example.com", RoleCoach, "A")
	key, k, err := f.svc.CreateKey(ctx, coach, "CRM")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, apiKeyPrefix) || !strings.HasPrefix(key, k.Prefix) || len(k.Prefix) != keyShownPrefix {
		t.Fatalf("key %q, prefix %q", key, k.Prefix)
	}
	if k.TokenHash != store.HashToken(key) {
		t.Fatal("the key is not stored as its hash")
	}
	p, err := f.svc.BearerPrincipal(ctx, key)
	if err != nil || p.UserID != coach.UserID || p.KeyID != k.ID || p.SuperAdmin {
		t.Fatalf("BearerPrincipal(key) = %+v, %v", p, err)
	}
	_, _, err = f.svc.CreateKey(ctx, f.super, "token's")
	wantKind(t, "admin token creates a key", err, ErrForbidden)
	wantKind(t, "another coach revokes it", f.svc.RevokeKey(ctx, other, k.ID), ErrNotFound)
	if keys, _ := f.svc.Keys(ctx, other); len(keys) != 0 {
		t.Fatalf("another coach lists %d keys", len(keys))
	}
	if err := f.svc.RevokeKey(ctx, coach, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.BearerPrincipal(ctx, key)
	wantKind(t, "revoked key", err, ErrUnauthenticated)
	for _, bad := range []string{"", "rsk_unknown", "whatever", adminToken + "x"} {
		_, err := f.svc.BearerPrincipal(ctx, bad)
		wantKind(t, "bearer "+bad, err, ErrUnauthenticated)
	}
}

func TestCheckInvite(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	token, hash, _ := store.NewToken()
	now := f.clock.now()
	sess := store.Session{Title: "call", CreatedAt: now}
	sess.ID = "sess"
	if err := f.store.CreateSession(ctx, sess, []store.Invite{{Role: store.RoleRep, Name: "Ana", TokenHash: hash, ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckInvite(ctx, token); err != nil {
		t.Fatalf("live invite: %v", err)
	}
	for _, bad := range []string{"", "nope"} {
		wantKind(t, "invite "+bad, f.svc.CheckInvite(ctx, bad), ErrUnauthenticated)
	}
	f.clock.advance(time.Hour)
	wantKind(t, "expired invite", f.svc.CheckInvite(ctx, token), ErrUnauthenticated)
}

func TestScopeIDs(t *testing.T) {
	s := Scope{ids: []string{"a", "c"}}
	if !s.Has("a") || s.Has("b") || s.All() || !slices.Equal(s.IDs(), []string{"a", "c"}) {
		t.Fatalf("scope %+v", s)
	}
	all := Scope{all: true}
	if !all.Has("anyone") || all.IDs() != nil {
		t.Fatal("the all scope")
	}
}
