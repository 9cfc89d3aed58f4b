// Package webhook delivers Ringside's events to integrations: each event is POSTed as JSON to
// every webhook subscribed to its type, signed with HMAC-SHA256 (see Sign), retried with
// exponential backoff on 5xx, 429, timeouts and network errors, and logged per delivery in the
// store.
//
// Emit never blocks its caller: events go into a bounded in-memory queue that a few workers
// drain; a full queue drops its oldest entry, loudly. Each delivery is written to the store
// before its first attempt and every attempt is claimed there before it is sent, so that
// deliveries left pending when a server stops are resumed by the next one (see resume.go),
// and two servers on one database never send the same attempt twice. The package knows
// nothing of where events come from (signaling, the recorder, coaching); it stores through
// internal/store.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// Defaults of Config's zero values.
const (
	DefaultQueueSize   = 1000
	DefaultWorkers     = 2
	DefaultMaxAttempts = 6 // the first try and five retries: about 31 s of backoff
	DefaultBaseBackoff = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultTimeout     = 10 * time.Second
)

// maxResponseBytes is how much of a receiver's answer is read (and discarded).
const maxResponseBytes = 64 << 10

// Config configures a Dispatcher.
type Config struct {
	Store *store.Store
	// Client sends the deliveries (default: one that follows no redirects). Each attempt is
	// bounded by Timeout whatever the client's own timeout.
	Client      *http.Client
	QueueSize   int           // default DefaultQueueSize
	Workers     int           // default DefaultWorkers
	MaxAttempts int           // default DefaultMaxAttempts
	BaseBackoff time.Duration // wait before the first retry, doubled for each next (default 1 s)
	MaxBackoff  time.Duration // the longest wait between attempts (default 5 min)
	Timeout     time.Duration // of one attempt (default 10 s)
	Logger      *slog.Logger
	Now         func() time.Time // default time.Now
}

