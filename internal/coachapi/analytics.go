package coachapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"ringside/internal/jsonhttp"
	"ringside/internal/people"
	"ringside/internal/store"
)

// Talk analytics (docs/coaching.md, "Talk analytics"): a session's figures and talk timeline
// for its replay page, and a rep's trend over their sessions for the progress page.
//
// Who sees a session's analytics is who sees the session (the session API's rule, docs/api.md
// "Who sees what"): an admin every one; a user the sessions they are the rep of; a coach also
// those of the reps they coach and those they created. As on the replay page, the session's
// rep and coach invite tokens (a guest's link, as a bearer token) open its analytics, a
// partner's does not. The analytics hold only the rep's and the partner's talk, never a
// coach's, so a rep's view needs no filtering: there is nothing of a silent coach in them.

// SessionPath is the one route of this API under the session API's /api/sessions/ prefix; the
// server mounts it (Prefixes).
const SessionPath = "/api/sessions/{id}/analytics"

// TalkSide is one side's figures in a session.
type TalkSide struct {
	// Measured is false when this side's audio carried no audio levels (a browser that does
	// not send them, or nobody on this side): its figures are then unknown, not zero.
	Measured      bool  `json:"measured"`
	TalkMs        int64 `json:"talkMs"`
	Interruptions int   `json:"interruptions"`
	// LongestMonologue is this side's longest stretch of talk while the other was quiet.
	LongestMonologue *TalkMonologue `json:"longestMonologue"`
	// Talk is when this side talks: [startMs, endMs] pairs from the session's start, in
	// order.
	Talk [][2]int64 `json:"talk"`
}

// TalkMonologue is a stretch in which one side talks and the other does not.
type TalkMonologue struct {
	By         string `json:"by,omitempty"`
	StartMs    int64  `json:"startMs"`
	EndMs      int64  `json:"endMs"`
	DurationMs int64  `json:"durationMs"`
}

// TalkOverlap is a stretch in which both sides talk; By is who started while the other
// talked ("rep" or "partner"), or "" when both started together.
type TalkOverlap struct {
	StartMs int64  `json:"startMs"`
	EndMs   int64  `json:"endMs"`
	By      string `json:"by"`
}

// SessionTalk is the body of GET /api/sessions/{id}/analytics.
type SessionTalk struct {
	SessionID string `json:"sessionId"`
	// DurationMs is how much of the session's timeline was analysed.
	DurationMs int64 `json:"durationMs"`
	// TalkRatio is the rep's share of the talk in percent (0.1 precision); null unless both
	// sides were measured and someone talked.
	TalkRatio        *float64       `json:"talkRatio"`
	Rep              TalkSide       `json:"rep"`
	Partner          TalkSide       `json:"partner"`
	OverlapMs        int64          `json:"overlapMs"`
	Overlaps         []TalkOverlap  `json:"overlaps"`
	LongestMonologue *TalkMonologue `json:"longestMonologue"`
	UpdatedAt        time.Time      `json:"updatedAt"`
}

// TalkTrendSession is one session of a rep's trend.
type TalkTrendSession struct {
	SessionID string    `json:"sessionId"`
	Title     string    `json:"title"`
	At        time.Time `json:"at"` // when it started (when it was made, if it never did)
	SessionTalkFigures
}

// SessionTalkFigures are a session's figures without its timeline.
type SessionTalkFigures struct {
	DurationMs                int64    `json:"durationMs"`
	RepMeasured               bool     `json:"repMeasured"`
	PartnerMeasured           bool     `json:"partnerMeasured"`
	TalkRatio                 *float64 `json:"talkRatio"`
	RepTalkMs                 int64    `json:"repTalkMs"`
	PartnerTalkMs             int64    `json:"partnerTalkMs"`
	RepLongestMonologueMs     int64    `json:"repLongestMonologueMs"`
	PartnerLongestMonologueMs int64    `json:"partnerLongestMonologueMs"`
	RepInterruptions          int      `json:"repInterruptions"`
	PartnerInterruptions      int      `json:"partnerInterruptions"`
	Overlaps                  int      `json:"overlaps"`
}

