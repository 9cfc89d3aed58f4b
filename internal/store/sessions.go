package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Session states. A session moves forward only: created → live → ended or interrupted, or
// straight from created to ended when it is cancelled before anyone joins. Interrupted means
// the server stopped while the session was live.
const (
	SessionCreated     = "created"
	SessionLive        = "live"
	SessionEnded       = "ended"
	SessionInterrupted = "interrupted"
)

// Invite and participant roles.
const (
	RoleRep     = "rep"
	RolePartner = "partner"
	RoleCoach   = "coach"
)

// Session is one coaching call between a sales rep and a practice partner, with coaches.
// Times come back in UTC, truncated to the millisecond (see times.go).
type Session struct {
	ID          string     `db:"id"`
	Title       string     `db:"title"`
	RepName     string     `db:"rep_name"`
	PartnerName string     `db:"partner_name"`
	State       string     `db:"state"` // SessionCreated, SessionLive, SessionEnded or SessionInterrupted
	Recorded    bool       `db:"recorded"`
	CreatedAt   time.Time  `db:"-"`
	StartedAt   *time.Time `db:"-"` // set when the session goes live
	EndedAt     *time.Time `db:"-"`
	// RepID is the user (a rep) the session is for; "" for none (an ad hoc call).
	RepID string `db:"-"`
	// CreatedBy is the user who created it; "" for the admin token (which has no user).
	CreatedBy string `db:"-"`
}

// sessionRow is a sessions row as stored: Session with its times as Unix milliseconds.
type sessionRow struct {
	Session
	CreatedMs   int64          `db:"created_at"`
	StartedMs   sql.NullInt64  `db:"started_at"`
	EndedMs     sql.NullInt64  `db:"ended_at"`
	RepIDNull   sql.NullString `db:"rep_id"`
	CreatedNull sql.NullString `db:"created_by"`
}

func (r sessionRow) session() Session {
	s := r.Session
	s.CreatedAt = fromMs(r.CreatedMs)
	s.StartedAt = fromNullMs(r.StartedMs)
	s.EndedAt = fromNullMs(r.EndedMs)
	s.RepID = r.RepIDNull.String
	s.CreatedBy = r.CreatedNull.String
	return s
}

const sessionCols = `id, title, rep_name, partner_name, state, recorded, created_at, started_at, ended_at, rep_id, created_by`

// Invite admits one person, in one role, to one session. Only the hash of its token is kept.
type Invite struct {
	ID        string    `db:"id"`
	SessionID string    `db:"session_id"`
	Role      string    `db:"role"` // RoleRep, RolePartner or RoleCoach
	Name      string    `db:"name"`
	TokenHash string    `db:"token_hash"` // HashToken of the invite link's token
	ExpiresAt time.Time `db:"-"`
	CreatedAt time.Time `db:"-"`
}

type inviteRow struct {
	Invite
	ExpiresMs int64 `db:"expires_at"`
	CreatedMs int64 `db:"created_at"`
}

func (r inviteRow) invite() Invite {
	i := r.Invite
	i.ExpiresAt = fromMs(r.ExpiresMs)
	i.CreatedAt = fromMs(r.CreatedMs)
	return i
}

const inviteCols = `id, session_id, role, name, token_hash, expires_at, created_at`

// Participant is one connection of an invited person to a live session; someone who drops
// and rejoins appears twice.
type Participant struct {
	ID        string     `db:"id"`
	SessionID string     `db:"session_id"`
	InviteID  string     `db:"invite_id"` // "" if admitted without an invite
	Role      string     `db:"role"`
	Name      string     `db:"name"`
	JoinedAt  time.Time  `db:"-"`
	LeftAt    *time.Time `db:"-"`
}

type participantRow struct {
	Participant
	JoinedMs int64         `db:"joined_at"`
	LeftMs   sql.NullInt64 `db:"left_at"`
}

func (r participantRow) participant() Participant {
	p := r.Participant
	p.JoinedAt = fromMs(r.JoinedMs)
	p.LeftAt = fromNullMs(r.LeftMs)
	return p
}

const participantCols = `id, session_id, COALESCE(invite_id, '') AS invite_id, role, name, joined_at, left_at`

func validSessionState(state string) bool {
	switch state {
	case SessionCreated, SessionLive, SessionEnded, SessionInterrupted:
		return true
	}
	return false
}

