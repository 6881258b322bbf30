package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// Operators of the call center, their passkeys and console sessions (issue 7).

const operatorCols = `id, name, role, user_handle, enroll_hash, enroll_expires_at, created_at, created_by, disabled_at`

func scanOperator(s scanner) (*store.Operator, error) {
	var o store.Operator
	err := s.Scan(&o.ID, &o.Name, &o.Role, &o.UserHandle, &o.EnrollHash, timeCol{&o.EnrollExpiresAt},
		timeCol{&o.CreatedAt}, &o.CreatedBy, timeCol{&o.DisabledAt})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (db *DB) CreateOperator(ctx context.Context, o *store.Operator) error {
	o.EnrollExpiresAt, o.CreatedAt, o.DisabledAt = store.Micro(o.EnrollExpiresAt), store.Micro(o.CreatedAt), store.Micro(o.DisabledAt)
	err := db.writeRow(ctx, `INSERT INTO operators (name, role, user_handle, enroll_hash, enroll_expires_at,
		created_at, created_by, disabled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		o.Name, o.Role, o.UserHandle, o.EnrollHash, micros(o.EnrollExpiresAt), micros(o.CreatedAt),
		o.CreatedBy, micros(o.DisabledAt)).Scan(&o.ID)
	return wrap("create operator", err)
}

func (db *DB) OperatorByID(ctx context.Context, id int64) (*store.Operator, error) {
	o, err := scanOperator(db.readRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE id = ?`, id))
	return o, wrap("operator by id", err)
}

func (db *DB) OperatorByName(ctx context.Context, name string) (*store.Operator, error) {
	o, err := scanOperator(db.readRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE name = ?`, name))
	return o, wrap("operator by name", err)
}

func (db *DB) OperatorByUserHandle(ctx context.Context, handle []byte) (*store.Operator, error) {
	o, err := scanOperator(db.readRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE user_handle = ?`, handle))
	return o, wrap("operator by user handle", err)
}

func (db *DB) Operators(ctx context.Context) ([]*store.Operator, error) {
	rows, err := db.readRows(ctx, `SELECT `+operatorCols+` FROM operators ORDER BY name`)
	ops, err := collect(rows, err, scanOperator)
	return ops, wrap("operators", err)
}

func (db *DB) SetOperatorEnrollment(ctx context.Context, id int64, hash []byte, expires time.Time) error {
	return wrap("set operator enrollment", one(db.exec(ctx,
		`UPDATE operators SET enroll_hash = ?, enroll_expires_at = ? WHERE id = ?`, hash, micros(expires), id)))
}

// ConsumeOperatorEnrollment compares and clears in one statement, so of two
// registrations racing with one code only one succeeds.
func (db *DB) ConsumeOperatorEnrollment(ctx context.Context, id int64, hash []byte) (bool, error) {
	if len(hash) == 0 {
		return false, nil
	}
	err := one(db.exec(ctx, `UPDATE operators SET enroll_hash = NULL, enroll_expires_at = NULL
		WHERE id = ? AND enroll_hash = ?`, id, hash))
	return db.applied(ctx, "consume operator enrollment", "operators", id, err)
}

func (db *DB) DisableOperator(ctx context.Context, id int64, now time.Time) error {
	return wrap("disable operator", one(db.exec(ctx,
		`UPDATE operators SET disabled_at = ?, enroll_hash = NULL, enroll_expires_at = NULL
		WHERE id = ? AND disabled_at IS NULL`, micros(now), id)))
}

const operatorPasskeyCols = `id, operator_id, credential_id, public_key, sign_count, aaguid, transports,
	backup_eligible, backup_state, attestation_format, created_at, created_ip, last_used_at, revoked_at`

func scanOperatorPasskey(s scanner) (*store.OperatorPasskey, error) {
	var p store.OperatorPasskey
	var signCount int64
	err := s.Scan(&p.ID, &p.OperatorID, &p.CredentialID, &p.PublicKey, &signCount, &p.AAGUID,
		listCol{&p.Transports}, &p.BackupEligible, &p.BackupState, &p.AttestationFormat,
		timeCol{&p.CreatedAt}, &p.CreatedIP, timeCol{&p.LastUsedAt}, timeCol{&p.RevokedAt})
	if err != nil {
		return nil, err
	}
	p.SignCount = uint32(signCount)
	return &p, nil
}

