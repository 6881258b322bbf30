package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// codeMailsPerHour caps code mails per customer and purpose, whatever the resend gap.
const codeMailsPerHour = 10

func (s *Service) codeMAC(customerID int64, purpose, email, code string) []byte {
	return s.keys.MAC("email-code", strconv.FormatInt(customerID, 10), purpose, email, code)
}

// sendCode issues a fresh six-digit code for purpose to email, within st.
// Codes are stored only as a keyed hash (A5).
func (s *Service) sendCode(ctx context.Context, st store.Store, c *store.Customer, purpose, email, lang string, kind mail.Kind, m Meta) error {
	now := s.now()
	if last, err := st.LatestEmailCode(ctx, c.ID, purpose); err == nil {
		if now.Sub(last.CreatedAt) < s.cfg.EmailCodeResend {
			return newErr(CodeResendWait, nil)
		}
		// Only the newest code is ever valid: an older one must not come back
		// once the newer is used.
		if _, err := st.UseEmailCode(ctx, last.ID, now); err != nil {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	n, err := st.Hit(ctx, fmt.Sprintf("codemail:%d:%s", c.ID, purpose), now.Truncate(time.Hour))
	if err != nil {
		return err
	}
	if n > codeMailsPerHour {
		return newErr(CodeRateLimited, nil)
	}
	v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", v.Int64())
	ec := &store.EmailCode{
		CustomerID: c.ID, Purpose: purpose, Email: email,
		CodeHash:  s.codeMAC(c.ID, purpose, email, code),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.EmailCodeTTL),
	}
	if err := st.CreateEmailCode(ctx, ec); err != nil {
		return err
	}
	if err := s.audit(ctx, st, "system", c.ID, "code.sent", m, map[string]any{"purpose": purpose}); err != nil {
		return err
	}
	return s.notify(ctx, st, email, lang, kind, mail.Data{
		CustomerCode: c.Code, Code: code, Email: email, IP: m.IP,
		ExpiresMinutes: int(s.cfg.EmailCodeTTL / time.Minute),
	})
}

// checkCode verifies code against the newest code of purpose. A wrong code uses
// up one of the code's attempts; the right one is consumed (single use).
func (s *Service) checkCode(ctx context.Context, st store.Store, c *store.Customer, purpose, code string) error {
	return s.checkCodeFor(ctx, st, c, purpose, "", code)
}

// checkCodeFor is checkCode for a code that must have been sent to email (the
// address about to be saved), so a code mailed to another address does not count.
func (s *Service) checkCodeFor(ctx context.Context, st store.Store, c *store.Customer, purpose, email, code string) error {
	ec, err := st.LatestEmailCode(ctx, c.ID, purpose)
	if isNotFound(err) {
		return newErr(CodeInvalidCode, nil)
	}
	if err != nil {
		return err
	}
	if email != "" && !strings.EqualFold(ec.Email, email) {
		return newErr(CodeInvalidCode, errors.New("code was sent to another address"))
	}
	if !s.now().Before(ec.ExpiresAt) {
		return newErr(CodeCodeExpired, nil)
	}
	if ec.Attempts >= s.cfg.EmailCodeAttempts {
		return newErr(CodeTooManyAttempts, nil)
	}
	if !validCodeFormat(code) || !hmac.Equal(ec.CodeHash, s.codeMAC(c.ID, purpose, ec.Email, code)) {
		n, err := st.AddEmailCodeAttempt(ctx, ec.ID)
		if err != nil {
			return err
		}
		if n >= s.cfg.EmailCodeAttempts {
			return newErr(CodeTooManyAttempts, nil)
		}
		return newErr(CodeInvalidCode, nil)
	}
	ok, err := st.UseEmailCode(ctx, ec.ID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return newErr(CodeInvalidCode, fmt.Errorf("code %d already used", ec.ID))
	}
	return nil
}

func validCodeFormat(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// verifyFactor checks code against the customer's current second factor: the
// authenticator app, or the newest e-mail code of purpose. wrong is the domain
// error of a refused code (its used TOTP step or spent attempt is kept); err
// is a failure of the store.
func (s *Service) verifyFactor(ctx context.Context, c *store.Customer, purpose, code string) (wrong, err error) {
	switch c.SecondFactor {
	case store.FactorTOTP:
		secret, err := s.openTOTP(c)
		if err != nil {
			return nil, err
		}
		step := matchTOTP(secret, code, s.now())
		if step == 0 {
			return newErr(CodeInvalidCode, nil), nil
		}
		fresh, err := s.st.UseTOTPStep(ctx, c.ID, step)
		if err != nil {
			return nil, err
		}
		if !fresh {
			return newErr(CodeInvalidCode, errors.New("TOTP code replayed")), nil
		}
		return nil, nil
	case store.FactorEmail:
		err := s.st.InTx(ctx, func(st store.Store) error {
			wrong = s.checkCode(ctx, st, c, purpose, code)
			if wrong != nil && ErrorCode(wrong) == "" {
				return wrong
			}
			return nil // commit the spent attempt
		})
		return wrong, err
	}
	return nil, newErr(CodeSetupRequired, nil)
}
