package signaling

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the signaling layer's Prometheus collectors.
type metrics struct {
	sessions     prometheus.Gauge
	participants *prometheus.GaugeVec
	wsErrors     *prometheus.CounterVec
	// recordingFailures counts recordings stopped by a failure.
	recordingFailures prometheus.Counter
	// joins is the time from a join message to its welcome being queued.
	joins prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ringside_live_sessions", Help: "Sessions with at least one participant.",
		}),
		participants: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringside_participants", Help: "Participants in live sessions, by role.",
		}, []string{"role"}),
		wsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringside_websocket_errors_total", Help: "Errors sent to signaling clients, by code.",
		}, []string{"code"}),
		joins: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ringside_join_duration_seconds", Help: "Time from a join message to its welcome (invite check, store, PeerConnections).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		recordingFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringside_recording_failures_total", Help: "Recordings stopped by a failure (disk full, slow disk, I/O error).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sessions, m.participants, m.wsErrors, m.recordingFailures, m.joins} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("signaling: metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) wsError(code string)           { m.wsErrors.WithLabelValues(code).Inc() }
func (m *metrics) participantJoined(role string) { m.participants.WithLabelValues(role).Inc() }
func (m *metrics) participantLeft(role string)   { m.participants.WithLabelValues(role).Dec() }
