package sfu

import (
	"sync"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the media plane's Prometheus collector. It costs the packet path nothing: an
// up-track registers when its reader starts and unregisters when it ends, and a scrape walks
// the live up-tracks and their down-tracks, reading the atomic counters their reader
// goroutine keeps anyway, plus what ended tracks had counted. No lock and no shared counter
// is touched per packet.
//
// Set it as Config.Metrics and register it with a prometheus.Registerer. A nil *Metrics
// counts nothing.
type Metrics struct {
	mu    sync.Mutex // guards the following fields; taken before any UpTrack.mu
	ups   map[*UpTrack]struct{}
	ended [kinds]trackCounts // what up-tracks that ended had counted
}

// kinds indexes counters by media kind: audio 0, video 1.
const kinds = 2

func kindIndex(k webrtc.RTPCodecType) int {
	if k == webrtc.RTPCodecTypeVideo {
		return 1
	}
	return 0
}

var kindLabels = [kinds]string{"audio", "video"}

// trackCounts are the counters of up-tracks and their down-tracks, summed.
type trackCounts struct {
	upTracks, downTracks      int // live ones only
	received, receivedBytes   uint64
	receivedDirect            uint64 // of received, taken off the socket by the direct receiver
	forwarded, forwardedBytes uint64
	forwardedDirect           uint64 // of forwarded, sent by the direct sender
	keyframeWait, writeErrors uint64
	keyframeRequests          uint64 // PLIs sent to publishers
	nacks, plis               uint64 // NACKs and PLI/FIR received from receivers
}

func (c *trackCounts) add(o trackCounts) {
	c.upTracks += o.upTracks
	c.downTracks += o.downTracks
	c.received += o.received
	c.receivedBytes += o.receivedBytes
	c.receivedDirect += o.receivedDirect
	c.forwarded += o.forwarded
	c.forwardedBytes += o.forwardedBytes
	c.forwardedDirect += o.forwardedDirect
	c.keyframeWait += o.keyframeWait
	c.writeErrors += o.writeErrors
	c.keyframeRequests += o.keyframeRequests
	c.nacks += o.nacks
	c.plis += o.plis
}

func (c *trackCounts) addDown(d downCounts) {
	c.forwarded += d.packets
	c.forwardedBytes += d.bytes
	c.forwardedDirect += d.direct
	c.keyframeWait += d.keyframeWait
	c.writeErrors += d.writeErrors
	c.nacks += d.nacks
	c.plis += d.plis
}

// NewMetrics returns an empty collector.
func NewMetrics() *Metrics {
	return &Metrics{ups: map[*UpTrack]struct{}{}}
}

func (m *Metrics) started(t *UpTrack) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.ups[t] = struct{}{}
	m.mu.Unlock()
}

// stopped folds an ended up-track's counts into the totals. Down-tracks removed from it later
// fold into the track itself, which no scrape reads any more: they have nothing to add, since
// no packet is forwarded once the reader has stopped.
func (m *Metrics) stopped(t *UpTrack) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ups[t]; !ok {
		return
	}
	delete(m.ups, t)
	c := t.counts()
	c.upTracks, c.downTracks = 0, 0
	m.ended[kindIndex(t.kind)].add(c)
}

// snapshot sums the live tracks and the ended ones.
func (m *Metrics) snapshot() [kinds]trackCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.ended
	for t := range m.ups {
		out[kindIndex(t.kind)].add(t.counts())
	}
	return out
}

var (
	upTracksDesc = prometheus.NewDesc("ringside_tracks",
		"Live tracks: published (direction up) and forwarded to a receiver (down).", []string{"direction", "kind"}, nil)
	receivedDesc = prometheus.NewDesc("ringside_packets_received_total",
		"RTP packets read from publishers.", []string{"kind"}, nil)
	receivedBytesDesc = prometheus.NewDesc("ringside_bytes_received_total",
		"RTP bytes (headers included) read from publishers.", []string{"kind"}, nil)
	receivedDirectDesc = prometheus.NewDesc("ringside_packets_received_direct_total",
		"Of the RTP packets read from publishers, those the direct receiver took off the socket; the rest came through Pion's stack.",
		[]string{"kind"}, nil)
	forwardedDesc = prometheus.NewDesc("ringside_packets_forwarded_total",
		"RTP packets written to receivers.", []string{"kind"}, nil)
	forwardedDirectDesc = prometheus.NewDesc("ringside_packets_forwarded_direct_total",
		"Of the RTP packets written to receivers, those the direct sender sent; the rest went through Pion's stack.",
		[]string{"kind"}, nil)
	forwardedBytesDesc = prometheus.NewDesc("ringside_bytes_forwarded_total",
		"RTP bytes (headers included) written to receivers.", []string{"kind"}, nil)
	droppedDesc = prometheus.NewDesc("ringside_packets_dropped_total",
		"Packets not forwarded to a receiver: held back until its first keyframe, or refused by the write path.",
		[]string{"kind", "reason"}, nil)
	keyframeRequestsDesc = prometheus.NewDesc("ringside_keyframe_requests_total",
		"Keyframe requests (PLI) sent to publishers.", []string{"kind"}, nil)
	rtcpFeedbackDesc = prometheus.NewDesc("ringside_rtcp_feedback_total",
		"NACKs and keyframe requests (PLI, FIR) received from receivers.", []string{"kind", "type"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{upTracksDesc, receivedDesc, receivedBytesDesc, receivedDirectDesc, forwardedDesc, forwardedDirectDesc,
		forwardedBytesDesc, droppedDesc, keyframeRequestsDesc, rtcpFeedbackDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	all := m.snapshot()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for i, c := range all {
		kind := kindLabels[i]
		ch <- prometheus.MustNewConstMetric(upTracksDesc, prometheus.GaugeValue, float64(c.upTracks), "up", kind)
		ch <- prometheus.MustNewConstMetric(upTracksDesc, prometheus.GaugeValue, float64(c.downTracks), "down", kind)
		counter(receivedDesc, c.received, kind)
		counter(receivedBytesDesc, c.receivedBytes, kind)
		counter(receivedDirectDesc, c.receivedDirect, kind)
		counter(forwardedDesc, c.forwarded, kind)
		counter(forwardedBytesDesc, c.forwardedBytes, kind)
		counter(forwardedDirectDesc, c.forwardedDirect, kind)
		counter(droppedDesc, c.keyframeWait, kind, "keyframe_wait")
		counter(droppedDesc, c.writeErrors, kind, "write_error")
		counter(keyframeRequestsDesc, c.keyframeRequests, kind)
		counter(rtcpFeedbackDesc, c.nacks, kind, "nack")
		counter(rtcpFeedbackDesc, c.plis, kind, "pli")
	}
}
