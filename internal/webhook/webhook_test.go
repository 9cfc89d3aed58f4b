package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ringside/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// receiver is an httptest server on 127.0.0.1 that answers each request with the status its
// answer func gives for the request's number (1, 2, …) and records what it got.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

type received struct {
	at      time.Time
	body    []byte
	headers http.Header
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{at: time.Now(), body: body, headers: r.Header.Clone()})
		n := len(rc.got)
		rc.mu.Unlock()
		w.WriteHeader(answer(n, r))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func newDispatcher(t *testing.T, cfg Config) *Dispatcher {
	t.Helper()
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = 50 * time.Millisecond
	}
	d := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

func subscribe(t *testing.T, st *store.Store, url string, events ...string) store.Webhook {
	t.Helper()
	w, err := Subscribe(t.Context(), st, url, events, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// waitDelivery polls the delivery log of a webhook until its one delivery reaches status.
func waitDelivery(t *testing.T, st *store.Store, webhookID, status string) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := st.Deliveries(t.Context(), webhookID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].Status == status {
			return list[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log of %s = %+v; want one delivery %s", webhookID, list, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	sig := Sign("s3cret", now, body)
	if sig[:13] != "t=1700000000," {
		t.Fatalf("signature %q", sig)
	}
	if err := Verify("s3cret", sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for name, tc := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"tampered body":   {"s3cret", sig, []byte(`{"a":2}`), now},
		"wrong secret":    {"other", sig, body, now},
		"replayed later":  {"s3cret", sig, body, now.Add(10 * time.Minute)},
		"malformed":       {"s3cret", "v1=abc", body, now},
		"empty signature": {"s3cret", "t=1700000000,v1=", body, now},
	} {
		if err := Verify(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestSubscribeRules(t *testing.T) {
	st := openStore(t)
	for _, tc := range []struct {
		url    string
		events []string
	}{
		{"ftp://example.com", []string{EventSessionEnded}},
		{"http://", []string{EventSessionEnded}},
		{"https://user:pw@example.com/h", []string{EventSessionEnded}},
		{"https://example.com/h", nil},
		{"https://example.com/h", []string{"session.exploded"}},
	} {
		if _, err := Subscribe(t.Context(), st, tc.url, tc.events, "", time.Now()); err == nil {
			t.Errorf("Subscribe(%q, %v) accepted", tc.url, tc.events)
		}
	}
	w := subscribe(t, st, "https://example.com/h", EventSessionEnded, EventSessionEnded, EventFeedbackPosted)
	if len(w.Events) != 2 || len(w.Secret) < 40 {
		t.Fatalf("webhook = %+v", w)
	}
}

// TestDeliveriesAreSignedAndRetriedWithBackoff: a receiver that fails twice with 5xx gets the
// same signed delivery three times, each retry waiting about twice as long as the last.
func TestDeliveriesAreSignedAndRetriedWithBackoff(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return []int{http.StatusInternalServerError, http.StatusBadGateway}[n-1]
		}
		return http.StatusNoContent
	})
	idle := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
	hook := subscribe(t, st, rc.URL+"/hooks/ringside", EventFeedbackPosted)
	other := subscribe(t, st, idle.URL, EventSessionStarted)
	d := newDispatcher(t, Config{Store: st})

	d.Emit(EventFeedbackPosted, map[string]any{"assignmentId": "a1", "timeToFeedbackMs": 7200000})
	dl := waitDelivery(t, st, hook.ID, store.DeliveryDelivered)
	if dl.Attempts != 3 || dl.LastCode != http.StatusNoContent || dl.LastError != "" || dl.DeliveredAt == nil {
		t.Fatalf("delivery log = %+v", dl)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if err := Verify(hook.Secret, r.headers.Get(HeaderSignature), r.body, time.Now(), time.Minute); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
		if r.headers.Get(HeaderEvent) != EventFeedbackPosted || r.headers.Get(HeaderDelivery) != dl.ID ||
			r.headers.Get("Content-Type") != "application/json" {
			t.Errorf("attempt %d headers: %v", i+1, r.headers)
		}
		var env Envelope
		if err := json.Unmarshal(r.body, &env); err != nil || env.Type != EventFeedbackPosted || env.ID != dl.EventID ||
			string(env.Data) != `{"assignmentId":"a1","timeToFeedbackMs":7200000}` {
			t.Errorf("attempt %d body %s: %+v, %v", i+1, r.body, env, err)
		}
	}
	first, second := reqs[1].at.Sub(reqs[0].at), reqs[2].at.Sub(reqs[1].at)
	if first < 50*time.Millisecond || second < 100*time.Millisecond {
		t.Fatalf("retry gaps %v then %v; want at least 50ms then 100ms (exponential backoff)", first, second)
	}
	if n := len(idle.requests()); n != 0 {
		t.Fatalf("a webhook subscribed to another event got %d requests", n)
	}
	if list, _ := st.Deliveries(t.Context(), other.ID, 0); len(list) != 0 {
		t.Fatalf("deliveries for an unsubscribed event: %+v", list)
	}
}

func TestRefusedDeliveryIsNotRetried(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusBadRequest })
	hook := subscribe(t, st, rc.URL, EventSessionEnded)
	d := newDispatcher(t, Config{Store: st})
	d.Emit(EventSessionEnded, map[string]string{"sessionId": "s"})
	dl := waitDelivery(t, st, hook.ID, store.DeliveryFailed)
	time.Sleep(200 * time.Millisecond) // longer than any retry would wait
	if dl.Attempts != 1 || dl.LastCode != http.StatusBadRequest || len(rc.requests()) != 1 {
		t.Fatalf("a 400 was retried: %+v, %d requests", dl, len(rc.requests()))
	}
}

func TestTimeoutIsRetriedAndAttemptsAreBounded(t *testing.T) {
	st := openStore(t)
	slow := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			<-r.Context().Done() // hold the first attempt past the dispatcher's timeout
		}
		return http.StatusOK
	})
	failing := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	slowHook := subscribe(t, st, slow.URL, EventRecordingReady)
	failingHook := subscribe(t, st, failing.URL, EventRecordingReady)
	d := newDispatcher(t, Config{Store: st, Timeout: 100 * time.Millisecond, MaxAttempts: 3, BaseBackoff: 20 * time.Millisecond})
	d.Emit(EventRecordingReady, map[string]string{"sessionId": "s"})

	if dl := waitDelivery(t, st, slowHook.ID, store.DeliveryDelivered); dl.Attempts != 2 {
		t.Fatalf("after a timeout: %+v", dl)
	}
	dl := waitDelivery(t, st, failingHook.ID, store.DeliveryFailed)
	if dl.Attempts != 3 || dl.LastCode != http.StatusServiceUnavailable || len(failing.requests()) != 3 {
		t.Fatalf("always 503: %+v after %d requests; want 3 attempts", dl, len(failing.requests()))
	}
}

