package people

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"ringside/internal/store"
)

// UserPatch is a change to a user; nil fields are left as they are.
type UserPatch struct {
	Name     *string
	Role     *string
	TeamIDs  *[]string
	Disabled *bool // disabling also signs the user out everywhere
}

// Users returns the users p may see, by name.
func (s *Service) Users(ctx context.Context, p Principal) ([]store.User, error) {
	scope, err := s.Scope(ctx, p)
	if err != nil {
		return nil, err
	}
	users, err := s.store.ListUsers(ctx, scope.IDs())
	if err != nil {
		return nil, fmt.Errorf("people: users: %w", err)
	}
	return users, nil
}

// User returns a user p may see; any other is ErrNotFound.
func (s *Service) User(ctx context.Context, p Principal, id string) (store.User, error) {
	return s.visibleUser(ctx, p, id)
}

func (s *Service) visibleUser(ctx context.Context, p Principal, id string) (store.User, error) {
	ok, err := s.CanSee(ctx, p, id)
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		return store.User{}, notFound("no user with this id")
	}
	u, err := s.store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, notFound("no user with this id")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("people: user %s: %w", id, err)
	}
	return u, nil
}

// UpdateUser changes a user's name, role, teams or whether it is disabled. Only admins do, and
// an admin user may not disable themself or give up their own admin role (the last way back
// in would be the admin token).
func (s *Service) UpdateUser(ctx context.Context, p Principal, id string, patch UserPatch) (store.User, error) {
	u, err := s.visibleUser(ctx, p, id)
	if err != nil {
		return store.User{}, err
	}
	if !p.IsAdmin() {
		return store.User{}, forbidden("only admins change users")
	}
	if patch.Name != nil {
		name := strings.TrimSpace(*patch.Name)
		if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
			return store.User{}, invalid("name must be 1 to %d characters", maxNameRunes)
		}
		u.Name = name
	}
	if patch.Role != nil {
		if !validRole(*patch.Role) {
			return store.User{}, invalid("role must be admin, coach or rep")
		}
		if id == p.UserID && *patch.Role != RoleAdmin {
			return store.User{}, Errorf(ErrConflict, "an admin cannot demote themself")
		}
		u.Role = *patch.Role
	}
	if patch.TeamIDs != nil {
		teams, err := s.resolveTeams(ctx, *patch.TeamIDs, "")
		if err != nil {
			return store.User{}, err
		}
		u.TeamIDs = teams
	}
	disabling := patch.Disabled != nil && *patch.Disabled && u.DisabledAt == nil
	if patch.Disabled != nil {
		switch {
		case *patch.Disabled && id == p.UserID:
			return store.User{}, Errorf(ErrConflict, "an admin cannot disable themself")
		case disabling:
			now := s.now()
			u.DisabledAt = &now
		case !*patch.Disabled:
			u.DisabledAt = nil
		}
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return store.User{}, fmt.Errorf("people: update user %s: %w", id, err)
	}
	if disabling {
		if _, err := s.store.RevokeUserSessions(ctx, id, s.now()); err != nil {
			return store.User{}, fmt.Errorf("people: sign out disabled user %s: %w", id, err)
		}
	}
	return s.visibleUser(ctx, p, id)
}

// CreateTeam creates a team. Only admins do; a name in use is ErrConflict.
func (s *Service) CreateTeam(ctx context.Context, p Principal, name string) (store.Team, error) {
	if !p.IsAdmin() {
		return store.Team{}, forbidden("only admins create teams")
	}
	return s.createTeam(ctx, name)
}

func (s *Service) createTeam(ctx context.Context, name string) (store.Team, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
		return store.Team{}, invalid("team name must be 1 to %d characters", maxNameRunes)
	}
	t := store.Team{ID: uuid.NewString(), Name: name, CreatedAt: s.now()}
	if err := s.store.CreateTeam(ctx, t); errors.Is(err, store.ErrConflict) {
		return store.Team{}, Errorf(ErrConflict, "a team called %q exists", name)
	} else if err != nil {
		return store.Team{}, fmt.Errorf("people: create team: %w", err)
	}
	return s.store.Team(ctx, t.ID)
}

// Teams returns the teams p may see: every team for an admin, their own for anyone else.
func (s *Service) Teams(ctx context.Context, p Principal) ([]store.Team, error) {
	var ids []string
	if !p.IsAdmin() {
		ids = append([]string{}, p.TeamIDs...)
	}
	teams, err := s.store.ListTeams(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("people: teams: %w", err)
	}
	return teams, nil
}

// Team returns a team p belongs to (any team for an admin) and those of its members p may
// see; any other team is ErrNotFound.
func (s *Service) Team(ctx context.Context, p Principal, id string) (store.Team, []store.User, error) {
	if !p.IsAdmin() && !p.InTeam(id) {
		return store.Team{}, nil, notFound("no team with this id")
	}
	t, err := s.store.Team(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Team{}, nil, notFound("no team with this id")
	}
	if err != nil {
		return store.Team{}, nil, fmt.Errorf("people: team %s: %w", id, err)
	}
	memberIDs, err := s.store.TeamMemberIDs(ctx, id)
	if err != nil {
		return store.Team{}, nil, fmt.Errorf("people: team %s: %w", id, err)
	}
	scope, err := s.Scope(ctx, p)
	if err != nil {
		return store.Team{}, nil, err
	}
	visible := []string{}
	for _, m := range memberIDs {
		if scope.Has(m) {
			visible = append(visible, m)
		}
	}
	members, err := s.store.ListUsers(ctx, visible)
	if err != nil {
		return store.Team{}, nil, fmt.Errorf("people: team %s members: %w", id, err)
	}
	return t, members, nil
}
