package app

import (
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ringside/internal/coachapi"
	"ringside/internal/jsonhttp"
	"ringside/recorder"
)

// newRegistry is the server's Prometheus registry: the Go runtime, the process (CPU seconds,
// resident memory, which `ringside load --metrics-url` reads), and the recorder's counters
// (its failures are signaling's ringside_recording_failures_total). Signaling registers its
// own collectors through signaling.Config.Registerer.
func newRegistry(rec *recorder.Recorder) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if rec != nil {
		reg.MustRegister(recorderCollector{rec})
	}
	return reg
}

// mountObservability serves /metrics and /debug/pprof/ on mux, both only to admins (the admin
// token, or an admin user's API key or sign-in): the profiles show everything the process
// holds, and the metrics how busy it is.
func mountObservability(mux *http.ServeMux, reg *prometheus.Registry, auth *coachapi.Authenticator, log *slog.Logger) {
	mux.Handle("/metrics", adminOnly(auth, log, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	pp := http.NewServeMux()
	pp.HandleFunc("/debug/pprof/", pprof.Index)
	pp.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	pp.HandleFunc("/debug/pprof/profile", pprof.Profile)
	pp.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	pp.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", adminOnly(auth, log, pp))
}

// adminOnly lets only admins through, authenticated the one way the APIs are: no credential
// or a refused one is 401, a user who is not an admin 403.
func adminOnly(auth *coachapi.Authenticator, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		switch {
		case err == nil && p.IsAdmin():
			h.ServeHTTP(w, r)
			return
		case err == nil && p.Role == "":
			err = jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "the admin token, or an admin's API key or sign-in, is required")
		case err == nil:
			err = jsonhttp.Errorf(jsonhttp.ErrForbidden, "only admins see the server's metrics and profiles")
		}
		w.Header().Set("Cache-Control", "no-store")
		ans := jsonhttp.Classify(err, nil)
		if ans.Status >= 500 {
			log.Error("observability request failed", "path", r.URL.Path, "err", err)
		}
		if ans.Status == http.StatusUnauthorized {
			auth.Refused(w, r)
		}
		jsonhttp.WriteError(w, ans)
	})
}

// recorderCollector exports recorder.Stats, read once per scrape.
type recorderCollector struct{ rec *recorder.Recorder }

var (
	recBytesDesc = prometheus.NewDesc("ringside_recording_bytes_total",
		"Bytes of recordings handed to the OS.", nil, nil)
	recDroppedDesc = prometheus.NewDesc("ringside_recording_dropped_packets_total",
		"Packets not recorded: found their queue full, or came after a failure.", nil, nil)
	recLostDesc = prometheus.NewDesc("ringside_recording_lost_packets_total",
		"Packets that never reached the recorder (sequence gaps given up on).", nil, nil)
	recSessionsDesc = prometheus.NewDesc("ringside_recording_sessions",
		"Sessions recording now.", nil, nil)
	recTracksDesc = prometheus.NewDesc("ringside_recording_tracks",
		"Tracks recording now.", nil, nil)
)

func (recorderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{recBytesDesc, recDroppedDesc, recLostDesc, recSessionsDesc, recTracksDesc} {
		ch <- d
	}
}

func (c recorderCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.rec.Stats()
	ch <- prometheus.MustNewConstMetric(recBytesDesc, prometheus.CounterValue, float64(s.BytesWritten))
	ch <- prometheus.MustNewConstMetric(recDroppedDesc, prometheus.CounterValue, float64(s.DroppedPackets))
	ch <- prometheus.MustNewConstMetric(recLostDesc, prometheus.CounterValue, float64(s.LostPackets))
	ch <- prometheus.MustNewConstMetric(recSessionsDesc, prometheus.GaugeValue, float64(s.Sessions))
	ch <- prometheus.MustNewConstMetric(recTracksDesc, prometheus.GaugeValue, float64(s.Tracks))
}
