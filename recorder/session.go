package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"ringside/internal/store"
	"ringside/sfu"
)

// catalogTimeout bounds one catalog call from the session's keeper goroutine.
const catalogTimeout = 10 * time.Second

// Session records one session: it is the sfu.Sink the room hands tracks to. Its keeper
// goroutine writes the manifest, calls the catalog, fsyncs the open files and reports a
// failure; each span has its own writer goroutine.
type Session struct {
	// Immutable after StartSession.
	rec   *Recorder
	id    string
	start time.Time
	dir   string
	log   *slog.Logger

	stopped    atomic.Bool           // closed or failed: nothing more is recorded
	failure    atomic.Pointer[error] // the first failure
	failedCh   chan struct{}         // closed on failure
	kick       chan struct{}         // wakes the keeper; capacity 1
	quit       chan struct{}         // closed by shutdown: the keeper's last round
	keeperDone chan struct{}         // closed when the keeper returns
	closeOnce  sync.Once             //
	closed     chan struct{}         // closed when Close's work is done
	closeErr   error                 // set before closed is closed
	failOnce   sync.Once             // closes failedCh
	manErr     error                 // the keeper's last manifest write error; owned by keep

	mu sync.Mutex
	// mu guards the following fields.
	man       Manifest
	dirty     bool // man changed since it was last written
	ops       []catalogOp
	writers   map[*trackWriter]struct{} // spans whose goroutine has not ended
	leftovers []*trackWriter            // failed spans with an unfinalized file
	files     map[io.WriteCloser]struct{}
	taken     map[string]bool // file names in use in dir
	clocks    map[sfu.ParticipantID]time.Duration
	closing   bool
	noted     bool // the failure has been logged and reported
}

var _ sfu.Sink = (*Session)(nil)

// catalogOp is a catalog call the keeper makes, in order.
type catalogOp struct {
	add bool
	t   store.Track
}

// StartTrack starts recording a span of a track. It does no I/O: the file is created by the
// span's goroutine at the first frame. A codec other than Opus or VP8 gets a manifest entry
// and a catalog row marked not recorded, and a writer that ignores its packets.
func (s *Session) StartTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	if s.stopped.Load() {
		return nil, s.stoppedErr()
	}
	kind := store.KindAudio
	if info.Kind == webrtc.RTPCodecTypeVideo {
		kind = store.KindVideo
	}
	codec := codecName(info.Codec.MimeType)
	supported := (kind == store.KindAudio && codec == "opus") || (kind == store.KindVideo && codec == "vp8")
	now := s.rec.now()
	mt := ManifestTrack{
		ID:            uuid.NewString(),
		ParticipantID: string(info.ParticipantID),
		Role:          string(info.Role),
		Name:          info.Name,
		Kind:          kind,
		Codec:         codec,
		StartOffsetMs: max(now.Sub(s.start).Milliseconds(), 0),
		Whisper:       info.Whisper,
		Status:        store.TrackRecording,
	}
	row := store.Track{
		ID: mt.ID, SessionID: s.id, ParticipantID: mt.ParticipantID, Role: mt.Role, Kind: kind,
		Codec: codec, Whisper: info.Whisper, StartedAt: now, OffsetMs: mt.StartOffsetMs,
		Status: store.TrackRecording,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.stopped.Load() {
		return nil, s.stoppedErr()
	}
	if !supported {
		mt.Status, row.Status = store.TrackNotRecorded, store.TrackNotRecorded
		mt.Reason = fmt.Sprintf("codec %s is not recorded", info.Codec.MimeType)
		s.man.Tracks = append(s.man.Tracks, mt)
		s.ops = append(s.ops, catalogOp{add: true, t: row})
		s.changedLocked()
		s.log.Warn("track not recorded", "participant", mt.ParticipantID, "kind", kind,
			"codec", info.Codec.MimeType)
		return nopWriter{}, nil
	}
	clock := info.Codec.ClockRate
	if clock == 0 {
		clock = 48000
		if kind == store.KindVideo {
			clock = 90000
		}
	}
	file := s.nameLocked(mt.Role, mt.ParticipantID, kind)
	w := s.newTrackWriter(info, mt.ID, file, clock)
	s.writers[w] = struct{}{}
	// The file is named from the start (it is created at the first frame), so that Recover
	// finds it whenever the crash came.
	mt.File, row.File = file, relFile(s.id, file)
	s.man.Tracks = append(s.man.Tracks, mt)
	s.ops = append(s.ops, catalogOp{add: true, t: row})
	s.changedLocked()
	go w.run()
	return w, nil
}

