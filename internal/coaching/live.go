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

// DefaultInviteTTL is how long the links of a live assignment's call stay valid when
// Config.InviteTTL is zero; each link handed out again starts anew.
const DefaultInviteTTL = 7 * 24 * time.Hour

// LiveCall is the call of a live assignment as SetUpLiveCall hands it out: its session and
// the invite tokens issued by this call, by role. Only hashes of tokens are stored, so a link
// is shown once; asking again issues a new one for the same seat.
type LiveCall struct {
	Assignment AssignmentView
	Session    store.Session
	Created    bool              // the session was made by this call
	Tokens     map[string]string // store.RoleRep, store.RolePartner, store.RoleCoach → token; a rep gets only RoleRep
	ExpiresAt  time.Time
}

// SetUpLiveCall sets up the call of a live, open assignment: a recorded session for its rep
// (created by p, titled after the scenario) with a rep, a partner and a coach invite, linked to
// the assignment so that ending it hands the assignment in (HandInLive). While that session
// has not ended, calling again answers the same session with links issued afresh: the rep's
// and the partner's seat get a new link (the earlier one stops admitting), and the caller's
// own coach seat (an invite in their name, added if they have none) a new one too, so that two
// coaches never share a seat.
//
// The rep's coaches and admins set it up; the rep themself may only fetch their own link of a
// call already set up (a partner's or a coach's link never goes to the rep): ErrConflict
// before that. Not visible: ErrNotFound; a solo assignment: ErrInvalid; handed in:
// ErrConflict.
func (s *Service) SetUpLiveCall(ctx context.Context, p people.Principal, id string) (LiveCall, error) {
	for attempt := 0; ; attempt++ {
		call, err := s.setUpLiveCall(ctx, p, id)
		// Lost a race with another caller setting it up: theirs is the call; join it.
		if errors.Is(err, store.ErrConflict) && attempt == 0 {
			continue
		}
		return call, err
	}
}

func (s *Service) setUpLiveCall(ctx context.Context, p people.Principal, id string) (LiveCall, error) {
	a, err := s.visibleAssignment(ctx, p, id)
	if err != nil {
		return LiveCall{}, err
	}
	coach, err := s.people.CoachOf(ctx, p, a.RepID)
	if err != nil {
		return LiveCall{}, err
	}
	rep := !coach && a.RepID == p.UserID
	switch {
	case !coach && !rep:
		return LiveCall{}, forbidden("only the rep's coaches and admins set up the call")
	case a.Mode != store.ModeLive:
		return LiveCall{}, invalid("this assignment is done solo, not live")
	case a.State != store.AssignmentAssigned:
		return LiveCall{}, conflict("this assignment was handed in already")
	}
	sess, open, err := s.openLiveSession(ctx, a)
	if err != nil {
		return LiveCall{}, err
	}
	view, err := s.view(ctx, a)
	if err != nil {
		return LiveCall{}, err
	}
	now := s.now()
	call := LiveCall{Assignment: view, Tokens: map[string]string{}, ExpiresAt: now.Add(s.inviteTTL)}
	if !open {
		if rep {
			return LiveCall{}, conflict("your coach has not set up the call yet")
		}
		return s.createLiveCall(ctx, p, a, call, now)
	}
	call.Session = sess
	if err := s.reissueLinks(ctx, p, sess, rep, call); err != nil {
		return LiveCall{}, err
	}
	return call, nil
}

// openLiveSession returns the call linked to a, if there is one that has not ended.
func (s *Service) openLiveSession(ctx context.Context, a store.Assignment) (store.Session, bool, error) {
	if a.LiveSessionID == "" {
		return store.Session{}, false, nil
	}
	sess, err := s.store.Session(ctx, a.LiveSessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, false, nil
	case err != nil:
		return store.Session{}, false, fmt.Errorf("coaching: live session: %w", err)
	}
	return sess, sess.State == store.SessionCreated || sess.State == store.SessionLive, nil
}

