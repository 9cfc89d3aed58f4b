package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Criterion kinds of a scorecard.
const (
	CriterionRating  = "rating"  // 1 to 5
	CriterionYesNo   = "yesno"   // 1 (yes) or 0 (no)
	CriterionComment = "comment" // free text, not scored
)

// Assignment modes, recurrences and states. An assignment moves assigned → submitted →
// reviewed; "overdue" is not stored: it is an assigned one past its due time.
const (
	ModeLive = "live"
	ModeSolo = "solo"

	RecurNone     = "none"
	RecurWeekly   = "weekly"
	RecurBiweekly = "biweekly"

	AssignmentAssigned  = "assigned"
	AssignmentSubmitted = "submitted"
	AssignmentReviewed  = "reviewed"
)

// Scorecard is a rubric of weighted criteria.
type Scorecard struct {
	ID        string    `db:"id"`
	Title     string    `db:"title"`
	CreatedBy string    `db:"created_by"` // "" when the admin token created it
	CreatedAt time.Time `db:"-"`
	Criteria  []Criterion
}

// Criterion is one line of a scorecard. Weight counts in the scorecard's weighted average.
type Criterion struct {
	ID          string `db:"id"`
	ScorecardID string `db:"scorecard_id"`
	Position    int    `db:"position"`
	Label       string `db:"label"`
	Description string `db:"description"`
	Kind        string `db:"kind"` // CriterionRating, CriterionYesNo or CriterionComment
	Weight      int    `db:"weight"`
}

type scorecardRow struct {
	ID        string `db:"id"`
	Title     string `db:"title"`
	CreatedBy string `db:"created_by"`
	CreatedMs int64  `db:"created_at"`
}

// Scenario is a role-play brief and the scorecard that goes with it.
type Scenario struct {
	ID            string    `db:"id"`
	Title         string    `db:"title"`
	Persona       string    `db:"persona"`
	Objections    []string  `db:"-"`
	GoodLooksLike string    `db:"good_looks_like"`
	ScorecardID   string    `db:"scorecard_id"` // "" for none
	CreatedBy     string    `db:"created_by"`
	CreatedAt     time.Time `db:"-"`
	UpdatedAt     time.Time `db:"-"`
}

type scenarioRow struct {
	Scenario
	ObjectionsJSON string `db:"objections"`
	CreatedMs      int64  `db:"created_at"`
	UpdatedMs      int64  `db:"updated_at"`
}

const scenarioCols = `id, title, persona, objections, good_looks_like, COALESCE(scorecard_id, '') AS scorecard_id,
	COALESCE(created_by, '') AS created_by, created_at, updated_at`

// Assignment is one scenario to practise by one rep by a due time. A recurring assignment is a
// series: when an instance falls due, the next one (same SeriesID) is created.
type Assignment struct {
	ID              string     `db:"id"`
	SeriesID        string     `db:"series_id"`
	ScenarioID      string     `db:"scenario_id"`
	RepID           string     `db:"rep_id"`
	AssignedBy      string     `db:"assigned_by"`
	Mode            string     `db:"mode"`       // ModeLive or ModeSolo
	Recurrence      string     `db:"recurrence"` // RecurNone, RecurWeekly or RecurBiweekly
	State           string     `db:"state"`
	DueAt           time.Time  `db:"-"`
	SessionID       string     `db:"session_id"`      // the live session or solo recording submitted
	LiveSessionID   string     `db:"live_session_id"` // the call set up for a live assignment (CreateLiveSession)
	SubmittedAt     *time.Time `db:"-"`
	Claimed         bool       `db:"-"` // a reviewer claimed it; ClaimedBy is "" for the admin token
	ClaimedBy       string     `db:"claimed_by"`
	ClaimedAt       *time.Time `db:"-"`
	ReviewedBy      string     `db:"reviewed_by"`
	ReviewedAt      *time.Time `db:"-"`
	NextCreated     bool       `db:"next_created"`
	OverdueNotified bool       `db:"overdue_notified"`
	CreatedAt       time.Time  `db:"-"`
}