// newTrackWriter builds a span's writer with its preallocated queue; run starts it.
func (s *Session) newTrackWriter(info sfu.TrackInfo, id, file string, clock uint32) *trackWriter {
	q := s.rec.queueLen
	kind := store.KindAudio
	if info.Kind == webrtc.RTPCodecTypeVideo {
		kind = store.KindVideo
	}
	w := &trackWriter{
		sess:   s,
		info:   info,
		id:     id,
		file:   file,
		path:   filepath.Join(s.dir, file),
		video:  kind == store.KindVideo,
		clock:  clock,
		log:    s.log.With("participant", string(info.ParticipantID), "kind", kind, "file", file),
		free:   make(chan *slot, q),
		queue:  make(chan *slot, q),
		srs:    make(chan senderReport, 4),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	// One allocation per span, never reused: a WriteRTP racing Close may still fill a slot
	// after the span's goroutine is gone, and must not scribble on another span's.
	slots := make([]slot, q)
	for i := range slots {
		w.free <- &slots[i]
	}
	return w
}

// codecName is the short codec name of a MIME type: "audio/opus" → "opus".
func codecName(mime string) string {
	_, sub, ok := strings.Cut(mime, "/")
	if !ok {
		sub = mime
	}
	if sub == "" {
		return "unknown"
	}
	return strings.ToLower(sub)
}

// nameLocked picks the next free file name <role>-<participant8>-<kind>-<n>.webm.
func (s *Session) nameLocked(role, participant, kind string) string {
	prefix := fmt.Sprintf("%s-%s-%s-", safeName(role, 16), safeName(participant, 8), kind)
	for n := 1; ; n++ {
		name := fmt.Sprintf("%s%d.webm", prefix, n)
		if !s.taken[name] {
			s.taken[name] = true
			return name
		}
	}
}

// ModeChange records a coach's change of mode in the manifest.
func (s *Session) ModeChange(participantID, mode, target string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.man.ModeChanges = append(s.man.ModeChanges, ManifestMode{
		ParticipantID: participantID, Mode: mode, Target: target, OffsetMs: s.offsetMs(at)})
	s.changedLocked()
}

// Marker records a coach's live marker in the manifest.
func (s *Session) Marker(id, participantID, note string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.man.Markers = append(s.man.Markers, ManifestMarker{
		ID: id, ParticipantID: participantID, Note: note, OffsetMs: s.offsetMs(at)})
	s.changedLocked()
}

func (s *Session) offsetMs(at time.Time) int64 { return max(at.Sub(s.start).Milliseconds(), 0) }

// Failed returns why the recording stopped, or nil.
func (s *Session) Failed() error {
	if f := s.failure.Load(); f != nil {
		return *f
	}
	return nil
}

func (s *Session) stoppedErr() error {
	if err := s.Failed(); err != nil {
		return fmt.Errorf("%w: recording failed: %w", ErrClosed, err)
	}
	return ErrClosed
}

// Close ends the recording cleanly: every open span is ended, its file finalized (Duration,
// Cues: seekable), the catalog rows updated and the manifest written a last time. It returns
// early with ctx's error if ctx ends first (the work goes on), and an error if the final
// manifest could not be written. A recording failure was reported when it happened; Close
// still finalizes what was written before it.
func (s *Session) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { go s.shutdown() })
	select {
	case <-s.closed:
		return s.closeErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Session) shutdown() {
	s.mu.Lock()
	s.closing = true
	ws := make([]*trackWriter, 0, len(s.writers))
	for w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	s.stopped.Store(true)
	for _, w := range ws {
		w.Close()
	}
	for _, w := range ws {
		<-w.exited
	}
	s.finalizeLeftovers()

	s.mu.Lock()
	s.man.Status = SessionComplete
	if err := s.Failed(); err != nil {
		s.man.Status, s.man.Error = SessionFailed, err.Error()
	}
	end := s.rec.now()
	s.man.EndedAt = &end
	s.changedLocked()
	s.mu.Unlock()

	close(s.quit)
	<-s.keeperDone
	s.closeErr = s.manErr
	s.rec.forget(s)
	close(s.closed)
}

