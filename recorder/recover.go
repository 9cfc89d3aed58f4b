package recorder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"ringside/internal/store"
)

// Recover repairs what a crash left: every session the catalog still has live, and every
// session directory whose manifest still says recording, that this Recorder is not recording.
// Each of its spans still marked recording gets its file finalized (every complete frame kept;
// Duration and Cues added), its manifest entry and catalog row marked interrupted; the
// manifest is marked interrupted and completed from the catalog's mode changes and markers;
// and the catalog session is ended as interrupted, last, so that a crash during Recover leaves
// it for the next start. Call it at start-up, before any session goes live: a session live in
// the catalog that this Recorder did not start is taken for a crashed one.
func (r *Recorder) Recover(ctx context.Context) error {
	type target struct {
		sess *store.Session // nil if only the directory says so
	}
	targets := map[string]*target{}
	var order []string
	add := func(id string, sess *store.Session) {
		if r.active(id) {
			return
		}
		t := targets[id]
		if t == nil {
			t = &target{}
			targets[id] = t
			order = append(order, id)
		}
		if sess != nil {
			t.sess = sess
		}
	}
	var errs []error
	if r.catalog != nil {
		live, err := r.catalog.SessionsInState(ctx, store.SessionLive)
		if err != nil {
			return fmt.Errorf("recorder: recover: %w", err)
		}
		for i := range live {
			add(live[i].ID, &live[i])
		}
	}
	entries, err := os.ReadDir(r.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("recorder: recover: %w", err))
	}
	for _, e := range entries {
		if !e.IsDir() || !validID.MatchString(e.Name()) {
			continue
		}
		m, err := ReadManifest(filepath.Join(r.dir, e.Name()))
		if err == nil && m.Status == SessionRecording {
			add(e.Name(), nil)
		}
	}
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := r.recoverSession(ctx, id, targets[id].sess); err != nil {
			r.log.Error("recovering a session failed", "session", id, "err", err)
			errs = append(errs, fmt.Errorf("recorder: recover %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Recorder) recoverSession(ctx context.Context, id string, sess *store.Session) error {
	log := r.log.With("session", id)
	dir := filepath.Join(r.dir, id)
	var errs []error
	if err := removeTemps(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	man, err := ReadManifest(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("manifest unreadable; rebuilding it from the catalog", "err", err)
		}
		man = &Manifest{Version: manifestVersion, SessionID: id}
		if sess != nil {
			man.StartedAt = sess.CreatedAt
			if sess.StartedAt != nil {
				man.StartedAt = *sess.StartedAt
			}
		}
	}
	var rows []store.Track
	if r.catalog != nil && sess != nil {
		if rows, err = r.catalog.Tracks(ctx, id); err != nil {
			return err
		}
	}
	// The catalog knows spans whose manifest write the crash cut off.
	for _, row := range rows {
		if man.track(row.ID) == nil {
			man.Tracks = append(man.Tracks, ManifestTrack{
				ID: row.ID, ParticipantID: row.ParticipantID, Role: row.Role, Kind: row.Kind,
				Codec: row.Codec, File: path.Base(row.File), StartOffsetMs: row.OffsetMs,
				DurationMs: row.DurationMs, Whisper: row.Whisper, Status: row.Status,
			})
			if row.File == "" {
				man.Tracks[len(man.Tracks)-1].File = ""
			}
		}
	}
	end := man.StartedAt
	for i := range man.Tracks {
		t := &man.Tracks[i]
		if t.Status == store.TrackRecording {
			r.recoverTrack(dir, t, log)
		}
		if e := man.StartedAt.Add(time.Duration(t.StartOffsetMs+t.DurationMs) * time.Millisecond); e.After(end) {
			end = e
		}
	}
	if end.Equal(man.StartedAt) || end.After(r.now()) {
		end = r.now()
	}
	// The catalog gets what the manifest now says, including updates the crash cut off.
	var updates []store.Track
	for _, row := range rows {
		t := man.track(row.ID)
		if t == nil {
			continue
		}
		u := store.Track{ID: t.ID, File: relFile(id, t.File), OffsetMs: t.StartOffsetMs,
			DurationMs: t.DurationMs, Status: t.Status, Whisper: t.Whisper, EndedAt: row.EndedAt}
		if u.EndedAt == nil {
			u.EndedAt = &end
		}
		if u.File != row.File || u.OffsetMs != row.OffsetMs || u.DurationMs != row.DurationMs ||
			u.Status != row.Status || row.EndedAt == nil {
			updates = append(updates, u)
		}
	}
	if r.catalog != nil && sess != nil {
		r.mergeTimeline(ctx, man, log)
	}
	man.Status, man.EndedAt = SessionInterrupted, &end
	data, err := man.encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, ManifestName), data, r.open); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return errors.Join(append(errs, err)...)
		}
		// No directory: the session never recorded anything; only the catalog needs ending.
	}
	if r.catalog != nil && sess != nil {
		for _, u := range updates {
			if err := r.catalog.UpdateTrack(ctx, u); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...) // leave the session live, for the next attempt
		}
		err := r.catalog.EndSession(ctx, id, end, store.SessionInterrupted)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	log.Info("recovered an interrupted recording", "tracks", len(man.Tracks), "ended", end)
	return errors.Join(errs...)
}

