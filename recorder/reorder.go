package recorder

import "time"

// maxPayload bounds the RTP payload a queue slot holds: the SFU reads packets into 1500-byte
// buffers, so no forwarded payload is larger.
const maxPayload = 1500

// slot is one queued packet: the fields of the RTP packet the recorder uses, copied, so the
// media path keeps nothing of the caller's packet.
type slot struct {
	arrival time.Time
	ts      uint32
	seq     uint16
	marker  bool
	n       int // payload length; -1 if the payload did not fit and was not kept
	buf     [maxPayload]byte
}

func (s *slot) payload() []byte {
	if s.n <= 0 {
		return nil
	}
	return s.buf[:s.n]
}

const (
	// reorderMaxDelay is how long (in arrival time) a missing packet is waited for while
	// later ones are held, enough for a retransmission after a NACK.
	reorderMaxDelay = 500 * time.Millisecond
	// seqJump is a sequence number step (either way) taken as a new numbering rather than
	// loss or reordering.
	seqJump = 3000
)

// reorderBuffer puts a span's packets back in sequence order, waits a little for missing
// ones, drops duplicates and late arrivals, and reports the gaps it gives up on. Owned by the
// span's writer goroutine.
type reorderBuffer struct {
	ring    []*slot // by sequence number modulo its length
	next    uint16  // the next sequence number to emit
	held    int
	started bool
	skipped bool      // sequence numbers were given up on since the last emitted packet
	since   time.Time // arrival of the packet that began the wait for next, if held > 0
	lost    int64     // sequence numbers given up on

	emit    func(s *slot, lost bool) // gets the packets in order; the slot is released after
	release func(s *slot)
}

func newReorderBuffer(window int, emit func(*slot, bool), release func(*slot)) reorderBuffer {
	return reorderBuffer{ring: make([]*slot, window), emit: emit, release: release}
}

// push takes the next packet as it arrived.
func (b *reorderBuffer) push(s *slot) {
	if !b.started {
		b.started, b.next = true, s.seq
	}
	d := int(int16(s.seq - b.next))
	switch {
	case d > seqJump || d < -seqJump:
		b.flush()
		b.next, b.skipped, d = s.seq, true, 0
	case d < 0: // late or duplicate: its place has been emitted or given up on
		b.release(s)
		return
	}
	for d >= len(b.ring) {
		b.skip()
		d--
	}
	i := int(s.seq) % len(b.ring)
	if b.ring[i] != nil { // duplicate
		b.release(s)
		return
	}
	b.ring[i] = s
	b.held++
	b.drain()
	switch {
	case b.held == 0:
		b.since = time.Time{}
	case b.since.IsZero():
		b.since = s.arrival
	case s.arrival.Sub(b.since) > reorderMaxDelay:
		b.flush()
	}
}

// drain emits the packets held from next on, up to the first gap.
func (b *reorderBuffer) drain() {
	for {
		i := int(b.next) % len(b.ring)
		s := b.ring[i]
		if s == nil {
			return
		}
		b.ring[i] = nil
		b.held--
		b.next++
		lost := b.skipped
		b.skipped = false
		b.emit(s, lost)
		b.release(s)
	}
}

// skip gives up on next: emits it if held, else counts it lost.
func (b *reorderBuffer) skip() {
	i := int(b.next) % len(b.ring)
	if s := b.ring[i]; s != nil {
		b.ring[i] = nil
		b.held--
		b.next++
		lost := b.skipped
		b.skipped = false
		b.emit(s, lost)
		b.release(s)
		return
	}
	b.next++
	b.skipped = true
	b.lost++
}

// flush emits everything held, giving up on the gaps between.
func (b *reorderBuffer) flush() {
	for b.held > 0 {
		b.skip()
		b.drain()
	}
	b.since = time.Time{}
}
