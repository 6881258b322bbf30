package sqlstore

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// The inquiry form, four-eyes requests and the operators' procedures on
// customers (issue 7).

func (db *DB) SetFrozen(ctx context.Context, customerID int64, frozenAt time.Time) error {
	return wrap("set frozen", one(db.exec(ctx, `UPDATE customers SET frozen_at = ? WHERE id = ?`,
		micros(store.Micro(frozenAt)), customerID)))
}

func (db *DB) UnsuspendPasskey(ctx context.Context, id int64) error {
	return wrap("unsuspend passkey", one(db.exec(ctx, `UPDATE passkeys SET suspended_at = NULL, suspend_reason = ''
		WHERE id = ? AND suspended_at IS NOT NULL AND revoked_at IS NULL`, id)))
}

const inquiryCols = `id, customer_code, customer_id, name, email, topic, message, ip, user_agent, created_at,
	closed_at, closed_by, close_note`

func scanInquiry(s scanner) (*store.Inquiry, error) {
	var q store.Inquiry
	err := s.Scan(&q.ID, &q.CustomerCode, idCol{&q.CustomerID}, &q.Name, &q.Email, &q.Topic, &q.Message,
		&q.IP, &q.UserAgent, timeCol{&q.CreatedAt}, timeCol{&q.ClosedAt}, &q.ClosedBy, &q.CloseNote)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

func (db *DB) CreateInquiry(ctx context.Context, q *store.Inquiry) error {
	q.CreatedAt, q.ClosedAt = store.Micro(q.CreatedAt), store.Micro(q.ClosedAt)
	err := db.writeRow(ctx, `INSERT INTO inquiries (customer_code, customer_id, name, email, topic, message,
		ip, user_agent, created_at, closed_at, closed_by, close_note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		q.CustomerCode, nullID(q.CustomerID), q.Name, q.Email, q.Topic, q.Message, q.IP, q.UserAgent,
		micros(q.CreatedAt), micros(q.ClosedAt), q.ClosedBy, q.CloseNote).Scan(&q.ID)
	return wrap("create inquiry", err)
}

func (db *DB) InquiryByID(ctx context.Context, id int64) (*store.Inquiry, error) {
	q, err := scanInquiry(db.readRow(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE id = ?`, id))
	return q, wrap("inquiry by id", err)
}

func (db *DB) OpenInquiries(ctx context.Context, limit int) ([]*store.Inquiry, error) {
	rows, err := db.readRows(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE closed_at IS NULL
		ORDER BY id LIMIT ?`, limitOrAll(limit))
	qs, err := collect(rows, err, scanInquiry)
	return qs, wrap("open inquiries", err)
}

func (db *DB) InquiriesByCustomer(ctx context.Context, customerID int64, limit int) ([]*store.Inquiry, error) {
	rows, err := db.readRows(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE customer_id = ?
		ORDER BY id DESC LIMIT ?`, customerID, limitOrAll(limit))
	qs, err := collect(rows, err, scanInquiry)
	return qs, wrap("inquiries by customer", err)
}

func (db *DB) CloseInquiry(ctx context.Context, id int64, by, note string, now time.Time) error {
	return wrap("close inquiry", one(db.exec(ctx, `UPDATE inquiries SET closed_at = ?, closed_by = ?, close_note = ?
		WHERE id = ? AND closed_at IS NULL`, micros(now), by, note, id)))
}

const approvalCols = `id, kind, customer_id, inquiry_id, payload, reason, requested_by, requested_at, status,
	decided_by, decided_at, decision_note`

func scanApproval(s scanner) (*store.ApprovalRequest, error) {
	var a store.ApprovalRequest
	err := s.Scan(&a.ID, &a.Kind, &a.CustomerID, idCol{&a.InquiryID}, &a.Payload, &a.Reason, &a.RequestedBy,
		timeCol{&a.RequestedAt}, &a.Status, &a.DecidedBy, timeCol{&a.DecidedAt}, &a.DecisionNote)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (db *DB) CreateApprovalRequest(ctx context.Context, a *store.ApprovalRequest) error {
	a.RequestedAt, a.DecidedAt = store.Micro(a.RequestedAt), store.Micro(a.DecidedAt)
	if a.Status == "" {
		a.Status = store.RequestPending
	}
	if a.Payload == "" {
		a.Payload = "{}"
	}
	err := db.writeRow(ctx, `INSERT INTO approval_requests (kind, customer_id, inquiry_id, payload, reason,
		requested_by, requested_at, status, decided_by, decided_at, decision_note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Kind, a.CustomerID, nullID(a.InquiryID), a.Payload, a.Reason, a.RequestedBy, micros(a.RequestedAt),
		a.Status, a.DecidedBy, micros(a.DecidedAt), a.DecisionNote).Scan(&a.ID)
	return wrap("create approval request", err)
}

func (db *DB) ApprovalRequestByID(ctx context.Context, id int64) (*store.ApprovalRequest, error) {
	a, err := scanApproval(db.readRow(ctx, `SELECT `+approvalCols+` FROM approval_requests WHERE id = ?`, id))
	return a, wrap("approval request by id", err)
}

func (db *DB) ApprovalRequests(ctx context.Context, status string, limit int) ([]*store.ApprovalRequest, error) {
	q := `SELECT ` + approvalCols + ` FROM approval_requests`
	args := []any{}
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, status)
	}
	rows, err := db.readRows(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limitOrAll(limit))...)
	as, err := collect(rows, err, scanApproval)
	return as, wrap("approval requests", err)
}

func (db *DB) ApprovalRequestsByCustomer(ctx context.Context, customerID int64, limit int) ([]*store.ApprovalRequest, error) {
	rows, err := db.readRows(ctx, `SELECT `+approvalCols+` FROM approval_requests WHERE customer_id = ?
		ORDER BY id DESC LIMIT ?`, customerID, limitOrAll(limit))
	as, err := collect(rows, err, scanApproval)
	return as, wrap("approval requests by customer", err)
}

// DecideApprovalRequest is one conditional UPDATE: of two operators deciding
// at once, exactly one moves the request out of pending.
func (db *DB) DecideApprovalRequest(ctx context.Context, id int64, status, by, note string, now time.Time) (bool, error) {
	err := one(db.exec(ctx, `UPDATE approval_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?
		WHERE id = ? AND status = ?`, status, by, micros(now), note, id, store.RequestPending))
	return db.applied(ctx, "decide approval request", "approval_requests", id, err)
}
