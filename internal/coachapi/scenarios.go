package coachapi

import (
	"net/http"

	"ringside/internal/coaching"
	"ringside/internal/people"
)

// createScenario answers POST /api/scenarios.
func (a *api) createScenario(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req CreateScenarioRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sc, err := a.coaching.CreateScenario(r.Context(), p, coaching.ScenarioInput{
		Title: req.Title, Persona: req.Persona, Objections: req.Objections, GoodLooksLike: req.GoodLooksLike, ScorecardID: req.ScorecardID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, scenarioFrom(sc))
	return nil
}

// listScenarios answers GET /api/scenarios.
func (a *api) listScenarios(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	list, err := a.coaching.Scenarios(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ScenarioList{Scenarios: convert(list, scenarioFrom)})
	return nil
}

// getScenario answers GET /api/scenarios/{id}.
func (a *api) getScenario(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	sc, err := a.coaching.Scenario(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scenarioFrom(sc))
	return nil
}

// updateScenario answers PATCH /api/scenarios/{id}.
func (a *api) updateScenario(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req UpdateScenarioRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sc, err := a.coaching.UpdateScenario(r.Context(), p, r.PathValue("id"), coaching.ScenarioPatch{
		Title: req.Title, Persona: req.Persona, Objections: req.Objections, GoodLooksLike: req.GoodLooksLike, ScorecardID: req.ScorecardID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scenarioFrom(sc))
	return nil
}

// createScorecard answers POST /api/scorecards.
func (a *api) createScorecard(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req CreateScorecardRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := coaching.ScorecardInput{Title: req.Title}
	for _, c := range req.Criteria {
		in.Criteria = append(in.Criteria, coaching.CriterionInput{Label: c.Label, Description: c.Description, Kind: c.Kind, Weight: c.Weight})
	}
	sc, err := a.coaching.CreateScorecard(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, scorecardFrom(sc))
	return nil
}

// listScorecards answers GET /api/scorecards.
func (a *api) listScorecards(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	list, err := a.coaching.Scorecards(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ScorecardList{Scorecards: convert(list, scorecardFrom)})
	return nil
}

// getScorecard answers GET /api/scorecards/{id}.
func (a *api) getScorecard(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	sc, err := a.coaching.Scorecard(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scorecardFrom(sc))
	return nil
}

// addScore answers POST /api/scorecards/{id}/scores: a coach scores a rep in a session.
func (a *api) addScore(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req ScoreRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sc, err := a.coaching.AddScore(r.Context(), p, r.PathValue("id"), coaching.ScoreInput{
		SessionID: req.SessionID, RepID: req.RepID, Ratings: ratingsIn(req.Ratings),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, scoreFrom(sc))
	return nil
}

// listScores answers GET /api/scorecards/{id}/scores: the scores of the reps the caller may
// see.
func (a *api) listScores(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	_, scores, err := a.coaching.Scores(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ScoreList{Scores: convert(scores, scoreFrom)})
	return nil
}

// rollup answers GET /api/scorecards/{id}/rollup: per rep and criterion, 0 to 100.
func (a *api) rollup(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	card, reps, err := a.coaching.Rollup(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Rollup{ScorecardID: card.ID, Reps: convert(reps, rollupFrom)})
	return nil
}
