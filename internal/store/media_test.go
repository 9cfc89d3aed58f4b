package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// liveSession creates a session with one rep participant and returns both ids.
func liveSession(t *testing.T, s *Store, t0 time.Time) (sessionID, participantID string) {
	t.Helper()
	ctx := context.Background()
	sess, invites, _ := newTestSession(t, t0)
	if err := s.CreateSession(ctx, sess, invites); err != nil {
		t.Fatal(err)
	}
	p := Participant{ID: uuid.NewString(), SessionID: sess.ID, InviteID: invites[0].ID, Role: RoleRep, Name: "Ana", JoinedAt: t0}
	if err := s.AddParticipant(ctx, p); err != nil {
		t.Fatal(err)
	}
	return sess.ID, p.ID
}

func TestTracks(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sid, pid := liveSession(t, s, t0)
		video := Track{ID: uuid.NewString(), SessionID: sid, ParticipantID: pid, Role: RoleRep, Kind: KindVideo,
			Codec: "video/VP8", StartedAt: t0.Add(2 * time.Second), OffsetMs: 2000, Status: TrackRecording}
		audio := Track{ID: uuid.NewString(), SessionID: sid, ParticipantID: pid, Role: RoleRep, Kind: KindAudio,
			Codec: "audio/opus", File: "rec/a.ogg", StartedAt: t0.Add(time.Second), OffsetMs: 1000, Status: TrackRecording}
		// A track with no participant row behind it.
		orphan := Track{ID: uuid.NewString(), SessionID: sid, Role: RoleCoach, Kind: KindAudio,
			Codec: "audio/opus", StartedAt: t0.Add(3 * time.Second), OffsetMs: 3000, Status: TrackNotRecorded}
		for _, tr := range []Track{video, audio, orphan} {
			if err := s.AddTrack(ctx, tr); err != nil {
				t.Fatalf("AddTrack: %v", err)
			}
		}

		ended := t0.Add(time.Minute)
		audio.File, audio.EndedAt, audio.OffsetMs = "rec/audio.ogg", &ended, 1005
		audio.DurationMs, audio.Status, audio.Whisper = 59000, TrackComplete, true
		// UpdateTrack leaves the fields fixed at AddTrack alone even if the caller changes them.
		changed := audio
		changed.Codec, changed.Kind = "audio/PCMU", KindVideo
		if err := s.UpdateTrack(ctx, changed); err != nil {
			t.Fatalf("UpdateTrack: %v", err)
		}
		got, err := s.Tracks(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		want := []Track{audio, video, orphan}
		for i := range want {
			want[i].StartedAt = ms(want[i].StartedAt)
			want[i].EndedAt = msp(want[i].EndedAt)
		}
		mustEqual(t, "Tracks", got, want)

		err = s.UpdateTrack(ctx, Track{ID: uuid.NewString(), Status: TrackFailed})
		wantErr(t, "UpdateTrack unknown", err, ErrNotFound)
		err = s.AddTrack(ctx, video)
		wantErr(t, "duplicate track", err, ErrConflict)
		err = s.AddTrack(ctx, Track{SessionID: uuid.NewString(), Kind: KindAudio, StartedAt: t0})
		wantErr(t, "track of unknown session", err, ErrNotFound)
	})
}

func TestModeChangesInOrder(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sid, pid := liveSession(t, s, t0)
		var want []ModeChange
		for i, mode := range []string{"listen", "whisper", "barge", "listen"} {
			want = append(want, ModeChange{ID: uuid.NewString(), SessionID: sid, ParticipantID: pid,
				Mode: mode, Target: RoleRep, At: t0.Add(time.Duration(i) * time.Second), OffsetMs: int64(i) * 1000})
		}
		for _, i := range []int{2, 0, 3, 1} {
			if err := s.AddModeChange(ctx, want[i]); err != nil {
				t.Fatalf("AddModeChange: %v", err)
			}
		}
		for i := range want {
			want[i].At = ms(want[i].At)
		}
		got, err := s.ModeChanges(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "ModeChanges", got, want)

		err = s.AddModeChange(ctx, want[0])
		wantErr(t, "duplicate mode change", err, ErrConflict)
		// An empty id is filled in.
		if err := s.AddModeChange(ctx, ModeChange{SessionID: sid, Mode: "listen", At: t0}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ModeChanges(ctx, sid); err != nil || len(got) != 5 || got[0].ID == "" {
			t.Fatalf("ModeChanges after id-less add = %+v, %v", got, err)
		}
	})
}

func TestMarkers(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sid, pid := liveSession(t, s, t0)
		late := Marker{ID: uuid.NewString(), SessionID: sid, ParticipantID: pid, Note: "price objection",
			At: t0.Add(90 * time.Second), OffsetMs: 90000}
		early := Marker{ID: uuid.NewString(), SessionID: sid, Note: "", At: t0.Add(time.Second), OffsetMs: 1000}
		for _, m := range []Marker{late, early} {
			if err := s.AddMarker(ctx, m); err != nil {
				t.Fatalf("AddMarker: %v", err)
			}
		}
		late.At, early.At = ms(late.At), ms(early.At)
		got, err := s.Markers(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "Markers", got, []Marker{early, late})
		err = s.AddMarker(ctx, late)
		wantErr(t, "duplicate marker", err, ErrConflict)
		err = s.AddMarker(ctx, Marker{SessionID: sid, ParticipantID: uuid.NewString(), At: t0})
		wantErr(t, "marker by unknown participant", err, ErrNotFound)
	})
}

func TestCommentsByOffset(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sid, _ := liveSession(t, s, t0)
		want := []Comment{
			{ID: uuid.NewString(), SessionID: sid, Author: "coach", Text: "good opener", OffsetMs: 5000, CreatedAt: t0.Add(time.Hour)},
			{ID: uuid.NewString(), SessionID: sid, Author: "rep", Text: "ne'er \"quote\" 🙂", OffsetMs: 62000, CreatedAt: t0.Add(2 * time.Hour)},
			{ID: uuid.NewString(), SessionID: sid, Author: "coach", Text: "ask about budget", OffsetMs: 62000, CreatedAt: t0.Add(3 * time.Hour)},
		}
		for _, i := range []int{2, 1, 0} {
			if err := s.AddComment(ctx, want[i]); err != nil {
				t.Fatalf("AddComment: %v", err)
			}
		}
		for i := range want {
			want[i].CreatedAt = ms(want[i].CreatedAt)
		}
		got, err := s.Comments(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "Comments", got, want)
		err = s.AddComment(ctx, want[0])
		wantErr(t, "duplicate comment", err, ErrConflict)
		err = s.AddComment(ctx, Comment{SessionID: uuid.NewString(), Text: "x"})
		wantErr(t, "comment on unknown session", err, ErrNotFound)
		if got, err := s.Comments(ctx, uuid.NewString()); err != nil || len(got) != 0 {
			t.Fatalf("Comments of unknown session = %v, %v", got, err)
		}
	})
}
