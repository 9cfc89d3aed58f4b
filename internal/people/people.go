// Package people owns who is who in Ringside: users with a role (admin, coach, rep) in teams,
// one-time magic-link sign-in, browser sessions, API keys, and the one rule of visibility: a
// rep sees only themself, a coach themself and the reps of their teams, an admin everyone. The
// admin token of the server is a super-admin without a user.
//
// It knows no HTTP: it hands out tokens and resolves them into a Principal; cookies, headers
// and status codes belong to internal/coachapi. Everything persistent goes through
// internal/store, which keeps only hashes of the tokens handed out here.
package people

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"ringside/internal/store"
)

// Defaults of Config's zero values.
const (
	DefaultLinkTTL    = 24 * time.Hour
	DefaultSessionTTL = 30 * 24 * time.Hour
)

// touchEvery is how stale a session's or key's last-use time may get before a request updates
// it: one write a minute per session at most, not one per request.
const touchEvery = time.Minute

// Roles of users.
const (
	RoleAdmin = store.RoleAdmin
	RoleCoach = store.RoleCoach
	RoleRep   = store.RoleRep
)

// Config configures a Service.
type Config struct {
	Store *store.Store
	// AdminTokenHash returns store.HashToken of the server's admin token, which acts as a
	// super-admin; nil or "" admits no admin token.
	AdminTokenHash func() string
	// LinkTTL is how long a magic link stays valid (default DefaultLinkTTL).
	LinkTTL time.Duration
	// SessionTTL is how long a sign-in lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	Logger     *slog.Logger
	// Now returns the current time (default time.Now); tests pin it.
	Now func() time.Time
}

// Service is the people domain. It is safe for concurrent use; its fields are immutable after
// New.
type Service struct {
	store      *store.Store
	adminHash  func() string
	linkTTL    time.Duration
	sessionTTL time.Duration
	log        *slog.Logger
	now        func() time.Time
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		store:      cfg.Store,
		adminHash:  cfg.AdminTokenHash,
		linkTTL:    cfg.LinkTTL,
		sessionTTL: cfg.SessionTTL,
		log:        cfg.Logger,
		now:        cfg.Now,
	}
	if s.adminHash == nil {
		s.adminHash = func() string { return "" }
	}
	if s.linkTTL <= 0 {
		s.linkTTL = DefaultLinkTTL
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Now is the service's clock, shared with the packages built on it.
func (s *Service) Now() time.Time { return s.now() }

// SessionTTL is how long a sign-in lasts.
func (s *Service) SessionTTL() time.Duration { return s.sessionTTL }

// Principal is who is calling: a user (through a browser session or an API key) or the admin
// token.
type Principal struct {
	UserID     string // "" for the admin token
	Name       string
	Email      string
	Role       string   // RoleAdmin, RoleCoach or RoleRep; RoleAdmin for the admin token
	TeamIDs    []string // the user's teams
	SuperAdmin bool     // the server's admin token
	SessionID  string   // the browser session, when signed in with one
	KeyID      string   // the API key, when one was used
}

// IsAdmin reports whether p may see and do everything.
func (p Principal) IsAdmin() bool { return p.SuperAdmin || p.Role == RoleAdmin }

// IsCoach reports whether p is a coach (admins are not).
func (p Principal) IsCoach() bool { return !p.SuperAdmin && p.Role == RoleCoach }

// IsRep reports whether p is a rep.
func (p Principal) IsRep() bool { return !p.SuperAdmin && p.Role == RoleRep }

// DisplayName is how p is named in what it writes (comments, the delivery log).
func (p Principal) DisplayName() string {
	if p.SuperAdmin {
		return "Admin"
	}
	return p.Name
}

// InTeam reports whether p belongs to team id.
func (p Principal) InTeam(id string) bool { return slices.Contains(p.TeamIDs, id) }

// Scope is the set of users a principal may see.
type Scope struct {
	all bool
	ids []string // sorted; meaningful when !all
}

// All reports whether the scope holds every user.
func (s Scope) All() bool { return s.all }

// Has reports whether userID is in the scope.
func (s Scope) Has(userID string) bool {
	if s.all {
		return true
	}
	_, ok := slices.BinarySearch(s.ids, userID)
	return ok
}

// IDs returns the users in the scope, or nil for every user: the form store filters take.
func (s Scope) IDs() []string {
	if s.all {
		return nil
	}
	return slices.Clone(s.ids)
}

// Scope returns whom p may see: everyone for an admin, themself and the reps who share a team
// with them for a coach, themself for a rep.
func (s *Service) Scope(ctx context.Context, p Principal) (Scope, error) {
	switch {
	case p.IsAdmin():
		return Scope{all: true}, nil
	case p.IsCoach():
		ids, err := s.RepsOf(ctx, p.UserID)
		if err != nil {
			return Scope{}, err
		}
		ids = append(ids, p.UserID)
		slices.Sort(ids)
		return Scope{ids: slices.Compact(ids)}, nil
	default:
		return Scope{ids: []string{p.UserID}}, nil
	}
}

// RepsOf returns the ids of the reps the coach coachID coaches: those who share a team with
// them, sorted.
func (s *Service) RepsOf(ctx context.Context, coachID string) ([]string, error) {
	ids, err := s.store.CoachedUserIDs(ctx, coachID)
	if err != nil {
		return nil, fmt.Errorf("people: reps of %s: %w", coachID, err)
	}
	return ids, nil
}

// CanSee reports whether p may see the user with id.
func (s *Service) CanSee(ctx context.Context, p Principal, userID string) (bool, error) {
	if p.IsAdmin() || (userID != "" && userID == p.UserID) {
		return true, nil
	}
	scope, err := s.Scope(ctx, p)
	if err != nil {
		return false, err
	}
	return scope.Has(userID), nil
}

// CoachOf reports whether p may act as a coach of the rep repID: an admin, or a coach who
// shares a team with the rep.
func (s *Service) CoachOf(ctx context.Context, p Principal, repID string) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	if !p.IsCoach() || repID == p.UserID {
		return false, nil
	}
	return s.CanSee(ctx, p, repID)
}

