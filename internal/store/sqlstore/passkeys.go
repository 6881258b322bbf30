package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

const passkeyCols = `id, customer_id, credential_id, public_key, sign_count, aaguid, transports,
	backup_eligible, backup_state, attestation_format, name, shared, created_at, created_ip,
	created_user_agent, last_used_at, revoked_at, revoked_by, suspended_at, suspend_reason`

// activePasskey is the SQL of store.Passkey.Active.
const activePasskey = `revoked_at IS NULL AND suspended_at IS NULL`

// passkeyDest lists where the columns of passkeyCols go.
func passkeyDest(p *store.Passkey) []any {
	return []any{&p.ID, &p.CustomerID, &p.CredentialID, &p.PublicKey, counterCol{&p.SignCount}, &p.AAGUID,
		listCol{&p.Transports}, &p.BackupEligible, &p.BackupState, &p.AttestationFormat, &p.Name,
		&p.Shared, timeCol{&p.CreatedAt}, &p.CreatedIP, &p.CreatedUserAgent, timeCol{&p.LastUsedAt},
		timeCol{&p.RevokedAt}, &p.RevokedBy, timeCol{&p.SuspendedAt}, &p.SuspendReason}
}

func scanPasskey(s scanner) (*store.Passkey, error) {
	var p store.Passkey
	if err := s.Scan(passkeyDest(&p)...); err != nil {
		return nil, err
	}
	return &p, nil
}

// AddPasskey counts and inserts in one transaction. Its first statement bumps
// the customer's passkey_gen: on PostgreSQL that row lock makes concurrent
// registrations of one customer take turns (SQLite has one writer anyway), so
// the count cannot go stale before the insert. A limit <= 0 means no limit.
func (db *DB) AddPasskey(ctx context.Context, p *store.Passkey, limit int) error {
	p.CreatedAt, p.LastUsedAt = store.Micro(p.CreatedAt), store.Micro(p.LastUsedAt)
	p.RevokedAt, p.SuspendedAt = store.Micro(p.RevokedAt), store.Micro(p.SuspendedAt)
	var id int64
	err := db.inTx(ctx, func(tx *DB) error {
		if err := one(tx.exec(ctx, `UPDATE customers SET passkey_gen = passkey_gen + 1 WHERE id = ?`, p.CustomerID)); err != nil {
			return err
		}
		if limit > 0 {
			var n int
			if err := tx.readRow(ctx, `SELECT COUNT(*) FROM passkeys WHERE customer_id = ? AND `+activePasskey,
				p.CustomerID).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return store.ErrLimit
			}
		}
		return tx.writeRow(ctx, `INSERT INTO passkeys (customer_id, credential_id, public_key, sign_count,
			aaguid, transports, backup_eligible, backup_state, attestation_format, name, shared, created_at,
			created_ip, created_user_agent, last_used_at, revoked_at, revoked_by, suspended_at, suspend_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.CustomerID, p.CredentialID, p.PublicKey, int64(p.SignCount), p.AAGUID,
			strings.Join(p.Transports, ","), p.BackupEligible, p.BackupState, p.AttestationFormat, p.Name,
			p.Shared, micros(p.CreatedAt), p.CreatedIP, p.CreatedUserAgent, micros(p.LastUsedAt),
			micros(p.RevokedAt), p.RevokedBy, micros(p.SuspendedAt), p.SuspendReason).Scan(&id)
	})
	if err != nil {
		return wrap("add passkey", err)
	}
	p.ID = id
	return nil
}

func (db *DB) PasskeyByID(ctx context.Context, id int64) (*store.Passkey, error) {
	p, err := scanPasskey(db.readRow(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE id = ?`, id))
	return p, wrap("passkey by id", err)
}

func (db *DB) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*store.Passkey, error) {
	p, err := scanPasskey(db.readRow(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE credential_id = ?`, credentialID))
	return p, wrap("passkey by credential id", err)
}

var passkeyWithCustomerSQL = `SELECT ` + qualify("p", passkeyCols) + `, ` + qualify("c", customerCols) + `
	FROM passkeys p JOIN customers c ON c.id = p.customer_id WHERE p.credential_id = ?`

// PasskeyWithCustomer reads a passkey by credential ID and its customer in
// one statement, as every passkey login does.
func (db *DB) PasskeyWithCustomer(ctx context.Context, credentialID []byte) (*store.Passkey, *store.Customer, error) {
	return readWithCustomer(ctx, db, "passkey with customer", passkeyWithCustomerSQL, credentialID, passkeyDest)
}

func (db *DB) PasskeysByCustomer(ctx context.Context, customerID int64, includeRevoked bool) ([]*store.Passkey, error) {
	q := `SELECT ` + passkeyCols + ` FROM passkeys WHERE customer_id = ?`
	if !includeRevoked {
		q += ` AND revoked_at IS NULL`
	}
	rows, err := db.readRows(ctx, q+` ORDER BY id`, customerID)
	ps, err := collect(rows, err, scanPasskey)
	return ps, wrap("passkeys by customer", err)
}

func (db *DB) CountActivePasskeys(ctx context.Context, customerID int64) (int, error) {
	var n int
	err := db.readRow(ctx, `SELECT COUNT(*) FROM passkeys WHERE customer_id = ? AND `+activePasskey, customerID).Scan(&n)
	return n, wrap("count active passkeys", err)
}

func (db *DB) RecordPasskeyUse(ctx context.Context, id int64, oldCount, newCount uint32, backupState bool, now time.Time) (bool, error) {
	err := one(db.exec(ctx, `UPDATE passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND sign_count = ?`, int64(newCount), backupState, micros(now), id, int64(oldCount)))
	return db.applied(ctx, "record passkey use", "passkeys", id, err)
}

func (db *DB) RenamePasskey(ctx context.Context, id int64, name string) error {
	return wrap("rename passkey", one(db.exec(ctx, `UPDATE passkeys SET name = ? WHERE id = ?`, name, id)))
}

// RevokePasskey keeps the row (SPEC K13): revocation is a mark, not a deletion.
func (db *DB) RevokePasskey(ctx context.Context, id int64, by string, now time.Time) error {
	return wrap("revoke passkey", one(db.exec(ctx,
		`UPDATE passkeys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`, micros(now), by, id)))
}

func (db *DB) SuspendPasskey(ctx context.Context, id int64, reason string, now time.Time) error {
	return wrap("suspend passkey", one(db.exec(ctx,
		`UPDATE passkeys SET suspended_at = ?, suspend_reason = ? WHERE id = ?`, micros(now), reason, id)))
}
