package coaching

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/people"
	"ringside/internal/store"
)

// Bounds of a scenario's and a scorecard's text.
const (
	maxTitleRunes     = 200
	maxBriefRunes     = 4000
	maxObjections     = 20
	maxObjectionRunes = 500
	maxCriteria       = 30
	maxWeight         = 100
)

// ScenarioInput is a new scenario.
type ScenarioInput struct {
	Title         string
	Persona       string   // the buyer the partner plays
	Objections    []string // what the buyer pushes back with
	GoodLooksLike string   // what a good call does
	ScorecardID   string   // "" for none
}

// ScenarioPatch is a change to a scenario; nil fields stay as they are.
type ScenarioPatch struct {
	Title, Persona, GoodLooksLike, ScorecardID *string
	Objections                                 *[]string
}

// CreateScenario stores a scenario. Coaches and admins create them.
func (s *Service) CreateScenario(ctx context.Context, p people.Principal, in ScenarioInput) (store.Scenario, error) {
	if err := requireCoach(p, "create scenarios"); err != nil {
		return store.Scenario{}, err
	}
	now := s.now()
	sc := store.Scenario{ID: uuid.NewString(), CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	if err := s.fillScenario(ctx, &sc, in); err != nil {
		return store.Scenario{}, err
	}
	if err := s.store.CreateScenario(ctx, sc); err != nil {
		return store.Scenario{}, storeErr(err, "scorecard")
	}
	return s.store.Scenario(ctx, sc.ID)
}

func (s *Service) fillScenario(ctx context.Context, sc *store.Scenario, in ScenarioInput) error {
	sc.Title = strings.TrimSpace(in.Title)
	sc.Persona, sc.GoodLooksLike = strings.TrimSpace(in.Persona), strings.TrimSpace(in.GoodLooksLike)
	switch {
	case sc.Title == "":
		return invalid("title is required")
	case utf8.RuneCountInString(sc.Title) > maxTitleRunes:
		return invalid("title is longer than %d characters", maxTitleRunes)
	case utf8.RuneCountInString(sc.Persona) > maxBriefRunes:
		return invalid("persona is longer than %d characters", maxBriefRunes)
	case utf8.RuneCountInString(sc.GoodLooksLike) > maxBriefRunes:
		return invalid("goodLooksLike is longer than %d characters", maxBriefRunes)
	case len(in.Objections) > maxObjections:
		return invalid("at most %d objections", maxObjections)
	}
	sc.Objections = make([]string, 0, len(in.Objections))
	for i, o := range in.Objections {
		o = strings.TrimSpace(o)
		if o == "" || utf8.RuneCountInString(o) > maxObjectionRunes {
			return invalid("objections[%d] must be 1 to %d characters", i, maxObjectionRunes)
		}
		sc.Objections = append(sc.Objections, o)
	}
	sc.ScorecardID = in.ScorecardID
	if sc.ScorecardID != "" {
		if _, err := s.store.Scorecard(ctx, sc.ScorecardID); err != nil {
			return storeErr(err, "scorecard")
		}
	}
	return nil
}

// UpdateScenario changes a scenario. Its creator and admins may.
func (s *Service) UpdateScenario(ctx context.Context, p people.Principal, id string, patch ScenarioPatch) (store.Scenario, error) {
	sc, err := s.Scenario(ctx, p, id)
	if err != nil {
		return store.Scenario{}, err
	}
	if !p.IsAdmin() && (!p.IsCoach() || sc.CreatedBy != p.UserID) {
		return store.Scenario{}, forbidden("only the scenario's author and admins change it")
	}
	in := ScenarioInput{Title: sc.Title, Persona: sc.Persona, Objections: sc.Objections, GoodLooksLike: sc.GoodLooksLike, ScorecardID: sc.ScorecardID}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&in.Title, patch.Title)
	set(&in.Persona, patch.Persona)
	set(&in.GoodLooksLike, patch.GoodLooksLike)
	set(&in.ScorecardID, patch.ScorecardID)
	if patch.Objections != nil {
		in.Objections = *patch.Objections
	}
	if err := s.fillScenario(ctx, &sc, in); err != nil {
		return store.Scenario{}, err
	}
	sc.UpdatedAt = s.now()
	if err := s.store.UpdateScenario(ctx, sc); err != nil {
		return store.Scenario{}, storeErr(err, "scenario")
	}
	return s.store.Scenario(ctx, id)
}

// Scenarios returns the scenarios p may see: all for coaches and admins, those assigned to
// them for a rep.
func (s *Service) Scenarios(ctx context.Context, p people.Principal) ([]store.Scenario, error) {
	ids, err := s.repScenarioIDs(ctx, p)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListScenarios(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("coaching: scenarios: %w", err)
	}
	return list, nil
}

// Scenario returns a scenario p may see; any other is ErrNotFound.
func (s *Service) Scenario(ctx context.Context, p people.Principal, id string) (store.Scenario, error) {
	ids, err := s.repScenarioIDs(ctx, p)
	if err != nil {
		return store.Scenario{}, err
	}
	if ids != nil && !slices.Contains(ids, id) {
		return store.Scenario{}, notFound("no scenario with this id")
	}
	sc, err := s.store.Scenario(ctx, id)
	if err != nil {
		return store.Scenario{}, storeErr(err, "scenario")
	}
	return sc, nil
}

