package store

import (
	"context"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		entries := []AuditEntry{
			{ID: "e1", At: at, SessionID: "s1", ActorID: "p-coach", ActorName: "Cleo", Action: "monitor"},
			{ID: "e2", At: at.Add(time.Minute), SessionID: "s1", ActorID: "p-coach", ActorName: "Cleo", Action: "whisper",
				TargetID: "p-rep", TargetName: "Ana"},
			{ID: "e3", At: at.Add(2 * time.Minute), SessionID: "s2", ActorID: "p-c2", ActorName: "Dee", Action: "open"},
		}
		for _, e := range entries {
			if err := s.AddAuditEntry(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		wantErr(t, "no action", s.AddAuditEntry(ctx, AuditEntry{SessionID: "s1"}), ErrInvalid)

		all, err := s.AuditEntries(ctx, AuditFilter{})
		if err != nil || len(all) != 3 || all[0].ID != "e3" {
			t.Fatalf("AuditEntries = %+v, %v", all, err)
		}
		want := entries[1]
		want.At = ms(want.At)
		mustEqual(t, "entry", all[1], want)
		s1, _ := s.AuditEntries(ctx, AuditFilter{SessionID: "s1"})
		before, _ := s.AuditEntries(ctx, AuditFilter{Before: at.Add(time.Minute)})
		limited, _ := s.AuditEntries(ctx, AuditFilter{Limit: 2})
		if len(s1) != 2 || len(before) != 1 || before[0].ID != "e1" || len(limited) != 2 {
			t.Fatalf("filters: session %d before %d limit %d", len(s1), len(before), len(limited))
		}
	})
}
