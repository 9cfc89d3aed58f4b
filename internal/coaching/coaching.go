// Package coaching owns the coaching cadence: scenarios (role-play briefs), scorecards of
// weighted criteria and the scores coaches give, assignments of a scenario to reps with a due
// date and an optional recurrence, the call of a live assignment (set up, and handed in when it
// ends), the review queue, and the scheduler that creates the next instance of a recurring
// assignment and announces overdue ones.
//
// Every method takes the calling people.Principal and enforces who may see and do what, with
// people's visibility rule and error kinds. It knows no HTTP (internal/coachapi is its edge);
// it announces events through the Emitter seam (internal/webhook) and stores everything
// through internal/store.
package coaching

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"ringside/internal/people"
	"ringside/internal/store"
)

// Event types that coaching emits. internal/webhook delivers them.
const (
	EventFeedbackPosted    = "feedback.posted"
	EventAssignmentOverdue = "assignment.overdue"
	// EventSessionEnded is emitted for a solo pitch's session, ended when it is handed in
	// (the live plane emits it for calls).
	EventSessionEnded = "session.ended"
)

// Emitter receives events for integrations. Emit must not block: it is called on request
// paths and from the scheduler.
type Emitter interface {
	Emit(event string, data any)
}

// Config configures a Service.
type Config struct {
	Store  *store.Store
	People *people.Service
	// Events receives feedback.posted, assignment.overdue and a solo pitch's session.ended
	// (nil: nobody).
	Events Emitter
	Logger *slog.Logger
	// Now returns the current time (default: the people service's clock).
	Now func() time.Time
	// InviteTTL is how long the links of a live assignment's call stay valid (default
	// DefaultInviteTTL).
	InviteTTL time.Duration
}

// Service is the coaching domain. It is safe for concurrent use; its fields are immutable
// after New.
type Service struct {
	store  *store.Store
	people *people.Service
	events Emitter
	log    *slog.Logger
	now    func() time.Time
	// inviteTTL is how long a live call's links stay valid.
	inviteTTL time.Duration
	// wake tells the scheduler that an assignment was created (capacity 1: one pending poke
	// is enough).
	wake chan struct{}
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		store:     cfg.Store,
		people:    cfg.People,
		events:    cfg.Events,
		log:       cfg.Logger,
		now:       cfg.Now,
		inviteTTL: cfg.InviteTTL,
		wake:      make(chan struct{}, 1),
	}
	if s.inviteTTL <= 0 {
		s.inviteTTL = DefaultInviteTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = cfg.People.Now
	}
	return s
}

func (s *Service) emit(event string, data any) {
	if s.events != nil {
		s.events.Emit(event, data)
	}
}

// Error helpers in people's kinds, with client-safe messages.
func forbidden(format string, args ...any) error {
	return people.Errorf(people.ErrForbidden, format, args...)
}

func notFound(format string, args ...any) error {
	return people.Errorf(people.ErrNotFound, format, args...)
}

func invalid(format string, args ...any) error {
	return people.Errorf(people.ErrInvalid, format, args...)
}

func conflict(format string, args ...any) error {
	return people.Errorf(people.ErrConflict, format, args...)
}

// storeErr wraps a store failure, turning its ErrNotFound into a client-safe one about what.
func storeErr(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no %s with this id", what)
	}
	return fmt.Errorf("coaching: %s: %w", what, err)
}

// requireCoach fails unless p is a coach or an admin.
func requireCoach(p people.Principal, what string) error {
	if p.IsAdmin() || p.IsCoach() {
		return nil
	}
	return forbidden("only coaches and admins %s", what)
}