// Envelope is the JSON body of every delivery.
type Envelope struct {
	ID        string          `json:"id"` // the event's id, the same for every webhook
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// job is one unit of work: an event to fan out to its webhooks, or one attempt of a delivery.
type job struct {
	event    *Envelope       // set for a fan-out
	delivery *store.Delivery // set for an attempt, as last stored
	url      string          // of the delivery's webhook
	secret   string
	release  func() // set for a resumed attempt: frees its resume slot once done or dropped
}

// Dispatcher queues and delivers events. Its configuration fields are immutable after New.
type Dispatcher struct {
	store       *store.Store
	client      *http.Client
	size        int
	maxAttempts int
	base, cap   time.Duration
	timeout     time.Duration
	log         *slog.Logger
	now         func() time.Time

	started time.Time // deliveries created until then may be a previous run's, to resume

	ctx      context.Context // cancelled by Close: aborts attempts in flight
	cancel   context.CancelFunc
	notify   chan struct{} // a job was queued (capacity 1)
	stopping chan struct{} // closed when Close begins: resuming stops
	stop     chan struct{} // closed by Close: the workers return
	slots    chan struct{} // one per resumed attempt queued or running (capacity: the workers)
	wg       sync.WaitGroup
	drops    atomic.Int64

	mu       sync.Mutex // guards the following fields
	queue    []job
	busy     int              // workers running a job
	dropped  []store.Delivery // deliveries whose queued attempt was dropped, to log as such
	timers   map[*time.Timer]job
	draining bool // Close has begun: no more retries are scheduled
	closed   bool // the workers are told to stop
}

// New starts a Dispatcher's workers, and resumes in the background the deliveries that an
// earlier run left pending in the store (it does not wait for that). Stop it with Close.
func New(cfg Config) *Dispatcher {
	d := &Dispatcher{
		store:       cfg.Store,
		client:      cfg.Client,
		size:        cfg.QueueSize,
		maxAttempts: cfg.MaxAttempts,
		base:        cfg.BaseBackoff,
		cap:         cfg.MaxBackoff,
		timeout:     cfg.Timeout,
		log:         cfg.Logger,
		now:         cfg.Now,
		notify:      make(chan struct{}, 1),
		stopping:    make(chan struct{}),
		stop:        make(chan struct{}),
		timers:      map[*time.Timer]job{},
	}
	if d.client == nil {
		d.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	d.size = positive(d.size, DefaultQueueSize)
	d.maxAttempts = positive(d.maxAttempts, DefaultMaxAttempts)
	d.base = positive(d.base, DefaultBaseBackoff)
	d.cap = positive(d.cap, DefaultMaxBackoff)
	d.timeout = positive(d.timeout, DefaultTimeout)
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.started = d.now()
	d.ctx, d.cancel = context.WithCancel(context.Background())
	workers := positive(cfg.Workers, DefaultWorkers)
	d.slots = make(chan struct{}, workers)
	for range workers {
		d.wg.Go(d.work)
	}
	d.wg.Go(d.resume)
	return d
}

func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Emit queues an event of type event with data (marshalled to JSON) for every webhook
// subscribed to it. It never blocks: when the queue is full the oldest queued work is dropped
// and logged.
func (d *Dispatcher) Emit(event string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		d.log.Error("webhook event not sent: its data does not marshal", "event", event, "err", err)
		return
	}
	d.push(job{event: &Envelope{ID: uuid.NewString(), Type: event, CreatedAt: d.now().UTC().Truncate(time.Millisecond), Data: raw}})
}

// Dropped reports how many queued jobs were dropped because the queue was full.
func (d *Dispatcher) Dropped() int64 { return d.drops.Load() }

func (d *Dispatcher) push(j job) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.log.Warn("webhook work after shutdown dropped", "event", j.eventType())
		j.done()
		return
	}
	var lost *job
	if len(d.queue) >= d.size {
		lost = &d.queue[0]
		d.queue = d.queue[1:]
		if lost.delivery != nil && len(d.dropped) < d.size {
			d.dropped = append(d.dropped, *lost.delivery)
		}
	}
	d.queue = append(d.queue, j)
	d.mu.Unlock()
	if lost != nil {
		lost.done()
		// One line per hundred drops: under a flood, logging must not become what blocks.
		if n := d.drops.Add(1); n == 1 || n%100 == 0 {
			d.log.Warn("webhook queue full: oldest work dropped", "event", lost.eventType(), "queue", d.size, "dropped_total", n)
		}
	}
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// done frees what the job holds once it has run or been dropped.
func (j job) done() {
	if j.release != nil {
		j.release()
	}
}

func (j job) eventType() string {
	if j.event != nil {
		return j.event.Type
	}
	return j.delivery.Event
}

// pop returns the next job, waiting for one; ok is false once the dispatcher is closed.
func (d *Dispatcher) pop() (j job, dropped []store.Delivery, ok bool) {
	for {
		d.mu.Lock()
		dropped, d.dropped = d.dropped, nil
		if len(d.queue) > 0 && !d.closed {
			j, d.queue = d.queue[0], d.queue[1:]
			d.busy++
			more := len(d.queue) > 0
			d.mu.Unlock()
			if more { // let another worker take the next one
				select {
				case d.notify <- struct{}{}:
				default:
				}
			}
			return j, dropped, true
		}
		closed := d.closed
		d.mu.Unlock()
		d.markDropped(dropped)
		if closed {
			return job{}, nil, false
		}
		select {
		case <-d.notify:
		case <-d.stop:
		}
	}
}

func (d *Dispatcher) work() {
	for {
		j, dropped, ok := d.pop()
		if !ok {
			return
		}
		d.markDropped(dropped)
		if j.event != nil {
			d.fanOut(*j.event)
		} else {
			d.attempt(j)
		}
		j.done()
		d.mu.Lock()
		d.busy--
		d.mu.Unlock()
	}
}