type assignmentRow struct {
	Assignment
	DueMs       int64         `db:"due_at"`
	SubmittedMs sql.NullInt64 `db:"submitted_at"`
	ClaimedMs   sql.NullInt64 `db:"claimed_at"`
	ReviewedMs  sql.NullInt64 `db:"reviewed_at"`
	CreatedMs   int64         `db:"created_at"`
}

func (r assignmentRow) assignment() Assignment {
	a := r.Assignment
	a.DueAt, a.CreatedAt = fromMs(r.DueMs), fromMs(r.CreatedMs)
	a.SubmittedAt, a.ClaimedAt, a.ReviewedAt = fromNullMs(r.SubmittedMs), fromNullMs(r.ClaimedMs), fromNullMs(r.ReviewedMs)
	a.Claimed = a.ClaimedAt != nil
	return a
}

const assignmentCols = `id, series_id, scenario_id, rep_id, COALESCE(assigned_by, '') AS assigned_by, mode, recurrence,
	state, due_at, COALESCE(session_id, '') AS session_id, submitted_at, COALESCE(claimed_by, '') AS claimed_by,
	claimed_at, COALESCE(reviewed_by, '') AS reviewed_by, reviewed_at, next_created, overdue_notified, created_at,
	COALESCE(live_session_id, '') AS live_session_id`

// AssignmentFilter selects assignments for ListAssignments.
type AssignmentFilter struct {
	RepIDs     []string // nil: every rep; empty: none
	States     []string // empty: any state
	ScenarioID string   // "": any scenario
	// ReviewedSince keeps reviewed assignments reviewed at or after it (zero: any time).
	ReviewedSince time.Time
	// BySubmission orders by submission time, oldest first (the review queue); otherwise by
	// due time, soonest first.
	BySubmission bool
	Limit        int // <= 0: no limit
}

// Score is a coach's scoring of a rep in a session against a scorecard.
type Score struct {
	ID           string    `db:"id"`
	ScorecardID  string    `db:"scorecard_id"`
	SessionID    string    `db:"session_id"`
	RepID        string    `db:"rep_id"`
	CoachID      string    `db:"coach_id"`      // "" for the admin token
	AssignmentID string    `db:"assignment_id"` // "" when not part of a review
	CreatedAt    time.Time `db:"-"`
	Ratings      []Rating  `db:"-"`
}

// Rating is a score's value for one criterion: Value is 1-5 for a rating, 1 or 0 for yes/no
// and nil for a comment (or a criterion left out).
type Rating struct {
	CriterionID string `db:"criterion_id"`
	Value       *int   `db:"-"`
	Comment     string `db:"comment"`
}

// ScoreFilter selects scores for ListScores.
type ScoreFilter struct {
	ScorecardID  string   // "": any
	RepIDs       []string // nil: every rep; empty: none
	AssignmentID string   // "": any
}

// Review is a coach's feedback that closes a submitted assignment.
type Review struct {
	AssignmentID string
	ReviewerID   string // "" for the admin token
	At           time.Time
	Comments     []Comment // on the assignment's session, shown in its replay
	Score        *Score    // optional; its AssignmentID, RepID and SessionID are filled in
}

