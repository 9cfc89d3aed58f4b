package recorder

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"ringside/internal/store"
	"ringside/sfu"
)

// keyframeRetry is how often (in arrival time) a span waiting for a keyframe asks again; the
// SFU rate-limits the requests further.
const keyframeRetry = time.Second

// senderReport is an RTCP sender report's timing, as passed to TrackWriter.SenderReport.
type senderReport struct {
	ntp     uint64
	rtp     uint32
	arrival time.Time
}

// trackWriter records one span of one track. WriteRTP, SenderReport and Close run on the
// SFU's goroutines and only touch the channels and atomics; run, on its own goroutine, owns
// the rest.
type trackWriter struct {
	// Immutable after StartTrack.
	sess   *Session
	info   sfu.TrackInfo
	id     string // the catalog's and manifest's track id
	file   string // base name in the session directory
	path   string
	video  bool
	clock  uint32
	log    *slog.Logger
	free   chan *slot
	queue  chan *slot
	srs    chan senderReport
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when run returns

	closeOnce sync.Once
	stopped   atomic.Bool // set by Close

	// Owned by run.
	reorder    reorderBuffer
	vp8        vp8Assembler
	tl         timeline
	raw        io.WriteCloser // the file
	out        *liveWriter
	frames     int64
	lastKeyReq time.Time
	err        error // the first write error; it stops the session's recording
}

var _ sfu.TrackWriter = (*trackWriter)(nil)

// WriteRTP copies p into the span's queue. It never blocks and allocates nothing; if the
// queue is full the session's recording stops.
func (w *trackWriter) WriteRTP(p *rtp.Packet, arrival time.Time) {
	if w.stopped.Load() {
		return
	}
	if w.sess.stopped.Load() {
		if w.sess.failure.Load() != nil {
			w.sess.rec.dropped.Add(1)
		}
		return
	}
	var s *slot
	select {
	case s = <-w.free:
	default:
		w.sess.rec.dropped.Add(1)
		w.sess.fail(fmt.Errorf("%w: %s %s of %s (%d packets)", ErrQueueFull,
			w.info.Role, w.kind(), w.info.ParticipantID, cap(w.queue)))
		return
	}
	s.seq, s.ts, s.marker, s.arrival = p.SequenceNumber, p.Timestamp, p.Marker, arrival
	if len(p.Payload) > len(s.buf) {
		s.n = -1
	} else {
		s.n = copy(s.buf[:], p.Payload)
	}
	w.queue <- s // never blocks: the queue holds as many as there are slots
}

// SenderReport hands the publisher's RTCP timing to the writer goroutine; a report that finds
// the small channel full is dropped (the first few are all that matter).
func (w *trackWriter) SenderReport(ntpTime uint64, rtpTime uint32, arrival time.Time) {
	if w.stopped.Load() {
		return
	}
	select {
	case w.srs <- senderReport{ntp: ntpTime, rtp: rtpTime, arrival: arrival}:
	default:
	}
}

// Close ends the span: the writer goroutine writes what is queued, finalizes the file and
// reports the span's end. It does not wait for that.
func (w *trackWriter) Close() {
	w.closeOnce.Do(func() {
		w.stopped.Store(true)
		close(w.done)
	})
}

func (w *trackWriter) kind() string {
	if w.video {
		return store.KindVideo
	}
	return store.KindAudio
}

