package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// RoleAdmin is the role of a user who administers the organisation. Users are admins, coaches
// (RoleCoach) or reps (RoleRep); the last two spell the same as the invite roles.
const RoleAdmin = "admin"

// User is a person who signs in: an admin, a coach or a rep, in zero or more teams.
type User struct {
	ID         string     `db:"id"`
	Email      string     `db:"email"` // lower-cased by the caller; unique
	Name       string     `db:"name"`
	Role       string     `db:"role"` // RoleAdmin, RoleCoach or RoleRep
	CreatedAt  time.Time  `db:"-"`
	DisabledAt *time.Time `db:"-"` // a disabled user cannot sign in or use a key
	// TeamIDs are the teams the user belongs to, sorted. CreateUser and UpdateUser store them.
	TeamIDs []string `db:"-"`
}

type userRow struct {
	User
	CreatedMs  int64         `db:"created_at"`
	DisabledMs sql.NullInt64 `db:"disabled_at"`
}

const userCols = `id, email, name, role, created_at, disabled_at`

// Team groups reps with the coaches who coach them.
type Team struct {
	ID        string    `db:"id"`
	Name      string    `db:"name"` // unique
	CreatedAt time.Time `db:"-"`
}

type teamRow struct {
	Team
	CreatedMs int64 `db:"created_at"`
}

// MagicLink is a one-time sign-in link. Only the hash of its token is kept.
type MagicLink struct {
	ID        string     `db:"id"`
	UserID    string     `db:"user_id"`
	TokenHash string     `db:"token_hash"`
	CreatedAt time.Time  `db:"-"`
	ExpiresAt time.Time  `db:"-"`
	UsedAt    *time.Time `db:"-"`
}

type magicLinkRow struct {
	MagicLink
	CreatedMs int64         `db:"created_at"`
	ExpiresMs int64         `db:"expires_at"`
	UsedMs    sql.NullInt64 `db:"used_at"`
}

func (r magicLinkRow) link() MagicLink {
	l := r.MagicLink
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMs(r.CreatedMs), fromMs(r.ExpiresMs), fromNullMs(r.UsedMs)
	return l
}

const magicLinkCols = `id, user_id, token_hash, created_at, expires_at, used_at`

// UserSession is a signed-in browser: the hash of its cookie's token, until it expires or is
// revoked.
type UserSession struct {
	ID         string     `db:"id"`
	UserID     string     `db:"user_id"`
	TokenHash  string     `db:"token_hash"`
	UserAgent  string     `db:"user_agent"`
	CreatedAt  time.Time  `db:"-"`
	ExpiresAt  time.Time  `db:"-"`
	LastSeenAt time.Time  `db:"-"`
	RevokedAt  *time.Time `db:"-"`
}

type userSessionRow struct {
	UserSession
	CreatedMs  int64         `db:"created_at"`
	ExpiresMs  int64         `db:"expires_at"`
	LastSeenMs int64         `db:"last_seen_at"`
	RevokedMs  sql.NullInt64 `db:"revoked_at"`
}

func (r userSessionRow) session() UserSession {
	u := r.UserSession
	u.CreatedAt, u.ExpiresAt, u.LastSeenAt = fromMs(r.CreatedMs), fromMs(r.ExpiresMs), fromMs(r.LastSeenMs)
	u.RevokedAt = fromNullMs(r.RevokedMs)
	return u
}

const userSessionCols = `id, user_id, token_hash, user_agent, created_at, expires_at, last_seen_at, revoked_at`

