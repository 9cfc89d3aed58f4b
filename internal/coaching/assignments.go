package coaching

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"ringside/internal/people"
	"ringside/internal/store"
)

// StateOverdue is the state an assigned assignment shows from its due time on. It is not
// stored: it flips exactly at the due time, whenever anyone looks.
const StateOverdue = "overdue"

// StateOpen is a list filter: assigned or overdue, what a rep still has to do.
const StateOpen = "open"

// maxRepsPerAssign bounds the reps of one Assign call.
const maxRepsPerAssign = 200

// Periods of the recurrences.
var periods = map[string]time.Duration{
	store.RecurWeekly:   7 * 24 * time.Hour,
	store.RecurBiweekly: 14 * 24 * time.Hour,
}

// AssignmentView is an assignment as shown to someone at a moment: its state with overdue
// derived, the names of what it refers to, and how long its review took or is taking.
type AssignmentView struct {
	store.Assignment
	State         string // assigned, overdue, submitted or reviewed
	ScenarioTitle string
	RepName       string
	// Waiting is how long a submitted assignment has waited for its review; TimeToFeedback
	// how long a reviewed one waited. Zero otherwise.
	Waiting        time.Duration
	TimeToFeedback time.Duration
}

// AssignInput assigns a scenario to reps.
type AssignInput struct {
	ScenarioID string
	RepIDs     []string
	DueAt      time.Time
	Mode       string // store.ModeLive (default) or store.ModeSolo
	Recurrence string // store.RecurNone (default), store.RecurWeekly or store.RecurBiweekly
}

// ListFilter narrows Assignments.
type ListFilter struct {
	RepID string // "": every rep p may see
	State string // "": any; assigned, overdue, open, submitted or reviewed
}

// Assign creates one assignment per rep, each the start of its own series when recurring.
// Coaches assign to the reps of their teams, admins to any rep.
func (s *Service) Assign(ctx context.Context, p people.Principal, in AssignInput) ([]AssignmentView, error) {
	if err := requireCoach(p, "assign scenarios"); err != nil {
		return nil, err
	}
	if in.Mode == "" {
		in.Mode = store.ModeLive
	}
	if in.Recurrence == "" {
		in.Recurrence = store.RecurNone
	}
	now := s.now()
	switch {
	case in.Mode != store.ModeLive && in.Mode != store.ModeSolo:
		return nil, invalid("mode must be live or solo")
	case in.Recurrence != store.RecurNone && periods[in.Recurrence] == 0:
		return nil, invalid("recurrence must be none, weekly or biweekly")
	case in.DueAt.IsZero():
		return nil, invalid("dueAt is required")
	case !in.DueAt.After(now):
		return nil, invalid("dueAt must be in the future")
	case len(in.RepIDs) == 0 || len(in.RepIDs) > maxRepsPerAssign:
		return nil, invalid("repIds must hold 1 to %d reps", maxRepsPerAssign)
	case in.ScenarioID == "":
		return nil, invalid("scenarioId is required")
	}
	if _, err := s.store.Scenario(ctx, in.ScenarioID); err != nil {
		return nil, storeErr(err, "scenario")
	}
	list := make([]store.Assignment, 0, len(in.RepIDs))
	seen := map[string]bool{}
	for _, rep := range in.RepIDs {
		if seen[rep] {
			continue
		}
		seen[rep] = true
		if err := s.checkCoachOf(ctx, p, rep); err != nil {
			return nil, err
		}
		id := uuid.NewString()
		list = append(list, store.Assignment{
			ID: id, SeriesID: id, ScenarioID: in.ScenarioID, RepID: rep, AssignedBy: p.UserID, Mode: in.Mode,
			Recurrence: in.Recurrence, State: store.AssignmentAssigned, DueAt: in.DueAt, CreatedAt: now,
		})
	}
	if err := s.store.CreateAssignments(ctx, list); err != nil {
		return nil, fmt.Errorf("coaching: assign: %w", err)
	}
	s.poke()
	s.log.Info("scenario assigned", "scenario", in.ScenarioID, "reps", len(list), "recurrence", in.Recurrence, "by", p.UserID)
	return s.views(ctx, list)
}

