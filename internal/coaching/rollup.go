package coaching

import (
	"math"
	"slices"

	"ringside/internal/store"
)

// RepRollup is how one rep scores on one scorecard, over all their scores on it.
type RepRollup struct {
	RepID  string
	Scores int // how many scores were given
	// Overall is the weighted average of the criteria's averages, 0 to 100; nil when no
	// weighted criterion was ever rated.
	Overall  *float64
	Criteria []CriterionRollup // in the scorecard's order, comment criteria left out
}

// CriterionRollup is a rep's average on one criterion.
type CriterionRollup struct {
	CriterionID string
	Label       string
	Weight      int
	Ratings     int      // how many scores rated it
	Average     *float64 // 0 to 100; nil when never rated
}

// Normalise maps a rating to 0-100: a 1-5 rating linearly (1 → 0, 3 → 50, 5 → 100), yes/no
// to 100 or 0. ok is false for a comment or a missing value, which do not count.
func Normalise(kind string, value *int) (score float64, ok bool) {
	if value == nil {
		return 0, false
	}
	switch kind {
	case store.CriterionRating:
		return float64(*value-1) * 25, true
	case store.CriterionYesNo:
		return float64(*value) * 100, true
	}
	return 0, false
}

// Rollup rolls scores up per rep and criterion. Each criterion's average is the mean of its
// normalised ratings; a rep's overall score is the average of those, weighted by the
// criteria's weights, over the criteria rated at least once. Values are rounded to 0.1. Reps
// come out sorted by id.
func Rollup(card store.Scorecard, scores []store.Score) []RepRollup {
	type acc struct {
		sum float64
		n   int
	}
	kinds := map[string]string{}
	for _, c := range card.Criteria {
		kinds[c.ID] = c.Kind
	}
	perRep := map[string]map[string]*acc{}
	counts := map[string]int{}
	for _, sc := range scores {
		if sc.ScorecardID != card.ID {
			continue
		}
		counts[sc.RepID]++
		if perRep[sc.RepID] == nil {
			perRep[sc.RepID] = map[string]*acc{}
		}
		for _, r := range sc.Ratings {
			v, ok := Normalise(kinds[r.CriterionID], r.Value)
			if !ok {
				continue
			}
			a := perRep[sc.RepID][r.CriterionID]
			if a == nil {
				a = &acc{}
				perRep[sc.RepID][r.CriterionID] = a
			}
			a.sum, a.n = a.sum+v, a.n+1
		}
	}
	reps := make([]string, 0, len(counts))
	for rep := range counts {
		reps = append(reps, rep)
	}
	slices.Sort(reps)
	out := make([]RepRollup, 0, len(reps))
	for _, rep := range reps {
		r := RepRollup{RepID: rep, Scores: counts[rep], Criteria: []CriterionRollup{}}
		var weighted, weights float64
		for _, c := range card.Criteria {
			if c.Kind == store.CriterionComment {
				continue
			}
			cr := CriterionRollup{CriterionID: c.ID, Label: c.Label, Weight: c.Weight}
			if a := perRep[rep][c.ID]; a != nil && a.n > 0 {
				avg := a.sum / float64(a.n)
				cr.Ratings, cr.Average = a.n, ptr(round1(avg))
				weighted += avg * float64(c.Weight)
				weights += float64(c.Weight)
			}
			r.Criteria = append(r.Criteria, cr)
		}
		if weights > 0 {
			r.Overall = ptr(round1(weighted / weights))
		}
		out = append(out, r)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func ptr[T any](v T) *T { return &v }
