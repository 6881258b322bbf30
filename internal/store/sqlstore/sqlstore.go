// Package sqlstore implements store.Store over database/sql. One set of queries
// serves SQLite (OpenSQLite, the embedded default) and PostgreSQL (OpenPostgres,
// for several instances behind a load balancer); a dialect covers the differences.
//
// Representation: times are BIGINT unix microseconds UTC with NULL for the zero
// time, booleans are 0/1 in SQLite and BOOLEAN in PostgreSQL, byte slices are
// BLOB/BYTEA, and a zero foreign id (no passkey, no customer) is NULL.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pressly/goose/v3"

	"github.com/kagi-auth/kagi/internal/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is a store.Store. The value handed to InTx's function is a *DB bound to the
// transaction; every method called on it runs inside that transaction.
type DB struct {
	dialect *dialect
	logger  *slog.Logger
	writer  *sql.DB   // every write and every transaction (PostgreSQL; SQLite: see group)
	reader  *sql.DB   // plain reads outside transactions; may be writer itself
	tx      txQuerier // non-nil on the *DB handed to InTx's function
	// SQLite only: group runs every write transaction on the writer
	// connection (group.go); reads caches the reader pool's statements.
	group *committer
	reads *readStmts
	// PostgreSQL only: a slot per write transaction that may run at once
	// (see OpenPostgres).
	txSlots chan struct{}
}

var _ store.Store = (*DB)(nil)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txQuerier is a transaction: *sql.Tx, or a job's share of a group transaction.
type txQuerier interface {
	querier
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (db *DB) w() querier {
	if db.tx != nil {
		return db.tx
	}
	return db.writer
}

func (db *DB) r() querier {
	if db.tx != nil {
		return db.tx
	}
	return db.reader
}

// exec runs a write. Outside a transaction on SQLite it is a job of its own
// for the group committer.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.tx == nil && db.group != nil {
		var res sql.Result
		err := db.group.run(ctx, db, true, func(tx *DB) error {
			var err error
			res, err = tx.exec(ctx, query, args...)
			return err
		})
		return res, err
	}
	return db.w().ExecContext(ctx, db.dialect.sql(query), cleanArgs(args)...)
}

// writeRow runs a write that returns one row (INSERT/UPDATE/DELETE ... RETURNING).
// Outside a transaction on SQLite the statement runs when the row is scanned,
// as a job of its own for the group committer.
func (db *DB) writeRow(ctx context.Context, query string, args ...any) scanner {
	if db.tx == nil && db.group != nil {
		return groupRow(func(dest ...any) error {
			return db.group.run(ctx, db, true, func(tx *DB) error { return tx.writeRow(ctx, query, args...).Scan(dest...) })
		})
	}
	return db.w().QueryRowContext(ctx, db.dialect.sql(query), cleanArgs(args)...)
}

// groupRow is writeRow's row outside a transaction on SQLite.
type groupRow func(dest ...any) error

func (f groupRow) Scan(dest ...any) error { return f(dest...) }

func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if db.tx == nil && db.reads != nil {
		if s := db.reads.get(ctx, db.dialect.sql(query)); s != nil {
			return s.QueryRowContext(ctx, cleanArgs(args)...)
		}
	}
	return db.r().QueryRowContext(ctx, db.dialect.sql(query), cleanArgs(args)...)
}

func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.tx == nil && db.reads != nil {
		if s := db.reads.get(ctx, db.dialect.sql(query)); s != nil {
			return s.QueryContext(ctx, cleanArgs(args)...)
		}
	}
	return db.r().QueryContext(ctx, db.dialect.sql(query), cleanArgs(args)...)
}

// writeRows runs a write that returns rows. On SQLite it must run inside a
// transaction (the rows are read before the group transaction commits).
func (db *DB) writeRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.tx == nil && db.group != nil {
		return nil, errors.New("sqlstore: a write returning rows outside a transaction")
	}
	return db.w().QueryContext(ctx, db.dialect.sql(query), cleanArgs(args)...)
}

// cleanText makes s storable as text on both databases: PostgreSQL refuses a
// NUL byte or invalid UTF-8 in TEXT (SQLite takes anything), and both reach the
// store from clients (a customer code in a JSON body with \u0000, a User-Agent
// header with Latin-1 bytes). Each becomes U+FFFD, on SQLite too, so that the
// backends keep the same data and a dump moves between them unchanged.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanArgs applies cleanText to the string arguments, copying args only when
// one changes.
func cleanArgs(args []any) []any {
	out, copied := args, false
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			continue
		}
		if c := cleanText(s); c != s {
			if !copied {
				out, copied = slices.Clone(args), true
			}
			out[i] = c
		}
	}
	return out
}

