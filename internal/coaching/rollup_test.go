package coaching

import (
	"testing"

	"ringside/internal/store"
)

func TestNormalise(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		value *int
		want  float64
		ok    bool
	}{
		{store.CriterionRating, ptr(1), 0, true},
		{store.CriterionRating, ptr(2), 25, true},
		{store.CriterionRating, ptr(3), 50, true},
		{store.CriterionRating, ptr(5), 100, true},
		{store.CriterionYesNo, ptr(1), 100, true},
		{store.CriterionYesNo, ptr(0), 0, true},
		{store.CriterionRating, nil, 0, false},
		{store.CriterionComment, ptr(1), 0, false},
		{"unknown", ptr(3), 0, false},
	} {
		if got, ok := Normalise(tc.kind, tc.value); got != tc.want || ok != tc.ok {
			t.Errorf("Normalise(%s, %v) = %v, %v; want %v, %v", tc.kind, tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRollup(t *testing.T) {
	card := store.Scorecard{ID: "card", Criteria: []store.Criterion{
		{ID: "q", Label: "Questions", Kind: store.CriterionRating, Weight: 3},
		{ID: "n", Label: "Next step", Kind: store.CriterionYesNo, Weight: 1},
		{ID: "c", Label: "Notes", Kind: store.CriterionComment},
		{ID: "z", Label: "Weightless", Kind: store.CriterionRating, Weight: 0},
	}}
	score := func(rep string, ratings ...store.Rating) store.Score {
		return store.Score{ScorecardID: "card", RepID: rep, Ratings: ratings}
	}
	r := func(id string, v *int) store.Rating { return store.Rating{CriterionID: id, Value: v} }
	got := Rollup(card, []store.Score{
		// Ana: questions 5 then 2 → 100, 25 → 62.5; next step yes, no → 50.
		// Overall (62.5·3 + 50·1) / 4 = 59.375 → 59.4. The weightless one does not count.
		score("ana", r("q", ptr(5)), r("n", ptr(1)), store.Rating{CriterionID: "c", Comment: "good"}, r("z", ptr(1))),
		score("ana", r("q", ptr(2)), r("n", ptr(0))),
		// Ben: only questions, 3 → 50; overall 50 (next step never rated, so not weighed).
		score("ben", r("q", ptr(3))),
		// Cleo: only a comment: no overall.
		score("cleo", store.Rating{CriterionID: "c", Comment: "absent"}),
		// Another scorecard's score is ignored.
		{ScorecardID: "other", RepID: "dan", Ratings: []store.Rating{r("q", ptr(5))}},
	})
	if len(got) != 3 || got[0].RepID != "ana" || got[1].RepID != "ben" || got[2].RepID != "cleo" {
		t.Fatalf("reps = %+v", got)
	}
	ana := got[0]
	if ana.Scores != 2 || *ana.Overall != 59.4 || len(ana.Criteria) != 3 {
		t.Fatalf("ana = %+v (overall %v)", ana, *ana.Overall)
	}
	if c := ana.Criteria[0]; c.CriterionID != "q" || *c.Average != 62.5 || c.Ratings != 2 || c.Weight != 3 {
		t.Fatalf("ana questions = %+v", c)
	}
	if c := ana.Criteria[1]; *c.Average != 50 || c.Ratings != 2 {
		t.Fatalf("ana next step = %+v", c)
	}
	if ben := got[1]; *ben.Overall != 50 || ben.Criteria[1].Average != nil || ben.Criteria[1].Ratings != 0 {
		t.Fatalf("ben = %+v", ben)
	}
	if cleo := got[2]; cleo.Overall != nil || cleo.Scores != 1 {
		t.Fatalf("cleo = %+v", cleo)
	}
	if out := Rollup(card, nil); len(out) != 0 || out == nil {
		t.Fatalf("no scores: %#v", out)
	}
}
