package sfu

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pliMinInterval rate-limits keyframe requests to a publisher: a burst of new receivers, or a
// receiver that keeps asking, costs the publisher one keyframe per interval at most.
const pliMinInterval = 500 * time.Millisecond

// nackHistory is how many packets of a video track a down-track can retransmit when its
// receiver reports them lost: a second of video at 500 kbit/s, a quarter of a second at
// 2 Mbit/s, longer than a retransmission can take and still be played in a call (Janus keeps
// 300 ms by default). A down-track keeps the headers it wrote and the payloads it was given,
// which are slots of the up-track's ring of packetRing buffers: the reader decrypts each
// packet into its own slot and reuses it only packetRing packets later, ringMargin packets
// after the history let go of it (a quarter of a second at 500 kbit/s, 70 ms at 2 Mbit/s: a
// retransmission that started just before, which takes microseconds, has long been sent).
// Each slot costs 1.5 KB per published video track, so the margin is no larger.
const (
	nackHistory = 64 // a power of two: the history is indexed by sequence number
	ringMargin  = 16
	packetRing  = nackHistory + ringMargin
)

// maxPacket is the largest RTP packet read (Pion's receive MTU is 1460).
const maxPacket = 1500

// ringSize is how many packet buffers a track of kind cycles through: audio is not
// retransmitted and needs one.
func ringSize(kind webrtc.RTPCodecType) int {
	if kind == webrtc.RTPCodecTypeVideo {
		return packetRing
	}
	return 1
}

// historySize is how many packets a down-track of kind can retransmit.
func historySize(kind webrtc.RTPCodecType) int {
	if kind == webrtc.RTPCodecTypeVideo {
		return nackHistory
	}
	return 1
}

// fanout is the immutable list of consumers of an up-track. It is replaced whole (copy on
// write) under UpTrack.mu and read with one atomic load per packet.
type fanout struct {
	downs []*DownTrack
	sinks []TrackWriter // each of the room's sinks' writer of its span of this track
}

// UpTrack is a published track: one reader goroutine reads it and hands every packet to the
// current fanout.
type UpTrack struct {
	owner    ParticipantID
	trackID  string
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecCapability
	remote   *webrtc.TrackRemote
	recv     *webrtc.RTPReceiver
	ssrc     uint32 // the publisher's, of remote
	writePLI func(ssrc uint32) error
	log      *slog.Logger
	metrics  *Metrics // nil: not counted

	out atomic.Pointer[fanout]

	mu sync.Mutex // guards writes of out (readers only Load) and retired
	// retired is what the down-tracks removed from this track had counted.
	retired downCounts

	// The receive state: packets come from Pion's track reader (run) and, once the track is
	// published, from the direct receiver on a socket's read loop.
	direct *directReceiver // nil: Pion only
	fb     *streamFeedback // nil: no feedback (a track made by a test)
	rmu    sync.Mutex      // guards ring, slot and pkt, and serializes forwarding and fb
	ring   []byte
	slot   int
	pkt    rtp.Packet
	// The keyframe clock (video only; clockEvery 0: none): the next request is due at
	// nextClock, unix nanos.
	clockEvery time.Duration
	nextClock  int64

	lastTS      atomic.Uint32 // RTP timestamp of the last packet, for sender reports
	lastAt      atomic.Int64  // unix nanos when it arrived
	lastPLI     atomic.Int64  // unix nanos of the last keyframe request sent
	plis        atomic.Uint64
	packets     atomic.Uint64
	bytes       atomic.Uint64
	takenDirect atomic.Uint64 // of packets, those the direct receiver took
}

type upTrackParams struct {
	owner    ParticipantID
	keyframe time.Duration // the keyframe clock's interval (video only; 0: none)
	direct   *directReceiver
	feedback *feedback
	remote   *webrtc.TrackRemote
	recv     *webrtc.RTPReceiver
	writePLI func(ssrc uint32) error
	log      *slog.Logger
	metrics  *Metrics
}

func newUpTrack(p upTrackParams) *UpTrack {
	kind := p.remote.Kind()
	t := &UpTrack{
		owner:    p.owner,
		trackID:  string(p.owner) + "-" + kind.String(),
		kind:     kind,
		codec:    p.remote.Codec().RTPCodecCapability,
		remote:   p.remote,
		recv:     p.recv,
		ssrc:     uint32(p.remote.SSRC()),
		writePLI: p.writePLI,
		log:      p.log,
		metrics:  p.metrics,
		direct:   p.direct,
		ring:     make([]byte, ringSize(kind)*maxPacket),
	}
	if p.feedback != nil {
		var exts []webrtc.RTPHeaderExtensionParameter
		if p.recv != nil {
			exts = p.recv.GetParameters().HeaderExtensions
		}
		t.fb = p.feedback.bind(t.ssrc, p.remote.Codec(), exts)
	}
	if kind == webrtc.RTPCodecTypeVideo && p.keyframe > 0 {
		t.clockEvery, t.nextClock = p.keyframe, time.Now().Add(p.keyframe).UnixNano()
	}
	t.out.Store(&fanout{})
	return t
}

