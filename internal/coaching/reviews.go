package coaching

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/people"
	"ringside/internal/store"
)

// maxReviewComments bounds the comments of one review.
const maxReviewComments = 100

// CommentInput is a review comment pinned to an offset in the session's recording.
type CommentInput struct {
	OffsetMs int64
	Text     string
}

// ReviewInput is a coach's feedback on a submitted assignment: timestamped comments and,
// optionally, a score on the scenario's scorecard.
type ReviewInput struct {
	Comments []CommentInput
	Ratings  []RatingInput // scored against the scenario's scorecard; nil: no score
}

// FeedbackPosted is the data of a feedback.posted event.
type FeedbackPosted struct {
	AssignmentID     string    `json:"assignmentId"`
	RepID            string    `json:"repId"`
	ScenarioID       string    `json:"scenarioId"`
	SessionID        string    `json:"sessionId"`
	ReviewerID       string    `json:"reviewerId"`
	ReviewedAt       time.Time `json:"reviewedAt"`
	TimeToFeedbackMs int64     `json:"timeToFeedbackMs"`
	Comments         int       `json:"comments"`
	Scored           bool      `json:"scored"`
}

// Queue returns the submitted assignments awaiting review of the reps p coaches, oldest
// submission first, each with how long it has waited.
func (s *Service) Queue(ctx context.Context, p people.Principal) ([]AssignmentView, error) {
	if err := requireCoach(p, "review"); err != nil {
		return nil, err
	}
	scope, err := s.people.Scope(ctx, p)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListAssignments(ctx, store.AssignmentFilter{
		RepIDs: scope.IDs(), States: []string{store.AssignmentSubmitted}, BySubmission: true,
	})
	if err != nil {
		return nil, fmt.Errorf("coaching: review queue: %w", err)
	}
	return s.views(ctx, list)
}

// reviewable loads an assignment p may review: ErrNotFound if p cannot see it, ErrForbidden
// if p does not coach its rep.
func (s *Service) reviewable(ctx context.Context, p people.Principal, id string) (store.Assignment, error) {
	a, err := s.visibleAssignment(ctx, p, id)
	if err != nil {
		return store.Assignment{}, err
	}
	ok, err := s.people.CoachOf(ctx, p, a.RepID)
	if err != nil {
		return store.Assignment{}, err
	}
	if !ok {
		return store.Assignment{}, forbidden("only the rep's coaches and admins review")
	}
	return a, nil
}

// Claim marks a submitted assignment as being reviewed by p, so that other coaches leave it.
func (s *Service) Claim(ctx context.Context, p people.Principal, id string) (AssignmentView, error) {
	if _, err := s.reviewable(ctx, p, id); err != nil {
		return AssignmentView{}, err
	}
	err := s.store.ClaimAssignment(ctx, id, p.UserID, s.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		return AssignmentView{}, conflict("this assignment is not awaiting review, or another reviewer claimed it")
	case err != nil:
		return AssignmentView{}, storeErr(err, "assignment")
	}
	return s.Assignment(ctx, p, id)
}

// Complete posts p's review of a submitted assignment and marks it reviewed; the time from
// submission to now is its time to feedback. The comments go on the session's replay.
func (s *Service) Complete(ctx context.Context, p people.Principal, id string, in ReviewInput) (AssignmentView, error) {
	a, err := s.reviewable(ctx, p, id)
	if err != nil {
		return AssignmentView{}, err
	}
	if a.State != store.AssignmentSubmitted {
		return AssignmentView{}, conflict("this assignment is not awaiting review")
	}
	if len(in.Comments) > maxReviewComments {
		return AssignmentView{}, invalid("at most %d comments", maxReviewComments)
	}
	now := s.now()
	review := store.Review{AssignmentID: id, ReviewerID: p.UserID, At: now}
	for i, c := range in.Comments {
		text := strings.TrimSpace(c.Text)
		switch {
		case text == "" || utf8.RuneCountInString(text) > maxCommentRunes:
			return AssignmentView{}, invalid("comments[%d].text must be 1 to %d characters", i, maxCommentRunes)
		case c.OffsetMs < 0:
			return AssignmentView{}, invalid("comments[%d].offsetMs must not be negative", i)
		}
		review.Comments = append(review.Comments, store.Comment{
			ID: uuid.NewString(), Author: p.DisplayName(), Text: text, OffsetMs: c.OffsetMs, CreatedAt: now,
		})
	}
	if in.Ratings != nil {
		sc, err := s.store.Scenario(ctx, a.ScenarioID)
		if err != nil {
			return AssignmentView{}, storeErr(err, "scenario")
		}
		if sc.ScorecardID == "" {
			return AssignmentView{}, invalid("the scenario has no scorecard to score against")
		}
		card, err := s.store.Scorecard(ctx, sc.ScorecardID)
		if err != nil {
			return AssignmentView{}, storeErr(err, "scorecard")
		}
		ratings, err := checkRatings(card, in.Ratings)
		if err != nil {
			return AssignmentView{}, err
		}
		review.Score = &store.Score{ID: uuid.NewString(), ScorecardID: card.ID, CreatedAt: now, Ratings: ratings}
	}
	err = s.store.CompleteReview(ctx, review)
	switch {
	case errors.Is(err, store.ErrConflict):
		return AssignmentView{}, conflict("this assignment is not awaiting review, or another reviewer claimed it")
	case err != nil:
		return AssignmentView{}, storeErr(err, "assignment")
	}
	v, err := s.Assignment(ctx, p, id)
	if err != nil {
		return AssignmentView{}, err
	}
	s.log.Info("review posted", "assignment", id, "reviewer", p.UserID, "time_to_feedback", v.TimeToFeedback)
	s.emit(EventFeedbackPosted, FeedbackPosted{
		AssignmentID: id, RepID: a.RepID, ScenarioID: a.ScenarioID, SessionID: a.SessionID, ReviewerID: p.UserID,
		ReviewedAt: now.UTC().Truncate(time.Millisecond), TimeToFeedbackMs: v.TimeToFeedback.Milliseconds(),
		Comments: len(review.Comments), Scored: review.Score != nil,
	})
	return v, nil
}

