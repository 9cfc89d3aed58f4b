package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// KeyDisclosure is the setting that holds the organisation's observation disclosure: whether
// reps and partners are told that sessions may be observed, and the banner text (JSON, see
// internal/audit).
const KeyDisclosure = "observation_disclosure"

// AuditEntry is one line of the audit log: who monitored, whispered to whom or joined openly,
// in which session, when.
type AuditEntry struct {
	ID         string    `db:"id"`
	At         time.Time `db:"-"`
	SessionID  string    `db:"session_id"`
	ActorID    string    `db:"actor_id"` // the coach's participant id
	ActorName  string    `db:"actor_name"`
	Action     string    `db:"action"`
	TargetID   string    `db:"target_id"` // whom a whisper went to; "" otherwise
	TargetName string    `db:"target_name"`
	Detail     string    `db:"detail"`
}

const auditCols = `id, at, session_id, actor_id, actor_name, action, target_id, target_name, detail`

// AuditFilter selects audit entries: those of one session ("" any), before a time (zero:
// any), newest first, at most Limit (<= 0: all).
type AuditFilter struct {
	SessionID string
	Before    time.Time
	Limit     int
}

// AddAuditEntry appends an entry. An empty ID is filled with a new UUID and a zero At with now.
func (s *Store) AddAuditEntry(ctx context.Context, e AuditEntry) error {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Action == "" {
		return fmt.Errorf("%w: audit entry without an action", ErrInvalid)
	}
	e.At = orNow(e.At)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.ID, toMs(e.At), e.SessionID, e.ActorID, e.ActorName, e.Action, e.TargetID, e.TargetName, e.Detail)
	if err != nil {
		return fmt.Errorf("store: add audit entry: %w", mapErr(err))
	}
	return nil
}

// AuditEntries returns the entries f selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	query, args := `SELECT `+auditCols+` FROM audit_log WHERE 1 = 1`, []any{}
	if f.SessionID != "" {
		query, args = query+` AND session_id = ?`, append(args, f.SessionID)
	}
	if !f.Before.IsZero() {
		query, args = query+` AND at < ?`, append(args, toMs(f.Before))
	}
	query += ` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, f.Limit)
	}
	var rows []struct {
		AuditEntry
		AtMs int64 `db:"at"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", mapErr(err))
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.AuditEntry
		out[i].At = fromMs(r.AtMs)
	}
	return out, nil
}
