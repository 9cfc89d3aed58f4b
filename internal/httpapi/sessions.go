package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

// Bounds of the session list and of the strings in a new session.
const (
	defaultListLimit = 50
	maxListLimit     = 500
	maxTitleRunes    = 200
	maxNameRunes     = 100
)

// inviteRoles are the roles an invite is issued for, one invite each per session.
func inviteRoles() [3]string { return [3]string{store.RoleRep, store.RolePartner, store.RoleCoach} }

// defaultName is the display names of participants whose name the admin left out.
func defaultName(role string) string {
	switch role {
	case store.RoleRep:
		return "Rep"
	case store.RolePartner:
		return "Partner"
	default:
		return "Coach"
	}
}

// createSession answers POST /api/sessions: it stores the session with one invite per role
// and returns the invite URLs. Each invite's token is shown here once; only its hash is kept.
// Admins create sessions for anyone or no one, coaches for the reps they coach (or for no one:
// then the session is theirs alone); reps do not.
func (a *api) createSession(w http.ResponseWriter, r *http.Request, c Caller) error {
	if !c.admin() && !c.coach() {
		return forbidden("only coaches and admins create sessions")
	}
	var req CreateSessionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	title := strings.TrimSpace(req.Title)
	names := map[string]string{
		store.RoleRep:     strings.TrimSpace(req.RepName),
		store.RolePartner: strings.TrimSpace(req.PartnerName),
		store.RoleCoach:   strings.TrimSpace(req.CoachName),
	}
	switch {
	case title == "":
		return badRequest("title is required")
	case utf8.RuneCountInString(title) > maxTitleRunes:
		return badRequest("title is longer than %d characters", maxTitleRunes)
	case req.Coaches < 0 || req.Coaches > MaxCoachInvites:
		return badRequest("coaches must be 1 to %d", MaxCoachInvites)
	}
	coaches := max(req.Coaches, 1)
	repID := strings.TrimSpace(req.RepID)
	if repID != "" {
		rep, err := a.repFor(r.Context(), c, repID)
		if err != nil {
			return err
		}
		if names[store.RoleRep] == "" {
			names[store.RoleRep] = rep.Name
		}
	}
	for _, role := range inviteRoles() {
		if utf8.RuneCountInString(names[role]) > maxNameRunes {
			return badRequest("%sName is longer than %d characters", role, maxNameRunes)
		}
		if names[role] == "" {
			names[role] = defaultName(role)
		}
	}
	record := req.Record == nil || *req.Record

	// The store keeps milliseconds; so does the response, so that it matches later reads.
	now := a.now().UTC().Truncate(time.Millisecond)
	expires := now.Add(a.inviteTTL)
	id, err := newID()
	if err != nil {
		return err
	}
	sess := store.Session{
		ID:          id,
		Title:       title,
		RepName:     names[store.RoleRep],
		PartnerName: names[store.RolePartner],
		State:       store.SessionCreated,
		Recorded:    record,
		CreatedAt:   now,
		RepID:       repID,
		CreatedBy:   c.UserID,
	}
	base := a.baseURL(r)
	var (
		invites []store.Invite
		links   = map[string][]string{}
	)
	for _, role := range inviteRoles() {
		n := 1
		if role == store.RoleCoach {
			n = coaches
		}
		for range n {
			token, hash, err := store.NewToken()
			if err != nil {
				return err
			}
			inviteID, err := newID()
			if err != nil {
				return err
			}
			invites = append(invites, store.Invite{
				ID:        inviteID,
				SessionID: id,
				Role:      role,
				Name:      names[role],
				TokenHash: hash,
				ExpiresAt: expires,
				CreatedAt: now,
			})
			links[role] = append(links[role], base+"/join/"+url.PathEscape(token))
		}
	}
	if err := a.store.CreateSession(r.Context(), sess, invites); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	a.log.Info("session created", "session", id, "recorded", record, "rep", repID, "by", c.UserID)
	writeJSON(w, http.StatusCreated, CreateSessionResponse{
		Session:   sessionFrom(sess),
		Invites:   invitesFrom(links),
		ExpiresAt: expires,
	})
	return nil
}

// repFor returns the rep with id if c may create a session for them: any rep for an admin, the
// reps a coach coaches. Anyone else, or no such rep, is 404: ids are not probed.
func (a *api) repFor(ctx context.Context, c Caller, id string) (store.User, error) {
	missing := jsonhttp.Errorf(jsonhttp.ErrNotFound, "no rep with id %q among yours", id)
	if !c.admin() {
		reps, err := a.auth.RepsOf(ctx, c.UserID)
		if err != nil {
			return store.User{}, err
		}
		if !slices.Contains(reps, id) {
			return store.User{}, missing
		}
	}
	u, err := a.store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != store.RoleRep) {
		return store.User{}, missing
	}
	if err != nil {
		return store.User{}, fmt.Errorf("rep %s: %w", id, err)
	}
	return u, nil
}

// listSessions answers GET /api/sessions?limit=N: the sessions the caller sees, newest first
// as the store orders them.
func (a *api) listSessions(w http.ResponseWriter, r *http.Request, c Caller) error {
	limit := defaultListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return badRequest("limit must be an integer from 1 to %d", maxListLimit)
		}
		limit = n
	}
	filter, err := a.listFilter(r.Context(), c)
	if err != nil {
		return err
	}
	list, err := a.store.ListSessionsFor(r.Context(), filter, limit)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	writeJSON(w, http.StatusOK, SessionList{Sessions: convert(list, sessionFrom)})
	return nil
}