// TalkAverages are a rep's figures averaged over the sessions of their trend that have them
// (null when none has).
type TalkAverages struct {
	TalkRatio             *float64 `json:"talkRatio"`
	RepLongestMonologueMs *float64 `json:"repLongestMonologueMs"`
	RepInterruptions      *float64 `json:"repInterruptions"`
	PartnerInterruptions  *float64 `json:"partnerInterruptions"`
}

// TalkTrend is the body of GET /api/users/{id}/analytics.
type TalkTrend struct {
	UserID   string             `json:"userId"`
	Sessions []TalkTrendSession `json:"sessions"`
	Average  TalkAverages       `json:"average"`
}

// sessionAnalytics answers GET /api/sessions/{id}/analytics.
func (a *api) sessionAnalytics(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	ctx, id := r.Context(), r.PathValue("id")
	if err := a.mayWatch(ctx, r, p, id); err != nil {
		return err
	}
	t, err := a.store.TalkAnalytics(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return jsonhttp.Errorf(jsonhttp.ErrNotFound, "this session has no talk analytics (yet: they are stored when it ends)")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionTalkFrom(t))
	return nil
}

// userAnalytics answers GET /api/users/{id}/analytics: the talk figures of the user's
// sessions, oldest first, and their averages.
func (a *api) userAnalytics(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	u, err := a.people.User(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	rows, err := a.store.RepTalkAnalytics(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := TalkTrend{UserID: u.ID, Sessions: make([]TalkTrendSession, 0, len(rows))}
	var ratio, mono, repInt, partnerInt mean
	for _, row := range rows {
		at := row.CreatedAt
		if row.StartedAt != nil {
			at = *row.StartedAt
		}
		f := figuresFrom(row.TalkAnalytics)
		out.Sessions = append(out.Sessions, TalkTrendSession{SessionID: row.SessionID, Title: row.Title, At: at, SessionTalkFigures: f})
		if f.TalkRatio != nil {
			ratio.add(*f.TalkRatio)
		}
		if f.RepMeasured {
			mono.add(float64(f.RepLongestMonologueMs))
			repInt.add(float64(f.RepInterruptions))
		}
		if f.RepMeasured && f.PartnerMeasured {
			partnerInt.add(float64(f.PartnerInterruptions))
		}
	}
	out.Average = TalkAverages{TalkRatio: ratio.get(), RepLongestMonologueMs: mono.get(),
		RepInterruptions: repInt.get(), PartnerInterruptions: partnerInt.get()}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mayWatch decides whether the caller may see session id's analytics, as the replay does: a
// signed-in caller who may see the session (404 otherwise, as for one that does not exist), or
// a guest with the session's rep or coach invite (a partner's invite, or another session's, is
// 403).
func (a *api) mayWatch(ctx context.Context, r *http.Request, p people.Principal, id string) error {
	noSession := jsonhttp.Errorf(jsonhttp.ErrNotFound, "no session with this id")
	if !isSignedIn(p) {
		token, ok := bearer(r)
		if !ok {
			return jsonhttp.Errorf(jsonhttp.ErrUnauthorized,
				"sign in, or send the admin token, an API key or the session's invite token (Authorization: Bearer <token>)")
		}
		inv, err := a.store.InviteByTokenHash(ctx, store.HashToken(token))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "this token is not the admin token, an API key or an invite")
		case err != nil:
			return fmt.Errorf("invite by token: %w", err)
		case inv.Role != store.RoleRep && inv.Role != store.RoleCoach:
			return jsonhttp.Errorf(jsonhttp.ErrForbidden, "guests do not see recordings or comments")
		case inv.SessionID != id: // as on the replay: 403 whether session id exists or not
			return jsonhttp.Errorf(jsonhttp.ErrForbidden, "this invite is for another session")
		}
		return nil
	}
	sess, err := a.store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return noSession
	}
	if err != nil {
		return err
	}
	ok, err := a.maySeeSession(ctx, p, sess)
	if err != nil {
		return err
	}
	if !ok {
		return noSession
	}
	return nil
}

