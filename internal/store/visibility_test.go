package store

import (
	"context"
	"errors"
	"testing"
)

func TestSessionsVisibleTo(t *testing.T) {
	ctx := context.Background()
	repsOf := func(_ context.Context, coach string) ([]string, error) {
		if coach == "coach-a" {
			return []string{"rep-a"}, nil
		}
		return nil, nil
	}
	sessions := map[string]Session{
		"rep-a's":               {ID: "1", RepID: "rep-a"},
		"rep-b's":               {ID: "2", RepID: "rep-b"},
		"coach-a's, for no one": {ID: "3", CreatedBy: "coach-a"},
		"coach-b's, for rep-a":  {ID: "4", CreatedBy: "coach-b", RepID: "rep-a"},
		"the admin token's":     {ID: "5"},
	}
	for _, tc := range []struct {
		who          string
		admin, coach bool
		sees         []string
	}{
		{"", false, false, nil},
		{"admin", true, false, []string{"rep-a's", "rep-b's", "coach-a's, for no one", "coach-b's, for rep-a", "the admin token's"}},
		{"rep-a", false, false, []string{"rep-a's", "coach-b's, for rep-a"}},
		{"rep-b", false, false, []string{"rep-b's"}},
		{"coach-a", false, true, []string{"rep-a's", "coach-a's, for no one", "coach-b's, for rep-a"}},
		{"coach-b", false, true, []string{"coach-b's, for rep-a"}},
	} {
		f, err := SessionsVisibleTo(ctx, tc.who, tc.admin, tc.coach, repsOf)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, name := range tc.sees {
			want[name] = true
		}
		for name, s := range sessions {
			if got := f.Matches(s); got != want[name] {
				t.Errorf("%q sees %s: %v, want %v", tc.who, name, got, want[name])
			}
		}
	}
	boom := errors.New("boom")
	if _, err := SessionsVisibleTo(ctx, "coach-a", false, true, func(context.Context, string) ([]string, error) {
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Errorf("a failed lookup of the coach's reps: %v", err)
	}
}
