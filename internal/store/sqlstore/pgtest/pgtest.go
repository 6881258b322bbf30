// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database at KAGI_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable), dropped when the
// test ends, so parallel tests and test packages never see each other's rows.
//
// When PostgreSQL is not reachable the test is skipped with a hint, or fails
// when CI is set (CI must not pass by skipping).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kagi-auth/kagi/internal/store/sqlstore"
)

// EnvURL names the variable that points the tests at another server.
const EnvURL = "KAGI_TEST_DATABASE_URL"

// DefaultURL is the CI machine's PostgreSQL (trust authentication).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// schemaPrefix starts every schema this package creates; the rest is the
// creation time (unix seconds) and random hex, so stale ones can be swept.
const schemaPrefix = "kagi_test_"

// PoolSize is the pool_max_conns of the URLs handed out: enough for the
// concurrency tests to contend, small enough for many parallel tests to stay
// under max_connections.
const PoolSize = 4

// BaseURL is the database the tests use.
func BaseURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// adminDB is one small pool per test process for creating and dropping schemas.
func adminDB() (*sql.DB, error) {
	adminOnce.Do(func() {
		cfg, err := pgx.ParseConfig(BaseURL())
		if err != nil {
			adminErr = err
			return
		}
		cfg.ConnectTimeout = 3 * time.Second
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(2)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			adminErr = err
			return
		}
		admin = db
		sweep(db)
	})
	return admin, adminErr
}

// sweep drops schemas that test runs killed before their cleanup left behind.
func sweep(db *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kagi\_test\_%'`)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(name, schemaPrefix), "_")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && time.Since(time.Unix(sec, 0)) > 6*time.Hour {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_, _ = db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
	}
}

// Require skips t (or fails it under CI) unless PostgreSQL answers.
func Require(t testing.TB) *sql.DB {
	t.Helper()
	db, err := adminDB()
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (%v): start it or set %s", redact(BaseURL()), err, EnvURL)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return db
}

// URL creates an empty schema for t, drops it when t ends, and returns a
// database URL whose connections use it (search_path) with a pool of PoolSize.
// Every store opened with the URL shares the schema: two opens are two
// instances of one deployment.
func URL(t testing.TB) string {
	t.Helper()
	db := Require(t)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	schema := schemaPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + hex.EncodeToString(rnd[:])
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := db.ExecContext(context.Background(), `CREATE SCHEMA `+ident); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+ident+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("pool_max_conns", strconv.Itoa(PoolSize))
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens a migrated store in a fresh schema, closed when t ends.
func Open(t testing.TB) *sqlstore.DB {
	t.Helper()
	return OpenURL(t, URL(t))
}

// OpenURL opens another store (another instance) on rawURL, closed when t ends.
func OpenURL(t testing.TB, rawURL string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenPostgres(context.Background(), rawURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	return u.Redacted()
}