// Assignments returns the assignments of the reps p may see (a rep: their own queue), soonest
// due first.
func (s *Service) Assignments(ctx context.Context, p people.Principal, f ListFilter) ([]AssignmentView, error) {
	scope, err := s.people.Scope(ctx, p)
	if err != nil {
		return nil, err
	}
	sf := store.AssignmentFilter{RepIDs: scope.IDs()}
	if f.RepID != "" {
		if !scope.Has(f.RepID) {
			return []AssignmentView{}, nil
		}
		sf.RepIDs = []string{f.RepID}
	}
	switch f.State {
	case "":
	case store.AssignmentAssigned, StateOverdue, StateOpen:
		sf.States = []string{store.AssignmentAssigned}
	case store.AssignmentSubmitted, store.AssignmentReviewed:
		sf.States = []string{f.State}
	default:
		return nil, invalid("state must be assigned, overdue, open, submitted or reviewed")
	}
	list, err := s.store.ListAssignments(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("coaching: assignments: %w", err)
	}
	views, err := s.views(ctx, list)
	if err != nil {
		return nil, err
	}
	if f.State != store.AssignmentAssigned && f.State != StateOverdue {
		return views, nil
	}
	out := make([]AssignmentView, 0, len(views))
	for _, v := range views {
		if v.State == f.State {
			out = append(out, v)
		}
	}
	return out, nil
}

// Assignment returns an assignment of a rep p may see; any other is ErrNotFound.
func (s *Service) Assignment(ctx context.Context, p people.Principal, id string) (AssignmentView, error) {
	a, err := s.visibleAssignment(ctx, p, id)
	if err != nil {
		return AssignmentView{}, err
	}
	return s.view(ctx, a)
}

func (s *Service) visibleAssignment(ctx context.Context, p people.Principal, id string) (store.Assignment, error) {
	a, err := s.store.Assignment(ctx, id)
	if err != nil {
		return store.Assignment{}, storeErr(err, "assignment")
	}
	ok, err := s.people.CanSee(ctx, p, a.RepID)
	if err != nil {
		return store.Assignment{}, err
	}
	if !ok {
		return store.Assignment{}, notFound("no assignment with this id")
	}
	return a, nil
}

// Submit hands in an assignment with the session it was practised in: the live session, or
// the solo recording's session. Only the rep (or an admin) submits, once; late is allowed.
func (s *Service) Submit(ctx context.Context, p people.Principal, id, sessionID string) (AssignmentView, error) {
	a, err := s.visibleAssignment(ctx, p, id)
	if err != nil {
		return AssignmentView{}, err
	}
	if !p.IsAdmin() && a.RepID != p.UserID {
		return AssignmentView{}, forbidden("only the assigned rep submits")
	}
	if sessionID == "" {
		return AssignmentView{}, invalid("sessionId is required")
	}
	sess, err := s.store.Session(ctx, sessionID)
	if err != nil {
		return AssignmentView{}, storeErr(err, "session")
	}
	// A rep hands in only a session that is theirs (created for them, or their solo pitch):
	// the reviewing coach sees sessions by their rep, and nobody may pass off another's call.
	// Someone else's session is answered as one that does not exist.
	if !p.IsAdmin() && sess.RepID != a.RepID {
		return AssignmentView{}, storeErr(store.ErrNotFound, "session")
	}
	err = s.store.SubmitAssignment(ctx, id, sessionID, s.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		return AssignmentView{}, conflict("this assignment was submitted already")
	case err != nil:
		return AssignmentView{}, storeErr(err, "assignment")
	}
	s.log.Info("assignment submitted", "assignment", id, "session", sessionID)
	if a.Mode == store.ModeSolo {
		s.endSolo(ctx, a, sess)
	}
	return s.Assignment(ctx, p, id)
}

