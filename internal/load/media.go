package load

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
)

// Every synthetic payload carries a stamp: stampMagic, then the send time as nanoseconds on
// the generator's clock (clock.since). The receiving side of the same process reads it back to
// measure one-way latency; a packet without the magic (a stamp the packetizer moved) is
// counted but not timed.
const (
	stampMagic = 0x52534c44 // "RSLD"
	stampSize  = 12
)

// vp8Fragment is how many bytes of a VP8 frame Pion's packetizer puts in one RTP packet: its
// outbound MTU (1200) less the RTP header (12) and the 4-byte payload descriptor (with a 15-bit
// picture id) it writes. Frames are laid out so that a stamp starts every packet.
const vp8Fragment = 1200 - 12 - 4

// Sizes of the VP8 frame header (RFC 6386, 9.1): the 3-byte frame tag, and on a keyframe the
// start code and dimensions after it.
const (
	vp8DeltaHeader = 3
	vp8KeyHeader   = 10
)

// opusTOC is a TOC byte for one 20 ms CELT fullband frame (RFC 6716, 3.1).
const opusTOC = 31 << 3

// clock is the generator's time base for stamps: the same process writes and reads them, so
// a monotonic offset from one instant is exact.
type clock struct{ t0 time.Time }

func (c clock) since() int64 { return int64(time.Since(c.t0)) }

func putStamp(b []byte, now int64) {
	binary.BigEndian.PutUint32(b, stampMagic)
	binary.BigEndian.PutUint64(b[4:], uint64(now))
}

// readStamp returns the send time in b's first stampSize bytes, if they hold a stamp.
func readStamp(b []byte) (int64, bool) {
	if len(b) < stampSize || binary.BigEndian.Uint32(b) != stampMagic {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[4:])), true
}

// mediaShape is the synthetic media every publisher sends.
type mediaShape struct {
	audioPayload  int           // bytes of each Opus packet
	videoBitrate  int           // bits per second, keyframes included
	fps           int           // video frames per second
	keyframeEvery time.Duration // time between keyframes
}

// frameSizes returns the size of a keyframe and of a delta frame: a keyframe is worth
// keyFactor delta frames, and a keyframe interval's frames add up to the bitrate.
func (m mediaShape) frameSizes() (key, delta int) {
	const keyFactor = 5
	perInterval := float64(m.videoBitrate) / 8 * m.keyframeEvery.Seconds()
	frames := max(1, int(m.keyframeEvery.Seconds()*float64(m.fps)))
	delta = int(perInterval / float64(frames-1+keyFactor))
	delta = max(delta, vp8KeyHeader+stampSize)
	return delta * keyFactor, delta
}

// vp8Frame fills frame (len(frame) bytes) as a VP8 keyframe or inter frame whose every
// packet, once Pion has cut it into vp8Fragment pieces, starts with a stamp (after the frame
// header in the first).
func vp8Frame(frame []byte, key bool, now int64) {
	hdr := vp8DeltaHeader
	// Frame tag: P (0 on keyframes), version 0, show_frame 1, first partition size.
	size := min(len(frame)-vp8KeyHeader, 1<<19-1)
	tag := uint32(size)<<5 | 1<<4
	if key {
		hdr = vp8KeyHeader
	} else {
		tag |= 1
	}
	frame[0], frame[1], frame[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if key {
		// Start code, then 640x480 with no scaling.
		copy(frame[3:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
	}
	putStamp(frame[hdr:], now)
	for off := vp8Fragment; off+stampSize <= len(frame); off += vp8Fragment {
		putStamp(frame[off:], now)
	}
}

// stampOffset finds the stamp in an RTP payload of the given kind: after Opus's TOC byte, or
// after the VP8 payload descriptor (and the frame header when the packet starts a frame).
func stampOffset(kind webrtc.RTPCodecType, payload []byte) int {
	if kind == webrtc.RTPCodecTypeAudio {
		return 1
	}
	if len(payload) < 1 {
		return -1
	}
	b0 := payload[0]
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(payload) < 2 {
			return -1
		}
		ext := payload[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(payload) <= i {
				return -1
			}
			if payload[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/KEYIDX
			i++
		}
	}
	if b0&0x10 != 0 && b0&0x07 == 0 { // S=1, partition 0: the frame header comes first
		if len(payload) <= i {
			return -1
		}
		if payload[i]&0x01 == 0 {
			i += vp8KeyHeader
		} else {
			i += vp8DeltaHeader
		}
	}
	return i
}

// publishAudio writes one Opus packet of shape.audioPayload bytes every 20 ms until ctx is
// done. A publisher that falls behind (a starved machine) skips ahead rather than bursting.
func publishAudio(ctx context.Context, track *webrtc.TrackLocalStaticSample, shape mediaShape, clk clock) {
	const ptime = 20 * time.Millisecond
	buf := make([]byte, max(shape.audioPayload, 1+stampSize))
	buf[0] = opusTOC
	for i := 1 + stampSize; i < len(buf); i++ {
		buf[i] = byte(i * 7)
	}
	pace(ctx, ptime, func() {
		putStamp(buf[1:], clk.since())
		_ = track.WriteSample(pionmedia.Sample{Data: buf, Duration: ptime}) // not connected yet: harmless
	})
}

// publishVideo writes VP8 frames at shape.fps, a keyframe every shape.keyframeEvery, until ctx
// is done.
func publishVideo(ctx context.Context, track *webrtc.TrackLocalStaticSample, shape mediaShape, clk clock) {
	interval := time.Second / time.Duration(max(shape.fps, 1))
	keySize, deltaSize := shape.frameSizes()
	keyEvery := max(1, int(shape.keyframeEvery/interval))
	buf := make([]byte, keySize)
	for i := range buf {
		buf[i] = byte(i * 13)
	}
	n := 0
	pace(ctx, interval, func() {
		key := n%keyEvery == 0
		n++
		frame := buf[:deltaSize]
		if key {
			frame = buf[:keySize]
		}
		vp8Frame(frame, key, clk.since())
		_ = track.WriteSample(pionmedia.Sample{Data: frame, Duration: interval})
	})
}

// pace calls f every interval until ctx is done, on a schedule that does not drift.
func pace(ctx context.Context, interval time.Duration, f func()) {
	const maxLag = 200 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		f()
		next = next.Add(interval)
		wait := time.Until(next)
		if wait < -maxLag {
			next = time.Now()
			wait = 0
		}
		timer.Reset(wait)
	}
}
