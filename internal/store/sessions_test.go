package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

// newTestSession returns a session and its three invites, with tokens, ready to create.
func newTestSession(t *testing.T, created time.Time) (Session, []Invite, map[string]string) {
	t.Helper()
	sess := Session{
		ID:          uuid.NewString(),
		Title:       "Discovery call — ACME",
		RepName:     "Ana",
		PartnerName: "Ben",
		State:       SessionCreated,
		Recorded:    true,
		CreatedAt:   created,
	}
	tokens := make(map[string]string) // role → token
	var invites []Invite
	for i, role := range []string{RoleRep, RolePartner, RoleCoach} {
		token, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = token
		invites = append(invites, Invite{
			ID:        uuid.NewString(),
			SessionID: sess.ID,
			Role:      role,
			Name:      "person " + role,
			TokenHash: hash,
			ExpiresAt: created.Add(24 * time.Hour),
			CreatedAt: created.Add(time.Duration(i) * time.Millisecond),
		})
	}
	return sess, invites, tokens
}

func wantSession(s Session) Session {
	s.CreatedAt = ms(s.CreatedAt)
	s.StartedAt = msp(s.StartedAt)
	s.EndedAt = msp(s.EndedAt)
	return s
}

func wantInvite(i Invite) Invite {
	i.ExpiresAt = ms(i.ExpiresAt)
	i.CreatedAt = ms(i.CreatedAt)
	return i
}

func TestSessionRoundTrip(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		sess, invites, tokens := newTestSession(t, testTime(t, 0))
		if err := s.CreateSession(ctx, sess, invites); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.Session(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "Session", got, wantSession(sess))
		if got.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
		}

		gotInvites, err := s.Invites(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want []Invite
		for _, inv := range invites {
			want = append(want, wantInvite(inv))
		}
		mustEqual(t, "Invites", gotInvites, want)

		for i, role := range []string{RoleRep, RolePartner, RoleCoach} {
			inv, err := s.InviteByTokenHash(ctx, HashToken(tokens[role]))
			if err != nil {
				t.Fatalf("InviteByTokenHash(%s): %v", role, err)
			}
			mustEqual(t, "invite by hash", inv, want[i])
		}
		// The token itself is not what is stored.
		_, err = s.InviteByTokenHash(ctx, tokens[RoleRep])
		wantErr(t, "lookup by raw token", err, ErrNotFound)

		_, err = s.Session(ctx, uuid.NewString())
		wantErr(t, "unknown session", err, ErrNotFound)
		if got, err := s.Invites(ctx, uuid.NewString()); err != nil || len(got) != 0 {
			t.Fatalf("Invites of unknown session = %v, %v", got, err)
		}
	})
}

func TestCreateSessionDefaults(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		_, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		if err := s.CreateSession(ctx, Session{ID: "s1", Title: "t"}, []Invite{{Role: RoleCoach, TokenHash: hash}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != SessionCreated || got.CreatedAt.Before(ms(before)) || got.CreatedAt.After(time.Now()) {
			t.Fatalf("defaults not applied: %+v", got)
		}
		inv, err := s.InviteByTokenHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(inv.ID); err != nil || inv.SessionID != "s1" || !inv.CreatedAt.Equal(got.CreatedAt) {
			t.Fatalf("invite defaults not applied: %+v", inv)
		}

		// Without an id the session still gets one.
		if err := s.CreateSession(ctx, Session{Title: "anonymous"}, nil); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListSessions(ctx, 0)
		if err != nil || len(all) != 2 {
			t.Fatalf("ListSessions = %v, %v", all, err)
		}
		for _, sess := range all {
			if sess.ID == "" {
				t.Fatal("session stored without an id")
			}
		}
	})
}

func TestCreateSessionConflictsAreAtomic(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		sess, invites, _ := newTestSession(t, testTime(t, 0))
		if err := s.CreateSession(ctx, sess, invites); err != nil {
			t.Fatal(err)
		}
		err := s.CreateSession(ctx, sess, nil)
		wantErr(t, "duplicate session id", err, ErrConflict)

		// A second session reusing a token hash fails whole: not even the session is kept.
		other, otherInvites, _ := newTestSession(t, testTime(t, time.Hour))
		otherInvites[2].TokenHash = invites[0].TokenHash
		err = s.CreateSession(ctx, other, otherInvites)
		wantErr(t, "duplicate token hash", err, ErrConflict)
		_, err = s.Session(ctx, other.ID)
		wantErr(t, "session of failed create", err, ErrNotFound)
		for _, inv := range otherInvites[:2] {
			_, err := s.InviteByTokenHash(ctx, inv.TokenHash)
			wantErr(t, "invite of failed create", err, ErrNotFound)
		}

		err = s.CreateSession(ctx, Session{ID: "x", State: "paused"}, nil)
		wantErr(t, "unknown state", err, ErrInvalid)
		err = s.CreateSession(ctx, Session{ID: "y"}, []Invite{{SessionID: "z", TokenHash: "h"}})
		wantErr(t, "invite for another session", err, ErrInvalid)
		err = s.CreateSession(ctx, Session{ID: "w"}, []Invite{{Role: RoleRep}})
		wantErr(t, "invite without token hash", err, ErrInvalid)
		for _, id := range []string{"x", "y", "w"} {
			_, err = s.Session(ctx, id)
			wantErr(t, "session of rejected create", err, ErrNotFound)
		}
	})
}

