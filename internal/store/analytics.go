package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Talk analysers' sides, as TalkAnalytics names them.
const (
	TalkRep     = "rep"
	TalkPartner = "partner"
)

// TalkInterval is a stretch of a session's timeline, in milliseconds from its start.
type TalkInterval struct {
	StartMs, EndMs int64
}

// TalkOverlap is a stretch in which the rep and the partner both talk; By is the side that
// started while the other talked (TalkRep, TalkPartner, or "" when both started together).
type TalkOverlap struct {
	StartMs, EndMs int64
	By             string
}

// TalkAnalytics is a session's talk analysis (internal/analytics): figures and the talk
// intervals they come from.
type TalkAnalytics struct {
	SessionID string
	// DurationMs is how much of the session's timeline was analysed, from its start.
	DurationMs int64
	// RepMeasured and PartnerMeasured say whether that side's audio carried audio levels at
	// all; a side that did not is not silent, it is unknown.
	RepMeasured, PartnerMeasured bool
	RepTalkMs, PartnerTalkMs     int64
	OverlapMs                    int64
	RepInterruptions             int
	PartnerInterruptions         int
	// RepMonologue and PartnerMonologue are each side's longest monologue (zero: none).
	RepMonologue, PartnerMonologue TalkInterval
	Rep, Partner                   []TalkInterval
	Overlaps                       []TalkOverlap
	UpdatedAt                      time.Time // zero: now, when saved
}

// RepTalk is one session's talk analysis with the session's title and start, for a rep's
// trend.
type RepTalk struct {
	TalkAnalytics
	Title     string
	StartedAt *time.Time
	CreatedAt time.Time
}

// talkRow is a talk_analytics row as stored.
type talkRow struct {
	SessionID               string `db:"session_id"`
	DurationMs              int64  `db:"duration_ms"`
	RepMeasured             bool   `db:"rep_measured"`
	PartnerMeasured         bool   `db:"partner_measured"`
	RepTalkMs               int64  `db:"rep_talk_ms"`
	PartnerTalkMs           int64  `db:"partner_talk_ms"`
	OverlapMs               int64  `db:"overlap_ms"`
	RepInterruptions        int    `db:"rep_interruptions"`
	PartnerInterruptions    int    `db:"partner_interruptions"`
	RepMonologueStartMs     int64  `db:"rep_monologue_start_ms"`
	RepMonologueEndMs       int64  `db:"rep_monologue_end_ms"`
	PartnerMonologueStartMs int64  `db:"partner_monologue_start_ms"`
	PartnerMonologueEndMs   int64  `db:"partner_monologue_end_ms"`
	RepIntervals            string `db:"rep_intervals"`
	PartnerIntervals        string `db:"partner_intervals"`
	Overlaps                string `db:"overlap_intervals"`
	UpdatedMs               int64  `db:"updated_at"`
}

const talkCols = `t.session_id, t.duration_ms, t.rep_measured, t.partner_measured, t.rep_talk_ms,
	t.partner_talk_ms, t.overlap_ms, t.rep_interruptions, t.partner_interruptions,
	t.rep_monologue_start_ms, t.rep_monologue_end_ms, t.partner_monologue_start_ms, t.partner_monologue_end_ms,
	t.rep_intervals, t.partner_intervals, t.overlap_intervals, t.updated_at`

