package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
// payload type and sequence numbering, a keyframe gate, the history it answers NACKs from, and
// counters.
//
// WriteRTP runs on the up-track's reader goroutine only (serialized by UpTrack.rmu); the fields
// below "owned by the reader" are touched nowhere else. Bind and Unbind run on Pion's
// goroutines and publish through bind; NACKs are answered on the sender's RTCP reader.
type DownTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	codec        webrtc.RTPCodecCapability
	up           *UpTrack
	receiver     ParticipantID
	sender       *directSender             // the receiver's down connection's; nil: Pion sends
	writeRTCP    func([]rtcp.Packet) error // to the receiver's down connection; nil: no sender reports

	bind atomic.Pointer[binding]
	// visible is whether the publisher may know of the receiver; a hidden receiver's keyframe
	// requests wait for the keyframe clock (docs/no-trace.md).
	visible atomic.Bool

	// owned by the reader:
	started bool
	lastSR  int64 // unix nanos of the last sender report

	// The history: the headers written, in the slot of their sequence number, and their
	// payloads (the up-track's ring slots, see nackHistory). Audio, which is not retransmitted,
	// has one slot. The reader writes it under hmu; the RTCP reader reads it under hmu to
	// answer NACKs.
	hmu      sync.Mutex
	hdrs     []rtp.Header
	payloads [][]byte
	newest   uint16

	// Counters, written by the reader (and the RTCP reader for nacks and plis), read by
	// anyone.
	packets, bytes            atomic.Uint64
	direct                    atomic.Uint64 // of packets, those the direct sender sent
	payloadBytes              atomic.Uint64 // for sender reports
	keyframeWait, writeErrors atomic.Uint64
	nacks, plis               atomic.Uint64
	resent                    atomic.Uint64
}

func newDownTrack(up *UpTrack, receiver ParticipantID, visible bool) *DownTrack {
	d := &DownTrack{
		id:       up.trackID,
		streamID: string(up.owner),
		kind:     up.kind,
		codec:    up.codec,
		up:       up,
		receiver: receiver,
		hdrs:     make([]rtp.Header, historySize(up.kind)),
		payloads: make([][]byte, historySize(up.kind)),
	}
	d.visible.Store(visible)
	return d
}

// Bind implements webrtc.TrackLocal.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.codec.MimeType) {
			d.bind.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), write: ctx.WriteStream()})
			d.sender.track(uint32(ctx.SSRC()), d)
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
	if b := d.bind.Swap(nil); b != nil {
		d.sender.track(b.ssrc, nil)
	}
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
	direct                    uint64
	keyframeWait, writeErrors uint64
	nacks, plis               uint64
}

func (c *downCounts) add(o downCounts) {
	c.packets += o.packets
	c.bytes += o.bytes
	c.direct += o.direct
	c.keyframeWait += o.keyframeWait
	c.writeErrors += o.writeErrors
	c.nacks += o.nacks
	c.plis += o.plis
}

func (d *DownTrack) counts() downCounts {
	return downCounts{
		packets:      d.packets.Load(),
		bytes:        d.bytes.Load(),
		direct:       d.direct.Load(),
		keyframeWait: d.keyframeWait.Load(),
		writeErrors:  d.writeErrors.Load(),
		nacks:        d.nacks.Load(),
		plis:         d.plis.Load(),
	}
}

// rtcpFromPion takes the receiver's RTCP about this track that came through Pion (see
// pionRTCP).
func (d *DownTrack) rtcpFromPion(b []byte) {
	if pkts, err := rtcp.Unmarshal(b); err == nil {
		d.handleRTCP(pkts)
	}
}

// handleRTCP takes the RTCP the receiver sent about this track (from Pion or the direct path): it
// answers NACKs from the history and passes keyframe requests on to the publisher.
func (d *DownTrack) handleRTCP(pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		switch pkt := pkt.(type) {
		case *rtcp.TransportLayerNack:
			d.nacks.Add(1)
			for _, pair := range pkt.Nacks {
				pair.Range(func(seq uint16) bool {
					d.resend(seq)
					return true
				})
			}
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
	i := int(p.SequenceNumber) & (len(d.hdrs) - 1)
	d.hmu.Lock()
	h := &d.hdrs[i]
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
	d.payloads[i] = p.Payload
	d.newest = p.SequenceNumber
	d.hmu.Unlock()
	n, err := d.send(b, h, p.Payload)
	if err != nil {
		d.writeErrors.Add(1)
		return
	}
	d.packets.Add(1)
	d.bytes.Add(uint64(n))
	d.payloadBytes.Add(uint64(len(p.Payload)))
	d.maybeReport()
}

// maybeReport sends the receiver a sender report when one is due, after the packet the
// reader has just forwarded: like the publisher's feedback, sender reports are driven by the
// packets, with no timer of their own (a track that sends nothing needs none).
func (d *DownTrack) maybeReport() {
	_, at := d.up.clock()
	if d.writeRTCP == nil || at-d.lastSR < int64(senderReportInterval) {
		return
	}
	d.lastSR = at
	if sr, ok := d.senderReport(time.Unix(0, at)); ok {
		_ = d.writeRTCP([]rtcp.Packet{sr}) // one lost is replaced a second later
	}
}

// send writes one packet through the direct sender, or through Pion when it cannot, unless
// the direct sender has already rolled this SSRC's sequence numbers over (see
// directSender.rolledOver): then the packet is dropped.
func (d *DownTrack) send(b *binding, h *rtp.Header, payload []byte) (int, error) {
	if n, err := d.sender.write(h, payload); err != errNotDirect {
		if err == nil {
			d.direct.Add(1)
		}
		return n, err
	}
	if d.sender.rolledOver(b.ssrc) {
		return 0, errRolledOver
	}
	return b.write.WriteRTP(h, payload)
}

// resend answers a NACK for seq with the very packet, if it is still in the history: written,
// and at most nackHistory packets ago, so that its payload slot is far from reuse.
func (d *DownTrack) resend(seq uint16) {
	b := d.bind.Load()
	if b == nil || d.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	d.hmu.Lock()
	i := int(seq) & (len(d.hdrs) - 1)
	h, payload := d.hdrs[i], d.payloads[i]
	fresh := payload != nil && h.SequenceNumber == seq && d.newest-seq < nackHistory && h.SSRC == b.ssrc
	d.hmu.Unlock()
	if !fresh {
		return
	}
	if _, err := d.send(b, &h, payload); err == nil {
		d.resent.Add(1)
	}
}

// senderReport is the RTCP sender report of this track at now, false before it has sent
// anything. Its RTP time is the publisher's clock (the down-track keeps its timestamps)
// extrapolated from the last packet.
func (d *DownTrack) senderReport(now time.Time) (*rtcp.SenderReport, bool) {
	b := d.bind.Load()
	ts, at := d.up.clock()
	if b == nil || d.packets.Load() == 0 || at == 0 || d.codec.ClockRate == 0 {
		return nil, false
	}
	elapsed := now.UnixNano() - at
	return &rtcp.SenderReport{
		SSRC:        b.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     ts + uint32(elapsed*int64(d.codec.ClockRate)/int64(time.Second)),
		PacketCount: uint32(d.packets.Load()),
		OctetCount:  uint32(d.payloadBytes.Load()),
	}, true
}

// ntpTime is t in the 64-bit NTP format of sender reports (RFC 3550 4).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix()) + unixToNTP
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
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
