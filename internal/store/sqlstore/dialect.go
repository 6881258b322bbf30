package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the databases. Every query is written once,
// with ? placeholders and SQL both SQLite and PostgreSQL accept; a dialect only
// rewrites placeholders, names its migrations and adds optional clauses.
type dialect struct {
	name  string // also the directory of its migrations
	goose goose.Dialect
	// rebind rewrites ? placeholders for drivers that want another form; nil keeps them.
	rebind func(query string) string
	// claimLock ends ClaimMail's inner SELECT. PostgreSQL's FOR UPDATE SKIP LOCKED lets
	// concurrent senders pass over each other's rows instead of queueing behind them;
	// SQLite has a single writer and rejects the clause.
	claimLock string
}

var (
	sqliteDialect = &dialect{
		name:  "sqlite",
		goose: goose.DialectSQLite3,
	}
	// postgresDialect is OpenPostgres's; its migrations are kept in step with SQLite's
	// (TestMigrationsInStep) and both run the same conformance suite.
	postgresDialect = &dialect{
		name:      "postgres",
		goose:     goose.DialectPostgres,
		rebind:    dollarPlaceholders,
		claimLock: " FOR UPDATE SKIP LOCKED",
	}
)

func (d *dialect) sql(query string) string {
	if d.rebind == nil {
		return query
	}
	return d.rebind(query)
}

// dollarPlaceholders turns each ? outside a string literal into $1, $2, ...
func dollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case c == '\'':
			quoted = !quoted // '' inside a literal toggles twice: still right
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isUniqueViolation reports whether err is a unique or primary key violation,
// whichever driver raised it.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	return false
}
