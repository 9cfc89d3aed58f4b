package signaling

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"ringside/sfu"
)

// guardedSink keeps a failing talk analysis out of the call's way. The room keeps the
// analysis' spans apart from the recording's (a refusal or a detached sink touches no other);
// what it cannot keep apart is a panic, which here would run under the room's lock (StartTrack)
// or on a track's reader goroutine (the writers) and take the call down with it. So each call
// into the analysis is recovered and logged: a panicking StartTrack declines its span, a
// panicking writer is fed no more. The recording is not guarded: a bug there is the server's
// to crash on, as it was before the analysis existed.
type guardedSink struct {
	sink sfu.Sink
	log  *slog.Logger
}

// StartTrack implements sfu.Sink.
func (g guardedSink) StartTrack(info sfu.TrackInfo) (w sfu.TrackWriter, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("analysing a track failed", "participant", string(info.ParticipantID), "panic", p)
			w, err = nil, nil
		}
	}()
	inner, err := g.sink.StartTrack(info)
	if err != nil || inner == nil {
		return nil, err
	}
	gw := &guardedWriter{w: inner, log: g.log}
	gw.on.Store(true)
	return gw, nil
}

// guardedWriter is one span of the analysis. WriteRTP checks one atomic flag and calls the
// writer behind a deferred recover; it allocates nothing.
type guardedWriter struct {
	w   sfu.TrackWriter // immutable
	log *slog.Logger
	on  atomic.Bool // the writer is fed; cleared by its first panic
}

func (g *guardedWriter) WriteRTP(p *rtp.Packet, arrival time.Time) {
	if g.on.Load() {
		g.write(p, arrival)
	}
}

func (g *guardedWriter) write(p *rtp.Packet, arrival time.Time) {
	defer g.recoverPanic()
	g.w.WriteRTP(p, arrival)
}

func (g *guardedWriter) SenderReport(ntpTime uint64, rtpTime uint32, arrival time.Time) {
	if g.on.Load() {
		g.report(ntpTime, rtpTime, arrival)
	}
}

func (g *guardedWriter) report(ntpTime uint64, rtpTime uint32, arrival time.Time) {
	defer g.recoverPanic()
	g.w.SenderReport(ntpTime, rtpTime, arrival)
}

// Close closes the writer even after a panic stopped it: its span still has to end.
func (g *guardedWriter) Close() {
	defer g.recoverPanic()
	g.w.Close()
}

// recoverPanic, deferred around a call of the writer, turns its panic into a log line (once) and
// stops feeding it.
func (g *guardedWriter) recoverPanic() {
	if p := recover(); p != nil && g.on.Swap(false) {
		g.log.Error("analysing a track failed; its analysis stops, the call goes on", "panic", p)
	}
}