// run is the span's writer goroutine.
func (w *trackWriter) run() {
	defer close(w.exited)
	w.reorder = newReorderBuffer(reorderWindow(cap(w.queue)), w.packet, w.release)
	if w.video {
		w.vp8 = newVP8Assembler()
		if w.info.RequestKeyframe != nil {
			w.info.RequestKeyframe() // the file starts at a keyframe: ask for one now
		}
	}
	w.tl = newTimeline(w.clock)
	// The writer wakes on a short timer and takes what has queued, rather than waking on
	// every packet: a wake-up per packet would cost the media path more than the copy does.
	poll := time.NewTicker(drainInterval)
	defer poll.Stop()
	lastFlush := time.Now()
	for {
		select {
		case now := <-poll.C:
			w.takeQueued()
			if now.Sub(lastFlush) >= w.sess.rec.flushInterval {
				lastFlush = now
				if w.out != nil && w.err == nil {
					w.err = w.out.flush()
				}
			}
		case sr := <-w.srs:
			w.senderReport(sr)
		case <-w.done:
			if w.sess.failure.Load() != nil {
				w.abort() // what was queued past the failure is not the whole span
				return
			}
			w.drain()
			w.finish()
			return
		case <-w.sess.failedCh:
			w.abort()
			return
		}
		if w.err != nil {
			w.sess.fail(fmt.Errorf("recorder: write %s: %w", w.file, w.err))
		}
	}
}

// drainInterval is how often a track's writer takes its queued packets. The queue must hold
// what arrives meanwhile: 250 ms is a dozen packets of audio and at most ~70 of HD video, far
// from 512. Waking per packet, or every few milliseconds, was most of what recording cost.
const drainInterval = 250 * time.Millisecond

// takeQueued moves every queued packet into the reorder buffer.
func (w *trackWriter) takeQueued() {
	for {
		select {
		case s := <-w.queue:
			w.reorder.push(s)
		default:
			return
		}
	}
}

func reorderWindow(queueLen int) int { return min(128, max(queueLen/4, 4)) }

func (w *trackWriter) release(s *slot) { w.free <- s }

// drain takes what was queued before Close.
func (w *trackWriter) drain() {
	for {
		select {
		case s := <-w.queue:
			w.reorder.push(s)
		case sr := <-w.srs:
			w.senderReport(sr)
		default:
			w.reorder.flush()
			return
		}
	}
}

func (w *trackWriter) senderReport(sr senderReport) {
	w.tl.senderReport(sr)
	w.sess.noteClock(w.info.ParticipantID, sr.arrival.Sub(ntpTime(sr.ntp)))
}

// packet takes the next packet in sequence order.
func (w *trackWriter) packet(s *slot, lost bool) {
	if w.err != nil {
		return
	}
	if !w.video {
		if s.n > 0 {
			w.writeFrame(s.payload(), s.ts, s.arrival, true)
		}
		return
	}
	frame, key, ok := w.vp8.push(s, lost)
	if w.vp8.needKey {
		w.requestKeyframe(s.arrival)
	}
	if ok {
		w.writeFrame(frame, w.vp8.ts, w.vp8.arrival, key)
	}
}

// requestKeyframe asks again while the span waits for a keyframe, at most every
// keyframeRetry of arrival time; the request made at the start counts from the first packet.
func (w *trackWriter) requestKeyframe(now time.Time) {
	if w.info.RequestKeyframe == nil {
		return
	}
	if w.lastKeyReq.IsZero() {
		w.lastKeyReq = now
		return
	}
	if now.Sub(w.lastKeyReq) < keyframeRetry {
		return
	}
	w.lastKeyReq = now
	w.info.RequestKeyframe()
}

func (w *trackWriter) writeFrame(data []byte, ts uint32, arrival time.Time, key bool) {
	ms := w.tl.frame(ts, arrival)
	if w.out == nil {
		if w.err = w.open(data); w.err != nil {
			return
		}
	}
	if w.err = w.out.writeFrame(ms, key, data); w.err != nil {
		return
	}
	w.frames++
	if w.frames == 1 {
		w.sess.spanStarted(w, w.startOffset())
	}
}