func TestSessionStateTransitions(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sess, invites, _ := newTestSession(t, t0)
		if err := s.CreateSession(ctx, sess, invites); err != nil {
			t.Fatal(err)
		}
		started := t0.Add(time.Minute)
		if err := s.MarkSessionLive(ctx, sess.ID, started); err != nil {
			t.Fatalf("MarkSessionLive: %v", err)
		}
		// A second joiner's call changes nothing: the first start time stands.
		if err := s.MarkSessionLive(ctx, sess.ID, started.Add(time.Minute)); err != nil {
			t.Fatalf("MarkSessionLive again: %v", err)
		}
		got, err := s.Session(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := wantSession(sess)
		want.State = SessionLive
		want.StartedAt = msp(&started)
		mustEqual(t, "live session", got, want)

		live, err := s.SessionsInState(ctx, SessionLive)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "SessionsInState(live)", live, []Session{want})

		ended := started.Add(30 * time.Minute)
		if err := s.EndSession(ctx, sess.ID, ended, SessionEnded); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
		err = s.EndSession(ctx, sess.ID, ended, SessionInterrupted)
		wantErr(t, "EndSession twice", err, ErrConflict)
		err = s.MarkSessionLive(ctx, sess.ID, ended)
		wantErr(t, "MarkSessionLive after end", err, ErrConflict)
		got, err = s.Session(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.State = SessionEnded
		want.EndedAt = msp(&ended)
		mustEqual(t, "ended session", got, want)
		if live, err := s.SessionsInState(ctx, SessionLive); err != nil || len(live) != 0 {
			t.Fatalf("SessionsInState(live) after end = %v, %v", live, err)
		}

		// A session cancelled before it went live.
		other, otherInvites, _ := newTestSession(t, t0)
		if err := s.CreateSession(ctx, other, otherInvites); err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(ctx, other.ID, ended, SessionInterrupted); err != nil {
			t.Fatalf("EndSession from created: %v", err)
		}
		if got, err := s.SessionsInState(ctx, SessionInterrupted); err != nil || len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("SessionsInState(interrupted) = %v, %v", got, err)
		}

		err = s.EndSession(ctx, sess.ID, ended, SessionLive)
		wantErr(t, "EndSession to live", err, ErrInvalid)
		err = s.EndSession(ctx, uuid.NewString(), ended, SessionEnded)
		wantErr(t, "EndSession unknown", err, ErrNotFound)
		err = s.MarkSessionLive(ctx, uuid.NewString(), ended)
		wantErr(t, "MarkSessionLive unknown", err, ErrNotFound)
	})
}

func TestListSessionsNewestFirst(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		var ids []string
		for i := range 5 {
			// Created out of order, to show the order comes from CreatedAt.
			at := t0.Add(time.Duration((i*3)%5) * time.Second)
			sess := Session{ID: fmt.Sprintf("s%d", (i*3)%5), Title: "t", CreatedAt: at}
			if err := s.CreateSession(ctx, sess, nil); err != nil {
				t.Fatal(err)
			}
		}
		for i := 4; i >= 0; i-- {
			ids = append(ids, fmt.Sprintf("s%d", i))
		}
		all, err := s.ListSessions(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sess := range all {
			got = append(got, sess.ID)
		}
		mustEqual(t, "ListSessions(0)", got, ids)
		top, err := s.ListSessions(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != 2 || top[0].ID != "s4" || top[1].ID != "s3" {
			t.Fatalf("ListSessions(2) = %+v", top)
		}
	})
}

func TestParticipants(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sess, invites, _ := newTestSession(t, t0)
		if err := s.CreateSession(ctx, sess, invites); err != nil {
			t.Fatal(err)
		}
		rep := Participant{ID: uuid.NewString(), SessionID: sess.ID, InviteID: invites[0].ID,
			Role: RoleRep, Name: "Ana", JoinedAt: t0.Add(time.Second)}
		// No invite: the empty reference is stored as NULL and comes back empty.
		coach := Participant{ID: uuid.NewString(), SessionID: sess.ID,
			Role: RoleCoach, Name: "Cleo", JoinedAt: t0.Add(2 * time.Second)}
		for _, p := range []Participant{coach, rep} {
			if err := s.AddParticipant(ctx, p); err != nil {
				t.Fatalf("AddParticipant: %v", err)
			}
		}
		left := t0.Add(time.Minute)
		if err := s.ParticipantLeft(ctx, rep.ID, left); err != nil {
			t.Fatal(err)
		}
		if err := s.ParticipantLeft(ctx, rep.ID, left.Add(time.Minute)); err != nil {
			t.Fatalf("ParticipantLeft again: %v", err)
		}
		got, err := s.Participants(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantRep, wantCoach := rep, coach
		wantRep.JoinedAt, wantRep.LeftAt = ms(rep.JoinedAt), msp(&left)
		wantCoach.JoinedAt = ms(coach.JoinedAt)
		mustEqual(t, "Participants", got, []Participant{wantRep, wantCoach})

		err = s.AddParticipant(ctx, rep)
		wantErr(t, "duplicate participant", err, ErrConflict)
		err = s.AddParticipant(ctx, Participant{SessionID: uuid.NewString(), Role: RoleRep, JoinedAt: t0})
		wantErr(t, "participant of unknown session", err, ErrNotFound)
		err = s.AddParticipant(ctx, Participant{SessionID: sess.ID, InviteID: uuid.NewString(), JoinedAt: t0})
		wantErr(t, "participant with unknown invite", err, ErrNotFound)
		err = s.ParticipantLeft(ctx, uuid.NewString(), left)
		wantErr(t, "unknown participant left", err, ErrNotFound)
	})
}