// TestEmitNeverBlocks: with the receiver stuck and the queue full, Emit still returns at
// once; the oldest queued work is dropped and counted.
func TestEmitNeverBlocks(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	})
	subscribe(t, st, rc.URL, EventSessionStarted)
	d := newDispatcher(t, Config{Store: st, QueueSize: 8, Workers: 1, Timeout: 5 * time.Second})
	defer close(release)

	d.Emit(EventSessionStarted, map[string]int{"n": -1})
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // until the only worker is stuck in the receiver
	}
	start := time.Now()
	const n = 2000
	for i := range n {
		d.Emit(EventSessionStarted, map[string]int{"n": i})
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("%d Emit calls took %v with the receiver stuck", n, elapsed)
	}
	if dropped := d.Dropped(); dropped < n-8 {
		t.Fatalf("dropped %d, want at least %d (queue of 8)", dropped, n-8)
	}
}

// TestCloseLeavesRetriesPending: a retry waiting for its time when the server stops stays
// pending in the store, for the next start to resume (resume_test.go); nothing is sent at
// Close.
func TestCloseLeavesRetriesPending(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	hook := subscribe(t, st, rc.URL, EventAssignmentOverdue)
	d := New(Config{Store: st, BaseBackoff: time.Hour})
	d.Emit(EventAssignmentOverdue, map[string]string{"assignmentId": "a"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, _ := st.Deliveries(t.Context(), hook.ID, 0)
		if len(list) == 1 && list[0].Attempts == 1 && list[0].LastCode != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no first attempt: %+v", list)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	list, _ := st.Deliveries(t.Context(), hook.ID, 0)
	if len(list) != 1 || list[0].Status != store.DeliveryPending || list[0].Attempts != 1 || len(rc.requests()) != 1 {
		t.Fatalf("after Close: %+v, %d requests; want one pending delivery after one attempt", list, len(rc.requests()))
	}
	d.Emit(EventAssignmentOverdue, nil) // after Close: dropped, no panic
}

// TestCloseDeliversQueuedWork: an event emitted just before shutdown (session.ended, as the
// server stops) still reaches its receiver.
func TestCloseDeliversQueuedWork(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
	hook := subscribe(t, st, rc.URL, EventSessionEnded)
	d := New(Config{Store: st})
	for i := range 5 {
		d.Emit(EventSessionEnded, map[string]int{"n": i})
	}
	if err := d.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	list, _ := st.Deliveries(t.Context(), hook.ID, 0)
	if len(rc.requests()) != 5 || len(list) != 5 {
		t.Fatalf("after Close: %d requests, %d deliveries; want all 5", len(rc.requests()), len(list))
	}
	for _, dl := range list {
		if dl.Status != store.DeliveryDelivered {
			t.Fatalf("delivery %+v", dl)
		}
	}
}

// TestCloseIsBoundedByItsContext: a receiver that never answers holds Close only until its
// context ends.
func TestCloseIsBoundedByItsContext(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	})
	subscribe(t, st, rc.URL, EventSessionEnded)
	d := New(Config{Store: st, Timeout: time.Minute})
	d.Emit(EventSessionEnded, nil)
	for deadline := time.Now().Add(5 * time.Second); len(rc.requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no attempt started")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := d.Close(ctx); err == nil {
		t.Fatal("Close reported success with an attempt cut short")
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Close took %v with a 200ms context", elapsed)
	}
}
