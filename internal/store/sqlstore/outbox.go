package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

const mailCols = `id, to_addr, subject, body, created_at, sent_at, attempts, next_try_at, last_error`

func scanMail(s scanner) (*store.Mail, error) {
	var m store.Mail
	err := s.Scan(&m.ID, &m.To, &m.Subject, &m.Body, timeCol{&m.CreatedAt}, timeCol{&m.SentAt},
		&m.Attempts, timeCol{&m.NextTryAt}, &m.LastError)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// EnqueueMail stores m; a zero NextTryAt means due at once.
func (db *DB) EnqueueMail(ctx context.Context, m *store.Mail) error {
	m.CreatedAt, m.SentAt, m.NextTryAt = store.Micro(m.CreatedAt), store.Micro(m.SentAt), store.Micro(m.NextTryAt)
	err := db.writeRow(ctx, `INSERT INTO outbox (to_addr, subject, body, created_at, sent_at, attempts,
		next_try_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.To, m.Subject, m.Body, micros(m.CreatedAt), micros(m.SentAt), m.Attempts, micros(m.NextTryAt),
		m.LastError).Scan(&m.ID)
	return wrap("enqueue mail", err)
}

// due is an unsent mail whose time has come.
const due = `sent_at IS NULL AND (next_try_at IS NULL OR next_try_at <= ?)`

// ClaimMail leases due mails with one UPDATE, counting the attempt. The outer
// WHERE repeats the due test: on PostgreSQL a claimer that waited for another's
// row lock re-checks it against the row as the other left it (leased, so not due)
// instead of trusting the subquery's older snapshot. The oldest due mails are
// chosen in a materialized CTE, evaluated once: as a plain IN (subquery) the
// planner may run a LIMIT ... FOR UPDATE SKIP LOCKED subquery again for every
// row it updates, each run skipping the rows just updated and so claiming more
// than limit mails.
func (db *DB) ClaimMail(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]*store.Mail, error) {
	at := micros(now)
	var ms []*store.Mail
	err := db.inTx(ctx, func(tx *DB) error {
		rows, err := tx.writeRows(ctx, claimMailSQL(db.dialect), at, limitOrAll(limit), micros(now.Add(lease)), at)
		ms, err = collect(rows, err, scanMail)
		return err
	})
	if err != nil {
		return nil, wrap("claim mail", err)
	}
	// RETURNING has no ORDER BY: oldest first, as selected.
	slices.SortFunc(ms, func(a, b *store.Mail) int { return cmp.Compare(a.ID, b.ID) })
	return ms, nil
}

// claimMailSQL takes: now, limit, lease end, now.
func claimMailSQL(d *dialect) string {
	return fmt.Sprintf(`WITH claim AS MATERIALIZED (SELECT id FROM outbox WHERE %s ORDER BY id LIMIT ?%s)
		UPDATE outbox SET next_try_at = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM claim) AND %s
		RETURNING %s`, due, d.claimLock, due, mailCols)
}

func (db *DB) MarkMailSent(ctx context.Context, id int64, now time.Time) error {
	return wrap("mark mail sent", one(db.exec(ctx, `UPDATE outbox SET sent_at = ? WHERE id = ?`, micros(now), id)))
}

func (db *DB) MarkMailFailed(ctx context.Context, id int64, errText string, next time.Time) error {
	return wrap("mark mail failed", one(db.exec(ctx,
		`UPDATE outbox SET last_error = ?, next_try_at = ? WHERE id = ?`, errText, micros(next), id)))
}

func (db *DB) DeleteSentMail(ctx context.Context, before time.Time) (int, error) {
	return db.deleteChunked(ctx, "delete sent mail", `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
		WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY sent_at LIMIT %d)`, micros(before))
}

func (db *DB) SentMail(ctx context.Context, to string, limit int) ([]*store.Mail, error) {
	q, args := `SELECT `+mailCols+` FROM outbox WHERE sent_at IS NOT NULL`, []any{}
	if to != "" {
		q, args = q+` AND to_addr = ?`, append(args, to)
	}
	rows, err := db.readRows(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limitOrAll(limit))...)
	ms, err := collect(rows, err, scanMail)
	return ms, wrap("sent mail", err)
}
