package recorder

import (
	"context"
	"time"

	"ringside/internal/store"
)

// Catalog is what the recorder needs of the database; *store.Store satisfies it. The recorder
// calls it only from its own goroutines, never on the media path.
type Catalog interface {
	// AddTrack records a span as it starts (status store.TrackRecording, or
	// store.TrackNotRecorded for a codec the recorder does not write).
	AddTrack(ctx context.Context, t store.Track) error
	// UpdateTrack saves a span's file, offset, duration and status.
	UpdateTrack(ctx context.Context, t store.Track) error
	// Tracks lists a session's tracks (Recover finds the spans a crash left recording).
	Tracks(ctx context.Context, sessionID string) ([]store.Track, error)
	// SessionsInState lists the sessions in a state (Recover asks for store.SessionLive).
	SessionsInState(ctx context.Context, state string) ([]store.Session, error)
	// EndSession moves a session to an end state (Recover uses store.SessionInterrupted).
	EndSession(ctx context.Context, id string, at time.Time, state string) error
	// ModeChanges and Markers give Recover the session's timeline events as signaling stored
	// them, to complete a manifest a crash left behind.
	ModeChanges(ctx context.Context, sessionID string) ([]store.ModeChange, error)
	Markers(ctx context.Context, sessionID string) ([]store.Marker, error)
}

// Track statuses beyond the store's own constants.
const (
	// TrackEmpty is a span that ended before any frame could be written (for video: before
	// the first keyframe arrived); it has no file.
	TrackEmpty = "empty"
)