// recoverTrack finalizes the file of a span a crash cut and marks it interrupted.
func (r *Recorder) recoverTrack(dir string, t *ManifestTrack, log *slog.Logger) {
	t.Status = store.TrackInterrupted
	if t.File == "" {
		t.Reason = "interrupted before the first frame"
		return
	}
	res, err := r.finalize(filepath.Join(dir, t.File))
	switch {
	case errors.Is(err, ErrNoMedia):
		t.File, t.DurationMs, t.Reason = "", 0, "interrupted before the first frame was written"
	case errors.Is(err, os.ErrNotExist):
		t.File, t.DurationMs, t.Reason = "", 0, "file missing"
	case err != nil:
		log.Warn("a cut file could not be finalized; it is kept as it is", "file", t.File, "err", err)
		t.Reason = "interrupted; not finalized: " + err.Error()
	default:
		t.DurationMs = res.durationMs
		t.Reason = "interrupted by a server stop"
	}
}

// mergeTimeline completes the manifest's mode changes and markers with those the catalog
// holds (signaling stores them too), keeping one of each.
func (r *Recorder) mergeTimeline(ctx context.Context, man *Manifest, log *slog.Logger) {
	modes, err := r.catalog.ModeChanges(ctx, man.SessionID)
	if err != nil {
		log.Warn("reading mode changes", "err", err)
	}
	for _, m := range modes {
		mm := ManifestMode{ParticipantID: m.ParticipantID, Mode: m.Mode, Target: m.Target,
			OffsetMs: offsetOf(man.StartedAt, m.At, m.OffsetMs)}
		if !slices.ContainsFunc(man.ModeChanges, func(o ManifestMode) bool {
			d := o.OffsetMs - mm.OffsetMs
			return o.ParticipantID == mm.ParticipantID && o.Mode == mm.Mode && o.Target == mm.Target &&
				d <= sameEventMs && d >= -sameEventMs
		}) {
			man.ModeChanges = append(man.ModeChanges, mm)
		}
	}
	markers, err := r.catalog.Markers(ctx, man.SessionID)
	if err != nil {
		log.Warn("reading markers", "err", err)
	}
	seenMarker := map[string]bool{}
	for _, m := range man.Markers {
		seenMarker[m.ID] = true
	}
	for _, m := range markers {
		if !seenMarker[m.ID] {
			seenMarker[m.ID] = true
			man.Markers = append(man.Markers, ManifestMarker{ID: m.ID, ParticipantID: m.ParticipantID, Note: m.Note, OffsetMs: offsetOf(man.StartedAt, m.At, m.OffsetMs)})
		}
	}
	slices.SortStableFunc(man.ModeChanges, func(a, b ManifestMode) int { return cmp.Compare(a.OffsetMs, b.OffsetMs) })
	slices.SortStableFunc(man.Markers, func(a, b ManifestMarker) int { return cmp.Compare(a.OffsetMs, b.OffsetMs) })
}

// sameEventMs is how far apart the manifest's and the catalog's copies of one mode change may
// be placed (each side took its own time).
const sameEventMs = 1000

func offsetOf(start, at time.Time, fallback int64) int64 {
	if at.IsZero() || start.IsZero() {
		return fallback
	}
	// The catalog keeps times truncated to the millisecond: measure from the start truncated
	// alike.
	return max(at.Sub(start.Truncate(time.Millisecond)).Milliseconds(), 0)
}