// FeedbackStats is how quickly feedback comes, per coach and per team.
type FeedbackStats struct {
	Since   time.Time // zero: all time
	Coaches []FeedbackStat
	Teams   []FeedbackStat
	// Pending is how many submissions await review; OldestWaiting how long the oldest has.
	Pending       int
	OldestWaiting time.Duration
}

// FeedbackStat summarises the time to feedback of a group of reviews.
type FeedbackStat struct {
	ID, Name string // the coach's user id ("" for the admin token) or the team's
	Reviews  int
	Average  time.Duration
	Median   time.Duration
	Max      time.Duration
}

// Stats reports time to feedback of the reviews of the reps p coaches (all, for an admin)
// reviewed since since (zero: ever), per reviewer and per team of the rep.
func (s *Service) Stats(ctx context.Context, p people.Principal, since time.Time) (FeedbackStats, error) {
	if err := requireCoach(p, "see feedback statistics"); err != nil {
		return FeedbackStats{}, err
	}
	scope, err := s.people.Scope(ctx, p)
	if err != nil {
		return FeedbackStats{}, err
	}
	list, err := s.store.ListAssignments(ctx, store.AssignmentFilter{
		RepIDs: scope.IDs(), States: []string{store.AssignmentSubmitted, store.AssignmentReviewed}, ReviewedSince: since,
	})
	if err != nil {
		return FeedbackStats{}, fmt.Errorf("coaching: feedback stats: %w", err)
	}
	now := s.now()
	out := FeedbackStats{Since: since, Coaches: []FeedbackStat{}, Teams: []FeedbackStat{}}
	byCoach, byTeam := map[string][]time.Duration{}, map[string][]time.Duration{}
	userIDs := []string{}
	for _, a := range list {
		userIDs = append(userIDs, a.RepID, a.ReviewedBy)
	}
	users, err := s.store.ListUsers(ctx, userIDs)
	if err != nil {
		return FeedbackStats{}, fmt.Errorf("coaching: feedback stats: %w", err)
	}
	byID := map[string]store.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, a := range list {
		v := viewAt(a, now)
		if a.State == store.AssignmentSubmitted {
			out.Pending++
			out.OldestWaiting = max(out.OldestWaiting, v.Waiting)
			continue
		}
		byCoach[a.ReviewedBy] = append(byCoach[a.ReviewedBy], v.TimeToFeedback)
		for _, t := range byID[a.RepID].TeamIDs {
			if p.IsAdmin() || p.InTeam(t) {
				byTeam[t] = append(byTeam[t], v.TimeToFeedback)
			}
		}
	}
	for id, ds := range byCoach {
		name := "Admin"
		if id != "" {
			name = byID[id].Name
		}
		out.Coaches = append(out.Coaches, summarise(id, name, ds))
	}
	teamIDs := make([]string, 0, len(byTeam))
	for id := range byTeam {
		teamIDs = append(teamIDs, id)
	}
	teams, err := s.store.ListTeams(ctx, teamIDs)
	if err != nil {
		return FeedbackStats{}, fmt.Errorf("coaching: feedback stats: %w", err)
	}
	for _, t := range teams {
		out.Teams = append(out.Teams, summarise(t.ID, t.Name, byTeam[t.ID]))
	}
	slices.SortFunc(out.Coaches, func(a, b FeedbackStat) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, nil
}

// summarise computes a group's count, average, median and maximum.
func summarise(id, name string, ds []time.Duration) FeedbackStat {
	slices.Sort(ds)
	st := FeedbackStat{ID: id, Name: name, Reviews: len(ds)}
	if len(ds) == 0 {
		return st
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	st.Average = (sum / time.Duration(len(ds))).Truncate(time.Millisecond)
	st.Max = ds[len(ds)-1]
	if n := len(ds); n%2 == 1 {
		st.Median = ds[n/2]
	} else {
		st.Median = ((ds[n/2-1] + ds[n/2]) / 2).Truncate(time.Millisecond)
	}
	return st
}
