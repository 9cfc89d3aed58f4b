package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Webhook delivery states: pending until an attempt succeeds (delivered) or the attempts are
// exhausted or the receiver refuses (failed); dropped when the delivery queue was full.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryDropped   = "dropped"
)

// Webhook is an integration's subscription: events of the listed types are POSTed to URL,
// signed with Secret.
type Webhook struct {
	ID        string    `db:"id"`
	URL       string    `db:"url"`
	Secret    string    `db:"secret"`
	Events    []string  `db:"-"`
	CreatedBy string    `db:"created_by"`
	CreatedAt time.Time `db:"-"`
}

type webhookRow struct {
	Webhook
	EventList string `db:"events"`
	CreatedMs int64  `db:"created_at"`
}

func (r webhookRow) webhook() Webhook {
	w := r.Webhook
	w.CreatedAt, w.Events = fromMs(r.CreatedMs), []string{}
	if r.EventList != "" {
		w.Events = strings.Split(r.EventList, ",")
	}
	return w
}

const webhookCols = `id, url, secret, events, COALESCE(created_by, '') AS created_by, created_at`

// Delivery is one event sent (or to be sent) to one webhook: the delivery log.
type Delivery struct {
	ID          string     `db:"id"`
	WebhookID   string     `db:"webhook_id"`
	EventID     string     `db:"event_id"` // the same for every webhook the event went to
	Event       string     `db:"event"`
	Payload     string     `db:"payload"` // the JSON body sent
	Status      string     `db:"status"`  // DeliveryPending, DeliveryDelivered, DeliveryFailed or DeliveryDropped
	Attempts    int        `db:"attempts"`
	LastCode    int        `db:"last_code"` // HTTP status of the last attempt; 0 if none came back
	LastError   string     `db:"last_error"`
	CreatedAt   time.Time  `db:"-"`
	UpdatedAt   time.Time  `db:"-"`
	DeliveredAt *time.Time `db:"-"`
}

type deliveryRow struct {
	Delivery
	CreatedMs   int64         `db:"created_at"`
	UpdatedMs   int64         `db:"updated_at"`
	DeliveredMs sql.NullInt64 `db:"delivered_at"`
}

func (r deliveryRow) delivery() Delivery {
	d := r.Delivery
	d.CreatedAt, d.UpdatedAt, d.DeliveredAt = fromMs(r.CreatedMs), fromMs(r.UpdatedMs), fromNullMs(r.DeliveredMs)
	return d
}

const deliveryCols = `id, webhook_id, event_id, event, payload, status, attempts, last_code, last_error, created_at,
	updated_at, delivered_at`

// CreateWebhook stores a subscription. An empty ID is filled with a new UUID and a zero
// CreatedAt with now. Event types may not contain commas.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) error {
	if w.ID == "" {
		w.ID = uuid.NewString()
	}
	if slices.ContainsFunc(w.Events, func(e string) bool { return e == "" || strings.Contains(e, ",") }) {
		return fmt.Errorf("%w: webhook event types must be non-empty and hold no comma", ErrInvalid)
	}
	w.CreatedAt = orNow(w.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO webhooks (id, url, secret, events, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), w.ID, w.URL, w.Secret, strings.Join(w.Events, ","), nullID(w.CreatedBy), toMs(w.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create webhook: %w", mapErr(err))
	}
	return nil
}

// Webhook returns a subscription, or ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	var r webhookRow
	if err := s.db.GetContext(ctx, &r, s.q(`SELECT `+webhookCols+` FROM webhooks WHERE id = ?`), id); err != nil {
		return Webhook{}, fmt.Errorf("store: webhook %q: %w", id, mapErr(err))
	}
	return r.webhook(), nil
}

// ListWebhooks returns every subscription, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var rows []webhookRow
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+webhookCols+` FROM webhooks ORDER BY created_at, id`)); err != nil {
		return nil, fmt.Errorf("store: list webhooks: %w", mapErr(err))
	}
	out := make([]Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.webhook()
	}
	return out, nil
}

// WebhooksFor returns the subscriptions to event, oldest first.
func (s *Store) WebhooksFor(ctx context.Context, event string) ([]Webhook, error) {
	all, err := s.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []Webhook{}
	for _, w := range all {
		if slices.Contains(w.Events, event) {
			out = append(out, w)
		}
	}
	return out, nil
}

// DeleteWebhook deletes a subscription and its delivery log. An unknown one is ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM webhooks WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete webhook %q: %w", id, mapErr(err))
	}
	ok, err := affectedOne(res)
	return notFoundUnless(ok, err, "webhook", id)
}

