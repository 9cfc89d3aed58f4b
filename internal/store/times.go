package store

import (
	"database/sql"
	"time"
)

// Instants are stored as BIGINT Unix milliseconds in UTC.
//
// The alternatives do not round-trip the same on both engines: PostgreSQL's TIMESTAMPTZ keeps
// microseconds and comes back in the session's time zone, while SQLite has no time type, so
// modernc's driver writes a formatted TEXT whose precision and parsing depend on DSN options.
// An integer means the same everywhere, sorts correctly, and is what the recordings' offsets
// are measured in anyway. The cost is millisecond precision: a time read back equals the one
// written truncated to the millisecond and converted to UTC, on either engine.

// toMs converts t to stored Unix milliseconds.
func toMs(t time.Time) int64 {
	return t.UnixMilli()
}

// fromMs converts stored Unix milliseconds back to a UTC time.
func fromMs(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// toNullMs converts an optional time; nil is stored as NULL.
func toNullMs(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMs(*t), Valid: true}
}

// fromNullMs converts an optional stored time; NULL comes back as nil.
func fromNullMs(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMs(ms.Int64)
	return &t
}

// nullID stores an empty reference (no participant, no invite) as NULL, which foreign keys
// accept; queries read it back as "" with COALESCE.
func nullID(id string) sql.NullString {
	return sql.NullString{String: id, Valid: id != ""}
}

// orNow returns t, or the current time if t is zero, so callers may leave creation times out.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