// Kind is audio or video.
func (t *UpTrack) Kind() webrtc.RTPCodecType { return t.kind }

// Packets is how many packets the reader has read.
func (t *UpTrack) Packets() uint64 { return t.packets.Load() }

// KeyframeRequests is how many PLIs were sent to the publisher for this track.
func (t *UpTrack) KeyframeRequests() uint64 { return t.plis.Load() }

func (t *UpTrack) update(f func(o fanout) fanout) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := f(*t.out.Load())
	t.out.Store(&n)
}

func (t *UpTrack) addDown(d *DownTrack) {
	t.update(func(o fanout) fanout {
		o.downs = append(slices.Clip(o.downs), d)
		return o
	})
}

// removeDown takes d out of the fanout and keeps its counts for the metrics. A packet the
// reader is forwarding to d at that moment may be counted by d after that, and then not in
// the totals.
func (t *UpTrack) removeDown(d *DownTrack) {
	t.update(func(o fanout) fanout {
		n := len(o.downs)
		o.downs = slices.DeleteFunc(slices.Clone(o.downs), func(x *DownTrack) bool { return x == d })
		if len(o.downs) < n {
			t.retired.add(d.counts())
		}
		return o
	})
}

// counts sums the track's counters and its down-tracks', live and removed.
func (t *UpTrack) counts() trackCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.out.Load()
	c := trackCounts{
		upTracks:         1,
		downTracks:       len(o.downs),
		received:         t.packets.Load(),
		receivedBytes:    t.bytes.Load(),
		receivedDirect:   t.takenDirect.Load(),
		keyframeRequests: t.plis.Load(),
	}
	c.addDown(t.retired)
	for _, d := range o.downs {
		c.addDown(d.counts())
	}
	return c
}

func (t *UpTrack) addSink(w TrackWriter) {
	t.update(func(o fanout) fanout {
		o.sinks = append(slices.Clip(o.sinks), w)
		return o
	})
}

// removeSink takes one occurrence of w out of the fanout: two sinks may hand out equal writers
// (a stateless one, say), and each span's is removed on its own.
func (t *UpTrack) removeSink(w TrackWriter) {
	t.update(func(o fanout) fanout {
		if i := slices.Index(o.sinks, w); i >= 0 {
			o.sinks = slices.Delete(slices.Clone(o.sinks), i, i+1)
		}
		return o
	})
}

// audioLevelExtension is the header extension id negotiated for RFC 6464 audio levels on the
// publisher's up connection, or 0 (a video track, or a publisher that did not offer it). It
// reads the receiver's parameters, so it is for span starts, not the packet path.
func (t *UpTrack) audioLevelExtension() uint8 {
	if t.kind != webrtc.RTPCodecTypeAudio || t.recv == nil {
		return 0
	}
	for _, e := range t.recv.GetParameters().HeaderExtensions {
		if e.URI == AudioLevelURI && e.ID > 0 && e.ID < 256 {
			return uint8(e.ID)
		}
	}
	return 0
}

// RequestKeyframe asks the publisher for a keyframe, at most once per pliMinInterval. A request
// on behalf of a receiver the publisher may not know of (visible false) is not sent: the
// keyframe clock serves it, so that such a receiver leaves no timing trace at the publisher.
func (t *UpTrack) RequestKeyframe(visible bool) {
	if t.kind != webrtc.RTPCodecTypeVideo || !visible {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastPLI.Load()
	if now-last < int64(pliMinInterval) || !t.lastPLI.CompareAndSwap(last, now) {
		return
	}
	t.sendPLI()
}

func (t *UpTrack) sendPLI() {
	t.plis.Add(1)
	if err := t.writePLI(t.ssrc); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.log.Debug("keyframe request failed", "err", err)
	}
}

// drainIdle is how long the switch to the direct receiver waits for Pion to deliver what it
// still holds: its pipeline hands a packet on within microseconds.
const drainIdle = 5 * time.Millisecond

