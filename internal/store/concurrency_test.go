package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

const (
	concurrentWriters = 6
	writesPerWriter   = 25
)

// hammer runs concurrentWriters goroutines that each add participants and markers to sid,
// create sessions (a transaction), set settings and read back, all at once, and returns
// the first error.
func hammer(stores []*Store, sid string, t0 time.Time) error {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, concurrentWriters)
	for w := range concurrentWriters {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range writesPerWriter {
				at := t0.Add(time.Duration(w*writesPerWriter+i) * time.Millisecond)
				p := Participant{SessionID: sid, Role: RoleCoach, Name: fmt.Sprintf("w%d-%d", w, i), JoinedAt: at}
				if err := s.AddParticipant(ctx, p); err != nil {
					errs <- fmt.Errorf("writer %d AddParticipant: %w", w, err)
					return
				}
				if err := s.AddMarker(ctx, Marker{SessionID: sid, Note: p.Name, At: at}); err != nil {
					errs <- fmt.Errorf("writer %d AddMarker: %w", w, err)
					return
				}
				if i%5 == 0 {
					if err := s.CreateSession(ctx, Session{Title: p.Name, CreatedAt: at}, nil); err != nil {
						errs <- fmt.Errorf("writer %d CreateSession: %w", w, err)
						return
					}
					if _, err := s.SetSettingIfAbsent(ctx, "race", p.Name); err != nil {
						errs <- fmt.Errorf("writer %d SetSettingIfAbsent: %w", w, err)
						return
					}
					if _, err := s.Markers(ctx, sid); err != nil {
						errs <- fmt.Errorf("writer %d Markers: %w", w, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// checkHammered verifies that every write of hammer landed.
func checkHammered(t *testing.T, s *Store, sid string) {
	t.Helper()
	ctx := context.Background()
	ps, err := s.Participants(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	markers, err := s.Markers(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := s.ListSessions(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = concurrentWriters * writesPerWriter
	if len(ps) != n || len(markers) != n || len(sessions) != 1+n/5 {
		t.Fatalf("after concurrent writes: %d participants, %d markers, %d sessions; want %d, %d, %d",
			len(ps), len(markers), len(sessions), n, n, 1+n/5)
	}
}

func TestConcurrentWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		t0 := testTime(t, 0)
		sid := uuid.NewString()
		if err := s.CreateSession(context.Background(), Session{ID: sid, CreatedAt: t0}, nil); err != nil {
			t.Fatal(err)
		}
		if err := hammer([]*Store{s}, sid, t0); err != nil {
			t.Fatal(err)
		}
		checkHammered(t, s, sid)
	})
}

// TestConcurrentWritesTwoSQLiteHandles shares one SQLite file between two Stores, as two
// server processes would: their writers meet only in SQLite's file lock, which busy_timeout
// must wait out rather than fail with SQLITE_BUSY.
func TestConcurrentWritesTwoSQLiteHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTest(t, path), openTest(t, path)
	t0 := testTime(t, 0)
	sid := uuid.NewString()
	if err := a.CreateSession(context.Background(), Session{ID: sid, CreatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	if err := hammer([]*Store{a, b}, sid, t0); err != nil {
		t.Fatal(err)
	}
	checkHammered(t, b, sid)
}