// CreateScorecard stores a scorecard and its criteria in one transaction. Empty ids are filled
// with new UUIDs and a zero CreatedAt with now; criteria are stored in order.
func (s *Store) CreateScorecard(ctx context.Context, sc Scorecard) error {
	if sc.ID == "" {
		sc.ID = uuid.NewString()
	}
	sc.CreatedAt = orNow(sc.CreatedAt)
	return s.inTx(ctx, "create scorecard "+sc.ID, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO scorecards (id, title, created_by, created_at) VALUES (?, ?, ?, ?)`),
			sc.ID, sc.Title, nullID(sc.CreatedBy), toMs(sc.CreatedAt))
		if err != nil {
			return err
		}
		for i, c := range sc.Criteria {
			if c.ID == "" {
				c.ID = uuid.NewString()
			}
			_, err := tx.ExecContext(ctx, tx.Rebind(
				`INSERT INTO scorecard_criteria (id, scorecard_id, position, label, description, kind, weight)
				 VALUES (?, ?, ?, ?, ?, ?, ?)`), c.ID, sc.ID, i, c.Label, c.Description, c.Kind, c.Weight)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Scorecard returns a scorecard with its criteria in order, or ErrNotFound.
func (s *Store) Scorecard(ctx context.Context, id string) (Scorecard, error) {
	list, err := s.ListScorecards(ctx, []string{id})
	if err != nil {
		return Scorecard{}, err
	}
	if len(list) == 0 {
		return Scorecard{}, fmt.Errorf("%w: scorecard %q", ErrNotFound, id)
	}
	return list[0], nil
}

// ListScorecards returns scorecards with their criteria, newest first: those whose id is in
// ids, or all when ids is nil.
func (s *Store) ListScorecards(ctx context.Context, ids []string) ([]Scorecard, error) {
	query, args, err := inFilter(`SELECT id, title, COALESCE(created_by, '') AS created_by, created_at FROM scorecards`,
		"id", ids, ` ORDER BY created_at DESC, id`)
	if err != nil || query == "" {
		return []Scorecard{}, err
	}
	var rows []scorecardRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list scorecards: %w", mapErr(err))
	}
	out := make([]Scorecard, len(rows))
	index := make(map[string]int, len(rows))
	cardIDs := make([]string, len(rows))
	for i, r := range rows {
		out[i] = Scorecard{ID: r.ID, Title: r.Title, CreatedBy: r.CreatedBy, CreatedAt: fromMs(r.CreatedMs), Criteria: []Criterion{}}
		index[r.ID], cardIDs[i] = i, r.ID
	}
	query, args, err = inFilter(`SELECT id, scorecard_id, position, label, description, kind, weight FROM scorecard_criteria`,
		"scorecard_id", cardIDs, ` ORDER BY scorecard_id, position`)
	if err != nil || query == "" {
		return out, err
	}
	var crit []Criterion
	if err := s.db.SelectContext(ctx, &crit, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: scorecard criteria: %w", mapErr(err))
	}
	for _, c := range crit {
		i := index[c.ScorecardID]
		out[i].Criteria = append(out[i].Criteria, c)
	}
	return out, nil
}

// CreateScenario stores a scenario. An empty ID is filled with a new UUID, zero times with now;
// an unknown scorecard is ErrNotFound.
func (s *Store) CreateScenario(ctx context.Context, sc Scenario) error {
	if sc.ID == "" {
		sc.ID = uuid.NewString()
	}
	sc.CreatedAt = orNow(sc.CreatedAt)
	if sc.UpdatedAt.IsZero() {
		sc.UpdatedAt = sc.CreatedAt
	}
	objections, err := objectionsJSON(sc.Objections)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(
		`INSERT INTO scenarios (id, title, persona, objections, good_looks_like, scorecard_id, created_by, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		sc.ID, sc.Title, sc.Persona, objections, sc.GoodLooksLike, nullID(sc.ScorecardID), nullID(sc.CreatedBy),
		toMs(sc.CreatedAt), toMs(sc.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: create scenario: %w", mapErr(err))
	}
	return nil
}

// UpdateScenario replaces a scenario's brief and scorecard and sets its UpdatedAt. An unknown
// scenario or scorecard is ErrNotFound.
func (s *Store) UpdateScenario(ctx context.Context, sc Scenario) error {
	objections, err := objectionsJSON(sc.Objections)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE scenarios SET title = ?, persona = ?, objections = ?, good_looks_like = ?, scorecard_id = ?, updated_at = ?
		 WHERE id = ?`),
		sc.Title, sc.Persona, objections, sc.GoodLooksLike, nullID(sc.ScorecardID), toMs(orNow(sc.UpdatedAt)), sc.ID)
	if err != nil {
		return fmt.Errorf("store: update scenario %q: %w", sc.ID, mapErr(err))
	}
	ok, err := affectedOne(res)
	return notFoundUnless(ok, err, "scenario", sc.ID)
}

func objectionsJSON(objections []string) (string, error) {
	if objections == nil {
		objections = []string{}
	}
	b, err := json.Marshal(objections)
	if err != nil {
		return "", fmt.Errorf("store: scenario objections: %w", err)
	}
	return string(b), nil
}

// Scenario returns a scenario, or ErrNotFound.
func (s *Store) Scenario(ctx context.Context, id string) (Scenario, error) {
	list, err := s.ListScenarios(ctx, []string{id})
	if err != nil {
		return Scenario{}, err
	}
	if len(list) == 0 {
		return Scenario{}, fmt.Errorf("%w: scenario %q", ErrNotFound, id)
	}
	return list[0], nil
}

// ListScenarios returns scenarios by title: those whose id is in ids, or all when ids is nil.
func (s *Store) ListScenarios(ctx context.Context, ids []string) ([]Scenario, error) {
	query, args, err := inFilter(`SELECT `+scenarioCols+` FROM scenarios`, "id", ids, ` ORDER BY title, id`)
	if err != nil || query == "" {
		return []Scenario{}, err
	}
	var rows []scenarioRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list scenarios: %w", mapErr(err))
	}
	out := make([]Scenario, len(rows))
	for i, r := range rows {
		sc := r.Scenario
		sc.CreatedAt, sc.UpdatedAt = fromMs(r.CreatedMs), fromMs(r.UpdatedMs)
		if err := json.Unmarshal([]byte(r.ObjectionsJSON), &sc.Objections); err != nil {
			return nil, fmt.Errorf("store: scenario %q objections: %w", sc.ID, err)
		}
		out[i] = sc
	}
	return out, nil
}

// AssignedScenarioIDs returns the ids of the scenarios assigned to a rep, sorted.
func (s *Store) AssignedScenarioIDs(ctx context.Context, repID string) ([]string, error) {
	ids := []string{}
	err := s.db.SelectContext(ctx, &ids, s.q(`SELECT DISTINCT scenario_id FROM assignments WHERE rep_id = ? ORDER BY scenario_id`), repID)
	if err != nil {
		return nil, fmt.Errorf("store: scenarios of rep %q: %w", repID, mapErr(err))
	}
	return ids, nil
}

// CreateAssignments stores assignments in one transaction: all or none. Empty ids are filled
// with new UUIDs (an empty SeriesID with the assignment's id), an empty State with
// AssignmentAssigned and a zero CreatedAt with now. An unknown scenario or rep is ErrNotFound.
func (s *Store) CreateAssignments(ctx context.Context, list []Assignment) error {
	return s.inTx(ctx, "create assignments", func(tx *sqlx.Tx) error {
		for _, a := range list {
			if err := insertAssignment(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertAssignment(ctx context.Context, tx *sqlx.Tx, a Assignment) error {
	if a.ID == "" {
		a.ID = uuid.NewString()
	}
	if a.SeriesID == "" {
		a.SeriesID = a.ID
	}
	if a.State == "" {
		a.State = AssignmentAssigned
	}
	a.CreatedAt = orNow(a.CreatedAt)
	_, err := tx.ExecContext(ctx, tx.Rebind(
		`INSERT INTO assignments (id, series_id, scenario_id, rep_id, assigned_by, mode, recurrence, state, due_at,
		 session_id, submitted_at, next_created, overdue_notified, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.ID, a.SeriesID, a.ScenarioID, a.RepID, nullID(a.AssignedBy), a.Mode, a.Recurrence, a.State, toMs(a.DueAt),
		nullID(a.SessionID), toNullMs(a.SubmittedAt), a.NextCreated, a.OverdueNotified, toMs(a.CreatedAt))
	return err
}

// Assignment returns an assignment, or ErrNotFound.
func (s *Store) Assignment(ctx context.Context, id string) (Assignment, error) {
	var r assignmentRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+assignmentCols+` FROM assignments WHERE id = ?`), id)
	if err != nil {
		return Assignment{}, fmt.Errorf("store: assignment %q: %w", id, mapErr(err))
	}
	return r.assignment(), nil
}