// CreateSession stores a new session and its invites in one transaction: either all are
// stored or none. An empty ID (session or invite) is filled with a new UUID, but a caller that
// needs the session's id afterwards should set it. An empty State means SessionCreated, a zero
// CreatedAt means now, an invite's empty SessionID means sess.ID and its zero CreatedAt means
// sess.CreatedAt. A taken id or token hash is ErrConflict.
func (s *Store) CreateSession(ctx context.Context, sess Session, invites []Invite) error {
	if sess.ID == "" {
		sess.ID = uuid.NewString()
	}
	return s.inTx(ctx, "create session "+sess.ID, func(tx *sqlx.Tx) error { return insertSession(ctx, tx, sess, invites) })
}

// insertSession is CreateSession within tx; sess.ID is set.
func insertSession(ctx context.Context, tx *sqlx.Tx, sess Session, invites []Invite) error {
	if sess.State == "" {
		sess.State = SessionCreated
	}
	if !validSessionState(sess.State) {
		return fmt.Errorf("%w: session state %q", ErrInvalid, sess.State)
	}
	sess.CreatedAt = orNow(sess.CreatedAt)
	_, err := tx.ExecContext(ctx, tx.Rebind(
		`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		sess.ID, sess.Title, sess.RepName, sess.PartnerName, sess.State, sess.Recorded,
		toMs(sess.CreatedAt), toNullMs(sess.StartedAt), toNullMs(sess.EndedAt),
		nullID(sess.RepID), nullID(sess.CreatedBy))
	if err != nil {
		return fmt.Errorf("session %q: %w", sess.ID, err)
	}
	for _, inv := range invites {
		if inv.ID == "" {
			inv.ID = uuid.NewString()
		}
		if inv.SessionID == "" {
			inv.SessionID = sess.ID
		}
		if inv.SessionID != sess.ID {
			return fmt.Errorf("%w: invite %q is for session %q, not %q", ErrInvalid, inv.ID, inv.SessionID, sess.ID)
		}
		if inv.TokenHash == "" {
			return fmt.Errorf("%w: invite %q has no token hash", ErrInvalid, inv.ID)
		}
		if inv.CreatedAt.IsZero() {
			inv.CreatedAt = sess.CreatedAt
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO invites (`+inviteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			inv.ID, inv.SessionID, inv.Role, inv.Name, inv.TokenHash,
			toMs(inv.ExpiresAt), toMs(inv.CreatedAt))
		if err != nil {
			return fmt.Errorf("invite %q: %w", inv.ID, err)
		}
	}
	return nil
}

// Session returns the session with id, or ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	var r sessionRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+sessionCols+` FROM sessions WHERE id = ?`), id)
	if err != nil {
		return Session{}, fmt.Errorf("store: session %q: %w", id, mapErr(err))
	}
	return r.session(), nil
}

// ListSessions returns up to limit sessions, newest first; limit <= 0 means all of them.
func (s *Store) ListSessions(ctx context.Context, limit int) ([]Session, error) {
	query := `SELECT ` + sessionCols + ` FROM sessions ORDER BY created_at DESC, id DESC`
	var args []any
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	return s.selectSessions(ctx, query, args...)
}

// SessionFilter selects sessions by whom they belong to: every one (All), or those for one of
// RepIDs or created by CreatedBy. The zero filter selects none.
type SessionFilter struct {
	All       bool
	RepIDs    []string
	CreatedBy string
}

// ListSessionsFor returns up to limit sessions of f, newest first; limit <= 0 means all.
func (s *Store) ListSessionsFor(ctx context.Context, f SessionFilter, limit int) ([]Session, error) {
	if f.All {
		return s.ListSessions(ctx, limit)
	}
	var (
		where []string
		args  []any
	)
	if len(f.RepIDs) > 0 {
		where = append(where, `rep_id IN (?)`)
		args = append(args, f.RepIDs)
	}
	if f.CreatedBy != "" {
		where = append(where, `created_by = ?`)
		args = append(args, f.CreatedBy)
	}
	if len(where) == 0 {
		return []Session{}, nil
	}
	query := `SELECT ` + sessionCols + ` FROM sessions WHERE ` + strings.Join(where, ` OR `) + ` ORDER BY created_at DESC, id DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	query, args, err := sqlx.In(query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return s.selectSessions(ctx, query, args...)
}

// SessionsInState returns the sessions in state, oldest first. The server uses it at start-up
// to find sessions that were live when it last stopped.
func (s *Store) SessionsInState(ctx context.Context, state string) ([]Session, error) {
	return s.selectSessions(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE state = ? ORDER BY created_at, id`, state)
}