// getSession answers GET /api/sessions/{id} with the session and what was recorded of it;
// the session's rep gets it without a trace of a coach (forRep).
func (a *api) getSession(w http.ResponseWriter, r *http.Request, c Caller) error {
	ctx := r.Context()
	id := r.PathValue("id")
	sess, err := a.visibleSession(ctx, c, id)
	if err != nil {
		return err
	}
	invites, err := a.store.Invites(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s invites: %w", id, err)
	}
	participants, err := a.store.Participants(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s participants: %w", id, err)
	}
	tracks, err := a.store.Tracks(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s tracks: %w", id, err)
	}
	modes, err := a.store.ModeChanges(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s mode changes: %w", id, err)
	}
	markers, err := a.store.Markers(ctx, id)
	if err != nil {
		return fmt.Errorf("session %s markers: %w", id, err)
	}
	d := SessionDetail{
		Session:      sessionFrom(sess),
		Invites:      convert(invites, inviteFrom),
		Participants: convert(participants, participantFrom),
		Tracks:       convert(tracks, trackFrom),
		ModeChanges:  convert(modes, modeChangeFrom),
		Markers:      convert(markers, markerFrom),
	}
	if viewerOf(c, sess).role == store.RoleRep {
		d = forRep(d)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// forRep is a session's detail as its rep may see it: a silent coach leaves no trace
// (docs/no-trace.md). The coaches' invites, joins, tracks and mode changes are left out, and
// the markers do not say who set them; what a rep may see of a coach (a whisper to them, a
// coach who joined openly) is in the replay's rep view.
func forRep(d SessionDetail) SessionDetail {
	guest := func(role string) bool { return role == store.RoleRep || role == store.RolePartner }
	out := SessionDetail{Session: d.Session, Invites: []Invite{}, Participants: []Participant{},
		Tracks: []Track{}, ModeChanges: []ModeChange{}, Markers: []Marker{}}
	for _, i := range d.Invites {
		if guest(i.Role) {
			out.Invites = append(out.Invites, i)
		}
	}
	for _, p := range d.Participants {
		if guest(p.Role) {
			out.Participants = append(out.Participants, p)
		}
	}
	for _, t := range d.Tracks {
		if guest(t.Role) {
			out.Tracks = append(out.Tracks, t)
		}
	}
	for _, k := range d.Markers {
		k.ParticipantID = ""
		out.Markers = append(out.Markers, k)
	}
	return out
}

// endSession answers POST /api/sessions/{id}/end: everyone in the call is disconnected, then
// the session is marked ended. Ending a session that is already over is a conflict. The
// session's coaches and admins end it; its rep does not.
func (a *api) endSession(w http.ResponseWriter, r *http.Request, c Caller) error {
	ctx := r.Context()
	id := r.PathValue("id")
	sess, err := a.visibleSession(ctx, c, id)
	if err != nil {
		return err
	}
	if viewerOf(c, sess).role == store.RoleRep {
		return forbidden("only a coach or an admin ends a session")
	}
	if over(sess) {
		return jsonhttp.Errorf(jsonhttp.ErrConflict, "session is already %s", sess.State)
	}
	if a.live != nil {
		if err := a.live.EndSession(ctx, id); err != nil {
			return fmt.Errorf("end live session %s: %w", id, err)
		}
	}
	err = a.store.EndSession(ctx, id, a.now().UTC(), store.SessionEnded)
	// The live plane may have recorded the end itself; that is success, not a conflict.
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("end session %s: %w", id, err)
	}
	ended, rerr := a.session(ctx, id)
	if rerr != nil {
		return rerr
	}
	if err != nil && !over(ended) {
		return fmt.Errorf("end session %s: %w", id, err)
	}
	a.log.Info("session ended through the API", "session", id, "by", c.UserID, "role", c.Role)
	writeJSON(w, http.StatusOK, sessionFrom(ended))
	return nil
}

// session loads one session; a missing one is errNoSession. Callers that act for a user go
// through visibleSession.
func (a *api) session(ctx context.Context, id string) (store.Session, error) {
	sess, err := a.store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, errNoSession
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session %s: %w", id, err)
	}
	return sess, nil
}

// over reports whether a session can no longer be joined or ended.
func over(s store.Session) bool {
	return s.EndedAt != nil || s.State == store.SessionEnded || s.State == store.SessionInterrupted
}

// baseURL is the scheme://host part of invite links.
func (a *api) baseURL(r *http.Request) string { return jsonhttp.BaseURL(a.publicURL, r) }

// newID returns a fresh random id for a session or invite.
func newID() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return u.String(), nil
}

// decodeJSON reads r's body, at most maxBodyBytes of it, as exactly one JSON object into dst.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return jsonhttp.Decode(w, r, dst, maxBodyBytes)
}

// invitesFrom shapes the invite links of a new session for the response.
func invitesFrom(links map[string][]string) Invites {
	inv := Invites{Rep: links[store.RoleRep][0], Partner: links[store.RolePartner][0], Coach: links[store.RoleCoach][0]}
	if len(links[store.RoleCoach]) > 1 {
		inv.Coaches = links[store.RoleCoach]
	}
	return inv
}