// APIKey lets an integration act as the user who created it. Only the key's hash is kept.
type APIKey struct {
	ID         string     `db:"id"`
	UserID     string     `db:"user_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	TokenHash  string     `db:"token_hash"`
	CreatedAt  time.Time  `db:"-"`
	LastUsedAt *time.Time `db:"-"`
	RevokedAt  *time.Time `db:"-"`
}

type apiKeyRow struct {
	APIKey
	CreatedMs  int64         `db:"created_at"`
	LastUsedMs sql.NullInt64 `db:"last_used_at"`
	RevokedMs  sql.NullInt64 `db:"revoked_at"`
}

func (r apiKeyRow) key() APIKey {
	k := r.APIKey
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMs(r.CreatedMs), fromNullMs(r.LastUsedMs), fromNullMs(r.RevokedMs)
	return k
}

const apiKeyCols = `id, user_id, name, prefix, token_hash, created_at, last_used_at, revoked_at`

func validUserRole(role string) bool {
	return role == RoleAdmin || role == RoleCoach || role == RoleRep
}

// CreateUser stores a new user and its team memberships in one transaction. An empty ID is
// filled with a new UUID and a zero CreatedAt with now. A taken id or email is ErrConflict, an
// unknown team ErrNotFound.
func (s *Store) CreateUser(ctx context.Context, u User) error {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if !validUserRole(u.Role) {
		return fmt.Errorf("%w: user role %q", ErrInvalid, u.Role)
	}
	u.CreatedAt = orNow(u.CreatedAt)
	return s.inTx(ctx, "create user "+u.ID, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
			u.ID, u.Email, u.Name, u.Role, toMs(u.CreatedAt), toNullMs(u.DisabledAt))
		if err != nil {
			return err
		}
		return setTeams(ctx, tx, u.ID, u.TeamIDs)
	})
}

// UpdateUser replaces a user's name, role, disabled time and teams (not its email or creation
// time). An unknown user is ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, u User) error {
	if !validUserRole(u.Role) {
		return fmt.Errorf("%w: user role %q", ErrInvalid, u.Role)
	}
	return s.inTx(ctx, "update user "+u.ID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET name = ?, role = ?, disabled_at = ? WHERE id = ?`),
			u.Name, u.Role, toNullMs(u.DisabledAt), u.ID)
		if err != nil {
			return err
		}
		if ok, err := affectedOne(res); err != nil || !ok {
			return notFoundUnless(ok, err, "user", u.ID)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM team_members WHERE user_id = ?`), u.ID); err != nil {
			return err
		}
		return setTeams(ctx, tx, u.ID, u.TeamIDs)
	})
}

func setTeams(ctx context.Context, tx *sqlx.Tx, userID string, teamIDs []string) error {
	for _, t := range dedupe(teamIDs) {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`), t, userID)
		if err != nil {
			return err
		}
	}
	return nil
}

// User returns the user with id, with its teams, or ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	return s.oneUser(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
}

// UserByEmail returns the user with email (compared as stored), or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.oneUser(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email)
}

func (s *Store) oneUser(ctx context.Context, query string, arg string) (User, error) {
	var r userRow
	if err := s.db.GetContext(ctx, &r, s.q(query), arg); err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", arg, mapErr(err))
	}
	users, err := s.withTeams(ctx, []userRow{r})
	if err != nil {
		return User{}, err
	}
	return users[0], nil
}

// ListUsers returns users ordered by name then id, with their teams: those whose id is in ids,
// or every user when ids is nil.
func (s *Store) ListUsers(ctx context.Context, ids []string) ([]User, error) {
	query, args, err := inFilter(`SELECT `+userCols+` FROM users`, "id", ids, ` ORDER BY name, id`)
	if err != nil || query == "" {
		return []User{}, err
	}
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list users: %w", mapErr(err))
	}
	return s.withTeams(ctx, rows)
}

// withTeams converts rows to users and fills in their teams.
func (s *Store) withTeams(ctx context.Context, rows []userRow) ([]User, error) {
	out := make([]User, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		u := r.User
		u.CreatedAt, u.DisabledAt, u.TeamIDs = fromMs(r.CreatedMs), fromNullMs(r.DisabledMs), []string{}
		out[i], index[u.ID], ids[i] = u, i, u.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT team_id, user_id FROM team_members WHERE user_id IN (?) ORDER BY team_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: teams of users: %w", err)
	}
	var members []struct {
		TeamID string `db:"team_id"`
		UserID string `db:"user_id"`
	}
	if err := s.db.SelectContext(ctx, &members, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: teams of users: %w", mapErr(err))
	}
	for _, m := range members {
		i := index[m.UserID]
		out[i].TeamIDs = append(out[i].TeamIDs, m.TeamID)
	}
	return out, nil
}

