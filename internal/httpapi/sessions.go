package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
func (a *api) createSession(w http.ResponseWriter, r *http.Request) error {
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
	a.log.Info("session created", "session", id, "recorded", record)
	writeJSON(w, http.StatusCreated, CreateSessionResponse{
		Session:   sessionFrom(sess),
		Invites:   invitesFrom(links),
		ExpiresAt: expires,
	})
	return nil
}

// listSessions answers GET /api/sessions?limit=N, newest first as the store orders them.
func (a *api) listSessions(w http.ResponseWriter, r *http.Request) error {
	limit := defaultListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return badRequest("limit must be an integer from 1 to %d", maxListLimit)
		}
		limit = n
	}
	list, err := a.store.ListSessions(r.Context(), limit)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	writeJSON(w, http.StatusOK, SessionList{Sessions: convert(list, sessionFrom)})
	return nil
}

// getSession answers GET /api/sessions/{id} with the session and what was recorded of it.
func (a *api) getSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	sess, err := a.session(r, id)
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
	writeJSON(w, http.StatusOK, SessionDetail{
		Session:      sessionFrom(sess),
		Invites:      convert(invites, inviteFrom),
		Participants: convert(participants, participantFrom),
		Tracks:       convert(tracks, trackFrom),
		ModeChanges:  convert(modes, modeChangeFrom),
		Markers:      convert(markers, markerFrom),
	})
	return nil
}

// endSession answers POST /api/sessions/{id}/end: everyone in the call is disconnected, then
// the session is marked ended. Ending a session that is already over is a conflict.
func (a *api) endSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	sess, err := a.session(r, id)
	if err != nil {
		return err
	}
	if over(sess) {
		return &requestError{kind: errConflict, msg: fmt.Sprintf("session is already %s", sess.State)}
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
	ended, rerr := a.session(r, id)
	if rerr != nil {
		return rerr
	}
	if err != nil && !over(ended) {
		return fmt.Errorf("end session %s: %w", id, err)
	}
	a.log.Info("session ended by admin", "session", id)
	writeJSON(w, http.StatusOK, sessionFrom(ended))
	return nil
}

// session loads one session; a missing one is a 404 whose message names it.
func (a *api) session(r *http.Request, id string) (store.Session, error) {
	sess, err := a.store.Session(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, &requestError{kind: errNotFound, msg: "no session with this id"}
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
func (a *api) baseURL(r *http.Request) string {
	if a.publicURL != "" {
		return a.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

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
	err := jsonhttp.Decode(w, r, dst, maxBodyBytes)
	if je, ok := errors.AsType[*jsonhttp.Error](err); ok {
		kind := errBadRequest
		if je.TooLarge {
			kind = errTooLarge
		}
		return &requestError{kind: kind, msg: je.Msg}
	}
	return err
}

// invitesFrom shapes the invite links of a new session for the response.
func invitesFrom(links map[string][]string) Invites {
	inv := Invites{Rep: links[store.RoleRep][0], Partner: links[store.RolePartner][0], Coach: links[store.RoleCoach][0]}
	if len(links[store.RoleCoach]) > 1 {
		inv.Coaches = links[store.RoleCoach]
	}
	return inv
}
