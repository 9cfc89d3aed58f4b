package coachapi

import (
	"net/http"
	"net/url"

	"ringside/internal/people"
)

// inviteUser answers POST /api/users: an admin invites someone and gets their one-time
// sign-in link to send them.
func (a *api) inviteUser(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req InviteUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	inv, err := a.people.Invite(r.Context(), p, people.InviteParams{
		Email: req.Email, Name: req.Name, Role: req.Role, TeamIDs: req.TeamIDs, TeamName: req.Team,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.invitation(r, inv))
	return nil
}

func (a *api) invitation(r *http.Request, inv people.Invitation) Invitation {
	return Invitation{
		User:      userFrom(inv.User),
		SignInURL: a.baseURL(r) + "/api/auth/link/" + url.PathEscape(inv.Token),
		ExpiresAt: inv.ExpiresAt,
	}
}

// listUsers answers GET /api/users: the users the caller may see.
func (a *api) listUsers(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	users, err := a.people.Users(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, UserList{Users: convert(users, userFrom)})
	return nil
}

// getUser answers GET /api/users/{id}.
func (a *api) getUser(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	u, err := a.people.User(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userFrom(u))
	return nil
}

// updateUser answers PATCH /api/users/{id}: an admin changes a user's name, role, teams, or
// disables them (which signs them out everywhere).
func (a *api) updateUser(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req UpdateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.people.UpdateUser(r.Context(), p, r.PathValue("id"), people.UserPatch{
		Name: req.Name, Role: req.Role, TeamIDs: req.TeamIDs, Disabled: req.Disabled,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userFrom(u))
	return nil
}

// issueLink answers POST /api/users/{id}/signin-link: a new one-time sign-in link.
func (a *api) issueLink(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	inv, err := a.people.IssueLink(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.invitation(r, inv))
	return nil
}

// signOutUser answers POST /api/users/{id}/signout: an admin ends every session of a user.
func (a *api) signOutUser(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	n, err := a.people.SignOutEverywhere(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SignOutAllResponse{Revoked: n})
	return nil
}

// createTeam answers POST /api/teams.
func (a *api) createTeam(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	var req CreateTeamRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.people.CreateTeam(r.Context(), p, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, teamFrom(t))
	return nil
}

// listTeams answers GET /api/teams: every team for an admin, the caller's own otherwise.
func (a *api) listTeams(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	teams, err := a.people.Teams(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, TeamList{Teams: convert(teams, teamFrom)})
	return nil
}

// getTeam answers GET /api/teams/{id} with the members the caller may see.
func (a *api) getTeam(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	t, members, err := a.people.Team(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, TeamDetail{Team: teamFrom(t), Members: convert(members, userFrom)})
	return nil
}
