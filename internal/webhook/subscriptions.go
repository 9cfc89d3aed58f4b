package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// Event types an integration may subscribe to.
const (
	EventSessionStarted    = "session.started"
	EventSessionEnded      = "session.ended"
	EventRecordingReady    = "recording.ready"
	EventFeedbackPosted    = "feedback.posted"
	EventAssignmentOverdue = "assignment.overdue"
)

// Events returns every event type, in a fixed order.
func Events() []string {
	return []string{EventSessionStarted, EventSessionEnded, EventRecordingReady, EventFeedbackPosted, EventAssignmentOverdue}
}

// ErrInvalid is a subscription that breaks a rule; its message says which.
var ErrInvalid = errors.New("webhook: invalid subscription")

// maxURLLen bounds a webhook's URL.
const maxURLLen = 2000

// Subscribe stores a subscription of url to events and returns it with its new secret, the
// HMAC key of its signatures (kept in the store: signing needs it).
func Subscribe(ctx context.Context, st *store.Store, rawURL string, events []string, createdBy string, now time.Time) (store.Webhook, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > maxURLLen:
		return store.Webhook{}, fmt.Errorf("%w: url must be an http:// or https:// URL of at most %d characters", ErrInvalid, maxURLLen)
	case u.User != nil:
		return store.Webhook{}, fmt.Errorf("%w: url must not carry credentials; verify the signature instead", ErrInvalid)
	case len(events) == 0:
		return store.Webhook{}, fmt.Errorf("%w: events must name at least one of %s", ErrInvalid, strings.Join(Events(), ", "))
	}
	var list []string
	for _, e := range events {
		if !slices.Contains(Events(), e) {
			return store.Webhook{}, fmt.Errorf("%w: unknown event %q; one of %s", ErrInvalid, e, strings.Join(Events(), ", "))
		}
		if !slices.Contains(list, e) {
			list = append(list, e)
		}
	}
	token, _, err := store.NewToken()
	if err != nil {
		return store.Webhook{}, fmt.Errorf("webhook: secret: %w", err)
	}
	w := store.Webhook{ID: uuid.NewString(), URL: u.String(), Secret: "whsec_" + token, Events: list, CreatedBy: createdBy, CreatedAt: now}
	if err := st.CreateWebhook(ctx, w); err != nil {
		return store.Webhook{}, fmt.Errorf("webhook: subscribe: %w", err)
	}
	return st.Webhook(ctx, w.ID)
}
