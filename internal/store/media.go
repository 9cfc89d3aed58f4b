package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Track kinds.
const (
	KindAudio = "audio"
	KindVideo = "video"
)

// Track statuses the recorder reports. The column is free text, so others may be added.
const (
	TrackRecording   = "recording"
	TrackComplete    = "complete"
	TrackInterrupted = "interrupted"
	TrackNotRecorded = "not_recorded"
	TrackFailed      = "failed"
)

// Track is one published media track of a session and, if it was recorded, its file.
type Track struct {
	ID            string     `db:"id"`
	SessionID     string     `db:"session_id"`
	ParticipantID string     `db:"participant_id"` // "" if not tied to a participant row
	Role          string     `db:"role"`
	Kind          string     `db:"kind"` // KindAudio or KindVideo
	Codec         string     `db:"codec"`
	Whisper       bool       `db:"whisper"` // a coach's whisper, heard by the rep only
	File          string     `db:"file"`    // recording path, "" if none
	StartedAt     time.Time  `db:"-"`
	EndedAt       *time.Time `db:"-"`
	OffsetMs      int64      `db:"offset_ms"`   // start relative to the session's start
	DurationMs    int64      `db:"duration_ms"` // length of the recording
	Status        string     `db:"status"`      // TrackRecording, TrackComplete, ...
}

type trackRow struct {
	Track
	StartedMs int64         `db:"started_at"`
	EndedMs   sql.NullInt64 `db:"ended_at"`
}

const trackCols = `id, session_id, COALESCE(participant_id, '') AS participant_id, role, kind, codec,
	whisper, file, started_at, ended_at, offset_ms, duration_ms, status`

// ModeChange records a coach switching mode (listening, whispering, barging in) during a
// session, and at whom.
type ModeChange struct {
	ID            string    `db:"id"`
	SessionID     string    `db:"session_id"`
	ParticipantID string    `db:"participant_id"`
	Mode          string    `db:"mode"`
	Target        string    `db:"target"`
	At            time.Time `db:"-"`
	OffsetMs      int64     `db:"offset_ms"`
}

type modeChangeRow struct {
	ModeChange
	AtMs int64 `db:"at"`
}

const modeChangeCols = `id, session_id, COALESCE(participant_id, '') AS participant_id, mode, target, at, offset_ms`

// Marker is a moment a participant flagged during the call for later review.
type Marker struct {
	ID            string    `db:"id"`
	SessionID     string    `db:"session_id"`
	ParticipantID string    `db:"participant_id"`
	Note          string    `db:"note"`
	At            time.Time `db:"-"`
	OffsetMs      int64     `db:"offset_ms"`
}

type markerRow struct {
	Marker
	AtMs int64 `db:"at"`
}

const markerCols = `id, session_id, COALESCE(participant_id, '') AS participant_id, note, at, offset_ms`

// Comment is a reviewer's note on a recorded session, pinned to an offset in the recording.
type Comment struct {
	ID        string    `db:"id"`
	SessionID string    `db:"session_id"`
	Author    string    `db:"author"`
	Text      string    `db:"text"`
	OffsetMs  int64     `db:"offset_ms"`
	CreatedAt time.Time `db:"-"`
}

type commentRow struct {
	Comment
	CreatedMs int64 `db:"created_at"`
}

const commentCols = `id, session_id, author, text, offset_ms, created_at`

// AddTrack records a new track. An empty ID is filled with a new UUID; an unknown session or
// participant is ErrNotFound, a taken id ErrConflict.
func (s *Store) AddTrack(ctx context.Context, t Track) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO tracks (id, session_id, participant_id, role, kind, codec, whisper, file,
		   started_at, ended_at, offset_ms, duration_ms, status)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.SessionID, nullID(t.ParticipantID), t.Role, t.Kind, t.Codec, t.Whisper, t.File,
		toMs(t.StartedAt), toNullMs(t.EndedAt), t.OffsetMs, t.DurationMs, t.Status)
	if err != nil {
		return fmt.Errorf("store: add track %q: %w", t.ID, mapErr(err))
	}
	return nil
}

