package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// Procedures an operator carries out on a customer's account (O3). Each needs
// a reason, is written to the audit log as "operator:<name>" and mails the
// customer, all in one transaction. Changing the e-mail address or the second
// factor and lifting a freeze need a second operator (procedures_requests.go).

// maxReason bounds the reason of an operator action, in characters.
const maxReason = 500

// cleanReason trims and checks the reason every operator action needs.
func cleanReason(reason string) (string, error) {
	r := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(reason))
	r = strings.TrimSpace(r)
	if r == "" {
		return "", newErr(CodeReasonRequired, nil)
	}
	if utf8.RuneCountInString(r) > maxReason {
		return "", newErr(CodeInvalidRequest, fmt.Errorf("reason longer than %d characters", maxReason))
	}
	return r, nil
}

// customer loads the customer a procedure is about.
func (c *Console) customer(ctx context.Context, st store.Store, code string) (*store.Customer, error) {
	if !ValidCustomerCode(code) {
		return nil, newErr(CodeNotFound, fmt.Errorf("malformed customer code %q", truncate(code, 32)))
	}
	cu, err := st.CustomerByCode(ctx, code)
	if isNotFound(err) {
		return nil, newErr(CodeNotFound, fmt.Errorf("no customer %s", code))
	}
	return cu, err
}

// procedure runs fn for the customer with this code in one transaction, after
// checking the actor and the reason, and wakes the mail worker afterwards.
func (c *Console) procedure(ctx context.Context, a Actor, code, reason string, fn func(st store.Store, cu *store.Customer, reason string) error) error {
	if err := a.check(); err != nil {
		return err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	return c.s.inTx(ctx, func(st store.Store, mailed *bool) error {
		cu, err := c.customer(ctx, st, code)
		if err != nil {
			return err
		}
		*mailed = cu.Email != ""
		return fn(st, cu, reason)
	})
}

// opAudit writes an operator's audit entry about a customer.
func (c *Console) opAudit(ctx context.Context, st store.Store, a Actor, customerID int64, event, reason string, detail map[string]any) error {
	d := a.detail(detail)
	if reason != "" {
		d["reason"] = reason
	}
	return c.s.audit(ctx, st, a.Name(), customerID, event, a.Meta, d)
}

// tell mails the customer about an operator's change to their account.
func (c *Console) tell(ctx context.Context, st store.Store, cu *store.Customer, kind mail.Kind, d mail.Data) error {
	d.CustomerCode = cu.Code
	return c.s.notify(ctx, st, cu.Email, langOr(cu.Lang, "ja"), kind, d)
}

// Unlock lifts a lock after failed attempts (A4, O3).
func (c *Console) Unlock(ctx context.Context, a Actor, code, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		if cu.LockedAt.IsZero() {
			return newErr(CodeNotApplicable, errors.New("the account is not locked"))
		}
		if err := st.Unlock(ctx, cu.ID); err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "account.unlocked", reason, map[string]any{"failed_attempts": cu.FailedAttempts}); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorUnlocked, mail.Data{})
	})
}

// Freeze stops logins and trading at once (O3): the customer's sessions end.
// Lifting it needs identity re-verification and a second operator.
func (c *Console) Freeze(ctx context.Context, a Actor, code, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		if !cu.FrozenAt.IsZero() {
			return newErr(CodeNotApplicable, errors.New("the account is already frozen"))
		}
		if err := st.SetFrozen(ctx, cu.ID, c.s.now()); err != nil {
			return err
		}
		n, err := st.DeleteCustomerSessions(ctx, cu.ID)
		if err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "account.frozen", reason, map[string]any{"sessions_ended": n}); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorFrozen, mail.Data{})
	})
}

// revokedReason is the mail's explanation of a passkey an operator deleted.
func (c *Console) revokedReason(lang string) string {
	if lang == "en" {
		return "deleted by our call center at your request"
	}
	return c.s.cfg.Brand.CallCenter + "でのお手続きによる削除"
}

// RevokePasskey revokes one of the customer's passkeys, e.g. a lost device's
// (O3, K13: revoked by "operator:<name>", the record kept).
func (c *Console) RevokePasskey(ctx context.Context, a Actor, code string, passkeyID int64, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		p, err := st.PasskeyByID(ctx, passkeyID)
		if isNotFound(err) || (err == nil && (p.CustomerID != cu.ID || !p.RevokedAt.IsZero())) {
			return newErr(CodeNotFound, fmt.Errorf("passkey %d of customer %s", passkeyID, cu.Code))
		}
		if err != nil {
			return err
		}
		if err := st.RevokePasskey(ctx, p.ID, a.Name(), c.s.now()); err != nil {
			return err
		}
		// A lost device's sessions end with its passkey (K13).
		if _, err := st.DeletePasskeySessions(ctx, cu.ID, p.ID); err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "passkey.revoked", reason, map[string]any{"passkey_id": p.ID}); err != nil {
			return err
		}
		lang := langOr(cu.Lang, "ja")
		return c.tell(ctx, st, cu, mail.KindPasskeyDeleted, mail.Data{
			PasskeyName: p.Name, Authenticator: AuthenticatorName(p, lang), Reason: c.revokedReason(lang),
		})
	})
}