// finalizeLeftovers makes the files a failure left behind seekable, if the disk now allows.
func (s *Session) finalizeLeftovers() {
	s.mu.Lock()
	left := s.leftovers
	s.leftovers = nil
	s.mu.Unlock()
	for _, w := range left {
		res, err := s.rec.finalize(w.path)
		if err != nil {
			s.log.Warn("a file cut by the failure stays unfinalized", "file", w.file, "err", err)
			continue
		}
		s.mu.Lock()
		if t := s.man.track(w.id); t != nil {
			t.DurationMs = res.durationMs
			s.ops = append(s.ops, catalogOp{t: s.rowLocked(t)})
			s.changedLocked()
		}
		s.mu.Unlock()
	}
}

// fail stops the session's recording; the first failure wins. It is cheap and does not block:
// it may run on the media path. The keeper logs and reports it.
func (s *Session) fail(err error) {
	if !s.failure.CompareAndSwap(nil, &err) {
		return
	}
	s.stopped.Store(true)
	s.rec.failures.Add(1)
	s.failOnce.Do(func() { close(s.failedCh) })
	s.wake()
}

func (s *Session) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// changedLocked marks the manifest for writing and wakes the keeper.
func (s *Session) changedLocked() {
	s.dirty = true
	s.wake()
}

// spanStarted records a span's first frame: its file exists from now on.
func (s *Session) spanStarted(w *trackWriter, offsetMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.man.track(w.id)
	if t == nil {
		return
	}
	t.File, t.StartOffsetMs = w.file, offsetMs
	s.ops = append(s.ops, catalogOp{t: s.rowLocked(t)})
	s.changedLocked()
}

// spanEnded records how a span ended; its goroutine is about to return.
func (s *Session) spanEnded(w *trackWriter, e spanEnd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.writers, w)
	if e.failedFile {
		s.leftovers = append(s.leftovers, w)
	}
	t := s.man.track(w.id)
	if t == nil {
		return
	}
	t.File, t.Status, t.Reason = e.file, e.status, e.reason
	t.StartOffsetMs, t.DurationMs = e.offsetMs, e.durationMs
	row := s.rowLocked(t)
	end := s.rec.now()
	row.EndedAt = &end
	s.ops = append(s.ops, catalogOp{t: row})
	s.changedLocked()
}

// rowLocked is the catalog row of a manifest track, for UpdateTrack.
func (s *Session) rowLocked(t *ManifestTrack) store.Track {
	return store.Track{
		ID: t.ID, SessionID: s.id, ParticipantID: t.ParticipantID, Role: t.Role, Kind: t.Kind,
		Codec: t.Codec, Whisper: t.Whisper, File: relFile(s.id, t.File), OffsetMs: t.StartOffsetMs,
		DurationMs: t.DurationMs, Status: t.Status,
	}
}

func (s *Session) addFile(f io.WriteCloser) {
	s.mu.Lock()
	s.files[f] = struct{}{}
	s.mu.Unlock()
}

