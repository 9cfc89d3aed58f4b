package app

import (
	"log/slog"
	"time"

	"ringside/internal/analytics"
	"ringside/internal/store"
	"ringside/signaling"
)

// analyticsAdapter lets signaling start talk analyses without importing internal/analytics.
type analyticsAdapter struct{ a *analytics.Analyzer }

func newAnalytics(log *slog.Logger, st *store.Store) analyticsAdapter {
	return analyticsAdapter{analytics.New(analytics.Config{Store: st, Logger: log.With("component", "analytics")})}
}

func (a analyticsAdapter) StartAnalysis(sessionID string, start time.Time) signaling.Analysis {
	return a.a.Start(sessionID, start)
}