// SessionPrincipal resolves the token of a browser session's cookie. An unknown, expired or
// revoked session, or one of a disabled user, is ErrUnauthenticated.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, unauthenticated("sign in first")
	}
	sess, err := s.store.UserSessionByTokenHash(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, unauthenticated("unknown session; sign in again")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("people: session: %w", err)
	}
	now := s.now()
	switch {
	case sess.RevokedAt != nil:
		return Principal{}, unauthenticated("this session was signed out; sign in again")
	case !now.Before(sess.ExpiresAt):
		return Principal{}, unauthenticated("this session has expired; sign in again")
	}
	p, err := s.userPrincipal(ctx, sess.UserID)
	if err != nil {
		return Principal{}, err
	}
	p.SessionID = sess.ID
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchUserSession(ctx, sess.ID, now); err != nil {
			s.log.Warn("recording session use", "session", sess.ID, "err", err)
		}
	}
	return p, nil
}

// BearerPrincipal resolves a bearer token: the server's admin token (a super-admin) or an API
// key. Anything else is ErrUnauthenticated.
func (s *Service) BearerPrincipal(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, unauthenticated("empty bearer token")
	}
	hash := store.HashToken(token)
	if want := s.adminHash(); want != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(want)) == 1 {
		return Principal{Name: "Admin", Role: RoleAdmin, SuperAdmin: true, TeamIDs: []string{}}, nil
	}
	if !strings.HasPrefix(token, apiKeyPrefix) {
		return Principal{}, unauthenticated("unknown bearer token")
	}
	key, err := s.store.APIKeyByTokenHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, unauthenticated("unknown API key")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("people: API key: %w", err)
	}
	if key.RevokedAt != nil {
		return Principal{}, unauthenticated("this API key was revoked")
	}
	p, err := s.userPrincipal(ctx, key.UserID)
	if err != nil {
		return Principal{}, err
	}
	p.KeyID = key.ID
	if now := s.now(); key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIKey(ctx, key.ID, now); err != nil {
			s.log.Warn("recording API key use", "key", key.ID, "err", err)
		}
	}
	return p, nil
}

// userPrincipal loads an enabled user as a Principal.
func (s *Service) userPrincipal(ctx context.Context, id string) (Principal, error) {
	u, err := s.store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, unauthenticated("unknown user")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("people: user %s: %w", id, err)
	}
	if u.DisabledAt != nil {
		return Principal{}, unauthenticated("this account is disabled")
	}
	return Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, TeamIDs: u.TeamIDs}, nil
}

// CheckInvite reports whether token is a live session invite (the link a guest joins a call
// with): ErrUnauthenticated if it is unknown or expired.
func (s *Service) CheckInvite(ctx context.Context, token string) error {
	if token == "" {
		return unauthenticated("an invite token or a sign-in is required")
	}
	inv, err := s.store.InviteByTokenHash(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return unauthenticated("unknown invite")
	}
	if err != nil {
		return fmt.Errorf("people: invite: %w", err)
	}
	if !s.now().Before(inv.ExpiresAt) {
		return unauthenticated("this invite has expired")
	}
	return nil
}
