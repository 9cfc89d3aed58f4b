package coachapi

import (
	"net/http"

	"ringside/internal/coaching"
	"ringside/internal/people"
)

// assign answers POST /api/assignments: one assignment per rep.
func (a *api) assign(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req AssignRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	list, err := a.coaching.Assign(r.Context(), p, coaching.AssignInput{
		ScenarioID: req.ScenarioID, RepIDs: req.RepIDs, DueAt: req.DueAt, Mode: req.Mode, Recurrence: req.Recurrence,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, AssignmentList{Assignments: convert(list, assignmentFrom)})
	return nil
}

// listAssignments answers GET /api/assignments?rep=ID&state=S: for a rep, their queue.
func (a *api) listAssignments(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	q := r.URL.Query()
	list, err := a.coaching.Assignments(r.Context(), p, coaching.ListFilter{RepID: q.Get("rep"), State: q.Get("state")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AssignmentList{Assignments: convert(list, assignmentFrom)})
	return nil
}

// getAssignment answers GET /api/assignments/{id}.
func (a *api) getAssignment(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	v, err := a.coaching.Assignment(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assignmentFrom(v))
	return nil
}

// submitAssignment answers POST /api/assignments/{id}/submit {sessionId}.
func (a *api) submitAssignment(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req SubmitRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := a.coaching.Submit(r.Context(), p, r.PathValue("id"), req.SessionID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assignmentFrom(v))
	return nil
}

// cancelAssignment answers DELETE /api/assignments/{id}.
func (a *api) cancelAssignment(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := a.coaching.Cancel(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reviewQueue answers GET /api/reviews: submissions awaiting feedback, oldest first.
func (a *api) reviewQueue(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	list, err := a.coaching.Queue(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ReviewQueue{Reviews: convert(list, assignmentFrom)})
	return nil
}

// claimReview answers POST /api/reviews/{id}/claim.
func (a *api) claimReview(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	v, err := a.coaching.Claim(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assignmentFrom(v))
	return nil
}

// completeReview answers POST /api/reviews/{id}/complete: comments and a score, and the
// assignment is reviewed.
func (a *api) completeReview(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req CompleteReviewRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := coaching.ReviewInput{Ratings: ratingsIn(req.Ratings)}
	for _, c := range req.Comments {
		in.Comments = append(in.Comments, coaching.CommentInput{OffsetMs: c.OffsetMs, Text: c.Text})
	}
	v, err := a.coaching.Complete(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assignmentFrom(v))
	return nil
}

// reviewStats answers GET /api/reviews/stats?since=T: time to feedback per coach and team.
func (a *api) reviewStats(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	since, err := queryTime(r, "since")
	if err != nil {
		return err
	}
	st, err := a.coaching.Stats(r.Context(), p, since)
	if err != nil {
		return err
	}
	out := FeedbackStats{Pending: st.Pending, OldestWaitingMs: st.OldestWaiting.Milliseconds(),
		Coaches: convert(st.Coaches, statFrom), Teams: convert(st.Teams, statFrom)}
	if !since.IsZero() {
		s := since.UTC()
		out.Since = &s
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
