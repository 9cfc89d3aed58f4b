package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Methods wrap them with %w, so test with errors.Is.
var (
	// ErrNotFound means the row asked for, or a row that a new one refers to, does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a duplicate (an id or token hash already taken) or a state change that
	// the row's current state does not allow, such as ending a session twice.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid means the caller passed a value the store cannot accept, such as an unknown
	// end state.
	ErrInvalid = errors.New("store: invalid argument")
)

// PostgreSQL SQLSTATE codes for the constraint violations mapped to sentinels.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// mapErr turns the engines' own spellings of "no row", "duplicate key" and "missing
// referenced row" into the package's sentinels, keeping the driver error in the chain for the
// message. Any other error is returned unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgUniqueViolation:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case pgForeignKeyViolation:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}