// endSolo ends the session of a solo pitch once it is handed in: nobody else is in it to end
// it, and left live its rep invite could record more into what was submitted. Only the rep's
// own solo recording is ended (theirs, with a rep invite alone), never a call handed in
// instead. A failure is logged: the submission stands. The live plane is not told: the solo
// page has left the call before it submits.
func (s *Service) endSolo(ctx context.Context, a store.Assignment, sess store.Session) {
	if sess.RepID != a.RepID || (sess.State != store.SessionCreated && sess.State != store.SessionLive) {
		return
	}
	invites, err := s.store.Invites(ctx, sess.ID)
	if err != nil {
		s.log.Warn("solo session not ended", "session", sess.ID, "err", err)
		return
	}
	if len(invites) != 1 || invites[0].Role != store.RoleRep {
		return
	}
	at := s.now()
	switch err := s.store.EndSession(ctx, sess.ID, at, store.SessionEnded); {
	case errors.Is(err, store.ErrConflict): // ended meanwhile
	case err != nil:
		s.log.Warn("solo session not ended", "session", sess.ID, "err", err)
	default:
		s.log.Info("solo session ended on submission", "session", sess.ID, "assignment", a.ID)
		s.emit(EventSessionEnded, map[string]any{"sessionId": sess.ID, "at": at.UTC()})
	}
}

// Cancel deletes an assignment; a recurring one's series ends with it. Coaches of the rep and
// admins cancel.
func (s *Service) Cancel(ctx context.Context, p people.Principal, id string) error {
	a, err := s.visibleAssignment(ctx, p, id)
	if err != nil {
		return err
	}
	ok, err := s.people.CoachOf(ctx, p, a.RepID)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("only the rep's coaches and admins cancel assignments")
	}
	if err := s.store.DeleteAssignment(ctx, id); err != nil {
		return storeErr(err, "assignment")
	}
	return nil
}

func (s *Service) view(ctx context.Context, a store.Assignment) (AssignmentView, error) {
	views, err := s.views(ctx, []store.Assignment{a})
	if err != nil {
		return AssignmentView{}, err
	}
	return views[0], nil
}

// views decorates assignments with their derived state and names, as of now.
func (s *Service) views(ctx context.Context, list []store.Assignment) ([]AssignmentView, error) {
	var scenarioIDs, repIDs []string
	for _, a := range list {
		scenarioIDs, repIDs = append(scenarioIDs, a.ScenarioID), append(repIDs, a.RepID)
	}
	titles := map[string]string{}
	names := map[string]string{}
	if len(list) > 0 {
		scenarios, err := s.store.ListScenarios(ctx, scenarioIDs)
		if err != nil {
			return nil, fmt.Errorf("coaching: assignment scenarios: %w", err)
		}
		for _, sc := range scenarios {
			titles[sc.ID] = sc.Title
		}
		users, err := s.store.ListUsers(ctx, repIDs)
		if err != nil {
			return nil, fmt.Errorf("coaching: assignment reps: %w", err)
		}
		for _, u := range users {
			names[u.ID] = u.Name
		}
	}
	now := s.now()
	out := make([]AssignmentView, len(list))
	for i, a := range list {
		out[i] = viewAt(a, now)
		out[i].ScenarioTitle, out[i].RepName = titles[a.ScenarioID], names[a.RepID]
	}
	return out, nil
}

// viewAt derives an assignment's state and durations at now.
func viewAt(a store.Assignment, now time.Time) AssignmentView {
	v := AssignmentView{Assignment: a, State: a.State}
	switch {
	case a.State == store.AssignmentAssigned && !now.Before(a.DueAt):
		v.State = StateOverdue
	case a.State == store.AssignmentSubmitted && a.SubmittedAt != nil:
		v.Waiting = max(now.Sub(*a.SubmittedAt), 0).Truncate(time.Millisecond)
	case a.State == store.AssignmentReviewed && a.SubmittedAt != nil && a.ReviewedAt != nil:
		v.TimeToFeedback = max(a.ReviewedAt.Sub(*a.SubmittedAt), 0)
	}
	return v
}