// InTx runs fn in one transaction on the writer. A nested InTx joins it.
//
// fn must use the Store it is given: on SQLite the writer has a single
// connection, which the transaction holds, so a write through the outer
// Store from inside fn would wait for it forever.
func (db *DB) InTx(ctx context.Context, fn func(store.Store) error) error {
	return db.inTx(ctx, func(tx *DB) error { return fn(tx) })
}

func (db *DB) inTx(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	if db.group != nil {
		return db.group.run(ctx, db, false, fn)
	}
	if db.txSlots != nil {
		select {
		case db.txSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-db.txSlots }()
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	bound := *db
	bound.tx = tx
	if err := fn(&bound); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.tx != nil {
		_, err := db.tx.ExecContext(ctx, "SELECT 1")
		return wrap("ping", err)
	}
	if db.group != nil {
		// The writer connection is the committer's: ping it through a job.
		if err := db.inTx(ctx, func(tx *DB) error { return tx.Ping(ctx) }); err != nil {
			return err
		}
		return wrap("ping", db.reader.PingContext(ctx))
	}
	if err := db.writer.PingContext(ctx); err != nil || db.reader == db.writer {
		return wrap("ping", err)
	}
	return wrap("ping", db.reader.PingContext(ctx))
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.tx != nil {
		return errors.New("sqlstore: Close inside InTx")
	}
	var err error
	if db.group != nil {
		err = db.group.close()
	}
	if db.reads != nil {
		db.reads.close()
	}
	err = errors.Join(err, db.writer.Close())
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	return err
}

// Migrate brings the schema up to date with the embedded migrations. It is safe
// to run again; Open* already runs it.
func (db *DB) Migrate(ctx context.Context) error {
	if db.tx != nil {
		return errors.New("sqlstore: Migrate inside InTx")
	}
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect.name)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect == postgresDialect {
		// Instances starting together: one migrates, the others wait for it.
		locker, err := db.postgresLocker(ctx)
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.dialect.goose, db.writer, fsys, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, r := range results {
		db.logger.InfoContext(ctx, "database migrated", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// wrap names the failed operation and maps driver errors onto the store's
// sentinels, keeping the driver's error in the chain for the log.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: %s: %w", op, store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, store.ErrConflict, err)
	default:
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
}

// one turns "no row changed" into store.ErrNotFound.
func one(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// count returns how many rows a statement changed.
func count(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// sweepChunk bounds the rows one sweeping statement deletes, so that the
// logins arriving meanwhile wait for one chunk (about 10 ms of SQLite's writer),
// not for the whole sweep: the sessions of a 9:00 storm all expire together
// twelve hours later, and 81,000 of them in one statement held the writer for
// 0.6 s. On SQLite each chunk is one job of the group committer; on PostgreSQL
// a transaction of its own.
const sweepChunk = 500

// deleteChunked runs query, a DELETE whose row limit is written as %d, until
// it deletes fewer rows than a chunk. The limit is in the SQL, not a
// parameter, so that PostgreSQL never plans the subquery for an unknown
// limit (a generic plan scans the whole table).
func (db *DB) deleteChunked(ctx context.Context, what, query string, args ...any) (int, error) {
	query = fmt.Sprintf(query, sweepChunk)
	total := 0
	for {
		n, err := count(db.exec(ctx, query, args...))
		total += n
		if err != nil {
			return total, wrap(what, err)
		}
		if n < sweepChunk { // or another instance took some: the next sweep goes on
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// exists answers whether table has a row with this id; used after a
// conditional UPDATE changed nothing, to tell "absent" from "condition false".
func (db *DB) exists(ctx context.Context, table string, id int64) (bool, error) {
	var x int
	err := db.readRow(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// limitOrAll maps a non-positive limit to "no limit" in a portable LIMIT ?.
func limitOrAll(n int) int {
	if n <= 0 {
		return 1<<31 - 1
	}
	return n
}

// Column codecs.

// micros encodes a time; the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans what micros wrote.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

// nullID encodes an optional reference: 0 is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// idCol scans what nullID wrote.
type idCol struct{ p *int64 }

func (c idCol) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*c.p = n.Int64
	return nil
}

// counterCol scans a signature counter, stored as an INTEGER (int64).
type counterCol struct{ p *uint32 }

func (c counterCol) Scan(v any) error {
	n, ok := v.(int64)
	if !ok || n < 0 || n > math.MaxUint32 {
		return fmt.Errorf("counter column holds %T %v", v, v)
	}
	*c.p = uint32(n)
	return nil
}

// qualify prefixes each column of a column list with a table alias, for joins.
func qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// listCol scans a comma-joined list (passkey transports); "" is an empty list.
type listCol struct{ p *[]string }

func (c listCol) Scan(v any) error {
	var s sql.NullString
	if err := s.Scan(v); err != nil {
		return err
	}
	*c.p = nil
	if s.String != "" {
		*c.p = strings.Split(s.String, ",")
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
