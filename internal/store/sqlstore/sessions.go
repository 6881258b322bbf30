package sqlstore

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

const sessionCols = `id_hash, customer_id, stage, method, passkey_id, authenticated_at, step_up_at,
	created_at, last_seen_at, expires_at, ip, user_agent, data`

// sessionDest lists where the columns of sessionCols go.
func sessionDest(v *store.Session) []any {
	return []any{&v.IDHash, &v.CustomerID, &v.Stage, &v.Method, idCol{&v.PasskeyID},
		timeCol{&v.AuthenticatedAt}, timeCol{&v.StepUpAt}, timeCol{&v.CreatedAt}, timeCol{&v.LastSeenAt},
		timeCol{&v.ExpiresAt}, &v.IP, &v.UserAgent, &v.Data}
}

func microSession(s *store.Session) {
	s.AuthenticatedAt, s.StepUpAt = store.Micro(s.AuthenticatedAt), store.Micro(s.StepUpAt)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = store.Micro(s.CreatedAt), store.Micro(s.LastSeenAt), store.Micro(s.ExpiresAt)
}

func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	microSession(s)
	_, err := db.exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.CustomerID, s.Stage, s.Method, nullID(s.PasskeyID), micros(s.AuthenticatedAt),
		micros(s.StepUpAt), micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt),
		s.IP, s.UserAgent, s.Data)
	return wrap("create session", err)
}

var sessionWithCustomerSQL = `SELECT ` + qualify("s", sessionCols) + `, ` + qualify("c", customerCols) + `
	FROM sessions s JOIN customers c ON c.id = s.customer_id WHERE s.id_hash = ?`

// SessionWithCustomer reads a session and its customer in one statement: it
// runs on every request of a logged-in browser.
func (db *DB) SessionWithCustomer(ctx context.Context, idHash []byte) (*store.Session, *store.Customer, error) {
	return readWithCustomer(ctx, db, "session with customer", sessionWithCustomerSQL, idHash, sessionDest)
}

func (db *DB) UpdateSession(ctx context.Context, s *store.Session) error {
	microSession(s)
	return wrap("update session", one(db.exec(ctx, `UPDATE sessions SET stage = ?, method = ?, passkey_id = ?,
		authenticated_at = ?, step_up_at = ?, last_seen_at = ?, expires_at = ?, ip = ?, user_agent = ?, data = ?
		WHERE id_hash = ?`,
		s.Stage, s.Method, nullID(s.PasskeyID), micros(s.AuthenticatedAt), micros(s.StepUpAt),
		micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent, s.Data, s.IDHash)))
}

func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	return wrap("delete session", one(db.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)))
}

func (db *DB) DeleteCustomerSessions(ctx context.Context, customerID int64) (int, error) {
	n, err := count(db.exec(ctx, `DELETE FROM sessions WHERE customer_id = ?`, customerID))
	return n, wrap("delete customer sessions", err)
}

func (db *DB) DeletePasskeySessions(ctx context.Context, customerID, passkeyID int64) (int, error) {
	n, err := count(db.exec(ctx, `DELETE FROM sessions WHERE customer_id = ? AND passkey_id = ?`, customerID, passkeyID))
	return n, wrap("delete passkey sessions", err)
}

func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return db.deleteChunked(ctx, "delete expired sessions",
		`DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= ? LIMIT %d)`, micros(now))
}
