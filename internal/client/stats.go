package client

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// readBuffer fits any RTP packet Pion delivers (its receive MTU is 1460).
const readBuffer = 1500

// TrackKey names a received track: the publisher's participant id (the stream id) and kind.
type TrackKey struct {
	StreamID string
	Kind     webrtc.RTPCodecType
}

// TrackStats counts what arrived on the down tracks of one key. A key keeps its counters when
// the server renegotiates it onto a new track: gaps across the switch count.
type TrackStats struct {
	TrackID     string // the latest track's id
	MimeType    string
	PayloadType uint8
	Tracks      int // remote tracks seen for this key (one per negotiation that added it)
	Active      int // of those, the ones still open (0 once renegotiation removed the key)
	Packets     uint64
	Bytes       uint64 // RTP payload bytes
	First, Last time.Time
	SSRCs       []uint32 // distinct, in order seen
	// MaxSeqGap is the most sequence numbers skipped between two consecutive packets of one
	// SSRC; Missing sums them; Late counts packets older than one already received
	// (reordered or retransmitted); Duplicates repeats of the previous packet.
	MaxSeqGap  uint16
	Missing    uint64
	Late       uint64
	Duplicates uint64
	Malformed  uint64
	// MaxInterArrival is the longest time between two packets of the key, for checks such as
	// "media never gaps by more than 500 ms".
	MaxInterArrival time.Duration
	// RTCP is what the server sent about this track (sender reports, SDES, BYE).
	RTCP RTCPStats
}

// RTCPStats counts RTCP packets by type.
type RTCPStats struct {
	Packets         int // RTCP packets, each of a compound packet counted
	PLI, FIR, NACK  int
	SenderReports   int
	ReceiverReports int
	REMB, TWCC      int
	CNAMEs          []string // distinct SDES CNAMEs, in order seen
	Byes            []uint32 // SSRCs of every BYE, in order
}

func (r *RTCPStats) add(pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		r.Packets++
		switch pkt := pkt.(type) {
		case *rtcp.PictureLossIndication:
			r.PLI++
		case *rtcp.FullIntraRequest:
			r.FIR++
		case *rtcp.TransportLayerNack:
			r.NACK++
		case *rtcp.SenderReport:
			r.SenderReports++
		case *rtcp.ReceiverReport:
			r.ReceiverReports++
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			r.REMB++
		case *rtcp.TransportLayerCC:
			r.TWCC++
		case *rtcp.SourceDescription:
			for _, chunk := range pkt.Chunks {
				for _, item := range chunk.Items {
					if item.Type == rtcp.SDESCNAME && !slices.Contains(r.CNAMEs, item.Text) {
						r.CNAMEs = append(r.CNAMEs, item.Text)
					}
				}
			}
		case *rtcp.Goodbye:
			r.Byes = append(r.Byes, pkt.Sources...)
		}
	}
}

func (r RTCPStats) clone() RTCPStats {
	r.CNAMEs = slices.Clone(r.CNAMEs)
	r.Byes = slices.Clone(r.Byes)
	return r
}

// trackStats is the live counters of one key, updated by its track readers.
type trackStats struct {
	mu sync.Mutex // guards the following fields
	s  TrackStats
	// ssrc and lastSeq follow the current SSRC's sequence numbers.
	ssrc     uint32
	haveSSRC bool
	lastSeq  uint16
}

func (t *trackStats) arrived(track *webrtc.TrackRemote) {
	codec := track.Codec()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Tracks++
	t.s.Active++
	t.s.TrackID = track.ID()
	t.s.MimeType = codec.MimeType
	t.s.PayloadType = uint8(codec.PayloadType)
}