func (db *DB) AddOperatorPasskey(ctx context.Context, p *store.OperatorPasskey) error {
	p.CreatedAt, p.LastUsedAt, p.RevokedAt = store.Micro(p.CreatedAt), store.Micro(p.LastUsedAt), store.Micro(p.RevokedAt)
	err := db.writeRow(ctx, `INSERT INTO operator_passkeys (operator_id, credential_id, public_key, sign_count,
		aaguid, transports, backup_eligible, backup_state, attestation_format, created_at, created_ip,
		last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.OperatorID, p.CredentialID, p.PublicKey, int64(p.SignCount), p.AAGUID, strings.Join(p.Transports, ","),
		p.BackupEligible, p.BackupState, p.AttestationFormat, micros(p.CreatedAt), p.CreatedIP,
		micros(p.LastUsedAt), micros(p.RevokedAt)).Scan(&p.ID)
	return wrap("add operator passkey", err)
}

func (db *DB) OperatorPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*store.OperatorPasskey, error) {
	p, err := scanOperatorPasskey(db.readRow(ctx,
		`SELECT `+operatorPasskeyCols+` FROM operator_passkeys WHERE credential_id = ?`, credentialID))
	return p, wrap("operator passkey by credential id", err)
}

func (db *DB) OperatorPasskeys(ctx context.Context, operatorID int64) ([]*store.OperatorPasskey, error) {
	rows, err := db.readRows(ctx, `SELECT `+operatorPasskeyCols+` FROM operator_passkeys
		WHERE operator_id = ? ORDER BY id`, operatorID)
	ps, err := collect(rows, err, scanOperatorPasskey)
	return ps, wrap("operator passkeys", err)
}

func (db *DB) RecordOperatorPasskeyUse(ctx context.Context, id int64, oldCount, newCount uint32, backupState bool, now time.Time) (bool, error) {
	err := one(db.exec(ctx, `UPDATE operator_passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND sign_count = ?`, int64(newCount), backupState, micros(now), id, int64(oldCount)))
	return db.applied(ctx, "record operator passkey use", "operator_passkeys", id, err)
}

func (db *DB) RevokeOperatorPasskeys(ctx context.Context, operatorID int64, now time.Time) (int, error) {
	n, err := count(db.exec(ctx, `UPDATE operator_passkeys SET revoked_at = ?
		WHERE operator_id = ? AND revoked_at IS NULL`, micros(now), operatorID))
	return n, wrap("revoke operator passkeys", err)
}

const operatorSessionCols = `id_hash, operator_id, created_at, last_seen_at, expires_at, ip, user_agent`

func scanOperatorSession(s scanner) (*store.OperatorSession, error) {
	var v store.OperatorSession
	err := s.Scan(&v.IDHash, &v.OperatorID, timeCol{&v.CreatedAt}, timeCol{&v.LastSeenAt}, timeCol{&v.ExpiresAt},
		&v.IP, &v.UserAgent)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (db *DB) CreateOperatorSession(ctx context.Context, s *store.OperatorSession) error {
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = store.Micro(s.CreatedAt), store.Micro(s.LastSeenAt), store.Micro(s.ExpiresAt)
	_, err := db.exec(ctx, `INSERT INTO operator_sessions (`+operatorSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.OperatorID, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent)
	return wrap("create operator session", err)
}

func (db *DB) OperatorSessionByHash(ctx context.Context, idHash []byte) (*store.OperatorSession, error) {
	s, err := scanOperatorSession(db.readRow(ctx,
		`SELECT `+operatorSessionCols+` FROM operator_sessions WHERE id_hash = ?`, idHash))
	return s, wrap("operator session by hash", err)
}

func (db *DB) TouchOperatorSession(ctx context.Context, idHash []byte, now time.Time) error {
	return wrap("touch operator session", one(db.exec(ctx,
		`UPDATE operator_sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(now), idHash)))
}

func (db *DB) DeleteOperatorSession(ctx context.Context, idHash []byte) error {
	return wrap("delete operator session", one(db.exec(ctx, `DELETE FROM operator_sessions WHERE id_hash = ?`, idHash)))
}

func (db *DB) DeleteOperatorSessions(ctx context.Context, operatorID int64) (int, error) {
	n, err := count(db.exec(ctx, `DELETE FROM operator_sessions WHERE operator_id = ?`, operatorID))
	return n, wrap("delete operator sessions", err)
}

func (db *DB) DeleteExpiredOperatorSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := count(db.exec(ctx, `DELETE FROM operator_sessions WHERE expires_at <= ?`, micros(now)))
	return n, wrap("delete expired operator sessions", err)
}
