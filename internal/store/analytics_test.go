package store

import (
	"context"
	"testing"
	"time"
)

func testTalk(sessionID string) TalkAnalytics {
	return TalkAnalytics{
		SessionID: sessionID, DurationMs: 15000, RepMeasured: true, PartnerMeasured: true,
		RepTalkMs: 7500, PartnerTalkMs: 6600, OverlapMs: 2600, RepInterruptions: 1, PartnerInterruptions: 2,
		RepMonologue: TalkInterval{500, 3000}, PartnerMonologue: TalkInterval{4000, 6000},
		Rep:     []TalkInterval{{500, 4000}, {7000, 10000}, {12000, 13000}},
		Partner: []TalkInterval{{3000, 6000}, {9000, 9600}, {11000, 14000}},
		Overlaps: []TalkOverlap{{StartMs: 3000, EndMs: 4000, By: TalkPartner}, {StartMs: 9000, EndMs: 9600, By: TalkPartner},
			{StartMs: 12000, EndMs: 13000, By: TalkRep}},
	}
}

func TestTalkAnalyticsRoundTrip(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		_, _, sessID := newTestCoaching(t, s, at)
		_, err := s.TalkAnalytics(ctx, sessID)
		wantErr(t, "no analytics yet", err, ErrNotFound)

		want := testTalk(sessID)
		want.UpdatedAt = at
		if err := s.SaveTalkAnalytics(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.TalkAnalytics(ctx, sessID)
		if err != nil {
			t.Fatal(err)
		}
		want.UpdatedAt = ms(at)
		mustEqual(t, "TalkAnalytics", got, want)

		// A second room of the same session replaces the row; empty lists stay empty, not nil.
		again := TalkAnalytics{SessionID: sessID, DurationMs: 20000, RepMeasured: true, RepTalkMs: 100,
			UpdatedAt: at.Add(time.Minute)}
		if err := s.SaveTalkAnalytics(ctx, again); err != nil {
			t.Fatal(err)
		}
		got, _ = s.TalkAnalytics(ctx, sessID)
		if got.DurationMs != 20000 || got.PartnerMeasured || got.Rep == nil || len(got.Rep) != 0 ||
			got.Overlaps == nil || len(got.Overlaps) != 0 || got.RepMonologue != (TalkInterval{}) || got.UpdatedAt != ms(at.Add(time.Minute)) {
			t.Fatalf("replaced = %+v", got)
		}

		wantErr(t, "no session", s.SaveTalkAnalytics(ctx, TalkAnalytics{}), ErrInvalid)
		wantErr(t, "unknown session", s.SaveTalkAnalytics(ctx, testTalk("nope")), ErrNotFound)
	})
}

// TestRepTalkAnalytics: a rep's trend holds the analysed sessions that are the rep's
// (sessions.rep_id), oldest first; another rep's and nobody's are not among them.
func TestRepTalkAnalytics(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		newTestPeople(t, s, at)
		var ids []string
		for i, c := range []struct{ title, rep string }{
			{"first", "repA"}, {"second", "repA"}, {"repB's", "repB"}, {"nobody's", ""}, {"unanalysed", "repA"},
		} {
			sess, _, _ := newTestSession(t, at.Add(time.Duration(i)*time.Hour))
			sess.Title, sess.RepID = c.title, c.rep
			if err := s.CreateSession(ctx, sess, nil); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sess.ID)
			if c.title != "unanalysed" {
				if err := s.SaveTalkAnalytics(ctx, testTalk(sess.ID)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The first went live after the second was created: sessions are ordered by when they
		// started, or else by when they were made.
		if err := s.MarkSessionLive(ctx, ids[0], at.Add(90*time.Minute)); err != nil {
			t.Fatal(err)
		}

		got, err := s.RepTalkAnalytics(ctx, "repA")
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, r := range got {
			order = append(order, r.Title)
			if len(r.Rep) != 3 || r.RepTalkMs != 7500 || r.Overlaps[2].By != TalkRep {
				t.Errorf("session %s: %+v", r.Title, r.TalkAnalytics)
			}
		}
		mustEqual(t, "repA's sessions, oldest first", order, []string{"second", "first"})
		if got[1].StartedAt == nil || *got[1].StartedAt != ms(at.Add(90*time.Minute)) || got[0].StartedAt != nil ||
			got[0].CreatedAt != ms(at.Add(time.Hour)) {
			t.Errorf("session times: %+v", got)
		}
		if other, _ := s.RepTalkAnalytics(ctx, "repB"); len(other) != 1 || other[0].SessionID != ids[2] {
			t.Errorf("repB's sessions = %+v", other)
		}
		if none, err := s.RepTalkAnalytics(ctx, "nobody"); err != nil || none == nil || len(none) != 0 {
			t.Errorf("nobody's sessions = %v, %v", none, err)
		}
	})
}
