package store

import (
	"context"
	"testing"
	"time"
)

// newTestCoaching stores the people of newTestPeople, a two-criteria scorecard, a scenario
// using it and a session, and returns the scorecard, the scenario and the session id.
func newTestCoaching(t *testing.T, s *Store, at time.Time) (Scorecard, Scenario, string) {
	t.Helper()
	ctx := context.Background()
	newTestPeople(t, s, at)
	sc := Scorecard{ID: "card", Title: "Discovery", CreatedBy: "coachA", CreatedAt: at, Criteria: []Criterion{
		{ID: "c-open", Label: "Open questions", Kind: CriterionRating, Weight: 3},
		{ID: "c-next", Label: "Agreed next step", Description: "a date in the diary", Kind: CriterionYesNo, Weight: 1},
		{ID: "c-note", Label: "Notes", Kind: CriterionComment, Weight: 0},
	}}
	if err := s.CreateScorecard(ctx, sc); err != nil {
		t.Fatalf("CreateScorecard: %v", err)
	}
	scen := Scenario{ID: "scen", Title: "Price objection", Persona: "CFO", Objections: []string{"too dear", "no budget"},
		GoodLooksLike: "value first", ScorecardID: sc.ID, CreatedBy: "coachA", CreatedAt: at}
	if err := s.CreateScenario(ctx, scen); err != nil {
		t.Fatalf("CreateScenario: %v", err)
	}
	sess, _, _ := newTestSession(t, at)
	if err := s.CreateSession(ctx, sess, nil); err != nil {
		t.Fatal(err)
	}
	return sc, scen, sess.ID
}

func intp(v int) *int { return &v }

func TestScorecardsAndScenarios(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		sc, scen, _ := newTestCoaching(t, s, at)

		got, err := s.Scorecard(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := sc
		want.CreatedAt = ms(at)
		for i := range want.Criteria {
			want.Criteria[i].ScorecardID, want.Criteria[i].Position = sc.ID, i
		}
		mustEqual(t, "Scorecard", got, want)
		_, err = s.Scorecard(ctx, "nope")
		wantErr(t, "unknown scorecard", err, ErrNotFound)
		if err := s.CreateScorecard(ctx, Scorecard{Title: "admin's", Criteria: []Criterion{{Label: "x", Kind: "stars"}}}); err == nil {
			t.Fatal("a criterion of an unknown kind was stored")
		}

		gotScen, err := s.Scenario(ctx, scen.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantScen := scen
		wantScen.CreatedAt, wantScen.UpdatedAt = ms(at), ms(at)
		mustEqual(t, "Scenario", gotScen, wantScen)

		gotScen.Objections, gotScen.ScorecardID, gotScen.UpdatedAt = nil, "", at.Add(time.Hour)
		if err := s.UpdateScenario(ctx, gotScen); err != nil {
			t.Fatal(err)
		}
		updated, _ := s.Scenario(ctx, scen.ID)
		if len(updated.Objections) != 0 || updated.Objections == nil || updated.ScorecardID != "" || updated.UpdatedAt != ms(at.Add(time.Hour)) {
			t.Fatalf("updated scenario = %+v", updated)
		}
		wantErr(t, "update unknown", s.UpdateScenario(ctx, Scenario{ID: "nope"}), ErrNotFound)
		wantErr(t, "unknown scorecard", s.CreateScenario(ctx, Scenario{Title: "x", ScorecardID: "nope"}), ErrNotFound)
		if err := s.CreateScenario(ctx, Scenario{Title: "Another"}); err != nil {
			t.Fatal(err)
		}
		list, _ := s.ListScenarios(ctx, nil)
		if len(list) != 2 || list[0].Title != "Another" {
			t.Fatalf("ListScenarios = %+v", list)
		}
		cards, _ := s.ListScorecards(ctx, []string{})
		mustEqual(t, "ListScorecards(empty)", cards, []Scorecard{})
	})
}