// ListAssignments returns the assignments that f selects.
func (s *Store) ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error) {
	if f.RepIDs != nil && len(f.RepIDs) == 0 {
		return []Assignment{}, nil
	}
	var (
		where []string
		args  []any
	)
	if f.RepIDs != nil {
		where, args = append(where, `rep_id IN (?)`), append(args, f.RepIDs)
	}
	if len(f.States) > 0 {
		where, args = append(where, `state IN (?)`), append(args, f.States)
	}
	if f.ScenarioID != "" {
		where, args = append(where, `scenario_id = ?`), append(args, f.ScenarioID)
	}
	if !f.ReviewedSince.IsZero() {
		where, args = append(where, `(reviewed_at IS NULL OR reviewed_at >= ?)`), append(args, toMs(f.ReviewedSince))
	}
	query := `SELECT ` + assignmentCols + ` FROM assignments`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.BySubmission {
		query += ` ORDER BY submitted_at, id`
	} else {
		query += ` ORDER BY due_at, id`
	}
	if f.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, f.Limit)
	}
	query, args, err := sqlx.In(query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", err)
	}
	return s.selectAssignments(ctx, query, args...)
}

func (s *Store) selectAssignments(ctx context.Context, query string, args ...any) ([]Assignment, error) {
	var rows []assignmentRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", mapErr(err))
	}
	out := make([]Assignment, len(rows))
	for i, r := range rows {
		out[i] = r.assignment()
	}
	return out, nil
}

