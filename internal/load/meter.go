package load

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// meter is an interceptor factory that sees every RTP packet the generator's clients send and
// receive: it counts what they send and times what they receive by the stamps in the
// payloads. One meter serves every client of a run (they share one webrtc.API). Its
// per-packet work is a few atomic operations; it allocates nothing per packet.
type meter struct {
	clk       clock
	measuring atomic.Bool // latency and jitter are recorded only within the window
	sent      atomic.Uint64
	latency   histogram

	mu      sync.Mutex // guards streams
	streams []*streamMeter
}

func newMeter(clk clock) *meter { return &meter{clk: clk} }

// NewInterceptor implements interceptor.Factory.
func (m *meter) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &meterInterceptor{m: m}, nil
}

// jitter returns the mean and the largest interarrival jitter (RFC 3550, 6.4.1, in real time)
// over the received streams that were timed in the window.
func (m *meter) jitter() (mean, most time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum float64
	n := 0
	for _, s := range m.streams {
		if s.timed.Load() == 0 {
			continue
		}
		j := time.Duration(s.jitter.Load())
		sum += float64(j)
		most = max(most, j)
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return time.Duration(sum / float64(n)), most
}

// startWindow clears latency and jitter and starts recording them.
func (m *meter) startWindow() {
	m.latency.reset()
	m.mu.Lock()
	for _, s := range m.streams {
		s.timed.Store(0)
	}
	m.mu.Unlock()
	m.measuring.Store(true)
}

func (m *meter) stopWindow() { m.measuring.Store(false) }

// streamMeter follows one received stream. Its fields other than the atomics are owned by
// the stream's reader goroutine.
type streamMeter struct {
	kind        webrtc.RTPCodecType
	lastTransit int64
	jitterF     float64
	jitter      atomic.Int64  // jitterF in nanoseconds, for readers
	timed       atomic.Uint64 // packets timed in the window
}

type meterInterceptor struct {
	interceptor.NoOp
	m *meter
}

// BindLocalStream counts every packet a client sends.
func (i *meterInterceptor) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		i.m.sent.Add(1)
		return w.Write(h, payload, a)
	})
}

// BindRemoteStream times every received packet that carries a stamp.
func (i *meterInterceptor) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	s := &streamMeter{kind: webrtc.RTPCodecTypeAudio}
	if strings.HasPrefix(strings.ToLower(info.MimeType), "video/") {
		s.kind = webrtc.RTPCodecTypeVideo
	}
	i.m.mu.Lock()
	i.m.streams = append(i.m.streams, s)
	i.m.mu.Unlock()
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil && i.m.measuring.Load() {
			i.m.arrived(s, b[:n])
		}
		return n, a, err
	})
}

func (m *meter) arrived(s *streamMeter, pkt []byte) {
	payload, ok := rtpPayload(pkt)
	if !ok {
		return
	}
	off := stampOffset(s.kind, payload)
	if off < 0 || off > len(payload) {
		return
	}
	sent, ok := readStamp(payload[off:])
	if !ok {
		return
	}
	now := m.clk.since()
	transit := now - sent
	m.latency.add(time.Duration(transit))
	if s.timed.Add(1) > 1 {
		d := math.Abs(float64(transit - s.lastTransit))
		s.jitterF += (d - s.jitterF) / 16
		s.jitter.Store(int64(s.jitterF))
	}
	s.lastTransit = transit
}

// rtpPayload returns the payload of a marshalled RTP packet (RFC 3550, 5.1).
func rtpPayload(b []byte) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	n := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < n+4 {
			return nil, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 {
		end -= int(b[end-1])
	}
	if end < n {
		return nil, false
	}
	return b[n:end], true
}

// histogram counts durations in log-linear buckets: exact below 32 µs, then 16 buckets per
// doubling (under 4.5 % apart) up to about 2^40 µs. Adding is one atomic increment.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
}

const (
	histSub     = 16
	histBuckets = 2*histSub + histSub*40
)

func histIndex(us uint64) int {
	if us < 2*histSub {
		return int(us)
	}
	shift := bits.Len64(us) - 5 // keep the top 5 bits: 16..31
	idx := 2*histSub + (shift-1)*histSub + int(us>>shift) - histSub
	return min(idx, histBuckets-1)
}

// histValue is the upper end of bucket idx, in microseconds.
func histValue(idx int) uint64 {
	if idx < 2*histSub {
		return uint64(idx)
	}
	shift := (idx-2*histSub)/histSub + 1
	top := uint64((idx-2*histSub)%histSub + histSub)
	return (top+1)<<shift - 1
}

func (h *histogram) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.buckets[histIndex(us)].Add(1)
}

func (h *histogram) reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
}

// quantiles returns the count and the values at each of qs (0 < q ≤ 1).
func (h *histogram) quantiles(qs ...float64) (uint64, []time.Duration) {
	var counts [histBuckets]uint64
	var total uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	out := make([]time.Duration, len(qs))
	if total == 0 {
		return 0, out
	}
	for qi, q := range qs {
		rank := uint64(math.Ceil(q * float64(total)))
		var cum uint64
		for i, c := range counts {
			cum += c
			if cum >= rank {
				out[qi] = time.Duration(histValue(i)) * time.Microsecond
				break
			}
		}
	}
	return total, out
}