// createLiveCall makes the session of a's call with its three invites and links it, unless
// someone linked another meanwhile (store.ErrConflict, for SetUpLiveCall to try again).
func (s *Service) createLiveCall(ctx context.Context, p people.Principal, a store.Assignment, call LiveCall, now time.Time) (LiveCall, error) {
	v := call.Assignment
	sess := store.Session{
		ID: uuid.NewString(), Title: v.ScenarioTitle, RepName: v.RepName, PartnerName: "Partner", Recorded: true,
		CreatedAt: now, RepID: a.RepID, CreatedBy: p.UserID,
	}
	var invites []store.Invite
	for _, seat := range []struct{ role, name string }{
		{store.RoleRep, v.RepName}, {store.RolePartner, "Partner"}, {store.RoleCoach, coachName(p)},
	} {
		token, hash, err := store.NewToken()
		if err != nil {
			return LiveCall{}, err
		}
		call.Tokens[seat.role] = token
		invites = append(invites, store.Invite{SessionID: sess.ID, Role: seat.role, Name: seat.name, TokenHash: hash,
			ExpiresAt: call.ExpiresAt, CreatedAt: now})
	}
	err := s.store.CreateLiveSession(ctx, a.ID, a.LiveSessionID, sess, invites)
	switch {
	case errors.Is(err, store.ErrConflict):
		return LiveCall{}, err
	case err != nil:
		return LiveCall{}, storeErr(err, "assignment")
	}
	s.log.Info("live assignment's call set up", "assignment", a.ID, "session", sess.ID, "by", p.UserID)
	call.Session, call.Created = sess, true
	call.Assignment.LiveSessionID = sess.ID
	return call, nil
}

// reissueLinks gives the seats the caller may hand out new links, into call.Tokens: the rep's
// alone for the rep; the rep's, the partner's and the caller's own coach seat for a coach.
func (s *Service) reissueLinks(ctx context.Context, p people.Principal, sess store.Session, rep bool, call LiveCall) error {
	invites, err := s.store.Invites(ctx, sess.ID)
	if err != nil {
		return fmt.Errorf("coaching: live session invites: %w", err)
	}
	seats := map[string]string{} // role → the invite of the rep's or the partner's seat
	for _, inv := range invites {
		if (inv.Role == store.RoleRep || inv.Role == store.RolePartner) && seats[inv.Role] == "" {
			seats[inv.Role] = inv.ID
		}
	}
	roles := []string{store.RoleRep, store.RolePartner, store.RoleCoach}
	if rep {
		roles = roles[:1]
	}
	for _, role := range roles {
		token, hash, err := store.NewToken()
		if err != nil {
			return err
		}
		switch {
		case role == store.RoleCoach:
			err = s.store.CoachSeat(ctx, sess.ID, coachName(p), hash, call.ExpiresAt)
		case seats[role] != "":
			err = s.store.ReissueInvite(ctx, seats[role], hash, call.ExpiresAt)
		default:
			continue // the session has no such seat; none is made for it here
		}
		if err != nil {
			return fmt.Errorf("coaching: live session %s link: %w", role, err)
		}
		call.Tokens[role] = token
	}
	return nil
}

// coachName is the name of p's coach seat in a call: their own (so that each coach has theirs
// and the console shows who it is).
func coachName(p people.Principal) string {
	if n := p.DisplayName(); n != "" {
		return n
	}
	return "Coach"
}

// HandInLive submits the live assignment whose call is the session sessionID, with it, when
// that session ends: the rep practised it. It does nothing for a session that is no
// assignment's call, one that never began (nobody joined: the call was called off, and the
// assignment stays open for another), or an assignment already handed in (by hand, or by
// another server that saw the end first): of any number of calls for one session, one submits.
func (s *Service) HandInLive(ctx context.Context, sessionID string) error {
	a, err := s.store.AssignmentByLiveSession(ctx, sessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("coaching: hand in live session %s: %w", sessionID, err)
	}
	if a.State != store.AssignmentAssigned {
		return nil
	}
	sess, err := s.store.Session(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("coaching: hand in live session %s: %w", sessionID, err)
	}
	if sess.StartedAt == nil {
		s.log.Info("live assignment's call ended before anyone joined; not handed in", "assignment", a.ID, "session", sessionID)
		return nil
	}
	err = s.store.SubmitAssignment(ctx, a.ID, sessionID, s.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil
	case err != nil:
		return fmt.Errorf("coaching: hand in live session %s: %w", sessionID, err)
	}
	s.log.Info("live assignment handed in as its call ended", "assignment", a.ID, "session", sessionID)
	return nil
}
