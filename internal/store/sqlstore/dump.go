package sqlstore

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// A dump is the whole database as JSON lines, the same on both backends, so
// that `kagi export` on one and `kagi import` on the other move a deployment
// (SQLite → PostgreSQL, or back, or into a fresh database as a restore):
//
//	{"kagi_dump":1,"schema_version":1,"source":"sqlite","exported_at":"2026-05-15T00:30:00Z"}
//	{"table":"customers","row":{"id":1,"customer_code":"10000001",...}}
//	...
//	{"end":true,"rows":{"customers":3,...}}
//
// Every table and column is copied as stored, ids included, so references,
// sessions, passkeys (revoked ones too) and the audit chain survive unchanged.
// Integers and times (unix microseconds) are JSON numbers, byte strings are
// base64, booleans true/false, NULL null. The closing line lets an import tell
// a complete dump from a truncated one.

// DumpFormat is the version of the dump layout.
const DumpFormat = 1

type colKind byte

const (
	kInt   colKind = 'i' // INTEGER/BIGINT, NULL allowed
	kText  colKind = 's'
	kBytes colKind = 'b'
	kBool  colKind = 'o' // 0/1 in SQLite, BOOLEAN in PostgreSQL
)

type dumpColumn struct {
	name string
	kind colKind
}

type dumpTable struct {
	name    string
	orderBy string
	serial  string // id column PostgreSQL fills from a sequence, "" if none
	cols    []dumpColumn
}

// dumpTables lists every table in an order that satisfies the foreign keys.
// TestDumpCoversSchema fails when a migration adds a column this list lacks.
var dumpTables = []dumpTable{
	table("customers", "id", "id", "id:i customer_code:s password_hash:s email:s email_verified_at:i second_factor:s "+
		"totp_secret:b totp_last_step:i webauthn_user_handle:b lang:s failed_attempts:i locked_at:i frozen_at:i created_at:i passkey_gen:i "+
		"sensitive_changed_at:i phase_notice_at:i"),
	table("sessions", "id_hash", "", "id_hash:b customer_id:i stage:s method:s passkey_id:i authenticated_at:i step_up_at:i "+
		"created_at:i last_seen_at:i expires_at:i ip:s user_agent:s data:s"),
	table("email_codes", "id", "id", "id:i customer_id:i purpose:s email:s code_hash:b attempts:i created_at:i expires_at:i used_at:i"),
	table("ceremonies", "id", "", "id:b kind:s customer_id:i data:b created_at:i expires_at:i"),
	table("passkeys", "id", "id", "id:i customer_id:i credential_id:b public_key:b sign_count:i aaguid:b transports:s "+
		"backup_eligible:o backup_state:o attestation_format:s name:s shared:o created_at:i created_ip:s created_user_agent:s "+
		"last_used_at:i revoked_at:i revoked_by:s suspended_at:i suspend_reason:s"),
	table("operations", "id", "id", "id:i customer_id:i kind:s detail:s method:s created_at:i ip:s"),
	table("audit_log", "seq", "", "seq:i at:i actor:s customer_id:i event:s ip:s user_agent:s detail:s prev_hash:b hash:b"),
	table("audit_head", "id", "", "id:i seq:i hash:b"),
	table("outbox", "id", "id", "id:i to_addr:s subject:s body:s created_at:i sent_at:i attempts:i next_try_at:i last_error:s"),
	table("rate_limits", "key, window_start", "", "key:s window_start:i count:i"),
	// The call center (issue 7).
	table("operators", "id", "id", "id:i name:s role:s user_handle:b enroll_hash:b enroll_expires_at:i created_at:i created_by:s disabled_at:i"),
	table("operator_passkeys", "id", "id", "id:i operator_id:i credential_id:b public_key:b sign_count:i aaguid:b transports:s "+
		"backup_eligible:o backup_state:o attestation_format:s created_at:i created_ip:s last_used_at:i revoked_at:i"),
	table("operator_sessions", "id_hash", "", "id_hash:b operator_id:i created_at:i last_seen_at:i expires_at:i ip:s user_agent:s"),
	table("inquiries", "id", "id", "id:i customer_code:s customer_id:i name:s email:s topic:s message:s ip:s user_agent:s "+
		"created_at:i closed_at:i closed_by:s close_note:s"),
	table("approval_requests", "id", "id", "id:i kind:s customer_id:i inquiry_id:i payload:s reason:s requested_by:s requested_at:i "+
		"status:s decided_by:s decided_at:i decision_note:s"),
}