// maySeeSession is the session API's rule of who sees a session, the store's one rule
// (store.SessionsVisibleTo): an admin every one, a rep their own, a coach those they created
// and those of the reps they coach.
func (a *api) maySeeSession(ctx context.Context, p people.Principal, s store.Session) (bool, error) {
	f, err := store.SessionsVisibleTo(ctx, p.UserID, p.IsAdmin(), p.IsCoach(), a.people.RepsOf)
	if err != nil {
		return false, err
	}
	return f.Matches(s), nil
}

// bearer returns the token of r's "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

func sessionTalkFrom(t store.TalkAnalytics) SessionTalk {
	f := figuresFrom(t)
	out := SessionTalk{
		SessionID: t.SessionID, DurationMs: t.DurationMs, TalkRatio: f.TalkRatio,
		Rep: TalkSide{Measured: t.RepMeasured, TalkMs: t.RepTalkMs, Interruptions: t.RepInterruptions,
			LongestMonologue: monologueFrom("", t.RepMonologue), Talk: pairs(t.Rep)},
		Partner: TalkSide{Measured: t.PartnerMeasured, TalkMs: t.PartnerTalkMs, Interruptions: t.PartnerInterruptions,
			LongestMonologue: monologueFrom("", t.PartnerMonologue), Talk: pairs(t.Partner)},
		OverlapMs: t.OverlapMs,
		Overlaps:  make([]TalkOverlap, len(t.Overlaps)),
		UpdatedAt: t.UpdatedAt,
	}
	for i, o := range t.Overlaps {
		out.Overlaps[i] = TalkOverlap(o)
	}
	switch rep, partner := t.RepMonologue, t.PartnerMonologue; {
	case partner.EndMs-partner.StartMs > rep.EndMs-rep.StartMs:
		out.LongestMonologue = monologueFrom(store.TalkPartner, partner)
	default:
		out.LongestMonologue = monologueFrom(store.TalkRep, rep)
	}
	return out
}

func figuresFrom(t store.TalkAnalytics) SessionTalkFigures {
	f := SessionTalkFigures{
		DurationMs: t.DurationMs, RepMeasured: t.RepMeasured, PartnerMeasured: t.PartnerMeasured,
		RepTalkMs: t.RepTalkMs, PartnerTalkMs: t.PartnerTalkMs,
		RepLongestMonologueMs:     t.RepMonologue.EndMs - t.RepMonologue.StartMs,
		PartnerLongestMonologueMs: t.PartnerMonologue.EndMs - t.PartnerMonologue.StartMs,
		RepInterruptions:          t.RepInterruptions, PartnerInterruptions: t.PartnerInterruptions,
		Overlaps: len(t.Overlaps),
	}
	if total := t.RepTalkMs + t.PartnerTalkMs; t.RepMeasured && t.PartnerMeasured && total > 0 {
		f.TalkRatio = round1(100 * float64(t.RepTalkMs) / float64(total))
	}
	return f
}

func monologueFrom(by string, iv store.TalkInterval) *TalkMonologue {
	if iv.EndMs <= iv.StartMs {
		return nil
	}
	return &TalkMonologue{By: by, StartMs: iv.StartMs, EndMs: iv.EndMs, DurationMs: iv.EndMs - iv.StartMs}
}

func pairs(in []store.TalkInterval) [][2]int64 {
	out := make([][2]int64, len(in))
	for i, iv := range in {
		out[i] = [2]int64{iv.StartMs, iv.EndMs}
	}
	return out
}

func round1(v float64) *float64 {
	r := math.Round(v*10) / 10
	return &r
}

// mean averages values, rounded to 0.1; nil without any.
type mean struct {
	sum float64
	n   int
}

func (m *mean) add(v float64) { m.sum, m.n = m.sum+v, m.n+1 }

func (m mean) get() *float64 {
	if m.n == 0 {
		return nil
	}
	return round1(m.sum / float64(m.n))
}
