package sqlstore

import (
	"io/fs"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDollarPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                         "SELECT 1",
		"UPDATE t SET a = ? WHERE b = ?":   "UPDATE t SET a = $1 WHERE b = $2",
		"SELECT '?', ?, 'it''s ?', ?":      "SELECT '?', $1, 'it''s ?', $2",
		"INSERT INTO t VALUES (?,?,?,?,?)": "INSERT INTO t VALUES ($1,$2,$3,$4,$5)",
	} {
		if got := dollarPlaceholders(in); got != want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClaimMailSQL(t *testing.T) {
	if q := claimMailSQL(sqliteDialect); strings.Contains(q, "FOR UPDATE") {
		t.Errorf("SQLite query has a row lock: %s", q)
	}
	q := postgresDialect.sql(claimMailSQL(postgresDialect))
	for _, want := range []string{"LIMIT $2 FOR UPDATE SKIP LOCKED)", "next_try_at = $3", "next_try_at <= $4", "AS MATERIALIZED"} {
		if !strings.Contains(q, want) {
			t.Errorf("PostgreSQL query lacks %q: %s", want, q)
		}
	}
}

var (
	createTable = regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\)`)
	createIndex = regexp.MustCompile(`CREATE INDEX (\w+) ON (\w+) \(([^)]*)\)`)
	addColumn   = regexp.MustCompile(`(?m)^ALTER TABLE (\w+) ADD COLUMN (\w+)`)
	column      = regexp.MustCompile(`(?m)^\s+([a-z_]+)\s+[A-Z]`)
)

// schema sums up a dialect's migrations: table → columns, and index → definition.
func schema(t *testing.T, d *dialect) (files []string, tables map[string][]string, indexes map[string]string) {
	t.Helper()
	fsys, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		t.Fatal(err)
	}
	tables, indexes = map[string][]string{}, map[string]string{}
	err = fs.WalkDir(fsys, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files = append(files, path)
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			for _, c := range column.FindAllStringSubmatch(m[2], -1) {
				tables[m[1]] = append(tables[m[1]], c[1])
			}
		}
		for _, m := range addColumn.FindAllStringSubmatch(string(b), -1) {
			tables[m[1]] = append(tables[m[1]], m[2])
		}
		for _, m := range createIndex.FindAllStringSubmatch(string(b), -1) {
			indexes[m[1]] = m[2] + "(" + m[3] + ")"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, tables, indexes
}

// TestMigrationsInStep: the PostgreSQL migrations must keep the SQLite
// schema's files, tables, columns and indexes (R2).
func TestMigrationsInStep(t *testing.T) {
	lf, lt, li := schema(t, sqliteDialect)
	pf, pt, pi := schema(t, postgresDialect)
	if !slices.Equal(lf, pf) {
		t.Errorf("migration files differ: sqlite %v, postgres %v", lf, pf)
	}
	if len(lt) < 9 {
		t.Fatalf("parsed only tables %v", slices.Sorted(maps.Keys(lt)))
	}
	for name, cols := range lt {
		if !slices.Equal(cols, pt[name]) {
			t.Errorf("table %s: sqlite columns %v, postgres %v", name, cols, pt[name])
		}
	}
	for name := range pt {
		if _, ok := lt[name]; !ok {
			t.Errorf("table %s only in postgres", name)
		}
	}
	if !maps.Equal(li, pi) {
		t.Errorf("indexes differ:\nsqlite   %v\npostgres %v", li, pi)
	}
}

// TestAuditLogAppendOnly: even SQL that bypasses the Store cannot rewrite
// history (O5).
func TestAuditLogAppendOnly(t *testing.T) {
	db, err := OpenSQLite(t.Context(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.writer.ExecContext(t.Context(),
		`INSERT INTO audit_log (seq, actor, event, hash) VALUES (1, 'cli', 'x', X'00')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET event = 'y'`, `DELETE FROM audit_log`} {
		if _, err := db.writer.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only", q, err)
		}
	}
	// The read pool cannot write at all.
	if _, err := db.reader.ExecContext(t.Context(), `INSERT INTO rate_limits VALUES ('k', 0, 1)`); err == nil {
		t.Error("write through the read pool succeeded")
	}
}
