package recorder

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"ringside/internal/store"
	"ringside/sfu"
)

// Defaults and bounds of Config.
const (
	DefaultQueueLen      = 512
	DefaultFlushInterval = time.Second
	MaxFlushInterval     = 2 * time.Second
	minQueueLen          = 16
	// finalizeParallel bounds how many files are finalized at once, recorder-wide.
	finalizeParallel = 2
)

// Config configures a Recorder.
type Config struct {
	// Dir holds the recordings, one directory per session (DATA/recordings).
	Dir string
	// Catalog receives the tracks' rows; nil records files and manifests only.
	Catalog Catalog
	Logger  *slog.Logger
	// QueueLen is how many packets each track's queue holds (default 512). A queue that
	// fills, because the disk does not keep up, stops the session's recording.
	QueueLen int
	// FlushInterval is how often written data is handed to the OS and fsynced (default 1 s,
	// at most 2 s): what a crash can lose.
	FlushInterval time.Duration
	// OnFailure is called once per session, from the recorder's goroutine, when its
	// recording stops on a failure (queue overflow, disk full, I/O error).
	OnFailure func(sessionID string, err error)
	// Now is the clock for the times recorded in the manifest and catalog (default time.Now).
	Now func() time.Time
	// OpenFile creates (or truncates) a file for writing: recordings, manifests and their
	// temporary files. The default is the OS's; tests inject failing disks. A returned value
	// with a Sync() error method is fsynced.
	OpenFile func(name string) (io.WriteCloser, error)
}

// Recorder records sessions into Config.Dir. It is safe for concurrent use.
type Recorder struct {
	// Immutable after New.
	dir           string
	catalog       Catalog
	log           *slog.Logger
	queueLen      int
	flushInterval time.Duration
	onFailure     func(string, error)
	now           func() time.Time
	open          func(string) (io.WriteCloser, error)
	finalizing    chan struct{} // a semaphore of finalizeParallel

	bytes    atomic.Int64
	failures atomic.Int64
	dropped  atomic.Int64
	lost     atomic.Int64

	mu sync.Mutex
	// mu guards sessions.
	sessions map[string]*Session
}

// Stats are the recorder's counters since New.
type Stats struct {
	// BytesWritten counts bytes of recordings handed to the OS.
	BytesWritten int64
	// Failures counts sessions whose recording stopped on a failure.
	Failures int64
	// DroppedPackets counts packets not recorded: the one that found its queue full, and
	// those that came after a failure.
	DroppedPackets int64
	// LostPackets counts packets that never arrived (sequence gaps given up on).
	LostPackets int64
	// Sessions and Tracks are what is recording now.
	Sessions int
	Tracks   int
}

// New returns a Recorder for cfg, filling in defaults.
func New(cfg Config) *Recorder {
	r := &Recorder{
		dir:           cfg.Dir,
		catalog:       cfg.Catalog,
		log:           cfg.Logger,
		queueLen:      cfg.QueueLen,
		flushInterval: cfg.FlushInterval,
		onFailure:     cfg.OnFailure,
		now:           cfg.Now,
		open:          cfg.OpenFile,
		finalizing:    make(chan struct{}, finalizeParallel),
		sessions:      map[string]*Session{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.queueLen <= 0 {
		r.queueLen = DefaultQueueLen
	}
	r.queueLen = max(r.queueLen, minQueueLen)
	if r.flushInterval <= 0 {
		r.flushInterval = DefaultFlushInterval
	}
	if r.flushInterval > MaxFlushInterval {
		r.log.Warn("flush interval capped", "asked", r.flushInterval, "max", MaxFlushInterval)
		r.flushInterval = MaxFlushInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.open == nil {
		r.open = createFile
	}
	return r
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// StartSession starts recording a session whose timeline begins at start: it creates the
// session's directory and writes a first manifest (so a full or read-only disk shows now).
// If the directory already holds a recording of the session, its spans, mode changes and
// markers are kept and new files get new names.
func (r *Recorder) StartSession(sessionID string, start time.Time) (*Session, error) {
	if !validID.MatchString(sessionID) {
		return nil, fmt.Errorf("recorder: invalid session id %q", sessionID)
	}
	r.mu.Lock()
	if r.sessions[sessionID] != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrSessionActive, sessionID)
	}
	s := &Session{
		rec:        r,
		id:         sessionID,
		start:      start,
		dir:        filepath.Join(r.dir, sessionID),
		log:        r.log.With("session", sessionID),
		failedCh:   make(chan struct{}),
		kick:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		keeperDone: make(chan struct{}),
		closed:     make(chan struct{}),
		writers:    map[*trackWriter]struct{}{},
		files:      map[io.WriteCloser]struct{}{},
		taken:      map[string]bool{},
		clocks:     map[sfu.ParticipantID]time.Duration{},
	}
	r.sessions[sessionID] = s
	r.mu.Unlock()

	if err := s.prepare(); err != nil {
		r.forget(s)
		return nil, err
	}
	go s.keep()
	return s, nil
}

// prepare creates the directory, takes over an earlier recording of the session and writes
// the first manifest.
func (s *Session) prepare() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	if err := removeTemps(s.dir); err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	s.man = Manifest{Version: manifestVersion, SessionID: s.id, StartedAt: s.start, Status: SessionRecording}
	old, err := ReadManifest(s.dir)
	switch {
	case err == nil:
		s.man.Tracks, s.man.ModeChanges, s.man.Markers = old.Tracks, old.ModeChanges, old.Markers
		for i := range s.man.Tracks {
			if s.man.Tracks[i].Status == store.TrackRecording { // cut by a crash, not recovered
				s.rec.recoverTrack(s.dir, &s.man.Tracks[i], s.log)
			}
		}
		if !old.StartedAt.IsZero() && !old.StartedAt.Equal(s.start) {
			// Earlier offsets count from the earlier start; keep one timeline.
			s.start, s.man.StartedAt = old.StartedAt, old.StartedAt
		}
		s.log.Info("continuing an earlier recording of the session", "tracks", len(old.Tracks))
	case !errors.Is(err, os.ErrNotExist):
		s.log.Warn("an earlier manifest is unreadable; starting a new one", "err", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	for _, e := range entries {
		s.taken[e.Name()] = true
	}
	data, err := s.man.encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.dir, ManifestName), data, s.rec.open); err != nil {
		return fmt.Errorf("recorder: write manifest: %w", err)
	}
	return nil
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	st := Stats{
		BytesWritten:   r.bytes.Load(),
		Failures:       r.failures.Load(),
		DroppedPackets: r.dropped.Load(),
		LostPackets:    r.lost.Load(),
	}
	r.mu.Lock()
	ss := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		ss = append(ss, s)
	}
	r.mu.Unlock()
	st.Sessions = len(ss)
	for _, s := range ss {
		s.mu.Lock()
		st.Tracks += len(s.writers)
		s.mu.Unlock()
	}
	return st
}

func (r *Recorder) forget(s *Session) {
	r.mu.Lock()
	if r.sessions[s.id] == s {
		delete(r.sessions, s.id)
	}
	r.mu.Unlock()
}

func (r *Recorder) active(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[id] != nil
}

// finalize finalizes one file, a few at a time recorder-wide.
func (r *Recorder) finalize(path string) (finalized, error) {
	r.finalizing <- struct{}{}
	defer func() { <-r.finalizing }()
	return finalizeFile(path, r.open)
}
