package signaling

import (
	"context"
	"time"

	"ringside/sfu"
)

// Analytics starts the talk analysis of live rooms (internal/analytics; app adapts it).
type Analytics interface {
	StartAnalysis(sessionID string, start time.Time) Analysis
}

// Analysis is one live room's talk analysis: a Sink the room feeds beside the recording (the
// room's analysisSink), and Finish once the room has closed, which computes and stores the
// results.
type Analysis interface {
	sfu.Sink
	Finish(ctx context.Context) error
}

// analysisTimeout bounds how long closing a room waits for its analysis to be stored.
const analysisTimeout = 10 * time.Second

// startAnalysis makes the room's analysis, if sessions are analysed, and attaches it to the
// room behind a guard. It must not fail the call: a panic while starting is logged and the
// room goes on without it.
func (lr *liveRoom) startAnalysis() {
	if lr.srv.analytics == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			lr.log.Error("talk analytics failed to start; the call goes on without them", "panic", p)
			lr.analysis = nil
		}
	}()
	lr.analysis = lr.srv.analytics.StartAnalysis(lr.session.ID, lr.start)
	if lr.analysis != nil {
		lr.room.SetSink(analysisSink, guardedSink{sink: lr.analysis, log: lr.log})
	}
}

// finishAnalysis stores the room's talk analysis; the room has closed, so every span has.
func (lr *liveRoom) finishAnalysis() {
	if lr.analysis == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			lr.log.Error("talk analytics failed", "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), analysisTimeout)
	defer cancel()
	if err := lr.analysis.Finish(ctx); err != nil {
		lr.log.Error("talk analytics not stored", "err", err)
	}
}