// AddDelivery records a delivery. An empty ID is filled with a new UUID, an empty Status with
// DeliveryPending and zero times with now. An unknown webhook is ErrNotFound.
func (s *Store) AddDelivery(ctx context.Context, d Delivery) error {
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	if d.Status == "" {
		d.Status = DeliveryPending
	}
	d.CreatedAt = orNow(d.CreatedAt)
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO webhook_deliveries (`+deliveryCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.WebhookID, d.EventID, d.Event, d.Payload, d.Status, d.Attempts, d.LastCode, d.LastError,
		toMs(d.CreatedAt), toMs(d.UpdatedAt), toNullMs(d.DeliveredAt))
	if err != nil {
		return fmt.Errorf("store: add delivery: %w", mapErr(err))
	}
	return nil
}

// UpdateDelivery records the outcome of an attempt: status, attempts, last code and error,
// delivery time, and UpdatedAt (now when zero). An unknown delivery is ErrNotFound.
func (s *Store) UpdateDelivery(ctx context.Context, d Delivery) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET status = ?, attempts = ?, last_code = ?,
		last_error = ?, updated_at = ?, delivered_at = ? WHERE id = ?`),
		d.Status, d.Attempts, d.LastCode, d.LastError, toMs(orNow(d.UpdatedAt)), toNullMs(d.DeliveredAt), d.ID)
	if err != nil {
		return fmt.Errorf("store: update delivery %q: %w", d.ID, mapErr(err))
	}
	ok, err := affectedOne(res)
	return notFoundUnless(ok, err, "delivery", d.ID)
}

// ClaimDeliveryAttempt takes the next attempt of a pending delivery: it counts the attempt
// (Attempts becomes attempts+1, UpdatedAt at) if the delivery is still pending with attempts
// attempts, and reports whether it did. false means someone else took this attempt (another
// server on the same database, or a resumed copy of the same work), or the delivery is done
// or gone: the caller must not send it. The attempt is counted before it is sent, so a crash
// mid-attempt still counts it.
func (s *Store) ClaimDeliveryAttempt(ctx context.Context, id string, attempts int, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND status = ? AND attempts = ?`), toMs(orNow(at)), id, DeliveryPending, attempts)
	if err != nil {
		return false, fmt.Errorf("store: claim delivery %q: %w", id, mapErr(err))
	}
	ok, err := affectedOne(res)
	if err != nil {
		return false, fmt.Errorf("store: claim delivery %q: %w", id, mapErr(err))
	}
	return ok, nil
}

// AbandonDelivery marks a pending delivery failed with reason, if it is still as the caller
// last saw it: pending, with d.Attempts attempts and last updated at d.UpdatedAt (to the
// millisecond). It reports whether it did; false means the delivery moved on meanwhile (an
// attempt elsewhere finished it or took another attempt).
func (s *Store) AbandonDelivery(ctx context.Context, d Delivery, reason string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET status = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status = ? AND attempts = ? AND updated_at = ?`),
		DeliveryFailed, reason, toMs(orNow(at)), d.ID, DeliveryPending, d.Attempts, toMs(d.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("store: abandon delivery %q: %w", d.ID, mapErr(err))
	}
	ok, err := affectedOne(res)
	if err != nil {
		return false, fmt.Errorf("store: abandon delivery %q: %w", d.ID, mapErr(err))
	}
	return ok, nil
}

// PendingDelivery is an undelivered delivery with the URL and secret of its webhook.
type PendingDelivery struct {
	Delivery
	URL    string `db:"url"`
	Secret string `db:"secret"`
}

// PendingDeliveries returns the deliveries still pending (queued or waiting for a retry) that
// were created at or before until, oldest first, with their webhooks' URLs and secrets:
// what a server that stopped left undone.
func (s *Store) PendingDeliveries(ctx context.Context, until time.Time) ([]PendingDelivery, error) {
	var rows []struct {
		deliveryRow
		URL    string `db:"url"`
		Secret string `db:"secret"`
	}
	err := s.db.SelectContext(ctx, &rows, s.q(`SELECT d.id, d.webhook_id, d.event_id, d.event, d.payload, d.status,
		d.attempts, d.last_code, d.last_error, d.created_at, d.updated_at, d.delivered_at, w.url, w.secret
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = ? AND d.created_at <= ? ORDER BY d.created_at, d.id`), DeliveryPending, toMs(until))
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries: %w", mapErr(err))
	}
	out := make([]PendingDelivery, len(rows))
	for i, r := range rows {
		out[i] = PendingDelivery{Delivery: r.delivery(), URL: r.URL, Secret: r.Secret}
	}
	return out, nil
}

// Deliveries returns a webhook's deliveries, newest first, at most limit (<= 0: all).
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error) {
	query, args := `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id`,
		[]any{webhookID}
	if limit > 0 {
		query, args = query+` LIMIT ?`, append(args, limit)
	}
	var rows []deliveryRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: deliveries of %q: %w", webhookID, mapErr(err))
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out, nil
}
