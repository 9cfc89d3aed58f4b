package audit

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"ringside/internal/store"
)

func newTrail(t *testing.T) *Trail {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ringside.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	return New(st, nil, func() time.Time { return at })
}

func TestLog(t *testing.T) {
	tr := newTrail(t)
	ctx := t.Context()
	for _, e := range []Entry{
		{SessionID: "s1", ActorID: "p-coach", ActorName: "Cleo", Action: ActionMonitor},
		{SessionID: "s1", ActorID: "p-coach", ActorName: "Cleo", Action: ActionWhisper, TargetID: "p-rep", TargetName: "Ana",
			At: time.Date(2026, 3, 4, 10, 1, 0, 0, time.UTC)},
	} {
		if err := tr.Log(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []Entry{{SessionID: "s1", ActorID: "p", Action: "dance"}, {ActorID: "p", Action: ActionOpen}, {SessionID: "s", Action: ActionOpen}} {
		if err := tr.Log(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Log(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	list, err := tr.Entries(ctx, store.AuditFilter{SessionID: "s1"})
	if err != nil || len(list) != 2 {
		t.Fatalf("Entries = %+v, %v", list, err)
	}
	if list[0].Action != ActionWhisper || list[0].TargetName != "Ana" || !list[1].At.Equal(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("entries (newest first, zero At is now) = %+v", list)
	}
}

func TestDisclosure(t *testing.T) {
	tr := newTrail(t)
	ctx := t.Context()
	if d, err := tr.Disclosure(ctx); err != nil || d.Enabled || d.Text != "" {
		t.Fatalf("default = %+v, %v; want off", d, err)
	}
	d, err := tr.SetDisclosure(ctx, Disclosure{Enabled: true})
	if err != nil || d.Text != DefaultBanner {
		t.Fatalf("enabled without text = %+v, %v", d, err)
	}
	if _, err := tr.SetDisclosure(ctx, Disclosure{Enabled: true, Text: string(make([]rune, 501))}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a long banner: %v", err)
	}
	if _, err := tr.SetDisclosure(ctx, Disclosure{Enabled: true, Text: "  Calls may be observed by your coach. "}); err != nil {
		t.Fatal(err)
	}
	if d, _ := tr.Disclosure(ctx); !d.Enabled || d.Text != "Calls may be observed by your coach." {
		t.Fatalf("stored = %+v", d)
	}
}
