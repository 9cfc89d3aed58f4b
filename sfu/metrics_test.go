package sfu

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// failingWriter refuses every packet, as a write path that has closed would.
type failingWriter struct{ countingWriter }

func (w *failingWriter) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, errors.New("closed") }

func TestMetricsCountLiveAndEndedTracks(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)

	video := testUpTrack(webrtc.RTPCodecTypeVideo)
	video.metrics = m
	m.started(video)
	d1, _ := boundDown(video, "r1", 1, 96)
	d2, _ := boundDown(video, "r2", 2, 96)
	video.forward(vp8Packet(1, 0, false), time.Now()) // both wait for a keyframe
	for seq := uint16(2); seq <= 4; seq++ {
		video.packets.Add(1)
		video.forward(vp8Packet(seq, 0, true), time.Now())
	}
	d2.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{}, &rtcp.TransportLayerNack{}})

	audio := testUpTrack(webrtc.RTPCodecTypeAudio)
	audio.metrics = m
	m.started(audio)
	bad := newDownTrack(audio, "r1", true)
	bad.bind.Store(&binding{ssrc: 9, pt: 111, write: &failingWriter{}})
	audio.addDown(bad)
	audio.forward(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1}, Payload: []byte{1, 2, 3}}, time.Now())

	want := func(stage string, expect map[string]float64) {
		t.Helper()
		got := gather(t, reg)
		for k, v := range expect {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", stage, k, got[k], v)
			}
		}
	}
	want("live", map[string]float64{
		`ringside_packets_dropped_total{kind="audio",reason="write_error"}`:   1,
		`ringside_packets_dropped_total{kind="video",reason="keyframe_wait"}`: 2,
		`ringside_packets_dropped_total{kind="video",reason="write_error"}`:   0,
		`ringside_packets_forwarded_total{kind="audio"}`:                      0,
		`ringside_packets_forwarded_total{kind="video"}`:                      6,
		`ringside_packets_received_total{kind="video"}`:                       3,
		`ringside_rtcp_feedback_total{kind="video",type="nack"}`:              2,
		`ringside_rtcp_feedback_total{kind="video",type="pli"}`:               0,
		`ringside_tracks{direction="down",kind="audio"}`:                      1,
		`ringside_tracks{direction="down",kind="video"}`:                      2,
		`ringside_tracks{direction="up",kind="audio"}`:                        1,
		`ringside_tracks{direction="up",kind="video"}`:                        1,
	})

	// A removed down-track's counts stay in the totals; so do an ended up-track's.
	video.removeDown(d1)
	video.forward(vp8Packet(5, 0, false), time.Now())
	m.stopped(audio)
	want("after removal and end", map[string]float64{
		`ringside_packets_dropped_total{kind="audio",reason="write_error"}`:   1,
		`ringside_packets_dropped_total{kind="video",reason="keyframe_wait"}`: 2,
		`ringside_packets_forwarded_total{kind="video"}`:                      7,
		`ringside_packets_received_total{kind="video"}`:                       3,
		`ringside_rtcp_feedback_total{kind="video",type="nack"}`:              2,
		`ringside_tracks{direction="down",kind="audio"}`:                      0,
		`ringside_tracks{direction="down",kind="video"}`:                      1,
		`ringside_tracks{direction="up",kind="audio"}`:                        0,
		`ringside_tracks{direction="up",kind="video"}`:                        1,
	})
	m.stopped(audio) // twice: no double count
	if got := m.snapshot()[0].writeErrors; got != 1 {
		t.Errorf("audio write errors after a second stop = %d, want 1", got)
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	up := testUpTrack(webrtc.RTPCodecTypeAudio)
	m.started(up)
	m.stopped(up)
}

func TestHandleRTCPRequestsKeyframes(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo)
	var sent int
	up.writePLI = func(uint32) error { sent++; return nil }
	up.ssrc = 42
	d := newDownTrack(up, "r1", true)
	d.handleRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{}, &rtcp.FullIntraRequest{}, &rtcp.ReceiverReport{}})
	if s := d.counts(); s.plis != 2 || s.nacks != 0 {
		t.Errorf("counts %+v", s)
	}
	if sent != 1 { // the second request falls within pliMinInterval
		t.Errorf("keyframe requests sent = %d, want 1", sent)
	}
	hidden := newDownTrack(up, "r2", false)
	up.lastPLI.Store(0)
	hidden.handleRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{}})
	if sent != 1 {
		t.Errorf("a hidden receiver's PLI reached the publisher")
	}
}

// gather returns every sample of reg as name{label="value",...} → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue()
			if c := m.GetCounter(); c != nil {
				v = c.GetValue()
			}
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}
