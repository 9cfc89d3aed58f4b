package webhook

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// postgresEnv names the PostgreSQL server the tests use (scripts/test.sh starts one). It must
// allow CREATE DATABASE: each test gets a database of its own.
const postgresEnv = "RINGSIDE_TEST_POSTGRES"

// forEachEngine runs fn on an empty SQLite store and on an empty PostgreSQL one.
func forEachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(store.EngineSQLite, func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "ringside.db")) })
	t.Run(store.EnginePostgres, func(t *testing.T) { fn(t, postgresDSN(t)) })
}

// postgresDSN creates an empty database, dropped when the test ends, and returns its URL. A
// missing server fails the test: a run that never touched PostgreSQL proves nothing about it.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		t.Fatalf("%s is not set: run scripts/test.sh, which starts a throwaway PostgreSQL", postgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	name := "rs_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// openDSN opens a store (inside a synctest bubble, when called there) and closes it when fn
// returns.
func openDSN(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// bubbleClient is an HTTP client for a synctest bubble: no kept-alive connection, whose
// reader goroutine would outlive the bubble.
func bubbleClient() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func closeDispatcher(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func onlyDelivery(t *testing.T, st *store.Store, webhookID string) store.Delivery {
	t.Helper()
	list, err := st.Deliveries(context.Background(), webhookID, 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("delivery log of %s = %+v, %v; want one delivery", webhookID, list, err)
	}
	return list[0]
}

// TestResumeAfterRestart: a delivery answered 503 waits for its retry when the server stops;
// the next server on the same database sends the retry when the backoff ends, not earlier,
// with the same delivery id and a valid signature. Time is synctest's: the minute of backoff
// and the restart take no real time.
func TestResumeAfterRestart(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		synctest.Test(t, func(t *testing.T) {
			st := openDSN(t, dsn)
			defer st.Close()
			hook := subscribe(t, st, rc.URL+"/hooks", EventFeedbackPosted)
			cfg := Config{Store: st, Client: bubbleClient(), BaseBackoff: time.Minute}

			first := New(cfg)
			first.Emit(EventFeedbackPosted, map[string]string{"assignmentId": "a1"})
			synctest.Wait() // the first attempt is answered 503 and the retry is waiting
			failedAt := time.Now()
			dl := onlyDelivery(t, st, hook.ID)
			if dl.Status != store.DeliveryPending || dl.Attempts != 1 || dl.LastCode != http.StatusServiceUnavailable {
				t.Fatalf("after a 503: %+v", dl)
			}
			closeDispatcher(t, first)
			if dl := onlyDelivery(t, st, hook.ID); dl.Status != store.DeliveryPending {
				t.Fatalf("after Close the delivery is %q, want it left pending for the next start", dl.Status)
			}

			time.Sleep(20 * time.Second) // the server is down for a while, within the backoff
			second := New(cfg)
			defer closeDispatcher(t, second)
			// The retry is due a minute (plus up to a quarter of jitter) after the 503.
			time.Sleep(time.Until(failedAt.Add(time.Minute - time.Second)))
			synctest.Wait()
			if n := len(rc.requests()); n != 1 {
				t.Fatalf("%d requests before the backoff ended, want 1", n)
			}
			time.Sleep(16 * time.Second)
			synctest.Wait()
			reqs := rc.requests()
			dl = onlyDelivery(t, st, hook.ID)
			if len(reqs) != 2 || dl.Status != store.DeliveryDelivered || dl.Attempts != 2 || dl.LastCode != http.StatusOK {
				t.Fatalf("after the backoff: %d requests, delivery %+v; want it delivered by the second attempt", len(reqs), dl)
			}
			if sent := dl.DeliveredAt.Sub(failedAt); sent < time.Minute-time.Millisecond || sent > time.Minute+15*time.Second+time.Millisecond {
				t.Errorf("the retry went %v after the 503, want 1 min to 1 min 15 s", sent)
			}
			r := reqs[1]
			if err := Verify(hook.Secret, r.headers.Get(HeaderSignature), r.body, time.Now(), time.Minute); err != nil {
				t.Errorf("resumed attempt: %v", err)
			}
			if r.headers.Get(HeaderDelivery) != dl.ID || r.headers.Get(HeaderDelivery) != reqs[0].headers.Get(HeaderDelivery) ||
				string(r.body) != string(reqs[0].body) {
				t.Errorf("the resumed attempt is not the same delivery: %v %s, first %v %s", r.headers, r.body, reqs[0].headers, reqs[0].body)
			}
		})
	})
}

// seedPending stores n deliveries to hook as a stopped server leaves them: attempts made,
// the last one at last.
func seedPending(t *testing.T, st *store.Store, hook store.Webhook, n, attempts int, last time.Time) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := uuid.NewString()
		err := st.AddDelivery(context.Background(), store.Delivery{ID: id, WebhookID: hook.ID, EventID: uuid.NewString(),
			Event: EventSessionEnded, Payload: `{"n":` + strconv.Itoa(i) + `}`, Attempts: attempts, LastCode: 502,
			LastError: "HTTP 502", CreatedAt: last.Add(-time.Minute), UpdatedAt: last})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestResumedBacklogIsPaced: fifty deliveries long past due are sent soon after a start, but
