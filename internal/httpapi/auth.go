package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"ringside/internal/jsonhttp"
	"ringside/internal/store"
)

// Who may call what (docs/api.md, "Who sees what"): the admin (the admin token, or a user whose
// role is admin) sees every session; a coach the sessions of the reps who share a team with
// them, and those they created; a rep their own sessions. A session the caller may not see is
// 404, exactly as one that does not exist. Guests (an outside partner, or anyone holding an
// invite link) have no account: a session's rep and coach invites open its replay and comments,
// as they always have.

// RoleAdmin is the role of an admin caller: the admin token or an admin user. The other roles
// are store.RoleCoach and store.RoleRep.
const RoleAdmin = store.RoleAdmin

// Caller is who sends a request, as Auth resolved it. The zero Caller is anonymous.
type Caller struct {
	UserID string // "" for the admin token, which has no user
	Name   string // how the caller is named in what it writes (a comment's author)
	Role   string // RoleAdmin, store.RoleCoach or store.RoleRep; "" when anonymous

	// invite is the session invite a guest came with (bearer invite token), on the routes
	// that admit guests; Role is then "".
	invite *store.Invite
}

func (c Caller) signedIn() bool { return c.Role != "" }
func (c Caller) admin() bool    { return c.Role == RoleAdmin }
func (c Caller) coach() bool    { return c.Role == store.RoleCoach && c.UserID != "" }

// Auth is how the API learns who calls. The server hands it the coaching API's authenticator
// (internal/coachapi, over internal/people), so that this API and the coaching API accept the
// same credentials and refuse them alike.
type Auth interface {
	// Authenticate resolves r's credential: the admin token or an API key as a bearer token,
	// or the session cookie. No credential is the zero Caller and no error; a refused one is an
	// error of kind jsonhttp.ErrUnauthorized (jsonhttp.ErrForbidden for a write with the cookie
	// from another site).
	Authenticate(r *http.Request) (Caller, error)
	// Refused is called before a 401 goes out to r (a dead session cookie is cleared).
	Refused(w http.ResponseWriter, r *http.Request)
	// RepsOf returns the ids of the reps the coach coachID coaches (who share a team).
	RepsOf(ctx context.Context, coachID string) ([]string, error)
}

// nobody is the Auth of a Config without one: every caller is anonymous.
type nobody struct{}

func (nobody) Authenticate(*http.Request) (Caller, error)       { return Caller{}, nil }
func (nobody) Refused(http.ResponseWriter, *http.Request)       {}
func (nobody) RepsOf(context.Context, string) ([]string, error) { return nil, nil }

// access says which credentials a route takes.
type access int

const (
	public   access = iota // none: the handler decides (health; media links carry their own)
	signedIn               // a user (cookie or API key) or the admin token; 401 otherwise
	orInvite               // as signedIn, or a session's rep or coach invite token
)

// Messages of a 401 for a request that came with no credential.
const (
	needSignIn = "sign in, or send the admin token or an API key (Authorization: Bearer <token>)"
	needInvite = "sign in, or send the admin token, an API key or the session's invite token (Authorization: Bearer <token>)"
)

// caller authenticates r for a route of access acc.
func (a *api) caller(r *http.Request, acc access) (Caller, error) {
	c, err := a.auth.Authenticate(r)
	if err == nil && c.signedIn() {
		return c, nil
	}
	if acc == orInvite && (err == nil || errors.Is(err, jsonhttp.ErrUnauthorized)) {
		if token, ok := bearerToken(r); ok {
			return a.guest(r.Context(), token)
		}
	}
	switch {
	case err != nil:
		return Caller{}, err
	case acc == orInvite:
		return Caller{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, needInvite)
	}
	return Caller{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, needSignIn)
}

// guest resolves a bearer token that is no user's and not the admin's: a session invite. A
// rep's or coach's invite admits to its own session's replay and comments; a partner's to
// nothing (guests do not see recordings). An invite's expiry is about joining the call, not
// about reviewing it.
func (a *api) guest(ctx context.Context, token string) (Caller, error) {
	inv, err := a.store.InviteByTokenHash(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Caller{}, jsonhttp.Errorf(jsonhttp.ErrUnauthorized, "this token is not the admin token, an API key or an invite")
	}
	if err != nil {
		return Caller{}, fmt.Errorf("invite by token: %w", err)
	}
	if inv.Role != store.RoleRep && inv.Role != store.RoleCoach {
		return Caller{}, jsonhttp.Errorf(jsonhttp.ErrForbidden, "guests do not see recordings or comments")
	}
	return Caller{Name: inv.Name, invite: &inv}, nil
}

// bearerToken returns the token of r's "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// errNoSession is the answer for a session that does not exist or that the caller may not see:
// the two are never told apart.
var errNoSession = jsonhttp.Errorf(jsonhttp.ErrNotFound, "no session with this id")

// visibleSession loads session id if c may see it; otherwise it is errNoSession.
func (a *api) visibleSession(ctx context.Context, c Caller, id string) (store.Session, error) {
	sess, err := a.session(ctx, id)
	if err != nil {
		return store.Session{}, err
	}
	ok, err := a.maySee(ctx, c, sess)
	if err != nil {
		return store.Session{}, err
	}
	if !ok {
		return store.Session{}, errNoSession
	}
	return sess, nil
}

// maySee reports whether c may see session s, by the rule lists apply too
// (store.SessionsVisibleTo): an admin every one, a rep their own, a coach those of the reps
// they coach and those they created.
func (a *api) maySee(ctx context.Context, c Caller, s store.Session) (bool, error) {
	f, err := a.listFilter(ctx, c)
	if err != nil {
		return false, err
	}
	return f.Matches(s), nil
}

// listFilter is what c may see, as a store filter.
func (a *api) listFilter(ctx context.Context, c Caller) (store.SessionFilter, error) {
	return store.SessionsVisibleTo(ctx, c.UserID, c.admin(), c.coach(), a.auth.RepsOf)
}

// viewer is who watches a session's replay, and so what of it they see.
type viewer struct {
	role string // viewerAdmin, store.RoleCoach or store.RoleRep
	name string
}

// canComment reports whether v may write comments: the admin and the coach do, the rep reads.
func (v viewer) canComment() bool { return v.role == viewerAdmin || v.role == store.RoleCoach }

// viewerOf is how c watches session sess: the admin and a coach see everything, the session's
// rep (or a rep invite) the rep's view, with no trace of a silent coach.
func viewerOf(c Caller, sess store.Session) viewer {
	switch {
	case c.invite != nil:
		return viewer{role: c.invite.Role, name: c.invite.Name}
	case c.admin():
		return viewer{role: viewerAdmin, name: c.Name}
	case sess.RepID == c.UserID:
		return viewer{role: store.RoleRep, name: c.Name}
	}
	return viewer{role: store.RoleCoach, name: c.Name}
}

// sessionViewer loads session id for c on the routes guests may use: an invite must be that
// session's (another session's is 403, whether that one exists or not), a user must see it.
func (a *api) sessionViewer(ctx context.Context, c Caller, id string) (viewer, store.Session, error) {
	var (
		sess store.Session
		err  error
	)
	if inv := c.invite; inv != nil {
		if inv.SessionID != id {
			return viewer{}, store.Session{}, jsonhttp.Errorf(jsonhttp.ErrForbidden, "this invite is for another session")
		}
		sess, err = a.session(ctx, id)
	} else {
		sess, err = a.visibleSession(ctx, c, id)
	}
	if err != nil {
		return viewer{}, store.Session{}, err
	}
	return viewerOf(c, sess), sess, nil
}
