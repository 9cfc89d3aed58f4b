package coaching

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// Scheduler timing: it sleeps until the next due time it knows of, but at most maxIdle (other
// servers on the same database may create assignments it was not told of), and retryAfter
// after a failure.
const (
	maxIdle    = time.Hour
	retryAfter = time.Minute
)

// AssignmentOverdue is the data of an assignment.overdue event.
type AssignmentOverdue struct {
	AssignmentID string    `json:"assignmentId"`
	RepID        string    `json:"repId"`
	ScenarioID   string    `json:"scenarioId"`
	DueAt        time.Time `json:"dueAt"`
}

// poke wakes the scheduler to look at a new assignment's due time.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RunScheduler runs the scheduler until ctx is done: at each assignment's due time it
// announces the assignment as overdue if it was not submitted, and creates the next instance
// of a recurring one. Several servers may run it on one database: each action happens once.
func (s *Service) RunScheduler(ctx context.Context) {
	for {
		wait := maxIdle
		next, err := s.Tick(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("coaching scheduler", "err", err)
			wait = retryAfter
		case next != nil:
			wait = min(max(next.Sub(s.now()), 0), maxIdle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Tick does what is due now: next instances of recurring assignments and overdue notices. It
// returns the next due time it will have to act at, or nil if none is known.
func (s *Service) Tick(ctx context.Context) (*time.Time, error) {
	now := s.now()
	due, err := s.store.RecurringDue(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("coaching: recurring assignments: %w", err)
	}
	for _, prev := range due {
		period := periods[prev.Recurrence]
		if period <= 0 {
			continue
		}
		// The next instance is due one period after this one; a server that was down for
		// several periods skips the ones whose time has passed instead of piling them up.
		next := prev.DueAt.Add(period)
		for !next.After(now) {
			next = next.Add(period)
		}
		a := store.Assignment{
			ID: uuid.NewString(), SeriesID: prev.SeriesID, ScenarioID: prev.ScenarioID, RepID: prev.RepID,
			AssignedBy: prev.AssignedBy, Mode: prev.Mode, Recurrence: prev.Recurrence,
			State: store.AssignmentAssigned, DueAt: next, CreatedAt: now,
		}
		created, err := s.store.CreateNextAssignment(ctx, prev.ID, a)
		if err != nil {
			return nil, fmt.Errorf("coaching: next assignment after %s: %w", prev.ID, err)
		}
		if created {
			s.log.Info("recurring assignment created", "assignment", a.ID, "series", a.SeriesID, "due", a.DueAt)
		}
	}
	overdue, err := s.store.OverdueToNotify(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("coaching: overdue assignments: %w", err)
	}
	for _, a := range overdue {
		first, err := s.store.MarkOverdueNotified(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("coaching: overdue assignment %s: %w", a.ID, err)
		}
		if first {
			s.emit(EventAssignmentOverdue, AssignmentOverdue{AssignmentID: a.ID, RepID: a.RepID, ScenarioID: a.ScenarioID, DueAt: a.DueAt})
		}
	}
	next, err := s.store.NextScheduled(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("coaching: next due time: %w", err)
	}
	return next, nil
}
