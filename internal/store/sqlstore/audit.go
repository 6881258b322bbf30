package sqlstore

import (
	"context"

	"github.com/kagi-auth/kagi/internal/store"
)

const auditCols = `seq, at, actor, customer_id, event, ip, user_agent, detail, prev_hash, hash`

func scanAudit(s scanner) (*store.AuditEntry, error) {
	var e store.AuditEntry
	err := s.Scan(&e.Seq, timeCol{&e.At}, &e.Actor, &e.CustomerID, &e.Event, &e.IP, &e.UserAgent,
		&e.Detail, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AppendAudit links e to the chain's tip in audit_head. The first statement
// advances the tip, so concurrent appenders (in any process, on either
// database) queue on that row and each sees the hash its predecessor wrote.
func (db *DB) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	var entry store.AuditEntry
	err := db.inTx(ctx, func(tx *DB) error {
		var (
			seq  int64
			prev []byte
		)
		if err := tx.writeRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).
			Scan(&seq, &prev); err != nil {
			return err
		}
		entry = *e
		entry.Seq, entry.At, entry.PrevHash = seq, store.Micro(e.At), prev
		// Hash the text as it will be stored.
		entry.Actor, entry.Event, entry.IP = cleanText(entry.Actor), cleanText(entry.Event), cleanText(entry.IP)
		entry.UserAgent, entry.Detail = cleanText(entry.UserAgent), cleanText(entry.Detail)
		if entry.Detail == "" {
			entry.Detail = "{}"
		}
		entry.Hash = store.AuditHash(prev, &entry)
		args := []any{entry.Seq, micros(entry.At), entry.Actor, entry.CustomerID, entry.Event, entry.IP, entry.UserAgent,
			entry.Detail, entry.PrevHash, entry.Hash}
		if db.dialect == postgresDialect {
			// One round trip less while the tip is locked: every appender of
			// every instance waits for this row until the transaction ends.
			_, err := tx.exec(ctx, `WITH entry AS (INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))
				UPDATE audit_head SET hash = ? WHERE id = 1`, append(args, entry.Hash)...)
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, entry.Hash)
		return err
	})
	if err != nil {
		return wrap("append audit", err)
	}
	*e = entry
	return nil
}

func (db *DB) AuditByCustomer(ctx context.Context, customerID int64, limit int) ([]*store.AuditEntry, error) {
	rows, err := db.readRows(ctx, `SELECT `+auditCols+` FROM audit_log WHERE customer_id = ?
		ORDER BY seq DESC LIMIT ?`, customerID, limitOrAll(limit))
	es, err := collect(rows, err, scanAudit)
	return es, wrap("audit by customer", err)
}

func (db *DB) AuditRange(ctx context.Context, afterSeq int64, limit int) ([]*store.AuditEntry, error) {
	rows, err := db.readRows(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq > ?
		ORDER BY seq LIMIT ?`, afterSeq, limitOrAll(limit))
	es, err := collect(rows, err, scanAudit)
	return es, wrap("audit range", err)
}
