package signaling

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"ringside/sfu"
)

// Analytics starts the talk analysis of live rooms (internal/analytics; app adapts it).
type Analytics interface {
	StartAnalysis(sessionID string, start time.Time) Analysis
}

// Analysis is one live room's talk analysis: a Sink the room feeds beside the recording, and
// Finish once the room has closed, which computes and stores the results.
type Analysis interface {
	sfu.Sink
	Finish(ctx context.Context) error
}

// analysisTimeout bounds how long closing a room waits for its analysis to be stored.
const analysisTimeout = 10 * time.Second

// startAnalysis makes the room's analysis, if sessions are analysed. It must not fail the call:
// a panic while starting is logged and the room goes on without it.
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

// teeSink feeds each track the room grants the recorder to two sinks: the primary (the
// recording, or the track log of an unrecorded session; nil if the recording could not start)
// and the talk analysis. Stopping the primary (a failed recording) closes its writers and
// leaves the analysis running; the analysis can never stop the primary.
type teeSink struct {
	primary  sfu.Sink // immutable; may be nil
	analysis sfu.Sink // immutable
	log      *slog.Logger

	mu      sync.Mutex // guards the following fields
	stopped bool       // the primary is stopped
	live    map[*teeWriter]struct{}
}

func newTeeSink(primary, analysis sfu.Sink, log *slog.Logger) *teeSink {
	return &teeSink{primary: primary, analysis: analysis, log: log, live: map[*teeWriter]struct{}{}}
}

// StartTrack implements sfu.Sink. Only the primary's refusal is an error, and only when the
// analysis did not take the track either.
func (t *teeSink) StartTrack(info sfu.TrackInfo) (sfu.TrackWriter, error) {
	t.mu.Lock()
	stopped := t.stopped
	t.mu.Unlock()
	w := &teeWriter{}
	var perr error
	if t.primary != nil && !stopped {
		if w.primary, perr = t.primary.StartTrack(info); perr != nil {
			t.log.Warn("recording a track failed to start", "participant", string(info.ParticipantID),
				"kind", info.Kind.String(), "err", perr)
		}
	}
	w.analysis = t.startAnalysis(info)
	if w.primary == nil && w.analysis == nil {
		return nil, perr
	}
	w.sink = t
	w.on.Store(w.primary != nil)
	w.analysing.Store(w.analysis != nil)
	t.mu.Lock()
	late := t.stopped && w.on.Swap(false) // stopped meanwhile: this span's recording ends at once
	t.live[w] = struct{}{}
	t.mu.Unlock()
	if late {
		w.primary.Close()
	}
	return w, nil
}

// startAnalysis starts the analysis' span of a track, or returns nil: its failure, even a
// panic (this runs under the room's lock), must not touch the call or the recording.
func (t *teeSink) startAnalysis(info sfu.TrackInfo) (w sfu.TrackWriter) {
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("analysing a track failed", "participant", string(info.ParticipantID), "panic", p)
			w = nil
		}
	}()
	w, err := t.analysis.StartTrack(info)
	if err != nil {
		t.log.Warn("analysing a track failed to start", "participant", string(info.ParticipantID), "err", err)
		return nil
	}
	return w
}

// stopPrimary stops feeding the primary and closes its writers; the analysis goes on.
func (t *teeSink) stopPrimary() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	var closing []sfu.TrackWriter
	for w := range t.live {
		if w.primary != nil && w.on.Swap(false) {
			closing = append(closing, w.primary)
		}
	}
	t.mu.Unlock()
	for _, w := range closing {
		w.Close()
	}
}

// teeWriter is one span on both sinks. WriteRTP checks one atomic flag for each and calls
// the writers, the primary first; it allocates nothing. A panic of the analysis' writer is
// recovered and ends the span's analysis, so that the track's reader (and with it the call and
// the recording) goes on.
type teeWriter struct {
	sink              *teeSink        // set before the writer is handed out
	primary, analysis sfu.TrackWriter // immutable; either may be nil
	on                atomic.Bool     // the primary is fed; cleared once, by whoever closes it
	analysing         atomic.Bool     // the analysis is fed; cleared by its first panic
}

func (w *teeWriter) WriteRTP(p *rtp.Packet, arrival time.Time) {
	if w.on.Load() {
		w.primary.WriteRTP(p, arrival)
	}
	if w.analysing.Load() {
		w.analyse(p, arrival)
	}
}

func (w *teeWriter) analyse(p *rtp.Packet, arrival time.Time) {
	defer w.recoverAnalysis()
	w.analysis.WriteRTP(p, arrival)
}

func (w *teeWriter) SenderReport(ntpTime uint64, rtpTime uint32, arrival time.Time) {
	if w.on.Load() {
		w.primary.SenderReport(ntpTime, rtpTime, arrival)
	}
	if w.analysing.Load() {
		w.report(ntpTime, rtpTime, arrival)
	}
}

func (w *teeWriter) report(ntpTime uint64, rtpTime uint32, arrival time.Time) {
	defer w.recoverAnalysis()
	w.analysis.SenderReport(ntpTime, rtpTime, arrival)
}

func (w *teeWriter) Close() {
	w.sink.mu.Lock()
	delete(w.sink.live, w)
	closePrimary := w.primary != nil && w.on.Swap(false)
	w.sink.mu.Unlock()
	if closePrimary {
		w.primary.Close()
	}
	if w.analysis != nil {
		w.closeAnalysis()
	}
}

func (w *teeWriter) closeAnalysis() {
	defer w.recoverAnalysis()
	w.analysis.Close()
}

// recoverAnalysis, deferred around a call of the analysis' writer, turns its panic into a log
// line and stops feeding it.
func (w *teeWriter) recoverAnalysis() {
	if p := recover(); p != nil {
		if w.analysing.Swap(false) {
			w.sink.log.Error("analysing a track failed; its analysis stops, the call goes on", "panic", p)
		}
	}
}
