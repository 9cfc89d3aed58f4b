package webhook

import (
	"cmp"
	"slices"
	"time"

	"ringside/internal/store"
)

// resumeWait is a delivery left pending by an earlier run, and when to act on it.
type resumeWait struct {
	at      time.Time
	pending store.PendingDelivery
	giveUp  bool // its last attempt was begun and never recorded: mark it failed, do not send
}

// reasonLastAttemptLost is the logged error of a delivery whose last attempt was cut short.
const reasonLastAttemptLost = "the server stopped during the last attempt"

// resume continues the retry schedule of the deliveries an earlier run left pending (queued,
// or waiting for a retry, when it stopped). Each is sent when its backoff would have ended:
// its last attempt's time plus the backoff of its attempt count, or at once if it was never
// attempted. Those whose time has passed go out soon, but at most one per worker at a time
// (the resume slots), so a backlog never floods the queue, crowds out new events or blocks
// anyone; once sent, a resumed delivery follows the usual retries. Owned by its goroutine; it
// returns when the backlog is fed or Close begins (the rest stays pending for the next start).
func (d *Dispatcher) resume() {
	list, err := d.store.PendingDeliveries(d.ctx, d.started)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Error("webhook deliveries left pending are not resumed", "err", err)
		}
		return
	}
	if len(list) == 0 {
		return
	}
	waits := make([]resumeWait, 0, len(list))
	for _, p := range list {
		w := resumeWait{at: p.UpdatedAt, pending: p}
		switch {
		case p.Attempts >= d.maxAttempts:
			// Wait until an attempt begun elsewhere would have ended; AbandonDelivery then
			// changes nothing if it recorded its outcome.
			w.at, w.giveUp = p.UpdatedAt.Add(d.timeout+time.Second), true
		case p.Attempts > 0:
			w.at = p.UpdatedAt.Add(d.backoff(p.Attempts))
		}
		waits = append(waits, w)
	}
	slices.SortStableFunc(waits, func(a, b resumeWait) int { return cmp.Compare(a.at.UnixNano(), b.at.UnixNano()) })
	d.log.Info("resuming webhook deliveries left pending", "deliveries", len(waits),
		"first_due", waits[0].at, "last_due", waits[len(waits)-1].at)

	for _, w := range waits {
		if !d.sleepUntil(w.at) {
			return
		}
		if w.giveUp {
			d.giveUp(w.pending.Delivery)
			continue
		}
		select {
		case d.slots <- struct{}{}:
		case <-d.stopping:
			return
		}
		dl := w.pending.Delivery
		d.push(job{delivery: &dl, url: w.pending.URL, secret: w.pending.Secret, release: func() { <-d.slots }})
	}
}

// sleepUntil waits until at, and reports false if Close began first.
func (d *Dispatcher) sleepUntil(at time.Time) bool {
	wait := at.Sub(d.now())
	if wait <= 0 {
		select {
		case <-d.stopping:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.stopping:
		return false
	}
}

// giveUp records as failed a delivery whose attempts are used up, the last one begun by a run
// that stopped before recording its outcome.
func (d *Dispatcher) giveUp(dl store.Delivery) {
	ok, err := d.store.AbandonDelivery(d.ctx, dl, reasonLastAttemptLost, d.now())
	switch {
	case err != nil:
		d.log.Warn("webhook delivery log", "delivery", dl.ID, "err", err)
	case ok:
		d.log.Warn("webhook delivery failed", "delivery", dl.ID, "event", dl.Event, "attempts", dl.Attempts, "last", reasonLastAttemptLost)
	}
}