// fed to the queue one per worker at a time: an 8-job queue never overflows, and an event
// emitted meanwhile is not held behind the backlog.
func TestResumedBacklogIsPaced(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	var order []string
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		mu.Lock()
		order = append(order, r.Header.Get(HeaderEvent))
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		return http.StatusOK
	})
	hook := subscribe(t, st, rc.URL, EventSessionEnded, EventSessionStarted)
	const backlog = 50
	seedPending(t, st, hook, backlog, 2, time.Now().Add(-time.Hour))

	d := newDispatcher(t, Config{Store: st, Workers: 2, QueueSize: 8})
	for deadline := time.Now().Add(5 * time.Second); len(rc.requests()) < 5; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the backlog is not being sent")
		}
	}
	start := time.Now()
	d.Emit(EventSessionStarted, map[string]string{"sessionId": "s"})
	if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
		t.Errorf("Emit took %v during the backlog", elapsed)
	}
	for deadline := time.Now().Add(10 * time.Second); len(rc.requests()) < backlog+1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests arrived", len(rc.requests()), backlog+1)
		}
	}
	if d.Dropped() != 0 {
		t.Errorf("%d jobs dropped; the backlog must not overflow an 8-job queue", d.Dropped())
	}
	mu.Lock()
	at := -1
	for i, e := range order {
		if e == EventSessionStarted {
			at = i
		}
	}
	mu.Unlock()
	if at < 0 || at > 5+4 {
		t.Errorf("the new event was request %d of %d, want it soon after it was emitted (within 4 of the 5th)", at+1, len(order))
	}
	waitAll(t, st, hook.ID, backlog+1, store.DeliveryDelivered)
}

func waitAll(t *testing.T, st *store.Store, webhookID string, n int, status string) []store.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := st.Deliveries(context.Background(), webhookID, 0)
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, dl := range list {
			if dl.Status == status {
				done++
			}
		}
		if len(list) == n && done == n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log of %s = %+v; want %d deliveries %s", webhookID, list, n, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestResumeRespectsMaxAttempts: a delivery whose last attempt was begun but never recorded
// (the server died during it) is not sent again: it is marked failed.
func TestResumeRespectsMaxAttempts(t *testing.T) {
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
	synctest.Test(t, func(t *testing.T) {
		st := openDSN(t, filepath.Join(t.TempDir(), "ringside.db"))
		defer st.Close()
		hook := subscribe(t, st, rc.URL, EventSessionEnded)
		seedPending(t, st, hook, 1, 3, time.Now())
		d := New(Config{Store: st, Client: bubbleClient(), MaxAttempts: 3})
		defer closeDispatcher(t, d)
		time.Sleep(time.Minute)
		synctest.Wait()
		dl := onlyDelivery(t, st, hook.ID)
		if dl.Status != store.DeliveryFailed || dl.Attempts != 3 || dl.LastError != reasonLastAttemptLost || len(rc.requests()) != 0 {
			t.Fatalf("with its attempts used up: %+v, %d requests; want failed and not sent", dl, len(rc.requests()))
		}
	})
}

// TestTwoServersSendEachAttemptOnce: two servers starting on one database both find the same
// pending deliveries; each attempt is claimed in the store, so each is sent once.
func TestTwoServersSendEachAttemptOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		rc := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		t.Cleanup(func() { a.Close(); b.Close() })
		hook := subscribe(t, a, rc.URL, EventSessionEnded)
		const n = 20
		seedPending(t, a, hook, n, 1, time.Now().Add(-time.Hour))
		da, db := New(Config{Store: a}), New(Config{Store: b})
		waitAll(t, a, hook.ID, n, store.DeliveryDelivered)
		closeDispatcher(t, da)
		closeDispatcher(t, db)
		seen := map[string]int{}
		for _, r := range rc.requests() {
			seen[r.headers.Get(HeaderDelivery)]++
		}
		if len(rc.requests()) != n || len(seen) != n {
			t.Fatalf("%d requests for %d deliveries (%v); want each sent once", len(rc.requests()), len(seen), seen)
		}
		for _, dl := range waitAll(t, a, hook.ID, n, store.DeliveryDelivered) {
			if dl.Attempts != 2 {
				t.Errorf("delivery %s: %d attempts, want 2", dl.ID, dl.Attempts)
			}
		}
	})
}

// TestCloseKeepsUnsentWorkForTheNextStart: the only worker is stuck in a receiver that never
// answers while a second event waits in the queue; Close, cut short by its context, leaves
// both as pending deliveries (the interrupted attempt counted), and the next start delivers
// both.
func TestCloseKeepsUnsentWorkForTheNextStart(t *testing.T) {
	st := openStore(t)
	var fixed atomic.Bool
	stuck := newReceiver(t, func(_ int, r *http.Request) int {
		if !fixed.Load() {
			<-r.Context().Done() // never answers: the dispatcher gives up
		}
		return http.StatusOK
	})
	hook := subscribe(t, st, stuck.URL, EventSessionEnded)
	d := New(Config{Store: st, Workers: 1, Timeout: time.Minute})
	d.Emit(EventSessionEnded, map[string]int{"n": 1})
	for deadline := time.Now().Add(5 * time.Second); len(stuck.requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no attempt started")
		}
	}
	d.Emit(EventSessionEnded, map[string]int{"n": 2})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); err == nil {
		t.Fatal("Close reported success with work left")
	}
	list := waitAll(t, st, hook.ID, 2, store.DeliveryPending)
	attempts := map[int]string{}
	for _, dl := range list {
		attempts[dl.Attempts] = dl.LastError
	}
	if len(attempts) != 2 || attempts[1] != "the server stopped during the attempt" || attempts[0] != "" {
		t.Fatalf("after Close: %+v; want the interrupted attempt counted and the queued event stored", list)
	}

	// The receiver is fixed; the next start sends both.
	fixed.Store(true)
	before := len(stuck.requests())
	newDispatcher(t, Config{Store: st, BaseBackoff: time.Millisecond})
	waitAll(t, st, hook.ID, 2, store.DeliveryDelivered)
	if n := len(stuck.requests()) - before; n != 2 {
		t.Fatalf("the next start sent %d requests, want 2", n)
	}
}
