package people

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// Bounds of what an invitation may hold.
const (
	maxEmailLen   = 254
	maxNameRunes  = 100
	maxAgentRunes = 300
)

// InviteParams is whom an admin invites.
type InviteParams struct {
	Email string
	Name  string // default: the part of the email before @
	Role  string // RoleAdmin, RoleCoach or RoleRep
	// TeamIDs are existing teams to join; TeamName names one more, created if missing.
	TeamIDs  []string
	TeamName string
}

// Invitation is a user with a fresh one-time sign-in link's token. The token is shown here
// only: the store keeps its hash.
type Invitation struct {
	User      store.User
	Token     string
	ExpiresAt time.Time
}

// SignIn is a new browser session: the cookie's token (shown once) and when it expires.
type SignIn struct {
	User      store.User
	Token     string
	SessionID string
	ExpiresAt time.Time
}

// Invite creates a user and a sign-in link for them. Only admins invite; an email already in
// use is ErrConflict.
func (s *Service) Invite(ctx context.Context, p Principal, in InviteParams) (Invitation, error) {
	if !p.IsAdmin() {
		return Invitation{}, forbidden("only admins invite people")
	}
	email, err := normalEmail(in.Email)
	if err != nil {
		return Invitation{}, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		return Invitation{}, invalid("name is longer than %d characters", maxNameRunes)
	}
	if !validRole(in.Role) {
		return Invitation{}, invalid("role must be admin, coach or rep")
	}
	teams, err := s.resolveTeams(ctx, in.TeamIDs, in.TeamName)
	if err != nil {
		return Invitation{}, err
	}
	u := store.User{ID: uuid.NewString(), Email: email, Name: name, Role: in.Role, CreatedAt: s.now(), TeamIDs: teams}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Invitation{}, Errorf(ErrConflict, "a user with this email exists; issue a new sign-in link for them instead")
		}
		return Invitation{}, fmt.Errorf("people: invite: %w", err)
	}
	created, err := s.store.User(ctx, u.ID)
	if err != nil {
		return Invitation{}, fmt.Errorf("people: invite: %w", err)
	}
	s.log.Info("user invited", "user", u.ID, "role", u.Role, "by", p.UserID)
	return s.newLink(ctx, created)
}

// resolveTeams checks that ids exist and adds the team called name, creating it if needed.
func (s *Service) resolveTeams(ctx context.Context, ids []string, name string) ([]string, error) {
	out := make([]string, 0, len(ids)+1)
	for _, id := range ids {
		if _, err := s.store.Team(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, notFound("no team with id %q", id)
		} else if err != nil {
			return nil, fmt.Errorf("people: team %s: %w", id, err)
		}
		out = append(out, id)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return out, nil
	}
	t, err := s.store.TeamByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		t, err = s.createTeam(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	return append(out, t.ID), nil
}

// IssueLink gives an existing user a new sign-in link (the previous ones stay valid until
// used or expired). Only admins issue links.
func (s *Service) IssueLink(ctx context.Context, p Principal, userID string) (Invitation, error) {
	u, err := s.visibleUser(ctx, p, userID)
	if err != nil {
		return Invitation{}, err
	}
	if !p.IsAdmin() {
		return Invitation{}, forbidden("only admins issue sign-in links")
	}
	if u.DisabledAt != nil {
		return Invitation{}, Errorf(ErrConflict, "this user is disabled")
	}
	return s.newLink(ctx, u)
}

func (s *Service) newLink(ctx context.Context, u store.User) (Invitation, error) {
	token, hash, err := store.NewToken()
	if err != nil {
		return Invitation{}, fmt.Errorf("people: sign-in link: %w", err)
	}
	now := s.now()
	link := store.MagicLink{UserID: u.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.linkTTL)}
	if err := s.store.CreateMagicLink(ctx, link); err != nil {
		return Invitation{}, fmt.Errorf("people: sign-in link: %w", err)
	}
	return Invitation{User: u, Token: token, ExpiresAt: link.ExpiresAt.UTC().Truncate(time.Millisecond)}, nil
}