// RevokeAllPasskeys revokes every passkey still bound to the customer (lost
// phone with a synced account, suspected takeover) and ends their sessions.
func (c *Console) RevokeAllPasskeys(ctx context.Context, a Actor, code, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		ps, err := st.PasskeysByCustomer(ctx, cu.ID, false)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return newErr(CodeNotApplicable, errors.New("no passkey to revoke"))
		}
		ids := make([]int64, 0, len(ps))
		for _, p := range ps {
			if err := st.RevokePasskey(ctx, p.ID, a.Name(), c.s.now()); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		n, err := st.DeleteCustomerSessions(ctx, cu.ID)
		if err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "passkey.revoked_all", reason, map[string]any{"passkey_ids": ids, "sessions_ended": n}); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorPasskeysRevoked, mail.Data{})
	})
}

// LiftSuspension lets a passkey suspended as possibly cloned (K10) be used
// again, once the operator has checked with the customer.
func (c *Console) LiftSuspension(ctx context.Context, a Actor, code string, passkeyID int64, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		p, err := st.PasskeyByID(ctx, passkeyID)
		if isNotFound(err) || (err == nil && (p.CustomerID != cu.ID || !p.RevokedAt.IsZero())) {
			return newErr(CodeNotFound, fmt.Errorf("passkey %d of customer %s", passkeyID, cu.Code))
		}
		if err != nil {
			return err
		}
		if p.SuspendedAt.IsZero() {
			return newErr(CodeNotApplicable, errors.New("the passkey is not suspended"))
		}
		if err := st.UnsuspendPasskey(ctx, p.ID); err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "passkey.unsuspended", reason, map[string]any{"passkey_id": p.ID, "suspend_reason": p.SuspendReason}); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorPasskeyRestored, mail.Data{PasskeyName: p.Name})
	})
}

// SendSetupGuide mails the initial-setup steps again (A3) to the registered
// address; a customer without one hears them on the phone.
func (c *Console) SendSetupGuide(ctx context.Context, a Actor, code, reason string) error {
	return c.procedure(ctx, a, code, reason, func(st store.Store, cu *store.Customer, reason string) error {
		if cu.Email == "" {
			return newErr(CodeNotApplicable, errors.New("no registered e-mail address to send the guide to"))
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "setup_guide.sent", reason, nil); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorSetupGuide, mail.Data{})
	})
}

// lookupQuiet is how long one operator's repeated views of a customer's file
// count as one lookup in the trail.
const lookupQuiet = 30 * time.Minute

// Lookup records that an operator opened a customer's file (who looked at
// whose data is part of the trail; repeated views within lookupQuiet are
// recorded once) and returns the customer.
func (c *Console) Lookup(ctx context.Context, a Actor, code string) (*store.Customer, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	cu, err := c.customer(ctx, c.s.st, code)
	if err != nil {
		return nil, err
	}
	recent, err := c.s.st.AuditByCustomer(ctx, cu.ID, 50)
	if err != nil {
		return nil, err
	}
	for _, e := range recent {
		if e.Event == "operator.lookup" && e.Actor == a.Name() && c.s.now().Sub(e.At) < lookupQuiet {
			return cu, nil
		}
	}
	return cu, c.opAudit(ctx, c.s.st, a, cu.ID, "operator.lookup", "", nil)
}

// CustomerFile is everything the console shows about one customer.
type CustomerFile struct {
	Customer  *store.Customer
	Passkeys  []*store.Passkey         // revoked ones too, oldest first
	Logins    []*store.AuditEntry      // login.* events, newest first
	Trail     []*store.AuditEntry      // every event, newest first
	Inquiries []*store.Inquiry         // newest first
	Requests  []*store.ApprovalRequest // newest first
	// PendingEmail is the address an approved e-mail change waits to verify
	// ("" if none), until PendingEmailExpires.
	PendingEmail        string
	PendingEmailExpires time.Time
}

// File gathers a customer's file for the console.
func (c *Console) File(ctx context.Context, code string, trail int) (*CustomerFile, error) {
	cu, err := c.customer(ctx, c.s.st, code)
	if err != nil {
		return nil, err
	}
	st := c.s.st
	f := &CustomerFile{Customer: cu}
	if f.Passkeys, err = st.PasskeysByCustomer(ctx, cu.ID, true); err != nil {
		return nil, err
	}
	if f.Trail, err = st.AuditByCustomer(ctx, cu.ID, trail); err != nil {
		return nil, err
	}
	for _, e := range f.Trail {
		if strings.HasPrefix(e.Event, "login.") && len(f.Logins) < 20 {
			f.Logins = append(f.Logins, e)
		}
	}
	if f.Inquiries, err = st.InquiriesByCustomer(ctx, cu.ID, 50); err != nil {
		return nil, err
	}
	if f.Requests, err = st.ApprovalRequestsByCustomer(ctx, cu.ID, 50); err != nil {
		return nil, err
	}
	if ec, err := st.LatestEmailCode(ctx, cu.ID, store.CodeEmailChange); err == nil {
		if c.s.now().Before(ec.ExpiresAt) && ec.Attempts < c.s.cfg.EmailCodeAttempts {
			f.PendingEmail, f.PendingEmailExpires = ec.Email, ec.ExpiresAt
		}
	} else if !isNotFound(err) {
		return nil, err
	}
	return f, nil
}
