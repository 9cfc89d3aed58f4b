package analytics

import (
	"slices"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// span is the analysis of one recorder span of one side's audio track (sfu.TrackWriter).
// WriteRTP runs on the track's reader goroutine; the lock is otherwise taken only once, by
// finish, so it is never contended on the packet path.
type span struct {
	side  Side      // immutable
	ext   uint8     // the audio level's header extension id; immutable
	start time.Time // the session's time zero; immutable

	mu    sync.Mutex // guards the following fields
	d     detector
	ended bool
}

// WriteRTP implements sfu.TrackWriter: it reads the packet's one-byte audio level (RFC 6464:
// the low seven bits, in -dBov) and feeds it to the detector. It allocates nothing.
func (s *span) WriteRTP(p *rtp.Packet, arrival time.Time) {
	level := noLevel
	if b := p.GetExtension(s.ext); len(b) > 0 {
		level = int(b[0] & 0x7f)
	}
	ms := arrival.Sub(s.start).Milliseconds()
	s.mu.Lock()
	if !s.ended {
		s.d.feed(p.Timestamp, ms, level)
	}
	s.mu.Unlock()
}

// SenderReport implements sfu.TrackWriter; talk timing needs no sender reports.
func (s *span) SenderReport(uint64, uint32, time.Time) {}

// Close implements sfu.TrackWriter: the span's voice so far is kept for Finish.
func (s *span) Close() {
	s.mu.Lock()
	s.d.flush()
	s.ended = true
	s.mu.Unlock()
}

// finish ends the span and returns its voice intervals, how many packets carried a level, and
// the time of the last packet.
func (s *span) finish() (iv []Interval, levelled uint64, lastMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d.flush()
	s.ended = true
	return slices.Clone(s.d.done), s.d.levelled, s.d.lastMs
}
