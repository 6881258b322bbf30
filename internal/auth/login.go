package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/store"
)

// Next steps a password login leads to.
const (
	NextSecondFactor = "second_factor"
	NextSetup        = "setup"
	NextDone         = "done"
)

// LoginResult is the outcome of a successful step: a new session token
// (the caller replaces the cookie with it) and what comes next.
type LoginResult struct {
	Token   string
	Session *store.Session
	Next    string
	Method  string // second-factor method when Next is NextSecondFactor
}

// unknownKey counts failures for customer codes that do not exist, so that an
// unknown code "locks" exactly like a real one and lockout reveals nothing (A5).
func unknownKey(code string) string { return "unknown-fail:" + code }

// ValidCustomerCode reports whether code has the shape of a customer code.
func ValidCustomerCode(code string) bool {
	if len(code) < 4 || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// PasswordLogin checks the customer code and password (A2). Every failure of a
// code that exists or not, and of a locked account, takes one argon2id hash.
func (s *Service) PasswordLogin(ctx context.Context, code, password string, m Meta) (*LoginResult, error) {
	now := s.now()
	var c *store.Customer
	if ValidCustomerCode(code) {
		var err error
		c, err = s.st.CustomerByCode(ctx, code)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
	}
	if c == nil {
		return nil, s.failUnknown(ctx, code, password, m)
	}
	if s.lockExpired(c, now) {
		if err := s.unlock(ctx, c, "system", m); err != nil {
			return nil, err
		}
	}
	if !c.LockedAt.IsZero() {
		// Hash anyway: the answer must not come faster for locked accounts.
		// No password is checked, so a locked account is no password oracle.
		if _, err := s.hasher.Verify(ctx, "", capPassword(password)); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, s.st, "customer", c.ID, "login.refused", m, map[string]any{"locked": true}); err != nil {
			return nil, err
		}
		return nil, newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	err := s.guard(ctx, c, "login.password.fail", m, func() (error, error) {
		ok, err := s.hasher.Verify(ctx, c.PasswordHash, capPassword(password))
		if err != nil || (ok && len(password) <= maxPasswordInput) {
			return nil, err
		}
		return newErr(CodeInvalidCredentials, nil), nil
	})
	if err != nil {
		return nil, err
	}
	// A frozen account says so only to whoever knows its password (A5).
	if !c.FrozenAt.IsZero() {
		if err := s.audit(ctx, s.st, "customer", c.ID, "login.refused", m, map[string]any{"frozen": true}); err != nil {
			return nil, err
		}
		return nil, newErr(CodeAccountFrozen, nil, s.cfg.Brand.Phone)
	}

	// After the mandatory date a customer who has a passkey is sent to it (P3),
	// before they type a one-time code for nothing.
	if s.cfg.Schedule.PhaseAt(now) == policy.PhaseMandatory {
		n, err := s.st.CountActivePasskeys(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if policy.AfterLegacyLogin(s.cfg.Schedule, now, n > 0) == policy.LegacyRefused {
			if err := s.audit(ctx, s.st, "customer", c.ID, "login.refused", m, map[string]any{"reason": CodePasskeyLoginNeeded}); err != nil {
				return nil, err
			}
			return nil, newErr(CodePasskeyLoginNeeded, nil)
		}
	}

	var res *LoginResult
	var derr error
	err = s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if !c.EmailVerified() || c.SecondFactor == store.FactorNone {
			tok, sess, err := s.startSession(ctx, st, nil, c.ID, store.StageSetup, "", 0, m)
			if err != nil {
				return err
			}
			res = &LoginResult{Token: tok, Session: sess, Next: NextSetup}
			return s.audit(ctx, st, "customer", c.ID, "login.password.ok", m, map[string]any{"next": NextSetup})
		}
		tok, sess, err := s.startSession(ctx, st, nil, c.ID, store.StageSecondFactor, "", 0, m)
		if err != nil {
			return err
		}
		res = &LoginResult{Token: tok, Session: sess, Next: NextSecondFactor, Method: c.SecondFactor}
		if err := s.audit(ctx, st, "customer", c.ID, "login.password.ok", m, map[string]any{"next": NextSecondFactor, "method": c.SecondFactor}); err != nil {
			return err
		}
		if c.SecondFactor == store.FactorEmail {
			// A code still valid from a moment ago is reused rather than refused.
			if err := s.sendCode(ctx, st, c, store.CodeLogin, c.Email, langOr(c.Lang, m.Lang), mail.KindLoginCode, m); err != nil {
				if ErrorCode(err) != CodeResendWait && ErrorCode(err) != CodeRateLimited {
					return err
				}
				derr = nil
			} else {
				*mailed = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, derr
}

// maxPasswordInput bounds what is hashed: a longer input is hashed cut to
// this length (the same cost) and always wrong.
const maxPasswordInput = 1024

func capPassword(p string) string {
	if len(p) > maxPasswordInput {
		return p[:maxPasswordInput]
	}
	return p
}

// failUnknown answers a failed login of a code that does not exist exactly as
// for one that does: same hash cost, same counting, a lock as long as a real
// one (the configured duration, or a month when only an operator unlocks).
func (s *Service) failUnknown(ctx context.Context, code, password string, m Meta) error {
	if _, err := s.hasher.Verify(ctx, "", capPassword(password)); err != nil {
		return err
	}
	window := s.cfg.LockDuration
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	n, err := s.st.Hit(ctx, unknownKey(truncate(code, 32)), s.now().Truncate(window))
	if err != nil {
		return err
	}
	if err := s.audit(ctx, s.st, "customer", 0, "login.password.unknown", m, map[string]any{"customer_code": truncate(code, 32)}); err != nil {
		return err
	}
	if n >= s.cfg.LockThreshold {
		return newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	return newErr(CodeInvalidCredentials, nil)
}

// guard runs check under one reserved attempt (A4). The attempt is taken
// before the password or code is looked at, so a burst of parallel guesses
// gets no more tries than the threshold leaves. A right answer gives the
// attempt back; a wrong one is the failure, and the one that reaches the
// threshold locks the account.
func (s *Service) guard(ctx context.Context, c *store.Customer, event string, m Meta, check func() (wrong, err error)) error {
	n, ok, err := s.st.ReserveAttempt(ctx, c.ID, s.cfg.LockThreshold)
	if err != nil {
		return err
	}
	if !ok { // locked, or its last attempts are being checked right now
		return newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	wrong, err := check()
	if err != nil || wrong == nil {
		if rerr := s.st.ReleaseAttempt(ctx, c.ID); err == nil {
			err = rerr
		}
		return err
	}
	return s.failed(ctx, c, n, event, wrong, m)
}

// failed records a wrong answer that took the customer's n-th attempt,
// locking the account at the threshold and telling the customer by mail.
func (s *Service) failed(ctx context.Context, c *store.Customer, n int, event string, wrong error, m Meta) error {
	locked := n >= s.cfg.LockThreshold
	err := s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if err := s.audit(ctx, st, "customer", c.ID, event, m, map[string]any{"failed_attempts": n}); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		first, err := st.Lock(ctx, c.ID, s.now())
		if err != nil || !first {
			return err
		}
		if err := s.audit(ctx, st, "system", c.ID, "account.locked", m, map[string]any{"failed_attempts": n}); err != nil {
			return err
		}
		// A locked customer cannot finish a pending login, nor keep a session.
		if _, err := st.DeleteCustomerSessions(ctx, c.ID); err != nil {
			return err
		}
		*mailed = c.Email != ""
		return s.notify(ctx, st, c.Email, langOr(c.Lang, m.Lang), mail.KindLockNotice, mail.Data{
			CustomerCode: c.Code, IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
	if err != nil {
		return err
	}
	if locked {
		return newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	return wrong
}

func (s *Service) lockExpired(c *store.Customer, now time.Time) bool {
	return !c.LockedAt.IsZero() && s.cfg.LockDuration > 0 && now.Sub(c.LockedAt) >= s.cfg.LockDuration
}

func (s *Service) unlock(ctx context.Context, c *store.Customer, actor string, m Meta) error {
	err := s.inTx(ctx, func(st store.Store, _ *bool) error {
		if err := st.Unlock(ctx, c.ID); err != nil {
			return err
		}
		return s.audit(ctx, st, actor, c.ID, "account.unlocked", m, nil)
	})
	if err == nil {
		c.LockedAt, c.FailedAttempts = time.Time{}, 0
	}
	return err
}

// Unlock lifts a lock (an operator's or the CLI's action).
func (s *Service) Unlock(ctx context.Context, code, actor string) error {
	c, err := s.st.CustomerByCode(ctx, code)
	if isNotFound(err) {
		return newErr(CodeNotFound, err)
	}
	if err != nil {
		return err
	}
	return s.unlock(ctx, c, actor, Meta{})
}

// SecondFactor completes a password login with the TOTP or e-mail code (A2).
func (s *Service) SecondFactor(ctx context.Context, cur *Current, code string, m Meta) (*LoginResult, error) {
	if cur == nil || cur.Session.Stage != store.StageSecondFactor {
		if cur != nil && cur.Session.Stage == store.StageSetup {
			return nil, newErr(CodeSetupRequired, nil)
		}
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	c := cur.Customer
	if !c.LockedAt.IsZero() {
		return nil, newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	if err := s.guard(ctx, c, "login.second_factor.fail", m, func() (error, error) {
		return s.verifyFactor(ctx, c, store.CodeLogin, code)
	}); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, cur, factorMethod(c.SecondFactor), 0, m)
}

// completeLogin turns a pending session into a full one under a new identifier,
// clears the failure count and sends the login notice (P4).
func (s *Service) completeLogin(ctx context.Context, cur *Current, method string, passkeyID int64, m Meta) (*LoginResult, error) {
	return s.completeLoginWith(ctx, cur, method, passkeyID, m, nil)
}

// completeLoginWith is completeLogin with first, when not nil, run first in
// its transaction: a passkey login records the passkey's use there, so that a
// login is one short write transaction (counter, session, audit entry, notice).
func (s *Service) completeLoginWith(ctx context.Context, cur *Current, method string, passkeyID int64, m Meta, first func(st store.Store) error) (*LoginResult, error) {
	c := cur.Customer
	stage, event := store.StageFull, "login.success"
	if method != store.MethodPasskey {
		n, err := s.st.CountActivePasskeys(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		switch policy.AfterLegacyLogin(s.cfg.Schedule, s.now(), n > 0) {
		case policy.LegacyRestricted:
			stage, event = store.StageRestricted, "login.restricted"
		case policy.LegacyRefused:
			return nil, newErr(CodePasskeyLoginNeeded, nil)
		}
	}
	// The notice goes out in the language the customer logs in with (stored below).
	lang := c.Lang
	if l := normLang(m.Lang); l != "" && l != c.Lang {
		lang = l
	}
	notice, err := s.compose(c.Email, lang, mail.KindLoginNotice, mail.Data{
		CustomerCode: c.Code, Method: method, IP: m.IP, Browser: describeUA(m.UserAgent),
	})
	if err != nil {
		return nil, err
	}
	var res *LoginResult
	err = s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if first != nil {
			if err := first(st); err != nil {
				return err
			}
		}
		var replace *store.Session
		if cur.Session != nil {
			replace = cur.Session
		}
		tok, sess, err := s.startSession(ctx, st, replace, c.ID, stage, method, passkeyID, m)
		if err != nil {
			return err
		}
		res = &LoginResult{Token: tok, Session: sess, Next: NextDone}
		if c.FailedAttempts > 0 {
			if err := st.ResetFailures(ctx, c.ID); err != nil {
				return err
			}
		}
		if lang != c.Lang {
			if err := st.SetLang(ctx, c.ID, lang); err != nil {
				return err
			}
		}
		if notice != nil {
			*mailed = true
			if err := st.EnqueueMail(ctx, notice); err != nil {
				return err
			}
		}
		// The audit entry comes last: appending takes the lock on the chain's
		// tip (audit_head), which every login of every instance waits for, and
		// holds it until the commit.
		return s.audit(ctx, st, "customer", c.ID, event, m, map[string]any{"method": method, "passkey_id": passkeyID})
	})
	if err != nil {
		return nil, err
	}
	c.Lang = lang
	return res, nil
}

// ResendLoginCode mails a new login code to a customer on e-mail second factor.
func (s *Service) ResendLoginCode(ctx context.Context, cur *Current, m Meta) error {
	if cur == nil || cur.Session.Stage != store.StageSecondFactor {
		return newErr(CodeNotAuthenticated, nil)
	}
	c := cur.Customer
	if c.SecondFactor != store.FactorEmail {
		return newErr(CodeInvalidRequest, fmt.Errorf("customer %d is on %q", c.ID, c.SecondFactor))
	}
	return s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if err := s.sendCode(ctx, st, c, store.CodeLogin, c.Email, langOr(c.Lang, m.Lang), mail.KindLoginCode, m); err != nil {
			return err
		}
		*mailed = true
		return nil
	})
}

func (s *Service) openTOTP(c *store.Customer) (string, error) {
	b, err := s.keys.Open(c.TOTPSecret, totpAAD(c.Code))
	if err != nil {
		return "", fmt.Errorf("auth: open TOTP secret of customer %d: %w", c.ID, err)
	}
	return string(b), nil
}

func totpAAD(code string) []byte { return []byte("totp:" + code) }

func normLang(l string) string {
	switch l {
	case "ja", "en":
		return l
	}
	return ""
}

func langOr(a, b string) string {
	if l := normLang(a); l != "" {
		return l
	}
	if l := normLang(b); l != "" {
		return l
	}
	return "ja"
}
