package auth

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"image/png"
	"net/mail"
	"strings"

	kmail "github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/useragent"
	"github.com/pquerna/otp/totp"
)

// Setup steps (A3), in order.
const (
	SetupStepEmail       = "email"        // enter an address
	SetupStepEmailVerify = "email_verify" // enter the code sent to it
	SetupStepMethod      = "method"       // choose app or e-mail
	SetupStepTOTP        = "totp"         // scan the QR code, confirm a first code
)

// SetupStep tells where a customer in initial setup stands.
func SetupStep(cur *Current) string {
	d := decodeData(cur.Session)
	switch {
	case !cur.Customer.EmailVerified() && d.PendingEmail == "":
		return SetupStepEmail
	case !cur.Customer.EmailVerified():
		return SetupStepEmailVerify
	case len(d.PendingTOTP) > 0:
		return SetupStepTOTP
	default:
		return SetupStepMethod
	}
}

// PendingEmail is the address being verified in setup.
func PendingEmail(cur *Current) string { return decodeData(cur.Session).PendingEmail }

func requireSetup(cur *Current) error {
	if cur == nil {
		return newErr(CodeNotAuthenticated, nil)
	}
	if cur.Session.Stage != store.StageSetup {
		if cur.Session.Stage == store.StageFull {
			return newErr(CodeAlreadySetUp, nil)
		}
		return newErr(CodeNotAuthenticated, nil)
	}
	return nil
}

// NormalizeEmail validates a bare address (no display name) and lowercases its domain.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\r\n") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at:], ".") {
		return "", false
	}
	return s[:at] + strings.ToLower(s[at:]), true
}

// SetupEmail records the address to verify and mails a code to it.
func (s *Service) SetupEmail(ctx context.Context, cur *Current, email string, m Meta) error {
	if err := requireSetup(cur); err != nil {
		return err
	}
	if cur.Customer.EmailVerified() {
		return newErr(CodeAlreadySetUp, nil)
	}
	addr, ok := NormalizeEmail(email)
	if !ok {
		return newErr(CodeInvalidEmail, nil)
	}
	return s.inTx(ctx, func(st store.Store, mailed *bool) error {
		d := decodeData(cur.Session)
		d.PendingEmail = addr
		cur.Session.Data = encodeData(d)
		if err := st.UpdateSession(ctx, cur.Session); err != nil {
			return err
		}
		if err := s.sendCode(ctx, st, cur.Customer, store.CodeSetupEmail, addr, langOr(m.Lang, cur.Customer.Lang), kmail.KindSetupEmailCode, m); err != nil {
			return err
		}
		*mailed = true
		return nil
	})
}

// ResendSetupCode mails another code to the pending address.
func (s *Service) ResendSetupCode(ctx context.Context, cur *Current, m Meta) error {
	if err := requireSetup(cur); err != nil {
		return err
	}
	addr := PendingEmail(cur)
	if addr == "" || cur.Customer.EmailVerified() {
		return newErr(CodeInvalidRequest, nil)
	}
	return s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if err := s.sendCode(ctx, st, cur.Customer, store.CodeSetupEmail, addr, langOr(m.Lang, cur.Customer.Lang), kmail.KindSetupEmailCode, m); err != nil {
			return err
		}
		*mailed = true
		return nil
	})
}

// SetupVerifyEmail checks the code mailed to the pending address and records
// the address as verified.
func (s *Service) SetupVerifyEmail(ctx context.Context, cur *Current, code string, m Meta) error {
	if err := requireSetup(cur); err != nil {
		return err
	}
	addr := PendingEmail(cur)
	if addr == "" || cur.Customer.EmailVerified() {
		return newErr(CodeInvalidRequest, nil)
	}
	return s.guard(ctx, cur.Customer, "setup.email.fail", m, func() (wrong, err error) {
		err = s.st.InTx(ctx, func(st store.Store) error {
			wrong = s.checkCodeFor(ctx, st, cur.Customer, store.CodeSetupEmail, addr, code)
			if wrong != nil {
				if ErrorCode(wrong) == "" {
					return wrong
				}
				return nil // keep the used-up attempt
			}
			now := s.now()
			if err := st.SetEmail(ctx, cur.Customer.ID, addr, now); err != nil {
				return err
			}
			d := decodeData(cur.Session)
			d.PendingEmail = ""
			cur.Session.Data = encodeData(d)
			if err := st.UpdateSession(ctx, cur.Session); err != nil {
				return err
			}
			cur.Customer.Email, cur.Customer.EmailVerifiedAt = addr, now
			return s.audit(ctx, st, "customer", cur.Customer.ID, "setup.email.verified", m, nil)
		})
		return wrong, err
	})
}

// TOTPEnrollment is what the setup page shows for the authenticator app.
type TOTPEnrollment struct {
	Secret string // base32
	URL    string // otpauth:// URI
	QRPNG  string // data: URL of the QR code image
}