// PeekLink returns the user a sign-in link is for without using it, so that a page can ask
// "sign in as …?" before the link is spent. An unknown, used or expired link is
// ErrUnauthenticated.
func (s *Service) PeekLink(ctx context.Context, token string) (store.User, error) {
	link, err := s.store.MagicLinkByTokenHash(ctx, store.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, unauthenticated("unknown sign-in link")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("people: sign-in link: %w", err)
	}
	if link.UsedAt != nil || !s.now().Before(link.ExpiresAt) {
		return store.User{}, unauthenticated("this sign-in link was used already or has expired; ask for a new one")
	}
	p, err := s.userPrincipal(ctx, link.UserID)
	if err != nil {
		return store.User{}, err
	}
	return store.User{ID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role, TeamIDs: p.TeamIDs}, nil
}

// Redeem spends a sign-in link and starts a browser session. A link works once: of two
// racing redemptions one fails, as do an unknown or expired link (ErrUnauthenticated).
func (s *Service) Redeem(ctx context.Context, token, userAgent string) (SignIn, error) {
	if token == "" {
		return SignIn{}, unauthenticated("a sign-in link token is required")
	}
	if _, err := s.PeekLink(ctx, token); err != nil {
		return SignIn{}, err
	}
	sessToken, sessHash, err := store.NewToken()
	if err != nil {
		return SignIn{}, fmt.Errorf("people: session: %w", err)
	}
	now := s.now()
	sess := store.UserSession{
		ID: uuid.NewString(), TokenHash: sessHash, UserAgent: truncate(userAgent, maxAgentRunes),
		CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL), LastSeenAt: now,
	}
	link, err := s.store.RedeemMagicLink(ctx, store.HashToken(token), now, sess)
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return SignIn{}, unauthenticated("this sign-in link was used already or has expired; ask for a new one")
	case err != nil:
		return SignIn{}, fmt.Errorf("people: redeem: %w", err)
	}
	u, err := s.store.User(ctx, link.UserID)
	if err != nil {
		return SignIn{}, fmt.Errorf("people: redeem: %w", err)
	}
	s.log.Info("signed in", "user", u.ID, "session", sess.ID)
	return SignIn{User: u, Token: sessToken, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt.UTC().Truncate(time.Millisecond)}, nil
}

// SignOut ends p's browser session, if p came with one.
func (s *Service) SignOut(ctx context.Context, p Principal) error {
	if p.SessionID == "" {
		return nil
	}
	if err := s.store.RevokeUserSession(ctx, p.SessionID, s.now()); err != nil {
		return fmt.Errorf("people: sign out: %w", err)
	}
	return nil
}

// SignOutEverywhere revokes every browser session and unused sign-in link of a user, a stolen
// cookie's included, and returns how many sessions it ended. Users may do it to themselves,
// admins to anyone.
func (s *Service) SignOutEverywhere(ctx context.Context, p Principal, userID string) (int, error) {
	if p.SuperAdmin && userID == "" {
		return 0, forbidden("the admin token has no sessions; name a user")
	}
	if _, err := s.visibleUser(ctx, p, userID); err != nil {
		return 0, err
	}
	if userID != p.UserID && !p.IsAdmin() {
		return 0, forbidden("only admins sign other people out")
	}
	n, err := s.store.RevokeUserSessions(ctx, userID, s.now())
	if err != nil {
		return 0, fmt.Errorf("people: sign out everywhere: %w", err)
	}
	s.log.Info("signed out everywhere", "user", userID, "sessions", n, "by", p.UserID)
	return n, nil
}

func normalEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(email, "@")
	switch {
	case email == "":
		return "", invalid("email is required")
	case len(email) > maxEmailLen:
		return "", invalid("email is longer than %d characters", maxEmailLen)
	case !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t\r\n<>,;\"") || strings.Contains(domain, "@"):
		return "", invalid("email %q is not an address", email)
	}
	return email, nil
}

func validRole(role string) bool {
	return role == RoleAdmin || role == RoleCoach || role == RoleRep
}

func truncate(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}
