package sfu

import (
	"strings"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// binding is what Pion hands a down-track when its sender is negotiated.
type binding struct {
	ssrc  uint32
	pt    uint8
	write webrtc.TrackLocalWriter
}

// DownTrack is one receiver's copy of one up-track: a webrtc.TrackLocal with its own SSRC,
// payload type and sequence numbering, a keyframe gate and counters.
//
// WriteRTP runs on the up-track's reader goroutine only; the fields below "owned by the reader"
// are touched nowhere else. Bind and Unbind run on Pion's goroutines and publish through bind.
type DownTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	codec        webrtc.RTPCodecCapability
	up           *UpTrack
	receiver     ParticipantID

	bind atomic.Pointer[binding]
	// visible is whether the publisher may know of the receiver; a hidden receiver's keyframe
	// requests wait for the keyframe clock (docs/no-trace.md).
	visible atomic.Bool

	// owned by the reader:
	// hdrs are the headers written, one slot per packet in turn: Pion's NACK responder keeps
	// the header it was handed (see nackHistory), so a slot is reused only packetRing packets
	// later. Audio, which is not retransmitted, has one slot.
	hdrs    []rtp.Header
	next    int
	started bool

	// Counters, written by the reader (and the RTCP reader for nacks and plis), read by
	// anyone.
	packets, bytes            atomic.Uint64
	keyframeWait, writeErrors atomic.Uint64
	nacks, plis               atomic.Uint64
}

func newDownTrack(up *UpTrack, receiver ParticipantID, visible bool) *DownTrack {
	d := &DownTrack{
		id:       up.trackID,
		streamID: string(up.owner),
		kind:     up.kind,
		codec:    up.codec,
		up:       up,
		receiver: receiver,
		hdrs:     make([]rtp.Header, ringSize(up.kind)),
	}
	d.visible.Store(visible)
	return d
}

// Bind implements webrtc.TrackLocal.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.codec.MimeType) {
			d.bind.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), write: ctx.WriteStream()})
			if d.kind == webrtc.RTPCodecTypeVideo {
				d.up.RequestKeyframe(d.visible.Load())
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bind.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (d *DownTrack) ID() string { return d.id }

// RID implements webrtc.TrackLocal.
func (d *DownTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the publisher's participant id.
func (d *DownTrack) StreamID() string { return d.streamID }

// Kind implements webrtc.TrackLocal.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.kind }

// Stats are a down-track's counters.
type Stats struct {
	Packets, Bytes, Dropped uint64
}

// Stats returns the counters.
func (d *DownTrack) Stats() Stats {
	return Stats{Packets: d.packets.Load(), Bytes: d.bytes.Load(), Dropped: d.keyframeWait.Load() + d.writeErrors.Load()}
}

// downCounts are a down-track's counters, for the metrics.
type downCounts struct {
	packets, bytes            uint64
	keyframeWait, writeErrors uint64
	nacks, plis               uint64
}

func (c *downCounts) add(o downCounts) {
	c.packets += o.packets
	c.bytes += o.bytes
	c.keyframeWait += o.keyframeWait
	c.writeErrors += o.writeErrors
	c.nacks += o.nacks
	c.plis += o.plis
}

func (d *DownTrack) counts() downCounts {
	return downCounts{
		packets:      d.packets.Load(),
		bytes:        d.bytes.Load(),
		keyframeWait: d.keyframeWait.Load(),
		writeErrors:  d.writeErrors.Load(),
		nacks:        d.nacks.Load(),
		plis:         d.plis.Load(),
	}
}

// handleRTCP takes the RTCP the receiver sent about this track (its sender's ReadRTCP): it
// counts NACKs (Pion's NACK responder answers them) and passes keyframe requests on to the
// publisher.
func (d *DownTrack) handleRTCP(pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		switch pkt.(type) {
		case *rtcp.TransportLayerNack:
			d.nacks.Add(1)
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			d.plis.Add(1)
			d.up.RequestKeyframe(d.visible.Load())
		}
	}
}

// WriteRTP forwards one packet to the receiver. It allocates nothing and never blocks on the
// receiver: the write goes through SRTP to a UDP socket, which drops rather than waits.
func (d *DownTrack) WriteRTP(p *rtp.Packet) {
	b := d.bind.Load()
	if b == nil {
		return
	}
	if !d.started {
		if d.kind == webrtc.RTPCodecTypeVideo && !isVP8Keyframe(p.Payload) {
			d.keyframeWait.Add(1)
			return
		}
		d.started = true
	}
	// Sequence numbers and timestamps stay the publisher's: a down-track serves one up-track
	// and the gate only holds back packets before its first, so the receiver sees no gap. The
	// SSRC and payload type are the receiver's own, as negotiated on its down connection;
	// header extensions are dropped because their ids are per connection.
	h := &d.hdrs[d.next]
	if d.next++; d.next == len(d.hdrs) {
		d.next = 0
	}
	*h = rtp.Header{
		Version:        2,
		Padding:        p.Padding,
		Marker:         p.Marker,
		PayloadType:    b.pt,
		SequenceNumber: p.SequenceNumber,
		Timestamp:      p.Timestamp,
		SSRC:           b.ssrc,
		PaddingSize:    p.PaddingSize,
	}
	n, err := b.write.WriteRTP(h, p.Payload)
	if err != nil {
		d.writeErrors.Add(1)
		return
	}
	d.packets.Add(1)
	d.bytes.Add(uint64(n))
}

// isVP8Keyframe reports whether an RTP payload starts a VP8 keyframe (RFC 7741 §4.2-4.3).
func isVP8Keyframe(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	x := payload[0]&0x80 != 0
	s := payload[0]&0x10 != 0
	pid := payload[0] & 0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(payload) < 2 {
			return false
		}
		ext := payload[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id
			if len(payload) <= i {
				return false
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
		if ext&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	if len(payload) <= i {
		return false
	}
	// The VP8 frame tag's P bit is 0 on keyframes.
	return payload[i]&0x01 == 0
}