// repScenarioIDs returns nil (every scenario) for coaches and admins, and the scenarios
// assigned to a rep.
func (s *Service) repScenarioIDs(ctx context.Context, p people.Principal) ([]string, error) {
	if p.IsAdmin() || p.IsCoach() {
		return nil, nil
	}
	ids, err := s.store.AssignedScenarioIDs(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("coaching: scenarios of %s: %w", p.UserID, err)
	}
	return ids, nil
}

// CriterionInput is one criterion of a new scorecard. Weight nil means 1.
type CriterionInput struct {
	Label, Description, Kind string
	Weight                   *int
}

// ScorecardInput is a new scorecard. Scorecards do not change once created (scores refer to
// their criteria); make a new one instead.
type ScorecardInput struct {
	Title    string
	Criteria []CriterionInput
}

// CreateScorecard stores a scorecard. Coaches and admins create them.
func (s *Service) CreateScorecard(ctx context.Context, p people.Principal, in ScorecardInput) (store.Scorecard, error) {
	if err := requireCoach(p, "create scorecards"); err != nil {
		return store.Scorecard{}, err
	}
	sc := store.Scorecard{ID: uuid.NewString(), Title: strings.TrimSpace(in.Title), CreatedBy: p.UserID, CreatedAt: s.now()}
	switch {
	case sc.Title == "":
		return store.Scorecard{}, invalid("title is required")
	case utf8.RuneCountInString(sc.Title) > maxTitleRunes:
		return store.Scorecard{}, invalid("title is longer than %d characters", maxTitleRunes)
	case len(in.Criteria) == 0 || len(in.Criteria) > maxCriteria:
		return store.Scorecard{}, invalid("a scorecard has 1 to %d criteria", maxCriteria)
	}
	for i, c := range in.Criteria {
		crit := store.Criterion{ID: uuid.NewString(), Label: strings.TrimSpace(c.Label), Description: strings.TrimSpace(c.Description), Kind: c.Kind, Weight: 1}
		if c.Weight != nil {
			crit.Weight = *c.Weight
		}
		switch {
		case crit.Label == "" || utf8.RuneCountInString(crit.Label) > maxTitleRunes:
			return store.Scorecard{}, invalid("criteria[%d].label must be 1 to %d characters", i, maxTitleRunes)
		case utf8.RuneCountInString(crit.Description) > maxBriefRunes:
			return store.Scorecard{}, invalid("criteria[%d].description is longer than %d characters", i, maxBriefRunes)
		case crit.Kind != store.CriterionRating && crit.Kind != store.CriterionYesNo && crit.Kind != store.CriterionComment:
			return store.Scorecard{}, invalid("criteria[%d].kind must be rating, yesno or comment", i)
		case crit.Weight < 0 || crit.Weight > maxWeight:
			return store.Scorecard{}, invalid("criteria[%d].weight must be 0 to %d", i, maxWeight)
		case crit.Kind == store.CriterionComment && c.Weight != nil && crit.Weight != 0:
			return store.Scorecard{}, invalid("criteria[%d] is a comment and cannot carry weight", i)
		case crit.Kind == store.CriterionComment:
			crit.Weight = 0
		}
		sc.Criteria = append(sc.Criteria, crit)
	}
	if err := s.store.CreateScorecard(ctx, sc); err != nil {
		return store.Scorecard{}, fmt.Errorf("coaching: create scorecard: %w", err)
	}
	return s.store.Scorecard(ctx, sc.ID)
}

// Scorecards returns the scorecards p may see: all for coaches and admins; for a rep, those of
// the scenarios assigned to them.
func (s *Service) Scorecards(ctx context.Context, p people.Principal) ([]store.Scorecard, error) {
	ids, err := s.repScorecardIDs(ctx, p)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListScorecards(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("coaching: scorecards: %w", err)
	}
	return list, nil
}

// Scorecard returns a scorecard p may see; any other is ErrNotFound.
func (s *Service) Scorecard(ctx context.Context, p people.Principal, id string) (store.Scorecard, error) {
	ids, err := s.repScorecardIDs(ctx, p)
	if err != nil {
		return store.Scorecard{}, err
	}
	if ids != nil && !slices.Contains(ids, id) {
		return store.Scorecard{}, notFound("no scorecard with this id")
	}
	sc, err := s.store.Scorecard(ctx, id)
	if err != nil {
		return store.Scorecard{}, storeErr(err, "scorecard")
	}
	return sc, nil
}

func (s *Service) repScorecardIDs(ctx context.Context, p people.Principal) ([]string, error) {
	scenarioIDs, err := s.repScenarioIDs(ctx, p)
	if err != nil || scenarioIDs == nil {
		return nil, err
	}
	scenarios, err := s.store.ListScenarios(ctx, scenarioIDs)
	if err != nil {
		return nil, fmt.Errorf("coaching: scorecards of %s: %w", p.UserID, err)
	}
	ids := []string{}
	for _, sc := range scenarios {
		if sc.ScorecardID != "" && !slices.Contains(ids, sc.ScorecardID) {
			ids = append(ids, sc.ScorecardID)
		}
	}
	return ids, nil
}