// packet counts one RTP packet. It is on the media path: it does not allocate, except to
// remember a new SSRC.
func (t *trackStats) packet(b []byte, now time.Time) {
	h, ok := parseRTP(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.s
	if !ok {
		s.Malformed++
		return
	}
	if s.Packets > 0 {
		s.MaxInterArrival = max(s.MaxInterArrival, now.Sub(s.Last))
	} else {
		s.First = now
	}
	s.Packets++
	s.Bytes += uint64(h.payload)
	s.Last = now
	s.PayloadType = h.payloadType
	if !t.haveSSRC || h.ssrc != t.ssrc {
		t.ssrc, t.haveSSRC, t.lastSeq = h.ssrc, true, h.seq
		if !slices.Contains(s.SSRCs, h.ssrc) {
			s.SSRCs = append(s.SSRCs, h.ssrc)
		}
		return
	}
	switch d := h.seq - t.lastSeq; {
	case d == 0:
		s.Duplicates++
	case d < 0x8000:
		s.MaxSeqGap = max(s.MaxSeqGap, d-1)
		s.Missing += uint64(d - 1)
		t.lastSeq = h.seq
	default:
		s.Late++
	}
}

func (t *trackStats) departed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Active--
}

func (t *trackStats) snapshot() TrackStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.SSRCs = slices.Clone(s.SSRCs)
	s.RTCP = s.RTCP.clone()
	return s
}

// rtpHeader is the part of an RTP header the counters need.
type rtpHeader struct {
	seq         uint16
	ssrc        uint32
	payloadType uint8
	payload     int // payload length, header and padding excluded
}

// parseRTP reads an RTP packet's fixed header and the payload's length (RFC 3550, 5.1).
func parseRTP(b []byte) (rtpHeader, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return rtpHeader{}, false
	}
	n := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension
		if len(b) < n+4 {
			return rtpHeader{}, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding
		end -= int(b[len(b)-1])
	}
	if end < n {
		return rtpHeader{}, false
	}
	return rtpHeader{
		seq:         binary.BigEndian.Uint16(b[2:]),
		ssrc:        binary.BigEndian.Uint32(b[8:]),
		payloadType: b[1] & 0x7f,
		payload:     end - n,
	}, true
}

// onTrack is Pion's callback for a down track; Pion runs it on a goroutine of its own, which
// becomes the track's reader.
func (c *Client) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	key := TrackKey{StreamID: track.StreamID(), Kind: track.Kind()}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	ts := c.tracks[key]
	if ts == nil {
		ts = &trackStats{}
		c.tracks[key] = ts
	}
	_, reading := c.rtcpReaders[recv]
	if !reading {
		c.rtcpReaders[recv] = struct{}{}
		c.wg.Add(1)
	}
	c.wg.Add(1)
	c.changedLocked()
	c.mu.Unlock()
	c.logger().Debug("track", "stream", key.StreamID, "kind", key.Kind, "id", track.ID())
	ts.arrived(track)
	if !reading {
		go c.readReceiverRTCP(recv, ts)
	}

	defer c.wg.Done()
	defer c.notify()
	defer ts.departed()
	buf := make([]byte, readBuffer)
	for {
		n, _, err := track.Read(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			ts.packet(nil, time.Now()) // counted as malformed
			continue
		}
		if err != nil {
			return
		}
		ts.packet(buf[:n], time.Now())
	}
}

func (c *Client) readReceiverRTCP(recv *webrtc.RTPReceiver, ts *trackStats) {
	defer c.wg.Done()
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		ts.mu.Lock()
		ts.s.RTCP.add(pkts)
		ts.mu.Unlock()
	}
}

// readSenderRTCP drains the RTCP the server sends about a published track (PLI, NACK, reports:
// Pion's interceptors need it read) and counts it.
func (c *Client) readSenderRTCP(kind webrtc.RTPCodecType, sender *webrtc.RTPSender) {
	defer c.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		c.mu.Lock()
		r := c.sendRTCP[kind]
		if r == nil {
			r = &RTCPStats{}
			c.sendRTCP[kind] = r
		}
		r.add(pkts)
		c.changedLocked()
		c.mu.Unlock()
	}
}
