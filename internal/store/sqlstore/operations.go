package sqlstore

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

func (db *DB) SetSensitiveChange(ctx context.Context, customerID int64, at time.Time) error {
	return wrap("set sensitive change", one(db.exec(ctx,
		`UPDATE customers SET sensitive_changed_at = ? WHERE id = ?`, micros(store.Micro(at)), customerID)))
}

func (db *DB) MarkPhaseNotice(ctx context.Context, customerID int64, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE customers SET phase_notice_at = ? WHERE id = ? AND phase_notice_at IS NULL`,
		micros(store.Micro(at)), customerID)
	if err != nil {
		return false, wrap("mark phase notice", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("mark phase notice", err)
}

func (db *DB) CustomersWithoutPasskey(ctx context.Context, afterID int64, limit int) ([]*store.Customer, error) {
	rows, err := db.readRows(ctx, `SELECT `+customerCols+` FROM customers c
		WHERE c.id > ? AND c.email <> '' AND c.email_verified_at IS NOT NULL AND c.phase_notice_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.customer_id = c.id AND p.revoked_at IS NULL AND p.suspended_at IS NULL)
		ORDER BY c.id LIMIT ?`, afterID, limitOrAll(limit))
	return collect(rows, err, scanCustomer)
}

const operationCols = `id, customer_id, kind, detail, method, created_at, ip`

func scanOperation(s scanner) (*store.Operation, error) {
	var o store.Operation
	if err := s.Scan(&o.ID, &o.CustomerID, &o.Kind, &o.Detail, &o.Method, timeCol{&o.CreatedAt}, &o.IP); err != nil {
		return nil, err
	}
	return &o, nil
}

func (db *DB) RecordOperation(ctx context.Context, o *store.Operation) error {
	o.CreatedAt = store.Micro(o.CreatedAt)
	if o.Detail == "" {
		o.Detail = "{}"
	}
	err := db.writeRow(ctx, `INSERT INTO operations (customer_id, kind, detail, method, created_at, ip)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		o.CustomerID, o.Kind, cleanText(o.Detail), o.Method, micros(o.CreatedAt), cleanText(o.IP)).Scan(&o.ID)
	return wrap("record operation", err)
}

func (db *DB) OperationsByCustomer(ctx context.Context, customerID int64, kind string, limit int) ([]*store.Operation, error) {
	q, args := `SELECT `+operationCols+` FROM operations WHERE customer_id = ?`, []any{customerID}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	rows, err := db.readRows(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limitOrAll(limit))...)
	return collect(rows, err, scanOperation)
}