func TestAssignmentLifecycle(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		sc, scen, sessID := newTestCoaching(t, s, at)
		due := at.Add(24 * time.Hour)
		a := Assignment{ID: "as1", ScenarioID: scen.ID, RepID: "repA", AssignedBy: "coachA", Mode: ModeLive,
			Recurrence: RecurWeekly, DueAt: due, CreatedAt: at}
		b := Assignment{ID: "as2", ScenarioID: scen.ID, RepID: "repB", Mode: ModeSolo, Recurrence: RecurNone, DueAt: at.Add(time.Hour), CreatedAt: at}
		if err := s.CreateAssignments(ctx, []Assignment{a, b}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Assignment(ctx, "as1")
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "Assignment", got, Assignment{ID: "as1", SeriesID: "as1", ScenarioID: scen.ID, RepID: "repA",
			AssignedBy: "coachA", Mode: ModeLive, Recurrence: RecurWeekly, State: AssignmentAssigned, DueAt: ms(due), CreatedAt: ms(at)})
		err = s.CreateAssignments(ctx, []Assignment{{ScenarioID: scen.ID, RepID: "repA", Mode: ModeLive, Recurrence: RecurNone},
			{ScenarioID: scen.ID, RepID: "nobody", Mode: ModeLive, Recurrence: RecurNone}})
		wantErr(t, "unknown rep", err, ErrNotFound)
		if all, _ := s.ListAssignments(ctx, AssignmentFilter{}); len(all) != 2 || all[0].ID != "as2" {
			t.Fatalf("ListAssignments (by due) = %+v; a failed batch must store nothing", all)
		}
		if ids, _ := s.AssignedScenarioIDs(ctx, "repA"); len(ids) != 1 || ids[0] != scen.ID {
			t.Fatalf("AssignedScenarioIDs = %v", ids)
		}

		// The scheduler's view.
		if next, err := s.NextScheduled(ctx, at); err != nil || *next != ms(at.Add(time.Hour)) {
			t.Fatalf("NextScheduled = %v, %v", next, err)
		}
		overdue, _ := s.OverdueToNotify(ctx, at.Add(2*time.Hour))
		if len(overdue) != 1 || overdue[0].ID != "as2" {
			t.Fatalf("OverdueToNotify = %+v", overdue)
		}
		if ok, err := s.MarkOverdueNotified(ctx, "as2"); !ok || err != nil {
			t.Fatalf("MarkOverdueNotified = %v, %v", ok, err)
		}
		if ok, _ := s.MarkOverdueNotified(ctx, "as2"); ok {
			t.Fatal("an overdue notice was marked twice")
		}
		if due, _ := s.RecurringDue(ctx, at.Add(2*time.Hour)); len(due) != 0 {
			t.Fatalf("RecurringDue before due = %+v", due)
		}
		recurring, _ := s.RecurringDue(ctx, due)
		if len(recurring) != 1 || recurring[0].ID != "as1" {
			t.Fatalf("RecurringDue = %+v", recurring)
		}
		next := Assignment{ID: "as1-2", SeriesID: "as1", ScenarioID: scen.ID, RepID: "repA", Mode: ModeLive,
			Recurrence: RecurWeekly, DueAt: due.Add(7 * 24 * time.Hour), CreatedAt: due}
		if ok, err := s.CreateNextAssignment(ctx, "as1", next); !ok || err != nil {
			t.Fatalf("CreateNextAssignment = %v, %v", ok, err)
		}
		if ok, err := s.CreateNextAssignment(ctx, "as1", Assignment{ID: "as1-dup"}); ok || err != nil {
			t.Fatalf("second CreateNextAssignment = %v, %v", ok, err)
		}
		if series, _ := s.ListAssignments(ctx, AssignmentFilter{RepIDs: []string{"repA"}}); len(series) != 2 || series[1].SeriesID != "as1" {
			t.Fatalf("series = %+v", series)
		}

		// assigned → submitted → claimed → reviewed.
		wantErr(t, "claim before submission", s.ClaimAssignment(ctx, "as1", "coachA", at), ErrConflict)
		wantErr(t, "unknown session", s.SubmitAssignment(ctx, "as1", "no-session", at), ErrNotFound)
		wantErr(t, "unknown assignment", s.SubmitAssignment(ctx, "nope", sessID, at), ErrNotFound)
		submitted := at.Add(time.Hour)
		if err := s.SubmitAssignment(ctx, "as1", sessID, submitted); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "submit twice", s.SubmitAssignment(ctx, "as1", sessID, at), ErrConflict)
		if err := s.ClaimAssignment(ctx, "as1", "coachA", at.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimAssignment(ctx, "as1", "coachA", at.Add(3*time.Hour)); err != nil {
			t.Fatalf("claim again by the same coach: %v", err)
		}
		wantErr(t, "claim by another", s.ClaimAssignment(ctx, "as1", "coachB", at), ErrConflict)
		wantErr(t, "claim by the admin token", s.ClaimAssignment(ctx, "as1", "", at), ErrConflict)
		queue, _ := s.ListAssignments(ctx, AssignmentFilter{States: []string{AssignmentSubmitted}, BySubmission: true})
		if len(queue) != 1 || !queue[0].Claimed || queue[0].ClaimedBy != "coachA" || *queue[0].ClaimedAt != ms(at.Add(2*time.Hour)) {
			t.Fatalf("review queue = %+v", queue)
		}

		review := Review{AssignmentID: "as1", ReviewerID: "coachB", At: at.Add(4 * time.Hour)}
		wantErr(t, "review by another", s.CompleteReview(ctx, review), ErrConflict)
		review.ReviewerID = "coachA"
		review.Comments = []Comment{{Author: "coach A", Text: "great opener", OffsetMs: 1500}}
		review.Score = &Score{ScorecardID: sc.ID, Ratings: []Rating{
			{CriterionID: "c-open", Value: intp(4)}, {CriterionID: "c-next", Value: intp(1)}, {CriterionID: "c-note", Comment: "keep going"}}}
		if err := s.CompleteReview(ctx, review); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "review twice", s.CompleteReview(ctx, review), ErrConflict)
		done, _ := s.Assignment(ctx, "as1")
		if done.State != AssignmentReviewed || done.ReviewedBy != "coachA" || *done.ReviewedAt != ms(at.Add(4*time.Hour)) ||
			done.SessionID != sessID || *done.SubmittedAt != ms(submitted) {
			t.Fatalf("reviewed assignment = %+v", done)
		}
		comments, _ := s.Comments(ctx, sessID)
		if len(comments) != 1 || comments[0].Text != "great opener" || comments[0].OffsetMs != 1500 {
			t.Fatalf("comments = %+v", comments)
		}
		scores, err := s.ListScores(ctx, ScoreFilter{AssignmentID: "as1"})
		if err != nil || len(scores) != 1 {
			t.Fatalf("ListScores = %+v, %v", scores, err)
		}
		mustEqual(t, "score ratings", scores[0].Ratings, review.Score.Ratings)
		if scores[0].RepID != "repA" || scores[0].CoachID != "coachA" || scores[0].SessionID != sessID {
			t.Fatalf("score = %+v", scores[0])
		}

		// An unclaimed submission is claimed by whoever completes it, the admin token too.
		if err := s.SubmitAssignment(ctx, "as2", sessID, at); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteReview(ctx, Review{AssignmentID: "as2", At: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Assignment(ctx, "as2"); !got.Claimed || got.ClaimedBy != "" || got.State != AssignmentReviewed {
			t.Fatalf("reviewed by the admin token: %+v", got)
		}
		since := at.Add(2 * time.Hour)
		recent, _ := s.ListAssignments(ctx, AssignmentFilter{States: []string{AssignmentReviewed}, ReviewedSince: since})
		if len(recent) != 1 || recent[0].ID != "as1" {
			t.Fatalf("reviewed since = %+v", recent)
		}

		wantErr(t, "delete unknown", s.DeleteAssignment(ctx, "nope"), ErrNotFound)
		if err := s.DeleteAssignment(ctx, "as1-2"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestScores(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		sc, _, sessID := newTestCoaching(t, s, at)
		for i, rep := range []string{"repA", "repA", "repB"} {
			err := s.AddScore(ctx, Score{ScorecardID: sc.ID, SessionID: sessID, RepID: rep, CoachID: "coachA",
				CreatedAt: at.Add(time.Duration(i) * time.Second),
				Ratings:   []Rating{{CriterionID: "c-next", Value: intp(i % 2)}, {CriterionID: "c-open", Value: intp(i + 1)}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := s.AddScore(ctx, Score{ScorecardID: sc.ID, SessionID: sessID, RepID: "repA", Ratings: []Rating{{CriterionID: "nope"}}})
		wantErr(t, "unknown criterion", err, ErrNotFound)
		wantErr(t, "unknown session", s.AddScore(ctx, Score{ScorecardID: sc.ID, SessionID: "nope", RepID: "repA"}), ErrNotFound)

		repA, _ := s.ListScores(ctx, ScoreFilter{ScorecardID: sc.ID, RepIDs: []string{"repA"}})
		if len(repA) != 2 || repA[1].Ratings[0].CriterionID != "c-open" || *repA[1].Ratings[0].Value != 2 {
			t.Fatalf("scores of repA (ratings in criterion order) = %+v", repA)
		}
		all, _ := s.ListScores(ctx, ScoreFilter{})
		none, _ := s.ListScores(ctx, ScoreFilter{RepIDs: []string{}})
		if len(all) != 3 || len(none) != 0 {
			t.Fatalf("all %d none %d", len(all), len(none))
		}
	})
}
