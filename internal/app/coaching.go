package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"ringside/internal/audit"
	"ringside/internal/coachapi"
	"ringside/internal/coaching"
	"ringside/internal/httpapi"
	"ringside/internal/people"
	"ringside/internal/store"
	"ringside/internal/webhook"
)

// coachingParts are people and sign-in, coaching, webhooks and the audit log, their API
// handler, and the background work they run (the assignment scheduler, webhook workers).
// All fields are immutable after startCoaching.
type coachingParts struct {
	people   *people.Service
	coaching *coaching.Service
	webhooks *webhook.Dispatcher
	audit    *audit.Trail
	auth     *coachapi.Authenticator // shared with the session API
	handler  http.Handler
	stop     context.CancelFunc // stops the scheduler
	done     chan struct{}      // closed when the scheduler has returned
}

// startCoaching builds the coaching parts on st and starts their background work.
func startCoaching(log *slog.Logger, st *store.Store, publicURL string, inviteTTL time.Duration, adminHash func() string) *coachingParts {
	c := &coachingParts{done: make(chan struct{})}
	c.people = people.New(people.Config{Store: st, AdminTokenHash: adminHash, Logger: log.With("component", "people")})
	c.webhooks = webhook.New(webhook.Config{Store: st, Logger: log.With("component", "webhook")})
	c.coaching = coaching.New(coaching.Config{Store: st, People: c.people, Events: c.webhooks, Logger: log.With("component", "coaching"),
		InviteTTL: inviteTTL})
	c.audit = audit.New(st, log.With("component", "audit"), nil)
	c.auth = coachapi.NewAuthenticator(c.people, publicURL)
	c.handler = coachapi.New(coachapi.Config{
		Store: st, People: c.people, Coaching: c.coaching, Audit: c.audit, PublicURL: publicURL,
		Logger: log.With("component", "coachapi"), Auth: c.auth,
	})
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go func() {
		defer close(c.done)
		c.coaching.RunScheduler(ctx)
	}()
	return c
}

// sessionAuth hands the session API the coaching API's authenticator, so that both accept the
// same credentials: it only converts people's principal into the session API's caller.
type sessionAuth struct {
	auth   *coachapi.Authenticator
	people *people.Service
}

func (s sessionAuth) Authenticate(r *http.Request) (httpapi.Caller, error) {
	p, err := s.auth.Authenticate(r)
	if err != nil {
		return httpapi.Caller{}, err
	}
	return httpapi.Caller{UserID: p.UserID, Name: p.DisplayName(), Role: p.Role}, nil
}

func (s sessionAuth) Refused(w http.ResponseWriter, r *http.Request) { s.auth.Refused(w, r) }

func (s sessionAuth) RepsOf(ctx context.Context, coachID string) ([]string, error) {
	return s.people.RepsOf(ctx, coachID)
}

// sessionAuth is the session API's view of the coaching parts' authenticator.
func (c *coachingParts) sessionAuth() httpapi.Auth {
	return sessionAuth{auth: c.auth, people: c.people}
}

// mount serves the coaching API at its prefixes, which are more specific than /api/.
func (c *coachingParts) mount(mux *http.ServeMux) {
	for _, p := range coachapi.Prefixes() {
		mux.Handle(p, c.handler)
	}
}

// close stops the scheduler and the webhook workers; call it before closing the store.
func (c *coachingParts) close(ctx context.Context) error {
	c.stop()
	var err error
	select {
	case <-c.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return errors.Join(err, c.webhooks.Close(ctx))
}

// Audit is the audit log: signaling records coaches' monitoring through Audit().Log.
func (a *App) Audit() *audit.Trail { return a.coach.audit }

// Webhooks delivers events to integrations: the live plane emits session.started,
// session.ended and recording.ready through Webhooks().Emit.
func (a *App) Webhooks() *webhook.Dispatcher { return a.coach.webhooks }