func (d *Dispatcher) markDropped(list []store.Delivery) {
	for _, dl := range list {
		dl.Status, dl.LastError, dl.UpdatedAt = store.DeliveryDropped, "the delivery queue was full", d.now()
		if err := d.store.UpdateDelivery(d.ctx, dl); err != nil {
			d.log.Warn("webhook delivery log", "delivery", dl.ID, "err", err)
		}
	}
}

// fanOut records one delivery per subscribed webhook and queues its first attempt.
func (d *Dispatcher) fanOut(ev Envelope) {
	for _, j := range d.record(d.ctx, ev) {
		d.push(j)
	}
}

// record writes one pending delivery of ev per subscribed webhook, and returns their first
// attempts. Once written, a delivery is never lost: if this run does not send it, the next
// one resumes it.
func (d *Dispatcher) record(ctx context.Context, ev Envelope) []job {
	hooks, err := d.store.WebhooksFor(ctx, ev.Type)
	if err != nil {
		d.log.Error("webhook subscriptions", "event", ev.Type, "err", err)
		return nil
	}
	if len(hooks) == 0 {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		d.log.Error("webhook envelope", "event", ev.Type, "err", err)
		return nil
	}
	var jobs []job
	for _, h := range hooks {
		now := d.now()
		dl := store.Delivery{ID: uuid.NewString(), WebhookID: h.ID, EventID: ev.ID, Event: ev.Type, Payload: string(body),
			Status: store.DeliveryPending, CreatedAt: now, UpdatedAt: now}
		if err := d.store.AddDelivery(ctx, dl); err != nil {
			d.log.Error("webhook delivery log", "webhook", h.ID, "event", ev.Type, "err", err)
			continue
		}
		jobs = append(jobs, job{delivery: &dl, url: h.URL, secret: h.Secret})
	}
	return jobs
}

// attempt claims the delivery's next attempt in the store, sends it and records the outcome;
// a retryable failure schedules the next attempt after a backoff.
func (d *Dispatcher) attempt(j job) {
	dl := *j.delivery
	j.release = nil
	claimed, err := d.store.ClaimDeliveryAttempt(d.ctx, dl.ID, dl.Attempts, d.now())
	switch {
	case err != nil:
		if d.ctx.Err() == nil {
			d.log.Warn("webhook attempt not claimed; retrying later", "delivery", dl.ID, "err", err)
			d.retryLater(j, d.backoff(max(dl.Attempts, 1)))
		}
		return
	case !claimed:
		// Another server (or a resumed copy of this work) took this attempt, or the delivery
		// is finished or its webhook deleted.
		d.log.Debug("webhook attempt taken elsewhere", "delivery", dl.ID, "attempts", dl.Attempts)
		return
	}
	dl.Attempts++
	code, err := d.send(j.url, j.secret, dl)
	dl.LastCode, dl.LastError, dl.UpdatedAt = code, "", d.now()
	if err != nil {
		dl.LastError = err.Error()
	}
	if err != nil && d.ctx.Err() != nil {
		// Close cut the attempt short: the delivery stays pending for the next start, which
		// counts this attempt (it may have reached the receiver).
		dl.LastError = "the server stopped during the attempt"
		ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), storeGrace)
		defer cancel()
		if err := d.store.UpdateDelivery(ctx, dl); err != nil {
			d.log.Warn("webhook delivery log", "delivery", dl.ID, "err", err)
		}
		return
	}
	retry := false
	switch {
	case err == nil && code >= 200 && code < 300:
		dl.Status = store.DeliveryDelivered
		at := dl.UpdatedAt
		dl.DeliveredAt = &at
	case err != nil || code >= 500 || code == http.StatusTooManyRequests:
		retry = dl.Attempts < d.maxAttempts
		dl.Status = store.DeliveryFailed
		if retry {
			dl.Status = store.DeliveryPending
		}
	default:
		dl.Status = store.DeliveryFailed // the receiver refused it: retrying would not help
	}
	if dl.LastError == "" && dl.Status != store.DeliveryDelivered {
		dl.LastError = fmt.Sprintf("HTTP %d", code)
	}
	if err := d.store.UpdateDelivery(d.ctx, dl); err != nil {
		d.log.Warn("webhook delivery log", "delivery", dl.ID, "err", err)
	}
	if !retry {
		if dl.Status == store.DeliveryFailed {
			d.log.Warn("webhook delivery failed", "delivery", dl.ID, "event", dl.Event, "attempts", dl.Attempts, "last", dl.LastError)
		}
		return
	}
	d.retryLater(job{delivery: &dl, url: j.url, secret: j.secret}, d.backoff(dl.Attempts))
}

