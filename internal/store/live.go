package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// CreateLiveSession stores the call set up for a live assignment, sess with its invites, and
// links it to the assignment, in one transaction. The link is made only if the assignment is
// live, still assigned, and linked to prevSessionID ("" for none) as the caller last saw it;
// otherwise nothing is stored and the answer is ErrConflict (someone set up a call meanwhile,
// or it was handed in). An unknown assignment is ErrNotFound.
func (s *Store) CreateLiveSession(ctx context.Context, assignmentID, prevSessionID string, sess Session, invites []Invite) error {
	if sess.ID == "" {
		return fmt.Errorf("%w: the live session has no id", ErrInvalid)
	}
	return s.inTx(ctx, "create live session for assignment "+assignmentID, func(tx *sqlx.Tx) error {
		if err := insertSession(ctx, tx, sess, invites); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(
			`UPDATE assignments SET live_session_id = ?
			 WHERE id = ? AND mode = ? AND state = ? AND COALESCE(live_session_id, '') = ?`),
			sess.ID, assignmentID, ModeLive, AssignmentAssigned, prevSessionID)
		if err != nil {
			return err
		}
		if ok, err := affectedOne(res); err != nil || ok {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM assignments WHERE id = ?`), assignmentID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: assignment %q", ErrNotFound, assignmentID)
		}
		return fmt.Errorf("%w: assignment %q is not open, or got another call meanwhile", ErrConflict, assignmentID)
	})
}

// AssignmentByLiveSession returns the assignment whose call is the session sessionID, or
// ErrNotFound.
func (s *Store) AssignmentByLiveSession(ctx context.Context, sessionID string) (Assignment, error) {
	var r assignmentRow
	err := s.db.GetContext(ctx, &r, s.q(`SELECT `+assignmentCols+` FROM assignments WHERE live_session_id = ?`), sessionID)
	if err != nil {
		return Assignment{}, fmt.Errorf("store: assignment of live session %q: %w", sessionID, mapErr(err))
	}
	return r.assignment(), nil
}

// ReissueInvite gives the invite id a new token (its hash) and expiry: the earlier link stops
// admitting anyone, the new one admits to the same seat (same invite, role and name). An unknown
// invite is ErrNotFound.
func (s *Store) ReissueInvite(ctx context.Context, id, tokenHash string, expiresAt time.Time) error {
	if tokenHash == "" {
		return fmt.Errorf("%w: invite %q: no token hash", ErrInvalid, id)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE invites SET token_hash = ?, expires_at = ? WHERE id = ?`),
		tokenHash, toMs(expiresAt), id)
	if err != nil {
		return fmt.Errorf("store: reissue invite %q: %w", id, mapErr(err))
	}
	ok, err := affectedOne(res)
	return notFoundUnless(ok, err, "invite", id)
}

// CoachSeat gives the coach seat named name in the session sessionID a new token (its hash)
// and expiry: the coach invite of that name, made if the session has none. Of concurrent calls
// for one name, one makes the seat and the others give it new tokens. An unknown session is
// ErrNotFound.
func (s *Store) CoachSeat(ctx context.Context, sessionID, name, tokenHash string, expiresAt time.Time) error {
	if tokenHash == "" {
		return fmt.Errorf("%w: coach seat %q: no token hash", ErrInvalid, name)
	}
	return s.inTx(ctx, "coach seat in session "+sessionID, func(tx *sqlx.Tx) error {
		// SQLite's transactions take the write lock up front; PostgreSQL's are serialised by
		// locking the session's row, so that two requests cannot both find no seat and add one.
		if s.engine == EnginePostgres {
			var id string
			if err := tx.GetContext(ctx, &id, `SELECT id FROM sessions WHERE id = $1 FOR UPDATE`, sessionID); err != nil {
				return err
			}
		}
		var id string
		err := tx.GetContext(ctx, &id, tx.Rebind(
			`SELECT id FROM invites WHERE session_id = ? AND role = ? AND name = ? ORDER BY created_at, id LIMIT 1`),
			sessionID, RoleCoach, name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invites (`+inviteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				uuid.NewString(), sessionID, RoleCoach, name, tokenHash, toMs(expiresAt), toMs(time.Now()))
		case err == nil:
			_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE invites SET token_hash = ?, expires_at = ? WHERE id = ?`),
				tokenHash, toMs(expiresAt), id)
		}
		return err
	})
}
