package app

import (
	"context"
	"log/slog"
	"time"

	"ringside/internal/audit"
	"ringside/internal/coaching"
	"ringside/internal/webhook"
	"ringside/signaling"
)

// auditTimeout bounds one audit write, or one hand-in, made from the goroutine that reports.
const auditTimeout = 5 * time.Second

// observer turns what the live plane reports into audit entries and webhook events, and hands
// in the live assignment whose call ended.
type observer struct {
	audit    *audit.Trail
	hooks    *webhook.Dispatcher
	coaching *coaching.Service
	log      *slog.Logger
}

func (o observer) SessionStarted(id string, at time.Time) {
	o.hooks.Emit(webhook.EventSessionStarted, map[string]any{"sessionId": id, "at": at.UTC()})
}

func (o observer) SessionEnded(id string, at time.Time) {
	o.hooks.Emit(webhook.EventSessionEnded, map[string]any{"sessionId": id, "at": at.UTC()})
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	if err := o.coaching.HandInLive(ctx, id); err != nil {
		o.log.Warn("live assignment not handed in as its call ended", "session", id, "err", err)
	}
}

func (o observer) RecordingReady(id string, at time.Time) {
	o.hooks.Emit(webhook.EventRecordingReady, map[string]any{"sessionId": id, "at": at.UTC()})
}

func (o observer) CoachActed(a signaling.CoachAction) {
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	err := o.audit.Log(ctx, audit.Entry{
		At: a.At, SessionID: a.SessionID, ActorID: a.CoachID, ActorName: a.CoachName,
		Action: a.Action, TargetID: a.TargetID, TargetName: a.TargetName,
	})
	if err != nil {
		o.log.Warn("audit entry not stored", "session", a.SessionID, "action", a.Action, "err", err)
	}
}
