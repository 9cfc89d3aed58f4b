package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"ringside/internal/store"
	"ringside/recorder"
	"ringside/signaling"
)

// RecordingsDir is where recordings live inside the data directory.
const RecordingsDir = "recordings"

// startRecorder builds the recorder on DATA/recordings and, before anything is served,
// finalizes what a crash left behind: sessions still live are marked interrupted and their
// files made seekable.
func startRecorder(ctx context.Context, cfg Config, log *slog.Logger, st *store.Store,
	onFailure func(sessionID string, err error)) (*recorder.Recorder, error) {
	rec := recorder.New(recorder.Config{
		Dir:       filepath.Join(cfg.DataDir, RecordingsDir),
		Catalog:   st,
		Logger:    log.With("component", "recorder"),
		OnFailure: onFailure,
	})
	start := time.Now()
	if err := rec.Recover(ctx); err != nil {
		return nil, fmt.Errorf("app: recover recordings: %w", err)
	}
	if d := time.Since(start); d > time.Second {
		log.Info("recovered recordings left by an unclean stop", "took", d.Round(time.Millisecond).String())
	}
	return rec, nil
}

// recorderAdapter lets signaling start recordings without importing the recorder.
type recorderAdapter struct{ r *recorder.Recorder }

func (a recorderAdapter) StartRecording(sessionID string, start time.Time) (signaling.Recording, error) {
	return a.r.StartSession(sessionID, start)
}