// UpdateTrack saves what the recorder learns as a track goes on and ends: File, EndedAt,
// OffsetMs, DurationMs, Status and Whisper. The other fields are fixed when the track is added.
// An unknown ID is ErrNotFound.
func (s *Store) UpdateTrack(ctx context.Context, t Track) error {
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE tracks SET file = ?, ended_at = ?, offset_ms = ?, duration_ms = ?, status = ?, whisper = ?
		 WHERE id = ?`),
		t.File, toNullMs(t.EndedAt), t.OffsetMs, t.DurationMs, t.Status, t.Whisper, t.ID)
	if err != nil {
		return fmt.Errorf("store: update track %q: %w", t.ID, mapErr(err))
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("store: update track %q: %w", t.ID, err)
	}
	if !ok {
		return fmt.Errorf("%w: track %q", ErrNotFound, t.ID)
	}
	return nil
}

// Tracks returns a session's tracks in the order they started.
func (s *Store) Tracks(ctx context.Context, sessionID string) ([]Track, error) {
	var rows []trackRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+trackCols+` FROM tracks WHERE session_id = ? ORDER BY started_at, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: tracks of %q: %w", sessionID, mapErr(err))
	}
	out := make([]Track, len(rows))
	for i, r := range rows {
		out[i] = r.Track
		out[i].StartedAt = fromMs(r.StartedMs)
		out[i].EndedAt = fromNullMs(r.EndedMs)
	}
	return out, nil
}

// AddModeChange records a coach's change of mode. An empty ID is filled with a new UUID.
func (s *Store) AddModeChange(ctx context.Context, m ModeChange) error {
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO mode_changes (id, session_id, participant_id, mode, target, at, offset_ms)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.SessionID, nullID(m.ParticipantID), m.Mode, m.Target, toMs(m.At), m.OffsetMs)
	if err != nil {
		return fmt.Errorf("store: add mode change %q: %w", m.ID, mapErr(err))
	}
	return nil
}

// ModeChanges returns a session's mode changes in the order they happened.
func (s *Store) ModeChanges(ctx context.Context, sessionID string) ([]ModeChange, error) {
	var rows []modeChangeRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+modeChangeCols+` FROM mode_changes WHERE session_id = ? ORDER BY at, offset_ms, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: mode changes of %q: %w", sessionID, mapErr(err))
	}
	out := make([]ModeChange, len(rows))
	for i, r := range rows {
		out[i] = r.ModeChange
		out[i].At = fromMs(r.AtMs)
	}
	return out, nil
}

// AddMarker records a marker. An empty ID is filled with a new UUID.
func (s *Store) AddMarker(ctx context.Context, m Marker) error {
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO markers (id, session_id, participant_id, note, at, offset_ms)
		 VALUES (?, ?, ?, ?, ?, ?)`),
		m.ID, m.SessionID, nullID(m.ParticipantID), m.Note, toMs(m.At), m.OffsetMs)
	if err != nil {
		return fmt.Errorf("store: add marker %q: %w", m.ID, mapErr(err))
	}
	return nil
}

// Markers returns a session's markers in the order they were set.
func (s *Store) Markers(ctx context.Context, sessionID string) ([]Marker, error) {
	var rows []markerRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+markerCols+` FROM markers WHERE session_id = ? ORDER BY at, offset_ms, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: markers of %q: %w", sessionID, mapErr(err))
	}
	out := make([]Marker, len(rows))
	for i, r := range rows {
		out[i] = r.Marker
		out[i].At = fromMs(r.AtMs)
	}
	return out, nil
}

// AddComment records a review comment. An empty ID is filled with a new UUID and a zero
// CreatedAt with now.
func (s *Store) AddComment(ctx context.Context, c Comment) error {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	c.CreatedAt = orNow(c.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO comments (`+commentCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		c.ID, c.SessionID, c.Author, c.Text, c.OffsetMs, toMs(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: add comment %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// Comments returns a session's comments in recording order, by OffsetMs.
func (s *Store) Comments(ctx context.Context, sessionID string) ([]Comment, error) {
	var rows []commentRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+commentCols+` FROM comments WHERE session_id = ? ORDER BY offset_ms, created_at, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: comments of %q: %w", sessionID, mapErr(err))
	}
	out := make([]Comment, len(rows))
	for i, r := range rows {
		out[i] = r.Comment
		out[i].CreatedAt = fromMs(r.CreatedMs)
	}
	return out, nil
}