// CoachedUserIDs returns the ids of the reps other than userID (a coach) who share at least
// one team with userID, sorted.
func (s *Store) CoachedUserIDs(ctx context.Context, userID string) ([]string, error) {
	ids := []string{}
	err := s.db.SelectContext(ctx, &ids, s.q(
		`SELECT DISTINCT u.id FROM users u
		 JOIN team_members m ON m.user_id = u.id
		 JOIN team_members c ON c.team_id = m.team_id
		 WHERE c.user_id = ? AND u.role = ? AND u.id <> ? ORDER BY u.id`), userID, RoleRep, userID)
	if err != nil {
		return nil, fmt.Errorf("store: reps coached by %q: %w", userID, mapErr(err))
	}
	return ids, nil
}

// CreateTeam stores a new team. An empty ID is filled with a new UUID and a zero CreatedAt
// with now; a taken id or name is ErrConflict.
func (s *Store) CreateTeam(ctx context.Context, t Team) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	t.CreatedAt = orNow(t.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)`),
		t.ID, t.Name, toMs(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create team %q: %w", t.Name, mapErr(err))
	}
	return nil
}

// Team returns the team with id, or ErrNotFound.
func (s *Store) Team(ctx context.Context, id string) (Team, error) {
	return s.oneTeam(ctx, `SELECT id, name, created_at FROM teams WHERE id = ?`, id)
}

// TeamByName returns the team called name, or ErrNotFound.
func (s *Store) TeamByName(ctx context.Context, name string) (Team, error) {
	return s.oneTeam(ctx, `SELECT id, name, created_at FROM teams WHERE name = ?`, name)
}

func (s *Store) oneTeam(ctx context.Context, query, arg string) (Team, error) {
	var r teamRow
	if err := s.db.GetContext(ctx, &r, s.q(query), arg); err != nil {
		return Team{}, fmt.Errorf("store: team %q: %w", arg, mapErr(err))
	}
	r.Team.CreatedAt = fromMs(r.CreatedMs)
	return r.Team, nil
}

// ListTeams returns teams ordered by name: those whose id is in ids, or all when ids is nil.
func (s *Store) ListTeams(ctx context.Context, ids []string) ([]Team, error) {
	query, args, err := inFilter(`SELECT id, name, created_at FROM teams`, "id", ids, ` ORDER BY name, id`)
	if err != nil || query == "" {
		return []Team{}, err
	}
	var rows []teamRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list teams: %w", mapErr(err))
	}
	out := make([]Team, len(rows))
	for i, r := range rows {
		out[i] = r.Team
		out[i].CreatedAt = fromMs(r.CreatedMs)
	}
	return out, nil
}

// TeamMemberIDs returns the ids of a team's members, sorted.
func (s *Store) TeamMemberIDs(ctx context.Context, teamID string) ([]string, error) {
	ids := []string{}
	err := s.db.SelectContext(ctx, &ids, s.q(`SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id`), teamID)
	if err != nil {
		return nil, fmt.Errorf("store: members of team %q: %w", teamID, mapErr(err))
	}
	return ids, nil
}

// CreateMagicLink stores a sign-in link. An empty ID is filled with a new UUID and a zero
// CreatedAt with now; an unknown user is ErrNotFound.
func (s *Store) CreateMagicLink(ctx context.Context, l MagicLink) error {
	if l.ID == "" {
		l.ID = uuid.NewString()
	}
	if l.TokenHash == "" {
		return fmt.Errorf("%w: magic link without a token hash", ErrInvalid)
	}
	l.CreatedAt = orNow(l.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO magic_links (`+magicLinkCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		l.ID, l.UserID, l.TokenHash, toMs(l.CreatedAt), toMs(l.ExpiresAt), toNullMs(l.UsedAt))
	if err != nil {
		return fmt.Errorf("store: create magic link: %w", mapErr(err))
	}
	return nil
}