// send POSTs one attempt; code is 0 when no response came back.
func (d *Dispatcher) send(url, secret string, dl store.Delivery) (code int, err error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	body := []byte(dl.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ringside-Webhook/1")
	req.Header.Set(HeaderEvent, dl.Event)
	req.Header.Set(HeaderDelivery, dl.ID)
	req.Header.Set(HeaderSignature, Sign(secret, d.now(), body))
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, fmt.Errorf("timed out after %s", d.timeout)
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	return resp.StatusCode, nil
}

// backoff is the wait before attempt n+1: base·2^(n-1), at most the cap, plus up to a quarter
// of random jitter so that many failed deliveries do not retry in lockstep.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	wait := d.base
	for i := 1; i < attempts && wait < d.cap; i++ {
		wait *= 2
	}
	wait = min(wait, d.cap)
	return wait + rand.N(wait/4+1)
}

func (d *Dispatcher) retryLater(j job, wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.draining {
		// The delivery is stored as pending: the next start resumes it.
		return
	}
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		d.mu.Lock()
		_, live := d.timers[t]
		delete(d.timers, t)
		d.mu.Unlock()
		if live {
			d.push(j)
		}
	})
	d.timers[t] = j
}

// storeGrace bounds the store writes Close makes after its context is done, so that what
// is left undone is stored as pending rather than lost.
const storeGrace = 2 * time.Second

// Close stops the dispatcher. Retries waiting for their time stay pending in the store, and
// resuming stops; the next start resumes them. Work already queued (first attempts, such as
// a session.ended emitted while the server stops) is still delivered until ctx is done; then
// attempts in flight are aborted, and whatever is left stays pending in the store (events not
// yet fanned out are written as pending deliveries first), for the next start. Call it before
// closing the store.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.draining {
		d.mu.Unlock()
		return nil
	}
	d.draining = true
	close(d.stopping)
	retries := len(d.timers)
	for t := range d.timers {
		// A timer that fired already finds itself gone from the map and pushes nothing.
		t.Stop()
		delete(d.timers, t)
	}
	d.mu.Unlock()
	if retries > 0 {
		d.log.Info("webhook retries left pending for the next start", "deliveries", retries)
	}

	var err error
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !d.idle() && err == nil {
		select {
		case <-ctx.Done():
			err = fmt.Errorf("webhook: close: %w", ctx.Err())
		case <-tick.C:
		}
	}
	d.mu.Lock()
	d.closed = true
	left := d.queue
	d.queue = nil
	close(d.stop)
	d.mu.Unlock()
	d.cancel() // aborts attempts still in flight
	d.wg.Wait()
	if len(left) > 0 {
		d.keep(ctx, left)
	}
	return err
}

// keep stores the events among left as pending deliveries, so that the next start sends
// them; left's attempts are stored as pending already.
func (d *Dispatcher) keep(ctx context.Context, left []job) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	events := 0
	for _, j := range left {
		if j.event != nil {
			events++
			d.record(sctx, *j.event)
		}
	}
	d.log.Warn("webhook work left for the next start", "attempts", len(left)-events, "events", events)
}

// idle reports whether no work is queued or running.
func (d *Dispatcher) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) == 0 && d.busy == 0
}
