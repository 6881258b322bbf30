package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kagi-auth/kagi/internal/store"
)

// bulkRows is how many rows one multi-row INSERT of BulkCreateCustomers
// carries: 500 passkeys are 7,000 parameters, within SQLite's 32,766 and
// PostgreSQL's 65,535.
const bulkRows = 500

const bulkCustomerCols = `customer_code, password_hash, email, email_verified_at, second_factor,
	totp_secret, totp_last_step, webauthn_user_handle, lang, failed_attempts, created_at`

const bulkPasskeyCols = `customer_id, credential_id, public_key, sign_count, aaguid, transports,
	backup_eligible, backup_state, attestation_format, name, shared, created_at, created_ip,
	created_user_agent`

// BulkCreateCustomers inserts the customers and, where ps[i] is not nil, the
// one passkey of cs[i], in a single transaction of multi-row INSERTs, and sets
// their IDs. It exists for load-test fixtures (kagi loadtest --seed creates a
// million customers in minutes): it writes no audit entries, checks no
// passkey limit and is not part of store.Store. A taken customer code, user
// handle or credential ID fails the whole call with store.ErrConflict.
func (db *DB) BulkCreateCustomers(ctx context.Context, cs []*store.Customer, ps []*store.Passkey) error {
	if len(ps) != len(cs) {
		return errors.New("sqlstore: bulk create: one passkey slot per customer")
	}
	err := db.inTx(ctx, func(tx *DB) error {
		for lo := 0; lo < len(cs); lo += bulkRows {
			hi := min(lo+bulkRows, len(cs))
			if err := tx.bulkCustomers(ctx, cs[lo:hi]); err != nil {
				return err
			}
		}
		var withKey []*store.Passkey
		for i, p := range ps {
			if p != nil {
				p.CustomerID = cs[i].ID
				withKey = append(withKey, p)
			}
		}
		for lo := 0; lo < len(withKey); lo += bulkRows {
			hi := min(lo+bulkRows, len(withKey))
			if err := tx.bulkPasskeys(ctx, withKey[lo:hi]); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("bulk create customers", err)
}

// values returns "(?, ?, ...), (?, ...)" for rows rows of cols columns.
func values(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(one+", ", rows-1) + one
}

func (db *DB) bulkCustomers(ctx context.Context, cs []*store.Customer) error {
	args := make([]any, 0, len(cs)*11)
	byCode := make(map[string]*store.Customer, len(cs))
	for _, c := range cs {
		c.EmailVerifiedAt, c.CreatedAt = store.Micro(c.EmailVerifiedAt), store.Micro(c.CreatedAt)
		args = append(args, c.Code, c.PasswordHash, c.Email, micros(c.EmailVerifiedAt), c.SecondFactor,
			c.TOTPSecret, c.TOTPLastStep, c.UserHandle, c.Lang, c.FailedAttempts, micros(c.CreatedAt))
		byCode[c.Code] = c
	}
	// RETURNING gives no order guarantee: match the ids by code.
	rows, err := db.writeRows(ctx, `INSERT INTO customers (`+bulkCustomerCols+`) VALUES `+
		values(len(cs), 11)+` RETURNING id, customer_code`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return err
		}
		if c := byCode[code]; c != nil {
			c.ID = id
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(cs) {
		return fmt.Errorf("inserted %d customers of %d", n, len(cs))
	}
	return nil
}

func (db *DB) bulkPasskeys(ctx context.Context, ps []*store.Passkey) error {
	args := make([]any, 0, len(ps)*14)
	for _, p := range ps {
		p.CreatedAt = store.Micro(p.CreatedAt)
		args = append(args, p.CustomerID, p.CredentialID, p.PublicKey, int64(p.SignCount), p.AAGUID,
			strings.Join(p.Transports, ","), p.BackupEligible, p.BackupState, p.AttestationFormat, p.Name,
			p.Shared, micros(p.CreatedAt), p.CreatedIP, p.CreatedUserAgent)
	}
	rows, err := db.writeRows(ctx, `INSERT INTO passkeys (`+bulkPasskeyCols+`) VALUES `+
		values(len(ps), 14)+` RETURNING id, customer_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	byCustomer := make(map[int64]*store.Passkey, len(ps))
	for _, p := range ps {
		byCustomer[p.CustomerID] = p
	}
	n := 0
	for rows.Next() {
		var id, customerID int64
		if err := rows.Scan(&id, &customerID); err != nil {
			return err
		}
		if p := byCustomer[customerID]; p != nil {
			p.ID = id
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(ps) {
		return fmt.Errorf("inserted %d passkeys of %d", n, len(ps))
	}
	return nil
}
