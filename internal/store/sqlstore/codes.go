package sqlstore

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// E-mail one-time codes.

const emailCodeCols = `id, customer_id, purpose, email, code_hash, attempts, created_at, expires_at, used_at`

func scanEmailCode(s scanner) (*store.EmailCode, error) {
	var c store.EmailCode
	err := s.Scan(&c.ID, &c.CustomerID, &c.Purpose, &c.Email, &c.CodeHash, &c.Attempts,
		timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, timeCol{&c.UsedAt})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (db *DB) CreateEmailCode(ctx context.Context, c *store.EmailCode) error {
	c.CreatedAt, c.ExpiresAt, c.UsedAt = store.Micro(c.CreatedAt), store.Micro(c.ExpiresAt), store.Micro(c.UsedAt)
	err := db.writeRow(ctx, `INSERT INTO email_codes (customer_id, purpose, email, code_hash, attempts,
		created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.CustomerID, c.Purpose, c.Email, c.CodeHash, c.Attempts,
		micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt)).Scan(&c.ID)
	return wrap("create email code", err)
}

// LatestEmailCode orders by id, the order of creation, rather than created_at,
// which callers set and may tie.
func (db *DB) LatestEmailCode(ctx context.Context, customerID int64, purpose string) (*store.EmailCode, error) {
	c, err := scanEmailCode(db.readRow(ctx, `SELECT `+emailCodeCols+` FROM email_codes
		WHERE customer_id = ? AND purpose = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1`, customerID, purpose))
	return c, wrap("latest email code", err)
}

func (db *DB) AddEmailCodeAttempt(ctx context.Context, id int64) (int, error) {
	var n int
	err := db.writeRow(ctx, `UPDATE email_codes SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n)
	return n, wrap("add email code attempt", err)
}

func (db *DB) UseEmailCode(ctx context.Context, id int64, now time.Time) (bool, error) {
	err := one(db.exec(ctx, `UPDATE email_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`,
		micros(now), id))
	return db.applied(ctx, "use email code", "email_codes", id, err)
}

// WebAuthn ceremonies.

const ceremonyCols = `id, kind, customer_id, data, created_at, expires_at`

func scanCeremony(s scanner) (*store.Ceremony, error) {
	var c store.Ceremony
	err := s.Scan(&c.ID, &c.Kind, idCol{&c.CustomerID}, &c.Data, timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (db *DB) CreateCeremony(ctx context.Context, c *store.Ceremony) error {
	c.CreatedAt, c.ExpiresAt = store.Micro(c.CreatedAt), store.Micro(c.ExpiresAt)
	_, err := db.exec(ctx, `INSERT INTO ceremonies (`+ceremonyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, nullID(c.CustomerID), c.Data, micros(c.CreatedAt), micros(c.ExpiresAt))
	return wrap("create ceremony", err)
}

// ConsumeCeremony deletes before it checks expiry: whoever deletes the row is
// the only one who ever sees it, and an expired one is gone either way.
func (db *DB) ConsumeCeremony(ctx context.Context, id []byte, kind string, now time.Time) (*store.Ceremony, error) {
	c, err := scanCeremony(db.writeRow(ctx,
		`DELETE FROM ceremonies WHERE id = ? AND kind = ? RETURNING `+ceremonyCols, id, kind))
	if err != nil {
		return nil, wrap("consume ceremony", err)
	}
	if !c.ExpiresAt.After(now) {
		return nil, wrap("consume ceremony", store.ErrNotFound)
	}
	return c, nil
}

func (db *DB) DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int, error) {
	return db.deleteChunked(ctx, "delete expired ceremonies",
		`DELETE FROM ceremonies WHERE id IN (SELECT id FROM ceremonies WHERE expires_at <= ? LIMIT %d)`, micros(now))
}