func (s *Store) selectSessions(ctx context.Context, query string, args ...any) ([]Session, error) {
	var rows []sessionRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", mapErr(err))
	}
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// MarkSessionLive moves a created session to live and records when it started. A session
// that is already live is left as it is (the first start time stands), so every joiner may
// call it; an ended or interrupted session is ErrConflict, an unknown one ErrNotFound.
func (s *Store) MarkSessionLive(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE sessions SET state = ?, started_at = ? WHERE id = ? AND state = ?`),
		SessionLive, toMs(at), id, SessionCreated)
	if err != nil {
		return fmt.Errorf("store: mark session %q live: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	// States only move forward, so a session that did not match "created" above and reads as
	// live now was already live: nothing to do.
	cur, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	if cur.State == SessionLive {
		return nil
	}
	return fmt.Errorf("%w: session %q is %s", ErrConflict, id, cur.State)
}

// EndSession moves a created or live session to state, SessionEnded or SessionInterrupted,
// and records when it ended. A session that has already ended either way is ErrConflict, so
// of two racing callers exactly one ends it.
func (s *Store) EndSession(ctx context.Context, id string, at time.Time, state string) error {
	if state != SessionEnded && state != SessionInterrupted {
		return fmt.Errorf("%w: end state %q", ErrInvalid, state)
	}
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE sessions SET state = ?, ended_at = ? WHERE id = ? AND state IN (?, ?)`),
		state, toMs(at), id, SessionCreated, SessionLive)
	if err != nil {
		return fmt.Errorf("store: end session %q: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "sessions", id, fmt.Errorf("%w: session %q has already ended", ErrConflict, id))
}

// InviteByTokenHash returns the invite whose token hashes to hash, or ErrNotFound. It does not
// check expiry: that is the caller's policy.
func (s *Store) InviteByTokenHash(ctx context.Context, hash string) (Invite, error) {
	var r inviteRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+inviteCols+` FROM invites WHERE token_hash = ?`), hash)
	if err != nil {
		return Invite{}, fmt.Errorf("store: invite by token: %w", mapErr(err))
	}
	return r.invite(), nil
}

// Invites returns a session's invites in the order they were created.
func (s *Store) Invites(ctx context.Context, sessionID string) ([]Invite, error) {
	var rows []inviteRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+inviteCols+` FROM invites WHERE session_id = ? ORDER BY created_at, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: invites of %q: %w", sessionID, mapErr(err))
	}
	out := make([]Invite, len(rows))
	for i, r := range rows {
		out[i] = r.invite()
	}
	return out, nil
}

// AddParticipant records that someone joined a session. An empty ID is filled with a new
// UUID; an unknown session or invite is ErrNotFound, a taken id ErrConflict.
func (s *Store) AddParticipant(ctx context.Context, p Participant) error {
	if p.ID == "" {
		p.ID = uuid.NewString()
	}
	_, err := s.db.ExecContext(ctx, s.q(
		`INSERT INTO participants (id, session_id, invite_id, role, name, joined_at, left_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.SessionID, nullID(p.InviteID), p.Role, p.Name, toMs(p.JoinedAt), toNullMs(p.LeftAt))
	if err != nil {
		return fmt.Errorf("store: add participant %q: %w", p.ID, mapErr(err))
	}
	return nil
}

// ParticipantLeft records when a participant left. Calling it again keeps the first time, so
// both the leave message and the connection's close may report it.
func (s *Store) ParticipantLeft(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(
		`UPDATE participants SET left_at = ? WHERE id = ? AND left_at IS NULL`), toMs(at), id)
	if err != nil {
		return fmt.Errorf("store: participant %q left: %w", id, mapErr(err))
	}
	if ok, err := affectedOne(res); err != nil || ok {
		return err
	}
	return s.notFoundOr(ctx, "participants", id, nil)
}

// Participants returns a session's participants in the order they joined.
func (s *Store) Participants(ctx context.Context, sessionID string) ([]Participant, error) {
	var rows []participantRow
	err := s.db.SelectContext(ctx, &rows, s.q(
		`SELECT `+participantCols+` FROM participants WHERE session_id = ? ORDER BY joined_at, id`), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: participants of %q: %w", sessionID, mapErr(err))
	}
	out := make([]Participant, len(rows))
	for i, r := range rows {
		out[i] = r.participant()
	}
	return out, nil
}