// DeleteAssignment deletes an assignment, which also ends its series: no next instance is
// created from it. An unknown one is ErrNotFound.
func (s *Store) DeleteAssignment(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM assignments WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete assignment %q: %w", id, mapErr(err))
	}
	ok, err := affectedOne(res)
	return notFoundUnless(ok, err, "assignment", id)
}

// SubmitAssignment moves an assigned assignment to submitted with the session that was
// practised. One that is not in state assigned is ErrConflict; an unknown assignment or
// session ErrNotFound.
func (s *Store) SubmitAssignment(ctx context.Context, id, sessionID string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE assignments SET state = ?, session_id = ?, submitted_at = ? WHERE id = ? AND state = ?`),
		AssignmentSubmitted, sessionID, toMs(at), id, AssignmentAssigned)
	if err != nil {
		return fmt.Errorf("store: submit assignment %q: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "assignments", id, fmt.Errorf("%w: assignment %q is not open for submission", ErrConflict, id))
}

// ClaimAssignment marks a submitted assignment as being reviewed by reviewerID ("" for the
// admin token). Claiming it again by the same reviewer keeps the first time; one claimed by
// someone else, or not submitted, is ErrConflict.
func (s *Store) ClaimAssignment(ctx context.Context, id, reviewerID string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE assignments SET claimed_by = ?, claimed_at = COALESCE(claimed_at, ?)
		 WHERE id = ? AND state = ? AND (claimed_at IS NULL OR COALESCE(claimed_by, '') = ?)`),
		nullID(reviewerID), toMs(at), id, AssignmentSubmitted, reviewerID)
	if err != nil {
		return fmt.Errorf("store: claim assignment %q: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "assignments", id,
		fmt.Errorf("%w: assignment %q is not awaiting review or is claimed by another reviewer", ErrConflict, id))
}