// RatingInput is a score's value for one criterion (see store.Rating).
type RatingInput struct {
	CriterionID string
	Value       *int
	Comment     string
}

// ScoreInput is a coach's scoring of a rep in a session.
type ScoreInput struct {
	SessionID string
	RepID     string
	Ratings   []RatingInput
}

// maxCommentRunes bounds a rating's comment and a review comment.
const maxCommentRunes = 2000

// AddScore stores a score against a scorecard. Coaches of the rep's teams and admins score.
func (s *Service) AddScore(ctx context.Context, p people.Principal, scorecardID string, in ScoreInput) (store.Score, error) {
	card, err := s.Scorecard(ctx, p, scorecardID)
	if err != nil {
		return store.Score{}, err
	}
	if err := requireCoach(p, "score sessions"); err != nil {
		return store.Score{}, err
	}
	if err := s.checkCoachOf(ctx, p, in.RepID); err != nil {
		return store.Score{}, err
	}
	ratings, err := checkRatings(card, in.Ratings)
	if err != nil {
		return store.Score{}, err
	}
	if in.SessionID == "" {
		return store.Score{}, invalid("sessionId is required")
	}
	sc := store.Score{ID: uuid.NewString(), ScorecardID: card.ID, SessionID: in.SessionID, RepID: in.RepID,
		CoachID: p.UserID, CreatedAt: s.now(), Ratings: ratings}
	if err := s.store.AddScore(ctx, sc); err != nil {
		return store.Score{}, storeErr(err, "session")
	}
	return sc, nil
}

// checkCoachOf fails with ErrNotFound unless p coaches the rep repID (or is an admin and repID
// is a rep).
func (s *Service) checkCoachOf(ctx context.Context, p people.Principal, repID string) error {
	ok, err := s.people.CoachOf(ctx, p, repID)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("no rep with id %q among yours", repID)
	}
	u, err := s.store.User(ctx, repID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != store.RoleRep) {
		return notFound("no rep with id %q among yours", repID)
	}
	return err
}

// checkRatings validates ratings against a scorecard: known criteria, each at most once, and
// values that fit their kind.
func checkRatings(card store.Scorecard, in []RatingInput) ([]store.Rating, error) {
	kinds := map[string]string{}
	for _, c := range card.Criteria {
		kinds[c.ID] = c.Kind
	}
	seen := map[string]bool{}
	out := make([]store.Rating, 0, len(in))
	for i, r := range in {
		kind, ok := kinds[r.CriterionID]
		switch {
		case !ok:
			return nil, invalid("ratings[%d]: the scorecard has no criterion %q", i, r.CriterionID)
		case seen[r.CriterionID]:
			return nil, invalid("ratings[%d]: criterion %q is rated twice", i, r.CriterionID)
		case utf8.RuneCountInString(r.Comment) > maxCommentRunes:
			return nil, invalid("ratings[%d].comment is longer than %d characters", i, maxCommentRunes)
		case kind == store.CriterionRating && (r.Value == nil || *r.Value < 1 || *r.Value > 5):
			return nil, invalid("ratings[%d]: a rating is 1 to 5", i)
		case kind == store.CriterionYesNo && (r.Value == nil || (*r.Value != 0 && *r.Value != 1)):
			return nil, invalid("ratings[%d]: a yes/no criterion is 1 (yes) or 0 (no)", i)
		case kind == store.CriterionComment && r.Value != nil:
			return nil, invalid("ratings[%d]: a comment criterion takes a comment, not a value", i)
		}
		seen[r.CriterionID] = true
		out = append(out, store.Rating{CriterionID: r.CriterionID, Value: r.Value, Comment: strings.TrimSpace(r.Comment)})
	}
	return out, nil
}

// Scores returns the scores of a scorecard given to the reps p may see.
func (s *Service) Scores(ctx context.Context, p people.Principal, scorecardID string) (store.Scorecard, []store.Score, error) {
	card, err := s.Scorecard(ctx, p, scorecardID)
	if err != nil {
		return store.Scorecard{}, nil, err
	}
	scope, err := s.people.Scope(ctx, p)
	if err != nil {
		return store.Scorecard{}, nil, err
	}
	scores, err := s.store.ListScores(ctx, store.ScoreFilter{ScorecardID: card.ID, RepIDs: scope.IDs()})
	if err != nil {
		return store.Scorecard{}, nil, fmt.Errorf("coaching: scores: %w", err)
	}
	return card, scores, nil
}

// Rollup returns the scorecard's roll-up for each rep p may see who has scores.
func (s *Service) Rollup(ctx context.Context, p people.Principal, scorecardID string) (store.Scorecard, []RepRollup, error) {
	card, scores, err := s.Scores(ctx, p, scorecardID)
	if err != nil {
		return store.Scorecard{}, nil, err
	}
	return card, Rollup(card, scores), nil
}
