package recorder

import (
	"time"
)

// resyncMs is how far the RTP clock and the arrival clock may disagree between two frames
// before the file follows the arrival clock: a publisher that paused without advancing its RTP
// timestamps, or one whose timestamps jumped. Below it (jitter, bursts after short stalls) the
// RTP timestamps are trusted, as they carry the capture timing.
const resyncMs = 1000

// srMaxSkew bounds how far a start time mapped through a sender report may lie from the first
// frame's arrival; beyond it the report is not believed.
const srMaxSkew = 2 * time.Second

// unwrapper extends 32-bit RTP timestamps to a 64-bit timeline, across wraps either way.
type unwrapper struct {
	started bool
	last    uint32
	cur     int64
}

func (u *unwrapper) unwrap(ts uint32) int64 {
	if !u.started {
		u.started, u.last, u.cur = true, ts, int64(ts)
		return u.cur
	}
	u.cur += int64(int32(ts - u.last))
	u.last = ts
	return u.cur
}

// peek unwraps ts relative to the last timestamp without moving the timeline.
func (u *unwrapper) peek(ts uint32) int64 {
	return u.cur + int64(int32(ts-u.last))
}

// timeline turns a span's frame timestamps into file time in milliseconds, strictly
// increasing from 0, and keeps what places the span on the session's timeline: the first
// frame's RTP timestamp and arrival, and the sender's RTP↔NTP mapping. Owned by the span's
// writer goroutine.
type timeline struct {
	clock int64

	u            unwrapper
	started      bool
	firstTS      int64
	firstArrival time.Time
	baseTS       int64 // file time baseMs corresponds to RTP time baseTS
	baseMs       int64
	lastTS       int64
	lastArrival  time.Time
	lastMs       int64
	resyncs      int

	// The first sender report, mapped: the sender's wall clock read srWall at RTP time srTS.
	haveSR  bool
	srWall  time.Time
	srTS    int64
	pending *senderReport // a report that came before the first frame
}

func newTimeline(clock uint32) timeline { return timeline{clock: int64(clock)} }

// frame places the next frame and returns its file time.
func (t *timeline) frame(ts uint32, arrival time.Time) int64 {
	u := t.u.unwrap(ts)
	if !t.started {
		t.started = true
		t.firstTS, t.firstArrival = u, arrival
		t.baseTS, t.baseMs = u, 0
		t.lastTS, t.lastArrival, t.lastMs = u, arrival, 0
		if t.pending != nil {
			t.mapSR(*t.pending)
			t.pending = nil
		}
		return 0
	}
	dts := (u - t.lastTS) * 1000 / t.clock
	darr := arrival.Sub(t.lastArrival).Milliseconds()
	if dts < -resyncMs || dts-darr > resyncMs || darr-dts > resyncMs {
		t.baseTS, t.baseMs = u, t.lastMs+max(darr, 1)
		t.resyncs++
	}
	ms := t.baseMs + (u-t.baseTS)*1000/t.clock
	if ms <= t.lastMs {
		ms = t.lastMs + 1
	}
	t.lastTS, t.lastArrival, t.lastMs = u, arrival, ms
	return ms
}

// senderReport takes an RTCP sender report for the span's stream.
func (t *timeline) senderReport(sr senderReport) {
	if !t.started {
		if t.pending == nil {
			t.pending = &sr
		}
		return
	}
	t.mapSR(sr)
}

func (t *timeline) mapSR(sr senderReport) {
	if t.haveSR {
		return
	}
	t.haveSR = true
	t.srWall = ntpTime(sr.ntp)
	t.srTS = t.u.peek(sr.rtp)
}

// start is the session-clock time of the span's first frame. With a sender report, the
// frame's RTP timestamp is mapped to the sender's wall clock and moved onto the server's by
// offset (the publisher's clock offset, see Session.clockOffset), which takes the network
// jitter of the first packet out and lines up a publisher's audio and video. Without one, or
// if the mapping is not plausible, it is the first frame's arrival.
func (t *timeline) start(offset time.Duration, haveOffset bool) (time.Time, bool) {
	if !t.haveSR || !haveOffset {
		return t.firstArrival, false
	}
	secs := float64(t.firstTS-t.srTS) / float64(t.clock)
	w := t.srWall.Add(time.Duration(secs * float64(time.Second))).Add(offset)
	if d := w.Sub(t.firstArrival); d > srMaxSkew || d < -srMaxSkew {
		return t.firstArrival, false
	}
	return w, true
}

// ntpEpochOffset is the number of seconds from 1900 (NTP's epoch) to 1970.
const ntpEpochOffset = 2208988800

// ntpTime converts a 64-bit NTP timestamp to a time.
func ntpTime(ntp uint64) time.Time {
	secs := int64(ntp>>32) - ntpEpochOffset
	frac := (ntp & 0xFFFFFFFF) * 1_000_000_000 >> 32
	return time.Unix(secs, int64(frac))
}
