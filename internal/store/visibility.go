package store

import (
	"context"
	"slices"
)

// SessionsVisibleTo is the one rule of who sees which sessions (docs/api.md, "Who sees
// what"), as a filter both APIs use for lists and single sessions alike: admins see every
// session, a rep the sessions for them, a coach those of the reps repsOf returns for them and
// those they created. Anyone else (no user) sees none.
func SessionsVisibleTo(ctx context.Context, userID string, admin, coach bool,
	repsOf func(ctx context.Context, coachID string) ([]string, error)) (SessionFilter, error) {
	switch {
	case admin:
		return SessionFilter{All: true}, nil
	case userID == "":
		return SessionFilter{}, nil
	case !coach:
		return SessionFilter{RepIDs: []string{userID}}, nil
	}
	reps, err := repsOf(ctx, userID)
	if err != nil {
		return SessionFilter{}, err
	}
	return SessionFilter{RepIDs: reps, CreatedBy: userID}, nil
}

// Matches reports whether f selects s, as ListSessionsFor does.
func (f SessionFilter) Matches(s Session) bool {
	return f.All || (s.RepID != "" && slices.Contains(f.RepIDs, s.RepID)) ||
		(f.CreatedBy != "" && s.CreatedBy == f.CreatedBy)
}