// run reads the track from Pion until it ends, forwarding every packet. Once the track is
// published (run starts then), the direct receiver takes its packets off the socket; what
// Pion had buffered is forwarded first, so that nothing is reordered, and anything the direct
// receiver leaves to Pion afterwards still arrives here.
func (t *UpTrack) run() {
	t.metrics.started(t)
	defer t.metrics.stopped(t)
	defer t.stopReceiving()
	scratch := make([]byte, maxPacket)
	if t.direct != nil {
		t.rmu.Lock()
		t.direct.add(t)
		t.drain(scratch)
		t.rmu.Unlock()
	}
	for {
		n, _, err := t.remote.Read(scratch)
		if err != nil {
			return
		}
		t.rmu.Lock()
		buf := t.nextSlot()
		t.accept(buf[:copy(buf, scratch[:n])])
		t.rmu.Unlock()
	}
}

// drain forwards what Pion holds until it has held nothing for drainIdle. The caller holds
// t.rmu, so the direct receiver's first packet waits behind it.
func (t *UpTrack) drain(scratch []byte) {
	defer func() { _ = t.remote.SetReadDeadline(time.Time{}) }()
	for {
		if t.remote.SetReadDeadline(time.Now().Add(drainIdle)) != nil {
			return
		}
		n, _, err := t.remote.Read(scratch)
		if err != nil {
			return
		}
		buf := t.nextSlot()
		t.accept(buf[:copy(buf, scratch[:n])])
	}
}

func (t *UpTrack) stopReceiving() {
	if t.direct != nil {
		t.direct.remove(t)
	}
}

// receiveSRTP decrypts a packet the direct receiver took into the ring and forwards it.
func (t *UpTrack) receiveSRTP(d *directReceiver, b []byte) bool {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	out, ok := d.decrypt(t.nextSlot(), b, &t.pkt.Header)
	if out != nil {
		t.takenDirect.Add(1)
		t.accept(out)
	}
	return ok
}

// nextSlot is the ring's next packet buffer. The caller holds t.rmu.
func (t *UpTrack) nextSlot() []byte {
	buf := t.ring[t.slot : t.slot+maxPacket : t.slot+maxPacket]
	t.slot = (t.slot + maxPacket) % len(t.ring)
	return buf
}

// accept counts, reports and forwards one packet. The caller holds t.rmu. It allocates
// nothing of its own per packet.
func (t *UpTrack) accept(raw []byte) {
	if t.pkt.Unmarshal(raw) != nil {
		return
	}
	t.packets.Add(1)
	t.bytes.Add(uint64(len(raw)))
	now := time.Now()
	t.lastTS.Store(t.pkt.Timestamp)
	t.lastAt.Store(now.UnixNano())
	t.keyframeClock(now.UnixNano())
	if t.fb != nil {
		t.fb.packet(&t.pkt, now)
	}
	t.forward(&t.pkt, now)
}

// clock is the RTP timestamp of the last packet read and when it was read (0: none yet).
func (t *UpTrack) clock() (uint32, int64) { return t.lastTS.Load(), t.lastAt.Load() }

// forward hands pkt, read at now, to the down-tracks and the sinks.
func (t *UpTrack) forward(pkt *rtp.Packet, now time.Time) {
	o := t.out.Load()
	for _, d := range o.downs {
		d.WriteRTP(pkt)
	}
	if len(o.sinks) > 0 {
		for _, s := range o.sinks {
			s.WriteRTP(pkt, now)
		}
	}
}

// rtcpFromPion takes the publisher's RTCP for this track that came through Pion (see
// pionRTCP) and passes its sender reports to the feedback (receiver reports carry the round
// trip) and the sinks.
func (t *UpTrack) rtcpFromPion(b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	var now time.Time
	for _, p := range pkts {
		sr, ok := p.(*rtcp.SenderReport)
		if !ok || sr.SSRC != t.ssrc {
			continue
		}
		if now.IsZero() {
			now = time.Now()
		}
		t.senderReport(sr, now)
	}
}

// senderReport takes the publisher's sender report for the track, from Pion or the direct
// receiver: the feedback's round trip and the sinks' clock mapping need it.
func (t *UpTrack) senderReport(sr *rtcp.SenderReport, now time.Time) {
	if t.fb != nil {
		t.rmu.Lock()
		t.fb.senderReport(sr, now)
		t.rmu.Unlock()
	}
	for _, s := range t.out.Load().sinks {
		s.SenderReport(sr.NTPTime, sr.RTPTime, now)
	}
}

// keyframeClock requests a keyframe at a fixed cadence whoever is watching (see
// Config.KeyframeInterval and docs/no-trace.md): its phase depends only on when the track
// started. It is driven by the packets, on the reader (a track that sends nothing needs no
// keyframe), so a track has no timer of its own. The caller holds t.rmu.
func (t *UpTrack) keyframeClock(now int64) {
	if t.clockEvery <= 0 || now < t.nextClock {
		return
	}
	for t.nextClock <= now {
		t.nextClock += int64(t.clockEvery)
	}
	t.lastPLI.Store(now)
	t.sendPLI()
}
