package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3/lock"
)

// Pool sizing of OpenPostgres. Every instance keeps its own pool, so the
// instances' pool_max_conns together must stay below the server's
// max_connections (100 by default).
const (
	PostgresMaxConns        = 20
	postgresMaxConnLifetime = 30 * time.Minute
	postgresMaxConnIdleTime = 5 * time.Minute
)

// poolMaxConnsParam is the one pool setting read from the URL; it is taken out
// before pgx sees the rest (PostgreSQL would refuse it as a run-time parameter).
const poolMaxConnsParam = "pool_max_conns"

// OpenPostgres connects to the PostgreSQL database at rawURL
// (postgres://user:password@host:5432/db?sslmode=verify-full) and migrates it.
//
// The URL takes pgx's parameters, plus pool_max_conns (default 20) for the size
// of this process's pool, and any run-time parameter such as search_path to
// keep kagi's tables in a schema of their own. One pool serves reads and
// writes: PostgreSQL has no single-writer limit to work around.
//
// Several instances may open the same database at once: migrations run under a
// session-level advisory lock, so exactly one applies them and the others wait.
func OpenPostgres(ctx context.Context, rawURL string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, maxConns, err := parsePostgresURL(rawURL)
	if err != nil {
		return nil, err
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	pool.SetConnMaxLifetime(postgresMaxConnLifetime)
	pool.SetConnMaxIdleTime(postgresMaxConnIdleTime)

	// Nearly every transaction appends to the audit log, whose tip is one row
	// that all appenders of all instances take turns on until their commit.
	// Transactions queued on it would hold every connection of the pool while
	// they wait, and reads (a passkey lookup, a session) would wait behind
	// them. So only a quarter of the pool runs transactions at once; the
	// others queue here, holding no connection.
	slots := max(2, maxConns/4)
	db := &DB{dialect: postgresDialect, logger: logger, writer: pool, reader: pool, txSlots: make(chan struct{}, slots)}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// parsePostgresURL checks the scheme, takes pool_max_conns out and parses the
// rest with pgx.
func parsePostgresURL(rawURL string) (*pgx.ConnConfig, int, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// url.Parse's error quotes the URL, password and all: don't pass it on.
		return nil, 0, errors.New("sqlstore: the database URL must look like postgres://user:password@host:5432/database")
	}
	maxConns := PostgresMaxConns
	q := u.Query()
	if s := q.Get(poolMaxConnsParam); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, 0, fmt.Errorf("sqlstore: %s must be a positive number, got %q", poolMaxConnsParam, s)
		}
		maxConns = n
		q.Del(poolMaxConnsParam)
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's parse errors mask the password themselves.
		return nil, 0, fmt.Errorf("sqlstore: database URL: %w", err)
	}
	return cfg, maxConns, nil
}

// postgresLocker is the advisory lock under which Migrate runs. Its ID is
// derived from the schema kagi's tables live in, so two deployments (or two
// test runs) in separate schemas of one database do not wait for each other.
func (db *DB) postgresLocker(ctx context.Context) (lock.SessionLocker, error) {
	var schema sql.NullString
	if err := db.writer.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if !schema.Valid {
		return nil, errors.New("sqlstore: migrate: no schema on the search_path exists; create it first")
	}
	h := fnv.New64a()
	h.Write([]byte("kagi migrations\x00" + schema.String))
	// Probe every second (instead of goose's 5 s) for up to 5 minutes.
	return lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
}
