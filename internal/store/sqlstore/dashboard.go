package sqlstore

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// The audit chain's tip and the figures of the adoption dashboard (O5, O6).
// The figures are aggregated by the database; only successful logins
// (event "login.success", whose detail records the method) count as activity.

func (db *DB) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := db.readRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, wrap("audit head", err)
}

func (db *DB) AuditByEvent(ctx context.Context, event string, limit int) ([]*store.AuditEntry, error) {
	rows, err := db.readRows(ctx, `SELECT `+auditCols+` FROM audit_log WHERE event = ?
		ORDER BY seq DESC LIMIT ?`, event, limitOrAll(limit))
	es, err := collect(rows, err, scanAudit)
	return es, wrap("audit by event", err)
}

// boundAt is true when the customer of alias a had a passkey registered by
// the time in the first two placeholders and not revoked by then.
const boundAt = `EXISTS (SELECT 1 FROM passkeys p WHERE p.customer_id = a.customer_id
	AND p.created_at <= ? AND (p.revoked_at IS NULL OR p.revoked_at > ?))`

func (db *DB) AdoptionAt(ctx context.Context, at time.Time, window time.Duration) (int, int, error) {
	var active, with int
	err := db.readRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN `+boundAt+` THEN 1 ELSE 0 END), 0)
		FROM (SELECT DISTINCT customer_id FROM audit_log
			WHERE event = 'login.success' AND customer_id <> 0 AND at > ? AND at <= ?) a`,
		micros(at), micros(at), micros(at.Add(-window)), micros(at)).Scan(&active, &with)
	return active, with, wrap("adoption at", err)
}

// jstDay numbers the day in Japan (UTC+9, no daylight saving) of a time in
// unix microseconds, in integer arithmetic both databases do alike.
const jstDay = `(at + 32400000000) / 86400000000`

func (db *DB) LoginsByDay(ctx context.Context, since time.Time) ([]store.LoginDay, error) {
	// The method is the "method" member of the entry's JSON detail.
	method := `CASE WHEN json_valid(detail) THEN json_extract(detail, '$.method') END`
	if db.dialect == postgresDialect {
		method = `substring(detail from '"method":"([a-z_]+)"')`
	}
	rows, err := db.readRows(ctx, `SELECT `+jstDay+` AS day, COALESCE(`+method+`, '') AS method, COUNT(*)
		FROM audit_log WHERE event = 'login.success' AND at >= ?
		GROUP BY day, method ORDER BY day, method`, micros(since))
	if err != nil {
		return nil, wrap("logins by day", err)
	}
	defer rows.Close()
	var out []store.LoginDay
	for rows.Next() {
		var day int64
		var d store.LoginDay
		if err := rows.Scan(&day, &d.Method, &d.Count); err != nil {
			return nil, wrap("logins by day", err)
		}
		d.Day = time.UnixMicro(day*86400000000 - 32400000000).UTC()
		out = append(out, d)
	}
	return out, wrap("logins by day", rows.Err())
}

func (db *DB) PasskeyGroups(ctx context.Context) ([]store.PasskeyGroup, error) {
	rows, err := db.readRows(ctx, `SELECT aaguid, transports, backup_state, COUNT(*) FROM passkeys
		WHERE `+activePasskey+` GROUP BY aaguid, transports, backup_state ORDER BY COUNT(*) DESC, transports`)
	if err != nil {
		return nil, wrap("passkey groups", err)
	}
	defer rows.Close()
	var out []store.PasskeyGroup
	for rows.Next() {
		var g store.PasskeyGroup
		if err := rows.Scan(&g.AAGUID, listCol{&g.Transports}, &g.BackupState, &g.Count); err != nil {
			return nil, wrap("passkey groups", err)
		}
		out = append(out, g)
	}
	return out, wrap("passkey groups", rows.Err())
}

// withoutActivePasskey selects the recently active customers (alias a's rows)
// who have no passkey they could log in with.
const withoutActivePasskey = `FROM audit_log a JOIN customers c ON c.id = a.customer_id
	WHERE a.event = 'login.success' AND a.at > ? AND NOT EXISTS
		(SELECT 1 FROM passkeys p WHERE p.customer_id = a.customer_id AND p.revoked_at IS NULL AND p.suspended_at IS NULL)`

func (db *DB) ActiveWithoutPasskey(ctx context.Context, since time.Time, limit int) (int, []store.ActiveCustomer, error) {
	var n int
	if err := db.readRow(ctx, `SELECT COUNT(DISTINCT a.customer_id) `+withoutActivePasskey, micros(since)).Scan(&n); err != nil {
		return 0, nil, wrap("active without passkey", err)
	}
	rows, err := db.readRows(ctx, `SELECT c.id, c.customer_code, MAX(a.at) `+withoutActivePasskey+`
		GROUP BY c.id, c.customer_code ORDER BY MAX(a.at) DESC, c.id LIMIT ?`, micros(since), limitOrAll(limit))
	if err != nil {
		return 0, nil, wrap("active without passkey", err)
	}
	defer rows.Close()
	var out []store.ActiveCustomer
	for rows.Next() {
		var c store.ActiveCustomer
		if err := rows.Scan(&c.ID, &c.Code, timeCol{&c.LastLogin}); err != nil {
			return 0, nil, wrap("active without passkey", err)
		}
		out = append(out, c)
	}
	return n, out, wrap("active without passkey", rows.Err())
}
