package recorder

import (
	"encoding/binary"
	"time"

	"github.com/pion/rtp/codecs"
)

// vp8Assembler builds VP8 frames from RTP packets given in sequence order (RFC 7741). It emits
// only whole frames, and after any loss or damaged frame only from the next keyframe on: a
// frame that refers to a lost one would decode to garbage. Owned by the span's writer
// goroutine.
type vp8Assembler struct {
	buf     []byte // the frame being built; reused
	inFrame bool
	ts      uint32
	arrival time.Time // of the frame's first packet
	needKey bool      // set from the start and after loss until a keyframe passes
	width   int       // of the last keyframe
	height  int
	dropped int64 // frames dropped: incomplete, or waiting for a keyframe
	depkt   codecs.VP8Packet
}

func newVP8Assembler() vp8Assembler { return vp8Assembler{needKey: true, buf: make([]byte, 0, 64<<10)} }

// push takes the next packet; lost says packets are missing before it. It returns a complete
// frame when s ends one; the frame is valid until the next push.
func (a *vp8Assembler) push(s *slot, lost bool) (frame []byte, key bool, ok bool) {
	if lost || s.n < 0 {
		a.damaged()
		if s.n < 0 {
			return nil, false, false
		}
	}
	if s.n == 0 { // padding
		return nil, false, false
	}
	payload, err := a.depkt.Unmarshal(s.payload())
	if err != nil {
		a.damaged()
		return nil, false, false
	}
	switch {
	case a.depkt.S == 1 && a.depkt.PID == 0:
		if a.inFrame { // the previous frame never ended
			a.damaged()
		}
		a.buf = a.buf[:0]
		a.inFrame, a.ts, a.arrival = true, s.ts, s.arrival
	case !a.inFrame: // the rest of a frame whose start is gone
		return nil, false, false
	case s.ts != a.ts:
		a.damaged()
		return nil, false, false
	}
	a.buf = append(a.buf, payload...)
	if !s.marker {
		return nil, false, false
	}
	a.inFrame = false
	key = isVP8Keyframe(a.buf)
	if key {
		w, h, good := vp8Size(a.buf)
		if !good {
			a.damaged()
			return nil, false, false
		}
		a.width, a.height, a.needKey = w, h, false
	}
	if a.needKey {
		a.dropped++
		return nil, false, false
	}
	return a.buf, key, true
}

// damaged drops the frame being built and waits for a keyframe.
func (a *vp8Assembler) damaged() {
	if a.inFrame {
		a.dropped++
	}
	a.inFrame = false
	a.needKey = true
}

// isVP8Keyframe reads the frame tag's P bit (RFC 6386 §9.1): 0 is a keyframe.
func isVP8Keyframe(f []byte) bool { return len(f) > 0 && f[0]&0x01 == 0 }

// vp8Size reads a keyframe's dimensions after its start code.
func vp8Size(f []byte) (w, h int, ok bool) {
	if len(f) < 10 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	w = int(binary.LittleEndian.Uint16(f[6:]) & 0x3fff)
	h = int(binary.LittleEndian.Uint16(f[8:]) & 0x3fff)
	return w, h, w > 0 && h > 0
}