// MagicLinkByTokenHash returns the link whose token hashes to hash, used or not, or ErrNotFound.
func (s *Store) MagicLinkByTokenHash(ctx context.Context, hash string) (MagicLink, error) {
	var r magicLinkRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+magicLinkCols+` FROM magic_links WHERE token_hash = ?`), hash)
	if err != nil {
		return MagicLink{}, fmt.Errorf("store: magic link: %w", mapErr(err))
	}
	return r.link(), nil
}

// RedeemMagicLink uses the link whose token hashes to hash and stores sess (for the link's
// user) in one transaction. Of two racing redemptions exactly one succeeds: a link that is
// used already, or that has expired by at, is ErrConflict; an unknown one ErrNotFound.
func (s *Store) RedeemMagicLink(ctx context.Context, hash string, at time.Time, sess UserSession) (MagicLink, error) {
	var link MagicLink
	err := s.inTx(ctx, "redeem magic link", func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(
			`UPDATE magic_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`),
			toMs(at), hash, toMs(at))
		if err != nil {
			return err
		}
		var r magicLinkRow
		if err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+magicLinkCols+` FROM magic_links WHERE token_hash = ?`), hash); err != nil {
			return err
		}
		if ok, err := affectedOne(res); err != nil || !ok {
			return fmt.Errorf("%w: magic link is used or expired", ErrConflict)
		}
		link = r.link()
		sess.UserID = link.UserID
		return insertUserSession(ctx, tx, sess)
	})
	return link, err
}

func insertUserSession(ctx context.Context, tx *sqlx.Tx, u UserSession) error {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if u.TokenHash == "" {
		return fmt.Errorf("%w: session without a token hash", ErrInvalid)
	}
	u.CreatedAt = orNow(u.CreatedAt)
	if u.LastSeenAt.IsZero() {
		u.LastSeenAt = u.CreatedAt
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO user_sessions (`+userSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		u.ID, u.UserID, u.TokenHash, u.UserAgent, toMs(u.CreatedAt), toMs(u.ExpiresAt), toMs(u.LastSeenAt), toNullMs(u.RevokedAt))
	return err
}

// CreateUserSession stores a signed-in session (RedeemMagicLink does so as it uses a link).
func (s *Store) CreateUserSession(ctx context.Context, u UserSession) error {
	return s.inTx(ctx, "create user session", func(tx *sqlx.Tx) error { return insertUserSession(ctx, tx, u) })
}

// UserSessionByTokenHash returns the session whose token hashes to hash, revoked or not, or
// ErrNotFound.
func (s *Store) UserSessionByTokenHash(ctx context.Context, hash string) (UserSession, error) {
	var r userSessionRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+userSessionCols+` FROM user_sessions WHERE token_hash = ?`), hash)
	if err != nil {
		return UserSession{}, fmt.Errorf("store: user session: %w", mapErr(err))
	}
	return r.session(), nil
}

// UserSessions returns a user's sessions, newest first, revoked ones included.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]UserSession, error) {
	var rows []userSessionRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+userSessionCols+` FROM user_sessions WHERE user_id = ? ORDER BY created_at DESC, id`), userID)
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %q: %w", userID, mapErr(err))
	}
	out := make([]UserSession, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// TouchUserSession records that a session was used at at.
func (s *Store) TouchUserSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE user_sessions SET last_seen_at = ? WHERE id = ?`), toMs(at), id)
	if err != nil {
		return fmt.Errorf("store: touch user session %q: %w", id, mapErr(err))
	}
	return nil
}

