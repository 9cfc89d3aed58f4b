package recorder

import "errors"

// Sentinel errors; wrapped with %w, test with errors.Is.
var (
	// ErrQueueFull means a track's packet queue overflowed: the disk did not keep up.
	ErrQueueFull = errors.New("recorder: packet queue full")
	// ErrSessionActive means StartSession was called for a session already recording.
	ErrSessionActive = errors.New("recorder: session already recording")
	// ErrClosed means the session's recording has ended (closed or failed).
	ErrClosed = errors.New("recorder: session closed")
	// ErrNoMedia means a file held no complete frame to keep.
	ErrNoMedia = errors.New("recorder: no media")
	// ErrNotWebM means a file is not a WebM file this package can read back.
	ErrNotWebM = errors.New("recorder: not a readable webm file")
)