func table(name, orderBy, serial, spec string) dumpTable {
	t := dumpTable{name: name, orderBy: orderBy, serial: serial}
	for _, f := range strings.Fields(spec) {
		n, k, _ := strings.Cut(f, ":")
		t.cols = append(t.cols, dumpColumn{n, colKind(k[0])})
	}
	return t
}

func (t dumpTable) columnList() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// TableRows is how many rows of a table a dump holds.
type TableRows struct {
	Table string
	Rows  int
}

type dumpHeader struct {
	Format     int    `json:"kagi_dump"`
	Schema     int64  `json:"schema_version"`
	Source     string `json:"source"`
	ExportedAt string `json:"exported_at"`
}

type dumpRow struct {
	Table string         `json:"table"`
	Row   map[string]any `json:"row"`
}

type dumpEnd struct {
	End  bool           `json:"end"`
	Rows map[string]int `json:"rows"`
}

// dumpLine is any of the three when read back.
type dumpLine struct {
	Format int                        `json:"kagi_dump"`
	Schema int64                      `json:"schema_version"`
	Table  string                     `json:"table"`
	Row    map[string]json.RawMessage `json:"row"`
	End    bool                       `json:"end"`
	Rows   map[string]int             `json:"rows"`
}

// schemaVersion is the newest migration applied.
func schemaVersion(ctx context.Context, q querier) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version`).Scan(&v)
	return v, err
}

// Export writes the whole database to w as a dump, read in one read-only
// transaction so that it is consistent even while kagi runs.
func (db *DB) Export(ctx context.Context, w io.Writer) ([]TableRows, error) {
	if db.tx != nil {
		return nil, errors.New("sqlstore: Export inside InTx")
	}
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: export: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: export: schema version: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(dumpHeader{Format: DumpFormat, Schema: version, Source: db.dialect.name,
		ExportedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	var counts []TableRows
	total := map[string]int{}
	for _, t := range dumpTables {
		n, err := exportTable(ctx, tx, t, enc)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: export %s: %w", t.name, err)
		}
		counts = append(counts, TableRows{t.name, n})
		total[t.name] = n
	}
	if err := enc.Encode(dumpEnd{End: true, Rows: total}); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("sqlstore: export: %w", err)
	}
	return counts, nil
}

func exportTable(ctx context.Context, tx *sql.Tx, t dumpTable, enc *json.Encoder) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+t.columnList()+` FROM `+t.name+` ORDER BY `+t.orderBy)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	dest := make([]any, len(t.cols))
	for rows.Next() {
		for i, c := range t.cols {
			switch c.kind {
			case kInt:
				dest[i] = new(sql.NullInt64)
			case kText:
				dest[i] = new(sql.NullString)
			case kBytes:
				dest[i] = new([]byte)
			case kBool:
				dest[i] = new(sql.NullBool)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		row := make(map[string]any, len(t.cols))
		for i, c := range t.cols {
			var v any
			switch d := dest[i].(type) {
			case *sql.NullInt64:
				if d.Valid {
					v = d.Int64
				}
			case *sql.NullString:
				if d.Valid {
					v = d.String
				}
			case *[]byte:
				if *d != nil {
					v = base64.StdEncoding.EncodeToString(*d)
				}
			case *sql.NullBool:
				if d.Valid {
					v = d.Bool
				}
			}
			row[c.name] = v
		}
		if err := enc.Encode(dumpRow{Table: t.name, Row: row}); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// Import loads a dump into this database, which must be freshly migrated and
// empty, in one transaction: a dump that is truncated, of another schema
// version, or whose audit chain does not verify is refused and nothing is
// written. PostgreSQL's id sequences are moved past the imported ids.
func (db *DB) Import(ctx context.Context, r io.Reader) ([]TableRows, error) {
	if db.tx != nil {
		return nil, errors.New("sqlstore: Import inside InTx")
	}
	var counts []TableRows
	err := db.inTx(ctx, func(tx *DB) error {
		var err error
		counts, err = tx.importDump(ctx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: import: %w", err)
	}
	return counts, nil
}

func (db *DB) importDump(ctx context.Context, r io.Reader) ([]TableRows, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	var head dumpLine
	if err := dec.Decode(&head); err != nil || head.Format == 0 {
		return nil, fmt.Errorf("not a kagi dump (want a first line with kagi_dump): %v", err)
	}
	if head.Format != DumpFormat {
		return nil, fmt.Errorf("dump format %d, this kagi reads %d", head.Format, DumpFormat)
	}
	version, err := schemaVersion(ctx, db.tx)
	if err != nil {
		return nil, err
	}
	if head.Schema != version {
		return nil, fmt.Errorf("the dump has schema version %d, this database %d: import with the kagi version that exported it", head.Schema, version)
	}
	if err := db.mustBeEmpty(ctx); err != nil {
		return nil, err
	}
	if _, err := db.tx.ExecContext(ctx, `DELETE FROM audit_head`); err != nil { // the dump brings its own tip
		return nil, err
	}

	tables := map[string]*dumpTable{}
	for i := range dumpTables {
		tables[dumpTables[i].name] = &dumpTables[i]
	}
	inserts := map[string]*sql.Stmt{}
	defer func() {
		for _, s := range inserts {
			s.Close()
		}
	}()
	got := map[string]int{}
	chain := auditChecker{}
	var end *dumpLine
	for n := 2; ; n++ {
		var line dumpLine
		if err := dec.Decode(&line); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if end != nil {
			return nil, errors.New("data after the closing line")
		}
		if line.End {
			end = &line
			continue
		}
		t := tables[line.Table]
		if t == nil {
			return nil, fmt.Errorf("line %d: unknown table %q", n, line.Table)
		}
		args, err := t.decode(line.Row)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, t.name, err)
		}
		for i, a := range args {
			if s, ok := a.(string); ok && cleanText(s) != s {
				if t.name == "audit_log" { // changing it would break the chain
					return nil, fmt.Errorf("line %d: audit entry %v holds a NUL byte, which the database cannot store", n, args[0])
				}
				args[i] = cleanText(s)
			}
		}
		switch t.name {
		case "audit_log":
			if err := chain.add(t, args); err != nil {
				return nil, err
			}
		case "audit_head":
			chain.head = args
		}
		stmt := inserts[t.name]
		if stmt == nil {
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ")
			stmt, err = db.tx.PrepareContext(ctx, db.dialect.sql(`INSERT INTO `+t.name+` (`+t.columnList()+`) VALUES (`+marks+`)`))
			if err != nil {
				return nil, err
			}
			inserts[t.name] = stmt
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, t.name, err)
		}
		got[t.name]++
	}
	if end == nil {
		return nil, errors.New("the dump is truncated: its closing line is missing")
	}
	var counts []TableRows
	for _, t := range dumpTables {
		if end.Rows[t.name] != got[t.name] {
			return nil, fmt.Errorf("the dump announces %d rows of %s but holds %d", end.Rows[t.name], t.name, got[t.name])
		}
		counts = append(counts, TableRows{t.name, got[t.name]})
	}
	if err := chain.finish(); err != nil {
		return nil, err
	}
	if db.dialect == postgresDialect {
		for _, t := range dumpTables {
			if t.serial == "" {
				continue
			}
			// The next id is one past the largest imported (1 on an empty table).
			if _, err := db.tx.ExecContext(ctx, fmt.Sprintf(
				`SELECT setval(pg_get_serial_sequence('%[1]s', '%[2]s'), COALESCE(MAX(%[2]s), 0) + 1, false) FROM %[1]s`,
				t.name, t.serial)); err != nil {
				return nil, fmt.Errorf("sequence of %s: %w", t.name, err)
			}
		}
	}
	return counts, nil
}

// mustBeEmpty refuses to merge a dump into a database in use.
func (db *DB) mustBeEmpty(ctx context.Context) error {
	for _, t := range dumpTables {
		q := `SELECT COUNT(*) FROM ` + t.name
		if t.name == "audit_head" {
			q += ` WHERE seq <> 0`
		}
		var n int
		if err := db.tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the database is not empty (%s has rows): import only into a new database", t.name)
		}
	}
	return nil
}

// decode turns a dump row into insert arguments in column order.
func (t *dumpTable) decode(row map[string]json.RawMessage) ([]any, error) {
	if len(row) != len(t.cols) {
		return nil, fmt.Errorf("%d columns, want %d", len(row), len(t.cols))
	}
	args := make([]any, len(t.cols))
	for i, c := range t.cols {
		raw, ok := row[c.name]
		if !ok {
			return nil, fmt.Errorf("column %s missing", c.name)
		}
		if bytes.Equal(raw, []byte("null")) {
			continue // nil: NULL
		}
		var err error
		switch c.kind {
		case kInt:
			var n json.Number
			if err = json.Unmarshal(raw, &n); err == nil {
				args[i], err = n.Int64()
			}
		case kText:
			var s string
			err = json.Unmarshal(raw, &s)
			args[i] = s
		case kBytes:
			var s string
			if err = json.Unmarshal(raw, &s); err == nil {
				args[i], err = base64.StdEncoding.DecodeString(s)
			}
		case kBool:
			var b bool
			err = json.Unmarshal(raw, &b)
			args[i] = b
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return args, nil
}

// auditChecker re-verifies the hash chain of the audit rows as they stream
// past, so that a dump that was edited is never imported.
type auditChecker struct {
	seq  int64
	prev []byte
	head []any // audit_head's row: id, seq, hash
}

func (c *auditChecker) add(t *dumpTable, args []any) error {
	v := map[string]any{}
	for i, col := range t.cols {
		v[col.name] = args[i]
	}
	i64 := func(k string) int64 { n, _ := v[k].(int64); return n }
	str := func(k string) string { s, _ := v[k].(string); return s }
	bs := func(k string) []byte { b, _ := v[k].([]byte); return b }
	e := &store.AuditEntry{
		Seq: i64("seq"), Actor: str("actor"), CustomerID: i64("customer_id"), Event: str("event"),
		IP: str("ip"), UserAgent: str("user_agent"), Detail: str("detail"), PrevHash: bs("prev_hash"), Hash: bs("hash"),
	}
	if at, ok := v["at"].(int64); ok {
		e.At = time.UnixMicro(at).UTC()
	}
	if e.Seq != c.seq+1 || !bytes.Equal(e.PrevHash, c.prev) || !bytes.Equal(e.Hash, store.AuditHash(c.prev, e)) {
		return fmt.Errorf("the dump's audit chain does not verify at seq %d: not imported", e.Seq)
	}
	c.seq, c.prev = e.Seq, e.Hash
	return nil
}

func (c *auditChecker) finish() error {
	if c.head == nil {
		return errors.New("the dump lacks audit_head")
	}
	seq, _ := c.head[1].(int64)
	hash, _ := c.head[2].([]byte)
	if seq != c.seq || !bytes.Equal(hash, c.prev) {
		return fmt.Errorf("the dump's audit_head (seq %d) does not match its last audit entry (seq %d)", seq, c.seq)
	}
	return nil
}