// CompleteReview closes a submitted assignment in one transaction: it is marked reviewed by
// the reviewer (claimed by them if nobody had claimed it), and the review's comments and
// score are stored. Like ClaimAssignment, one claimed by someone else or not submitted is
// ErrConflict.
func (s *Store) CompleteReview(ctx context.Context, r Review) error {
	at := orNow(r.At)
	return s.inTx(ctx, "complete review of "+r.AssignmentID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(
			`UPDATE assignments SET state = ?, reviewed_by = ?, reviewed_at = ?,
			 claimed_by = COALESCE(claimed_by, ?), claimed_at = COALESCE(claimed_at, ?)
			 WHERE id = ? AND state = ? AND (claimed_at IS NULL OR COALESCE(claimed_by, '') = ?)`),
			AssignmentReviewed, nullID(r.ReviewerID), toMs(at), nullID(r.ReviewerID), toMs(at),
			r.AssignmentID, AssignmentSubmitted, r.ReviewerID)
		if err != nil {
			return err
		}
		var a assignmentRow
		if err := tx.GetContext(ctx, &a, tx.Rebind(`SELECT `+assignmentCols+` FROM assignments WHERE id = ?`), r.AssignmentID); err != nil {
			return err
		}
		if ok, err := affectedOne(res); err != nil || !ok {
			return fmt.Errorf("%w: assignment %q is not awaiting review or is claimed by another reviewer", ErrConflict, r.AssignmentID)
		}
		for _, c := range r.Comments {
			if c.ID == "" {
				c.ID = uuid.NewString()
			}
			c.SessionID, c.CreatedAt = a.SessionID, orNow(c.CreatedAt)
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO comments (`+commentCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
				c.ID, c.SessionID, c.Author, c.Text, c.OffsetMs, toMs(c.CreatedAt))
			if err != nil {
				return err
			}
		}
		if r.Score == nil {
			return nil
		}
		sc := *r.Score
		sc.AssignmentID, sc.RepID, sc.SessionID, sc.CoachID = r.AssignmentID, a.RepID, a.SessionID, r.ReviewerID
		return insertScore(ctx, tx, sc)
	})
}

// RecurringDue returns the recurring assignments due at or before at whose next instance does
// not exist yet, oldest due first.
func (s *Store) RecurringDue(ctx context.Context, at time.Time) ([]Assignment, error) {
	return s.selectAssignments(ctx, `SELECT `+assignmentCols+` FROM assignments
		WHERE recurrence <> ? AND next_created = ? AND due_at <= ? ORDER BY due_at, id`, RecurNone, false, toMs(at))
}

// CreateNextAssignment stores next, the instance that follows prevID in its series, unless
// that was done already (by another server, say), and reports whether it stored it.
func (s *Store) CreateNextAssignment(ctx context.Context, prevID string, next Assignment) (bool, error) {
	var created bool
	err := s.inTx(ctx, "next assignment after "+prevID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE assignments SET next_created = ? WHERE id = ? AND next_created = ?`),
			true, prevID, false)
		if err != nil {
			return err
		}
		if created, err = affectedOne(res); err != nil || !created {
			return err
		}
		return insertAssignment(ctx, tx, next)
	})
	return created, err
}

// OverdueToNotify returns the assigned (not submitted) assignments due at or before at whose
// overdue notice has not been sent, oldest due first.
func (s *Store) OverdueToNotify(ctx context.Context, at time.Time) ([]Assignment, error) {
	return s.selectAssignments(ctx, `SELECT `+assignmentCols+` FROM assignments
		WHERE state = ? AND overdue_notified = ? AND due_at <= ? ORDER BY due_at, id`, AssignmentAssigned, false, toMs(at))
}