// open creates the file at the first frame, when the track's parameters are known.
func (w *trackWriter) open(first []byte) error {
	spec := trackSpec{video: w.video, name: w.info.Name, uidSeed: w.id}
	if w.video {
		spec.width, spec.height = w.vp8.width, w.vp8.height
	} else {
		spec.channels = 1
		if len(first) > 0 && first[0]&0x04 != 0 {
			spec.channels = 2
		}
	}
	f, err := w.sess.rec.open(w.path)
	if err != nil {
		return err
	}
	w.raw = f
	w.sess.addFile(f)
	w.out, err = newLiveWriter(&countingWriter{w: f, total: &w.sess.rec.bytes}, spec)
	return err
}

// closeFile flushes and closes the file, if there is one.
func (w *trackWriter) closeFile() error {
	if w.raw == nil {
		return nil
	}
	var err error
	if w.err == nil {
		err = w.out.flush()
	}
	w.sess.removeFile(w.raw)
	err = errors.Join(err, syncWriter(w.raw), w.raw.Close())
	w.raw = nil
	return err
}

// startOffset places the span's first frame on the session's timeline.
func (w *trackWriter) startOffset() int64 {
	off, ok := w.sess.clockOffset(w.info.ParticipantID)
	at, _ := w.tl.start(off, ok)
	return max(at.Sub(w.sess.start).Milliseconds(), 0)
}

// finish ends a span cleanly: the file is closed and finalized and the span reported.
func (w *trackWriter) finish() {
	w.sess.rec.lost.Add(w.reorder.lost)
	if err := w.closeFile(); err != nil && w.err == nil {
		w.err = err
	}
	end := spanEnd{offsetMs: w.startOffset(), durationMs: w.tl.lastMs}
	switch {
	case w.err != nil:
		w.sess.fail(fmt.Errorf("recorder: write %s: %w", w.file, w.err))
		end.status, end.reason, end.file = store.TrackFailed, w.err.Error(), w.file
		end.failedFile = true
	case w.frames == 0:
		end.status, end.reason = TrackEmpty, "no frame to record"
		if w.video {
			end.reason = "no keyframe arrived"
		}
	default:
		end.status, end.file = store.TrackComplete, w.file
		res, err := w.sess.rec.finalize(w.path)
		if err != nil {
			w.log.Error("recording kept but not made seekable", "file", w.file, "err", err)
			end.reason = "not finalized: " + err.Error()
		} else {
			end.durationMs = res.durationMs
		}
	}
	w.log.Debug("span ended", "frames", w.frames, "status", end.status,
		"lost", w.reorder.lost, "dropped_frames", w.vp8.dropped, "resyncs", w.tl.resyncs)
	w.sess.spanEnded(w, end)
}

// abort ends a span when the session's recording has failed: the file is closed as far as
// it can be, and left as written (finalizing is retried by Session.Close).
func (w *trackWriter) abort() {
	w.sess.rec.lost.Add(w.reorder.lost)
	err := w.closeFile()
	end := spanEnd{status: store.TrackFailed, offsetMs: w.startOffset(), durationMs: w.tl.lastMs}
	if w.frames > 0 {
		end.file, end.failedFile = w.file, true
	}
	end.reason = "recording stopped"
	if f := w.sess.failure.Load(); f != nil {
		end.reason = "recording stopped: " + (*f).Error()
	}
	if err != nil {
		w.log.Warn("closing a file after a failure", "file", w.file, "err", err)
	}
	w.sess.spanEnded(w, end)
}

// spanEnd is how a span ended, for the manifest and the catalog.
type spanEnd struct {
	status     string
	reason     string
	file       string
	offsetMs   int64
	durationMs int64
	failedFile bool // a file was left unfinalized by a failure
}

// nopWriter is the TrackWriter of a track that is not recorded.
type nopWriter struct{}

func (nopWriter) WriteRTP(*rtp.Packet, time.Time)        {}
func (nopWriter) SenderReport(uint64, uint32, time.Time) {}
func (nopWriter) Close()                                 {}

// relFile is a span file's path as the catalog stores it: relative to Config.Dir.
func relFile(sessionID, file string) string {
	if file == "" {
		return ""
	}
	return filepath.ToSlash(filepath.Join(sessionID, file))
}
