package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

const customerCols = `id, customer_code, password_hash, email, email_verified_at, second_factor,
	totp_secret, totp_last_step, webauthn_user_handle, lang, failed_attempts, locked_at, frozen_at, created_at,
	sensitive_changed_at, phase_notice_at`

// customerDest lists where the columns of customerCols go.
func customerDest(c *store.Customer) []any {
	return []any{&c.ID, &c.Code, &c.PasswordHash, &c.Email, timeCol{&c.EmailVerifiedAt}, &c.SecondFactor,
		&c.TOTPSecret, &c.TOTPLastStep, &c.UserHandle, &c.Lang, &c.FailedAttempts,
		timeCol{&c.LockedAt}, timeCol{&c.FrozenAt}, timeCol{&c.CreatedAt},
		timeCol{&c.SensitiveChangedAt}, timeCol{&c.PhaseNoticeAt}}
}

// readWithCustomer reads one row of query: the columns dest lists, then
// customerCols (a row joined with its customer).
func readWithCustomer[T any](ctx context.Context, db *DB, what, query string, key []byte, dest func(*T) []any) (*T, *store.Customer, error) {
	var v T
	var c store.Customer
	if err := db.readRow(ctx, query, key).Scan(append(dest(&v), customerDest(&c)...)...); err != nil {
		return nil, nil, wrap(what, err)
	}
	return &v, &c, nil
}

func scanCustomer(s scanner) (*store.Customer, error) {
	var c store.Customer
	if err := s.Scan(customerDest(&c)...); err != nil {
		return nil, err
	}
	return &c, nil
}

func (db *DB) CreateCustomer(ctx context.Context, c *store.Customer) error {
	c.EmailVerifiedAt, c.LockedAt = store.Micro(c.EmailVerifiedAt), store.Micro(c.LockedAt)
	c.FrozenAt, c.CreatedAt = store.Micro(c.FrozenAt), store.Micro(c.CreatedAt)
	err := db.writeRow(ctx, `INSERT INTO customers (customer_code, password_hash, email, email_verified_at,
		second_factor, totp_secret, totp_last_step, webauthn_user_handle, lang, failed_attempts,
		locked_at, frozen_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Code, c.PasswordHash, c.Email, micros(c.EmailVerifiedAt), c.SecondFactor, c.TOTPSecret,
		c.TOTPLastStep, c.UserHandle, c.Lang, c.FailedAttempts, micros(c.LockedAt), micros(c.FrozenAt),
		micros(c.CreatedAt)).Scan(&c.ID)
	return wrap("create customer", err)
}

func (db *DB) CustomerByID(ctx context.Context, id int64) (*store.Customer, error) {
	c, err := scanCustomer(db.readRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id))
	return c, wrap("customer by id", err)
}

func (db *DB) CustomerByCode(ctx context.Context, code string) (*store.Customer, error) {
	c, err := scanCustomer(db.readRow(ctx, `SELECT `+customerCols+` FROM customers WHERE customer_code = ?`, code))
	return c, wrap("customer by code", err)
}

func (db *DB) CustomerByUserHandle(ctx context.Context, handle []byte) (*store.Customer, error) {
	c, err := scanCustomer(db.readRow(ctx, `SELECT `+customerCols+` FROM customers WHERE webauthn_user_handle = ?`, handle))
	return c, wrap("customer by user handle", err)
}

// RecordFailure is one UPDATE, so concurrent failures all count. The CASE sees
// the row as it was: locked_at is set only while it is NULL, so LockedAt stays
// the time of the first failure that reached the threshold.
func (db *DB) RecordFailure(ctx context.Context, customerID int64, threshold int, now time.Time) (int, bool, error) {
	var (
		failed   int
		lockedAt time.Time
	)
	err := db.writeRow(ctx, `UPDATE customers SET failed_attempts = failed_attempts + 1,
		locked_at = CASE WHEN locked_at IS NULL AND ? > 0 AND failed_attempts + 1 >= ? THEN ? ELSE locked_at END
		WHERE id = ? RETURNING failed_attempts, locked_at`,
		threshold, threshold, micros(now), customerID).Scan(&failed, timeCol{&lockedAt})
	if err != nil {
		return 0, false, wrap("record failure", err)
	}
	return failed, !lockedAt.IsZero(), nil
}

func (db *DB) ReserveAttempt(ctx context.Context, customerID int64, threshold int) (int, bool, error) {
	var failed int
	err := db.writeRow(ctx, `UPDATE customers SET failed_attempts = failed_attempts + 1
		WHERE id = ? AND locked_at IS NULL AND failed_attempts < ? RETURNING failed_attempts`,
		customerID, threshold).Scan(&failed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("reserve attempt", err)
	}
	return failed, true, nil
}

func (db *DB) ReleaseAttempt(ctx context.Context, customerID int64) error {
	_, err := db.exec(ctx, `UPDATE customers SET failed_attempts = failed_attempts - 1 WHERE id = ? AND failed_attempts > 0`, customerID)
	return wrap("release attempt", err)
}

func (db *DB) Lock(ctx context.Context, customerID int64, now time.Time) (bool, error) {
	n, err := count(db.exec(ctx, `UPDATE customers SET locked_at = ? WHERE id = ? AND locked_at IS NULL`, micros(store.Micro(now)), customerID))
	return n == 1, wrap("lock", err)
}

func (db *DB) ResetFailures(ctx context.Context, customerID int64) error {
	return wrap("reset failures", one(db.exec(ctx, `UPDATE customers SET failed_attempts = 0 WHERE id = ?`, customerID)))
}

func (db *DB) Unlock(ctx context.Context, customerID int64) error {
	return wrap("unlock", one(db.exec(ctx,
		`UPDATE customers SET failed_attempts = 0, locked_at = NULL WHERE id = ?`, customerID)))
}

func (db *DB) UseTOTPStep(ctx context.Context, customerID int64, step int64) (bool, error) {
	err := one(db.exec(ctx, `UPDATE customers SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`,
		step, customerID, step))
	return db.applied(ctx, "use totp step", "customers", customerID, err)
}

// applied interprets a conditional UPDATE of row id: true if it changed the
// row, false if the row exists but the condition did not hold, ErrNotFound if
// there is no such row. (These tables never lose rows, so the check can't race.)
func (db *DB) applied(ctx context.Context, op, table string, id int64, err error) (bool, error) {
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, wrap(op, err)
	}
	found, err := db.exists(ctx, table, id)
	if err == nil && !found {
		err = store.ErrNotFound
	}
	return false, wrap(op, err)
}

func (db *DB) SetEmail(ctx context.Context, customerID int64, email string, verifiedAt time.Time) error {
	return wrap("set email", one(db.exec(ctx, `UPDATE customers SET email = ?, email_verified_at = ? WHERE id = ?`,
		email, micros(verifiedAt), customerID)))
}

func (db *DB) SetSecondFactor(ctx context.Context, customerID int64, factor string, totpSecret []byte) error {
	return wrap("set second factor", one(db.exec(ctx,
		`UPDATE customers SET second_factor = ?, totp_secret = ?, totp_last_step = 0 WHERE id = ?`,
		factor, totpSecret, customerID)))
}

func (db *DB) SetLang(ctx context.Context, customerID int64, lang string) error {
	return wrap("set lang", one(db.exec(ctx, `UPDATE customers SET lang = ? WHERE id = ?`, lang, customerID)))
}

func (db *DB) SetPasswordHash(ctx context.Context, customerID int64, hash string) error {
	return wrap("set password hash", one(db.exec(ctx, `UPDATE customers SET password_hash = ? WHERE id = ?`, hash, customerID)))
}
