package auth

import (
	"context"
	"errors"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// SendStepUpCode mails a re-verification code to a customer on e-mail second factor.
func (s *Service) SendStepUpCode(ctx context.Context, cur *Current, m Meta) error {
	if err := requireRegistrar(cur); err != nil {
		return err
	}
	c := cur.Customer
	if c.SecondFactor != store.FactorEmail || !c.EmailVerified() {
		return newErr(CodeInvalidRequest, errors.New("step-up code requested by a customer not on e-mail"))
	}
	return s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if err := s.sendCode(ctx, st, c, store.CodeStepUp, c.Email, langOr(c.Lang, m.Lang), mail.KindStepUpCode, m); err != nil {
			return err
		}
		*mailed = true
		return nil
	})
}

// StepUp re-verifies a logged-in customer with their current second factor
// (K2, Check2) before a sensitive action. Failures count towards the lock.
// The session gets a new identifier: the returned token replaces the cookie.
func (s *Service) StepUp(ctx context.Context, cur *Current, code string, m Meta) (string, error) {
	if err := requireRegistrar(cur); err != nil {
		return "", err
	}
	c := cur.Customer
	if err := s.guard(ctx, c, "step_up.fail", m, func() (error, error) {
		return s.verifyFactor(ctx, c, store.CodeStepUp, code)
	}); err != nil {
		return "", err
	}
	var tok string
	sess := *cur.Session
	err := s.st.InTx(ctx, func(st store.Store) error {
		sess.StepUpAt = s.now()
		var err error
		if tok, err = s.rotateSession(ctx, st, &sess); err != nil {
			return err
		}
		if c.FailedAttempts > 0 {
			if err := st.ResetFailures(ctx, c.ID); err != nil {
				return err
			}
		}
		return s.audit(ctx, st, "customer", c.ID, "step_up.ok", m, map[string]any{"factor": c.SecondFactor})
	})
	if err != nil {
		return "", err
	}
	*cur.Session = sess
	return tok, nil
}
