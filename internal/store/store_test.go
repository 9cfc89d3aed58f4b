package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// postgresEnv names the PostgreSQL server the tests use. It must allow CREATE DATABASE: every
// test gets a database of its own and drops it at the end.
const postgresEnv = "RINGSIDE_TEST_POSTGRES"

// forEachEngine runs fn once on a fresh SQLite database and once on a fresh PostgreSQL one, so
// the one suite proves the one set of queries on both.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		fn(t, openTest(t, dsn))
	})
}

// forEachEngineDSN is forEachEngine for tests that open the database themselves.
func forEachEngineDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(EngineSQLite, func(t *testing.T) {
		// A directory that does not exist yet: Open must create it.
		fn(t, filepath.Join(t.TempDir(), "data", "ringside.db"))
	})
	t.Run(EnginePostgres, func(t *testing.T) {
		fn(t, postgresTestDSN(t))
	})
}

// openTest opens dsn and closes the store when the test ends.
func openTest(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// postgresTestDSN creates an empty database on the server named by RINGSIDE_TEST_POSTGRES,
// drops it when the test ends, and returns its URL. A missing server fails the test rather
// than skipping it: a green run that never touched PostgreSQL would prove nothing about it.
func postgresTestDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		t.Fatalf("%s is not set: run `make test`, which starts a throwaway PostgreSQL", postgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgresEnv, err)
	}
	t.Cleanup(func() { db.Close() })

	name := "rs_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// Registered after the db.Close cleanup, so it runs before it (and after the store that
	// the test opens later has been closed).
	t.Cleanup(func() {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// ms is what the store hands back for a time it was given: UTC, to the millisecond.
func ms(t time.Time) time.Time {
	return t.Truncate(time.Millisecond).UTC()
}

func msp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

// testTime is an instant with sub-millisecond digits in a zone that is not UTC, so round-trip
// checks see both truncation and conversion.
func testTime(t *testing.T, offset time.Duration) time.Time {
	t.Helper()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	return time.Date(2026, 3, 14, 15, 9, 26, 535897932, zone).Add(offset)
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		s1, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("first Open: %v", err)
		}
		if err := s1.SetSetting(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		if err := s1.Close(); err != nil {
			t.Fatal(err)
		}

		s2 := openTest(t, dsn)
		if err := s2.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		wantEngine := EngineSQLite
		if isPostgres(dsn) {
			wantEngine = EnginePostgres
		}
		if got := s2.Engine(); got != wantEngine {
			t.Fatalf("Engine() = %q, want %q", got, wantEngine)
		}
		v, ok, err := s2.Setting(ctx, "k")
		if err != nil || !ok || v != "v" {
			t.Fatalf("Setting after reopen = %q, %v, %v", v, ok, err)
		}
		migrations, err := migrationFiles.ReadDir("migrations")
		if err != nil {
			t.Fatal(err)
		}
		var applied int
		err = s2.db.GetContext(ctx, &applied, "SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0")
		if err != nil {
			t.Fatal(err)
		}
		if applied != len(migrations) {
			t.Fatalf("goose_db_version has %d applied migrations, want %d", applied, len(migrations))
		}
	})
}

func TestOpenSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	// Characters that end a file: URI's path unless escaped.
	s := openTest(t, filepath.Join(t.TempDir(), "odd ?#% dir", "ringside.db"))
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
	} {
		var got string
		if err := s.db.GetContext(ctx, &got, "PRAGMA "+pragma); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestOpenRejectsEmptyDSN(t *testing.T) {
	_, err := Open(context.Background(), "")
	wantErr(t, "Open(\"\")", err, ErrInvalid)
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		if v, ok, err := s.Setting(ctx, KeyAdminTokenHash); err != nil || ok || v != "" {
			t.Fatalf("missing setting = %q, %v, %v", v, ok, err)
		}
		set, err := s.SetSettingIfAbsent(ctx, KeyAdminTokenHash, "first")
		if err != nil || !set {
			t.Fatalf("SetSettingIfAbsent on empty = %v, %v", set, err)
		}
		set, err = s.SetSettingIfAbsent(ctx, KeyAdminTokenHash, "second")
		if err != nil || set {
			t.Fatalf("SetSettingIfAbsent when present = %v, %v", set, err)
		}
		if v, ok, err := s.Setting(ctx, KeyAdminTokenHash); err != nil || !ok || v != "first" {
			t.Fatalf("after SetSettingIfAbsent = %q, %v, %v", v, ok, err)
		}
		if err := s.SetSetting(ctx, KeyAdminTokenHash, "replaced"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, "other", ""); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := s.Setting(ctx, KeyAdminTokenHash); err != nil || !ok || v != "replaced" {
			t.Fatalf("after SetSetting = %q, %v, %v", v, ok, err)
		}
		if v, ok, err := s.Setting(ctx, "other"); err != nil || !ok || v != "" {
			t.Fatalf("empty value = %q, %v, %v", v, ok, err)
		}
	})
}

func TestTimesRoundTripExactly(t *testing.T) {
	for _, in := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 999_999_999), // before the epoch: truncation must still round down
		testTime(t, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	} {
		got := fromMs(toMs(in))
		if got != ms(in) {
			t.Errorf("fromMs(toMs(%v)) = %v, want %v", in, got, ms(in))
		}
	}
	if fromMs(toMs(time.Time{})) != (time.Time{}) {
		t.Error("the zero time does not come back zero")
	}
}
