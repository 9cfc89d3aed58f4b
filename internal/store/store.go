// Package store owns Ringside's persistent state: settings, sessions and their invites,
// participants, recorded tracks, coaching mode changes, markers and review comments.
//
// It is SQL only. It runs on embedded SQLite (modernc.org/sqlite, the default) or on
// PostgreSQL (pgx), with one set of queries written with "?" placeholders and rebound per
// engine, and one set of embedded goose migrations applied at Open. It knows nothing of
// media, websockets or HTTP, and imports no other Ringside package: callers hand it plain
// values and get plain values back.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Engine names returned by Store.Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// sqliteBusyTimeoutMs is how long a SQLite writer waits for another writer's lock before
// giving up with SQLITE_BUSY. Ringside's writes are tiny, so a few seconds is generous even
// under the race detector.
const sqliteBusyTimeoutMs = 10000

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a handle on Ringside's database. It is safe for concurrent use.
type Store struct {
	db     *sqlx.DB // immutable after Open
	engine string   // EngineSQLite or EnginePostgres; immutable after Open
}

// Open connects to the database named by dsn and brings its schema up to date.
//
// A dsn starting with postgres:// or postgresql:// selects PostgreSQL; anything else is the
// path of a SQLite file, whose parent directory is created if missing. Opening an already
// migrated database applies nothing, so Open is safe to call on every start.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, fmt.Errorf("%w: empty database dsn", ErrInvalid)
	}
	var (
		s   *Store
		err error
	)
	if isPostgres(dsn) {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	return &Store{db: db, engine: EnginePostgres}, nil
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("store: create database directory: %w", err)
	}
	db, err := sqlx.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", abs, err)
	}
	return &Store{db: db, engine: EngineSQLite}, nil
}

// sqliteDSN builds a file: URI for an absolute path, escaping characters such as '?' and '#'
// that would otherwise end the path.
//
// The pragmas run on every new pooled connection: busy_timeout first, so that the others (and
// every later write) wait for a lock instead of failing with SQLITE_BUSY; WAL so that readers
// never block the single writer; foreign_keys because SQLite leaves them off by default;
// synchronous=NORMAL, which in WAL mode cannot corrupt the database and at worst loses the
// last commits on power failure, instead of an fsync on every small event write.
// _txlock=immediate makes BEGIN take the write lock up front: a deferred transaction that
// reads and then writes can hit SQLITE_BUSY without the busy handler ever being consulted.
func sqliteDSN(abs string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMs))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
}

// migrate applies the embedded migrations that the database has not seen yet.
func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, 0) }

// migrateTo applies the embedded migrations up to version (0: all of them); tests of a
// migration's data step start from the version before it.
func (s *Store) migrateTo(ctx context.Context, version int64) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	// goose is silenced: applying migrations is routine, and the store leaves logging to its
	// callers. The global registry is off so only the embedded SQL files count.
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	}
	dialect := goose.DialectSQLite3
	if s.engine == EnginePostgres {
		dialect = goose.DialectPostgres
		// Two servers starting against one PostgreSQL must not both run the same migration.
		// SQLite needs no such lock: _txlock=immediate already serialises the writers.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if version > 0 {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: apply migrations: %w", err)
	}
	return nil
}

// Close releases the database connections.
func (s *Store) Close() error {
	return s.db.Close()
}

// Engine reports which database the store runs on: EngineSQLite or EnginePostgres.
func (s *Store) Engine() string {
	return s.engine
}

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// q rebinds a query written with "?" placeholders for the store's engine.
func (s *Store) q(query string) string {
	return s.db.Rebind(query)
}

// affectedOne reports whether a statement changed a row. Both engines count rows matched by
// the WHERE clause, even when the new values equal the old ones.
func affectedOne(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// exists reports whether a row with the given id is in table. table is always a constant from
// this package, never caller input.
func (s *Store) exists(ctx context.Context, table, id string) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q("SELECT COUNT(*) FROM "+table+" WHERE id = ?"), id)
	if err != nil {
		return false, mapErr(err)
	}
	return n > 0, nil
}

// notFoundOr returns ErrNotFound when no row has id in table, and otherwise err.
func (s *Store) notFoundOr(ctx context.Context, table, id string, err error) error {
	ok, xerr := s.exists(ctx, table, id)
	if xerr != nil {
		return errors.Join(err, xerr)
	}
	if !ok {
		return fmt.Errorf("%w: %s %q", ErrNotFound, strings.TrimSuffix(table, "s"), id)
	}
	return err
}