// SetupChooseEmail finishes setup with e-mail as the second factor. The code
// that verified the address proves possession, so the login completes.
func (s *Service) SetupChooseEmail(ctx context.Context, cur *Current, m Meta) (*LoginResult, error) {
	if err := s.requireMethodStep(cur); err != nil {
		return nil, err
	}
	if err := s.finishSetup(ctx, cur, store.FactorEmail, nil, m); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, cur, store.MethodPasswordEmail, 0, m)
}

// SetupStartTOTP creates a new authenticator-app secret, kept sealed in the
// pending session until the customer confirms a first code.
func (s *Service) SetupStartTOTP(ctx context.Context, cur *Current, m Meta) (*TOTPEnrollment, error) {
	if err := requireSetup(cur); err != nil {
		return nil, err
	}
	if !cur.Customer.EmailVerified() {
		return nil, newErr(CodeSetupRequired, nil)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Brand.Site, AccountName: cur.Customer.Code, SecretSize: 20})
	if err != nil {
		return nil, err
	}
	d := decodeData(cur.Session)
	d.PendingTOTP = s.keys.Seal([]byte(key.Secret()), setupAAD(cur.Session))
	cur.Session.Data = encodeData(d)
	if err := s.st.UpdateSession(ctx, cur.Session); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, s.st, "customer", cur.Customer.ID, "setup.totp.started", m, nil); err != nil {
		return nil, err
	}
	return s.enrollment(key.Secret(), cur.Customer.Code)
}

// SetupTOTPEnrollment shows the pending secret again (page reload).
func (s *Service) SetupTOTPEnrollment(cur *Current) (*TOTPEnrollment, error) {
	if err := requireSetup(cur); err != nil {
		return nil, err
	}
	secret, err := s.pendingTOTP(cur)
	if err != nil {
		return nil, err
	}
	return s.enrollment(secret, cur.Customer.Code)
}

// SetupConfirmTOTP checks the first code from the app and finishes setup.
func (s *Service) SetupConfirmTOTP(ctx context.Context, cur *Current, code string, m Meta) (*LoginResult, error) {
	if err := requireSetup(cur); err != nil {
		return nil, err
	}
	secret, err := s.pendingTOTP(cur)
	if err != nil {
		return nil, err
	}
	var step int64
	if err := s.guard(ctx, cur.Customer, "setup.totp.fail", m, func() (error, error) {
		if step = matchTOTP(secret, code, s.now()); step == 0 {
			return newErr(CodeInvalidCode, nil), nil
		}
		return nil, nil
	}); err != nil {
		return nil, err
	}
	sealed := s.keys.Seal([]byte(secret), totpAAD(cur.Customer.Code))
	if err := s.finishSetup(ctx, cur, store.FactorTOTP, sealed, m); err != nil {
		return nil, err
	}
	if _, err := s.st.UseTOTPStep(ctx, cur.Customer.ID, step); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, cur, store.MethodPasswordTOTP, 0, m)
}

func (s *Service) pendingTOTP(cur *Current) (string, error) {
	d := decodeData(cur.Session)
	if len(d.PendingTOTP) == 0 {
		return "", newErr(CodeInvalidRequest, errors.New("no pending TOTP enrollment"))
	}
	b, err := s.keys.Open(d.PendingTOTP, setupAAD(cur.Session))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Service) requireMethodStep(cur *Current) error {
	if err := requireSetup(cur); err != nil {
		return err
	}
	if !cur.Customer.EmailVerified() {
		return newErr(CodeSetupRequired, nil)
	}
	return nil
}

func (s *Service) finishSetup(ctx context.Context, cur *Current, factor string, sealed []byte, m Meta) error {
	c := cur.Customer
	err := s.inTx(ctx, func(st store.Store, mailed *bool) error {
		if err := st.SetSecondFactor(ctx, c.ID, factor, sealed); err != nil {
			return err
		}
		if err := s.audit(ctx, st, "customer", c.ID, "setup.done", m, map[string]any{"second_factor": factor}); err != nil {
			return err
		}
		*mailed = true
		return s.notify(ctx, st, c.Email, langOr(m.Lang, c.Lang), kmail.KindSetupDone, kmail.Data{
			CustomerCode: c.Code, Email: c.Email, Method: factorMethod(factor), IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
	if err == nil {
		c.SecondFactor, c.TOTPSecret, c.TOTPLastStep = factor, sealed, 0
	}
	return err
}

func factorMethod(f string) string {
	if f == store.FactorTOTP {
		return store.MethodPasswordTOTP
	}
	return store.MethodPasswordEmail
}

// setupAAD binds a pending secret to its session, so it cannot be moved to another.
func setupAAD(sess *store.Session) []byte { return append([]byte("setup-totp:"), sess.IDHash...) }

func (s *Service) enrollment(secret, account string) (*TOTPEnrollment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Brand.Site, AccountName: account, Secret: raw})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Secret: secret, URL: key.URL(), QRPNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func describeUA(ua string) string { return useragent.Describe(ua) }