// MarkOverdueNotified records that an assignment's overdue notice was sent, and reports
// whether this call did it (false: another server was first).
func (s *Store) MarkOverdueNotified(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE assignments SET overdue_notified = ? WHERE id = ? AND overdue_notified = ?`),
		true, id, false)
	if err != nil {
		return false, fmt.Errorf("store: assignment %q overdue: %w", id, mapErr(err))
	}
	return affectedOne(res)
}

// NextScheduled returns the earliest due time after at of an assignment that the scheduler
// will have to act on (an overdue notice to send or a next instance to create), or nil.
func (s *Store) NextScheduled(ctx context.Context, at time.Time) (*time.Time, error) {
	var next sql.NullInt64
	err := s.db.GetContext(ctx, &next, s.q(`SELECT MIN(due_at) FROM assignments WHERE due_at > ? AND
		((state = ? AND overdue_notified = ?) OR (recurrence <> ? AND next_created = ?))`),
		toMs(at), AssignmentAssigned, false, RecurNone, false)
	if err != nil {
		return nil, fmt.Errorf("store: next scheduled assignment: %w", mapErr(err))
	}
	return fromNullMs(next), nil
}

// AddScore stores a score and its ratings in one transaction. An empty ID is filled with a new
// UUID and a zero CreatedAt with now. An unknown scorecard, criterion, session or rep is
// ErrNotFound.
func (s *Store) AddScore(ctx context.Context, sc Score) error {
	return s.inTx(ctx, "add score", func(tx *sqlx.Tx) error { return insertScore(ctx, tx, sc) })
}

func insertScore(ctx context.Context, tx *sqlx.Tx, sc Score) error {
	if sc.ID == "" {
		sc.ID = uuid.NewString()
	}
	sc.CreatedAt = orNow(sc.CreatedAt)
	_, err := tx.ExecContext(ctx, tx.Rebind(
		`INSERT INTO scores (id, scorecard_id, session_id, rep_id, coach_id, assignment_id, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`),
		sc.ID, sc.ScorecardID, sc.SessionID, sc.RepID, nullID(sc.CoachID), nullID(sc.AssignmentID), toMs(sc.CreatedAt))
	if err != nil {
		return err
	}
	for _, r := range sc.Ratings {
		var v sql.NullInt64
		if r.Value != nil {
			v = sql.NullInt64{Int64: int64(*r.Value), Valid: true}
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO score_ratings (score_id, criterion_id, value, comment) VALUES (?, ?, ?, ?)`),
			sc.ID, r.CriterionID, v, r.Comment)
		if err != nil {
			return err
		}
	}
	return nil
}

// ListScores returns the scores that f selects, oldest first, with their ratings.
func (s *Store) ListScores(ctx context.Context, f ScoreFilter) ([]Score, error) {
	if f.RepIDs != nil && len(f.RepIDs) == 0 {
		return []Score{}, nil
	}
	var (
		where = []string{`1 = 1`}
		args  []any
	)
	if f.ScorecardID != "" {
		where, args = append(where, `scorecard_id = ?`), append(args, f.ScorecardID)
	}
	if f.RepIDs != nil {
		where, args = append(where, `rep_id IN (?)`), append(args, f.RepIDs)
	}
	if f.AssignmentID != "" {
		where, args = append(where, `assignment_id = ?`), append(args, f.AssignmentID)
	}
	query, args, err := sqlx.In(`SELECT id, scorecard_id, session_id, rep_id, COALESCE(coach_id, '') AS coach_id,
		COALESCE(assignment_id, '') AS assignment_id, created_at FROM scores WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list scores: %w", err)
	}
	var rows []struct {
		Score
		CreatedMs int64 `db:"created_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list scores: %w", mapErr(err))
	}
	out := make([]Score, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Score
		out[i].CreatedAt, out[i].Ratings = fromMs(r.CreatedMs), []Rating{}
		index[r.ID], ids[i] = i, r.ID
	}
	query, args, err = inFilter(`SELECT r.score_id, r.criterion_id, r.value, r.comment FROM score_ratings r
		JOIN scorecard_criteria c ON c.id = r.criterion_id`, "r.score_id", ids, ` ORDER BY r.score_id, c.position`)
	if err != nil || query == "" {
		return out, err
	}
	var ratings []struct {
		ScoreID string `db:"score_id"`
		Rating
		Value sql.NullInt64 `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &ratings, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: score ratings: %w", mapErr(err))
	}
	for _, r := range ratings {
		rating := r.Rating
		if r.Value.Valid {
			v := int(r.Value.Int64)
			rating.Value = &v
		}
		i := index[r.ScoreID]
		out[i].Ratings = append(out[i].Ratings, rating)
	}
	return out, nil
}

// notFoundUnless returns err, or ErrNotFound when ok is false.
func notFoundUnless(ok bool, err error, what, id string) error {
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("%w: %s %q", ErrNotFound, what, id)
}