// RevokeUserSession revokes one session; revoking it again keeps the first time. An unknown
// session is ErrNotFound.
func (s *Store) RevokeUserSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE user_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), toMs(at), id)
	if err != nil {
		return fmt.Errorf("store: revoke user session %q: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "user_sessions", id, nil)
}

// RevokeUserSessions revokes every session of a user not revoked yet, and its unused magic
// links, and returns how many sessions it revoked.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, at time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, "revoke sessions of "+userID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(
			`UPDATE user_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`), toMs(at), userID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(
			`UPDATE magic_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL`), toMs(at), userID)
		return err
	})
	return int(n), err
}

// CreateAPIKey stores a key. An empty ID is filled with a new UUID and a zero CreatedAt with
// now; an unknown user is ErrNotFound, a taken id or hash ErrConflict.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey) error {
	if k.ID == "" {
		k.ID = uuid.NewString()
	}
	if k.TokenHash == "" {
		return fmt.Errorf("%w: API key without a token hash", ErrInvalid)
	}
	k.CreatedAt = orNow(k.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.UserID, k.Name, k.Prefix, k.TokenHash, toMs(k.CreatedAt), toNullMs(k.LastUsedAt), toNullMs(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("store: create API key: %w", mapErr(err))
	}
	return nil
}

// APIKey returns the key with id, or ErrNotFound.
func (s *Store) APIKey(ctx context.Context, id string) (APIKey, error) {
	return s.oneKey(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ?`, id)
}

// APIKeyByTokenHash returns the key whose token hashes to hash, revoked or not, or ErrNotFound.
func (s *Store) APIKeyByTokenHash(ctx context.Context, hash string) (APIKey, error) {
	return s.oneKey(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE token_hash = ?`, hash)
}

func (s *Store) oneKey(ctx context.Context, query, arg string) (APIKey, error) {
	var r apiKeyRow
	if err := s.db.GetContext(ctx, &r, s.q(query), arg); err != nil {
		return APIKey{}, fmt.Errorf("store: API key: %w", mapErr(err))
	}
	return r.key(), nil
}

// ListAPIKeys returns the keys of userID, or of every user when userID is "", oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	query, args := `SELECT `+apiKeyCols+` FROM api_keys`, []any{}
	if userID != "" {
		query += ` WHERE user_id = ?`
		args = append(args, userID)
	}
	var rows []apiKeyRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query+` ORDER BY created_at, id`), args...); err != nil {
		return nil, fmt.Errorf("store: list API keys: %w", mapErr(err))
	}
	out := make([]APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// TouchAPIKey records that a key was used at at.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`), toMs(at), id)
	if err != nil {
		return fmt.Errorf("store: touch API key %q: %w", id, mapErr(err))
	}
	return nil
}

// RevokeAPIKey revokes a key; revoking it again keeps the first time. An unknown key is
// ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), toMs(at), id)
	if err != nil {
		return fmt.Errorf("store: revoke API key %q: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "api_keys", id, nil)
}

// inTx runs fn in a transaction, committing if it returns nil. Errors come back mapped to the
// package's sentinels and prefixed with what.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, mapErr(err))
	}
	defer tx.Rollback() // a no-op after Commit
	if err := fn(tx); err != nil {
		return fmt.Errorf("store: %s: %w", what, mapErr(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: %w", what, mapErr(err))
	}
	return nil
}

// inFilter appends "WHERE col IN (ids)" to base when ids is not nil, then tail. An empty,
// non-nil ids matches nothing: the query returned is "" and the caller returns no rows.
func inFilter(base, col string, ids []string, tail string) (string, []any, error) {
	if ids == nil {
		return base + tail, nil, nil
	}
	if len(ids) == 0 {
		return "", nil, nil
	}
	query, args, err := sqlx.In(base+` WHERE `+col+` IN (?)`+tail, ids)
	if err != nil {
		return "", nil, fmt.Errorf("store: %w", err)
	}
	return query, args, nil
}

// dedupe returns ids without repeats, in their first order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