// SaveTalkAnalytics stores a session's talk analysis, replacing any earlier one.
func (s *Store) SaveTalkAnalytics(ctx context.Context, t TalkAnalytics) error {
	if t.SessionID == "" {
		return fmt.Errorf("%w: talk analytics without a session", ErrInvalid)
	}
	rep, partner, overlaps, err := encodeTalk(t)
	if err != nil {
		return fmt.Errorf("store: save talk analytics: %w", err)
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO talk_analytics (session_id, duration_ms, rep_measured,
		partner_measured, rep_talk_ms, partner_talk_ms, overlap_ms, rep_interruptions, partner_interruptions,
		rep_monologue_start_ms, rep_monologue_end_ms, partner_monologue_start_ms, partner_monologue_end_ms,
		rep_intervals, partner_intervals, overlap_intervals, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id) DO UPDATE SET duration_ms = excluded.duration_ms,
		rep_measured = excluded.rep_measured, partner_measured = excluded.partner_measured,
		rep_talk_ms = excluded.rep_talk_ms, partner_talk_ms = excluded.partner_talk_ms,
		overlap_ms = excluded.overlap_ms, rep_interruptions = excluded.rep_interruptions,
		partner_interruptions = excluded.partner_interruptions,
		rep_monologue_start_ms = excluded.rep_monologue_start_ms, rep_monologue_end_ms = excluded.rep_monologue_end_ms,
		partner_monologue_start_ms = excluded.partner_monologue_start_ms,
		partner_monologue_end_ms = excluded.partner_monologue_end_ms, rep_intervals = excluded.rep_intervals,
		partner_intervals = excluded.partner_intervals, overlap_intervals = excluded.overlap_intervals, updated_at = excluded.updated_at`),
		t.SessionID, t.DurationMs, t.RepMeasured, t.PartnerMeasured, t.RepTalkMs, t.PartnerTalkMs, t.OverlapMs,
		t.RepInterruptions, t.PartnerInterruptions, t.RepMonologue.StartMs, t.RepMonologue.EndMs,
		t.PartnerMonologue.StartMs, t.PartnerMonologue.EndMs, rep, partner, overlaps, toMs(orNow(t.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("store: save talk analytics of %s: %w", t.SessionID, mapErr(err))
	}
	return nil
}

// TalkAnalytics returns a session's talk analysis, or ErrNotFound if it has none.
func (s *Store) TalkAnalytics(ctx context.Context, sessionID string) (TalkAnalytics, error) {
	var r talkRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+talkCols+` FROM talk_analytics t WHERE t.session_id = ?`), sessionID)
	if err != nil {
		return TalkAnalytics{}, fmt.Errorf("store: talk analytics of %s: %w", sessionID, mapErr(err))
	}
	return r.decode()
}

// RepTalkAnalytics returns the talk analyses of the sessions of the rep repID (the sessions
// whose rep_id it is), oldest session first.
func (s *Store) RepTalkAnalytics(ctx context.Context, repID string) ([]RepTalk, error) {
	var rows []struct {
		talkRow
		Title     string `db:"title"`
		StartedMs *int64 `db:"started_at"`
		CreatedMs int64  `db:"created_at"`
	}
	err := s.db.SelectContext(ctx, &rows, s.q(`SELECT `+talkCols+`, s.title, s.started_at, s.created_at
		FROM talk_analytics t JOIN sessions s ON s.id = t.session_id
		WHERE s.rep_id = ?
		ORDER BY COALESCE(s.started_at, s.created_at), s.id`), repID)
	if err != nil {
		return nil, fmt.Errorf("store: talk analytics of rep %s: %w", repID, mapErr(err))
	}
	out := make([]RepTalk, 0, len(rows))
	for _, r := range rows {
		t, err := r.decode()
		if err != nil {
			return nil, err
		}
		rt := RepTalk{TalkAnalytics: t, Title: r.Title, CreatedAt: fromMs(r.CreatedMs)}
		if r.StartedMs != nil {
			at := fromMs(*r.StartedMs)
			rt.StartedAt = &at
		}
		out = append(out, rt)
	}
	return out, nil
}

// encodeTalk writes the intervals compactly: [[start, end], …] per side, [[start, end, by], …]
// for the overlaps.
func encodeTalk(t TalkAnalytics) (rep, partner, overlaps string, err error) {
	pairs := func(in []TalkInterval) (string, error) {
		out := make([][2]int64, len(in))
		for i, iv := range in {
			out[i] = [2]int64{iv.StartMs, iv.EndMs}
		}
		b, err := json.Marshal(out)
		return string(b), err
	}
	if rep, err = pairs(t.Rep); err != nil {
		return
	}
	if partner, err = pairs(t.Partner); err != nil {
		return
	}
	ov := make([][3]any, len(t.Overlaps))
	for i, o := range t.Overlaps {
		ov[i] = [3]any{o.StartMs, o.EndMs, o.By}
	}
	b, err := json.Marshal(ov)
	return rep, partner, string(b), err
}

func (r talkRow) decode() (TalkAnalytics, error) {
	t := TalkAnalytics{
		SessionID: r.SessionID, DurationMs: r.DurationMs, RepMeasured: r.RepMeasured, PartnerMeasured: r.PartnerMeasured,
		RepTalkMs: r.RepTalkMs, PartnerTalkMs: r.PartnerTalkMs, OverlapMs: r.OverlapMs,
		RepInterruptions: r.RepInterruptions, PartnerInterruptions: r.PartnerInterruptions,
		RepMonologue:     TalkInterval{StartMs: r.RepMonologueStartMs, EndMs: r.RepMonologueEndMs},
		PartnerMonologue: TalkInterval{StartMs: r.PartnerMonologueStartMs, EndMs: r.PartnerMonologueEndMs},
		UpdatedAt:        fromMs(r.UpdatedMs),
	}
	pairs := func(s string) ([]TalkInterval, error) {
		var in [][2]int64
		if err := json.Unmarshal([]byte(s), &in); err != nil {
			return nil, err
		}
		out := make([]TalkInterval, len(in))
		for i, p := range in {
			out[i] = TalkInterval{StartMs: p[0], EndMs: p[1]}
		}
		return out, nil
	}
	var err error
	if t.Rep, err = pairs(r.RepIntervals); err != nil {
		return t, fmt.Errorf("store: talk analytics of %s: rep intervals: %w", r.SessionID, err)
	}
	if t.Partner, err = pairs(r.PartnerIntervals); err != nil {
		return t, fmt.Errorf("store: talk analytics of %s: partner intervals: %w", r.SessionID, err)
	}
	var raw [][3]json.RawMessage
	if err := json.Unmarshal([]byte(r.Overlaps), &raw); err != nil {
		return t, fmt.Errorf("store: talk analytics of %s: overlaps: %w", r.SessionID, err)
	}
	t.Overlaps = make([]TalkOverlap, len(raw))
	for i, o := range raw {
		x := &t.Overlaps[i]
		if json.Unmarshal(o[0], &x.StartMs) != nil || json.Unmarshal(o[1], &x.EndMs) != nil || json.Unmarshal(o[2], &x.By) != nil {
			return t, fmt.Errorf("store: talk analytics of %s: malformed overlap %d", r.SessionID, i)
		}
	}
	return t, nil
}