func (s *Session) removeFile(f io.WriteCloser) {
	s.mu.Lock()
	delete(s.files, f)
	s.mu.Unlock()
}

// noteClock takes one sample of a publisher's clock offset: a sender report's arrival minus
// the sender's wall clock in it. The smallest sample is the offset plus the least network
// delay; it is shared by the publisher's tracks, so their spans line up with each other.
func (s *Session) noteClock(p sfu.ParticipantID, d time.Duration) {
	s.mu.Lock()
	if cur, ok := s.clocks[p]; !ok || d < cur {
		s.clocks[p] = d
	}
	s.mu.Unlock()
}

func (s *Session) clockOffset(p sfu.ParticipantID) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.clocks[p]
	return d, ok
}

// keep is the session's keeper goroutine.
func (s *Session) keep() {
	defer close(s.keeperDone)
	t := time.NewTicker(s.rec.flushInterval)
	defer t.Stop()
	ticks := 0
	for {
		select {
		case <-s.kick:
		case <-t.C:
			// Writers hand their data to the OS every flush interval, which is all a killed
			// process needs; fsync, for a power loss, is rarer because it is what costs.
			if ticks++; ticks%syncEvery == 0 {
				s.syncFiles()
			}
		case <-s.quit:
			s.service()
			return
		}
		s.service()
	}
}

// service reports a failure, makes the queued catalog calls and writes the manifest.
func (s *Session) service() {
	s.noteFailure()
	s.mu.Lock()
	ops := s.ops
	s.ops = nil
	var data []byte
	var encErr error
	if s.dirty {
		data, encErr = s.man.encode()
		s.dirty = false
	}
	s.mu.Unlock()
	if encErr != nil {
		s.log.Error("encoding the manifest", "err", encErr)
	}
	if c := s.rec.catalog; c != nil {
		for _, op := range ops {
			ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
			var err error
			if op.add {
				err = c.AddTrack(ctx, op.t)
			} else {
				err = c.UpdateTrack(ctx, op.t)
			}
			cancel()
			if err != nil {
				s.log.Error("catalog track update failed", "track", op.t.ID, "status", op.t.Status, "err", err)
			}
		}
	}
	if data == nil {
		return
	}
	err := writeFileAtomic(filepath.Join(s.dir, ManifestName), data, s.rec.open)
	if err != nil {
		if s.manErr == nil {
			s.log.Error("writing the manifest failed", "err", err)
		}
		s.mu.Lock()
		s.dirty = true // try again on the next round
		s.mu.Unlock()
		s.fail(fmt.Errorf("recorder: write manifest: %w", err))
		s.noteFailure()
	}
	s.manErr = err
}

// noteFailure logs the failure and calls OnFailure, once.
func (s *Session) noteFailure() {
	err := s.Failed()
	if err == nil {
		return
	}
	s.mu.Lock()
	if s.noted {
		s.mu.Unlock()
		return
	}
	s.noted = true
	s.man.Status, s.man.Error = SessionFailed, err.Error()
	s.dirty = true
	s.mu.Unlock()
	s.log.Error("RECORDING STOPPED: the call goes on unrecorded", "err", err)
	if f := s.rec.onFailure; f != nil {
		f(s.id, err)
	}
}

// syncEvery is how many flush intervals pass between fsyncs of a session's files.
const syncEvery = 5

// syncFiles fsyncs the open files, so what was written survives a power loss too. A file
// closed meanwhile is skipped.
func (s *Session) syncFiles() {
	s.mu.Lock()
	fs := make([]io.WriteCloser, 0, len(s.files))
	for f := range s.files {
		fs = append(fs, f)
	}
	s.mu.Unlock()
	for _, f := range fs {
		if err := syncWriter(f); err != nil && !errors.Is(err, os.ErrClosed) {
			s.fail(fmt.Errorf("recorder: fsync: %w", err))
		}
	}
}
