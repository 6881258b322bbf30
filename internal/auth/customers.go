package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/pquerna/otp/totp"
)

// NewCustomer is what the brokerage knows of a customer when it creates one.
type NewCustomer struct {
	Code         string
	Password     string
	Email        string // optional; counts as verified (the brokerage's records)
	SecondFactor string // "", "totp" or "email"; "" means "email" when Email is set
	TOTPSecret   string // base32; generated when SecondFactor is totp and this is empty
	Lang         string
}

// Password rules kept simple and long-friendly (NIST SP 800-63B): 8 to 128 characters.
const (
	minPassword = 8
	maxPassword = 128
)

// CreateCustomer validates and stores a new customer. It returns the stored
// customer and the TOTP secret in clear (for the one-time display to the brokerage).
func (s *Service) CreateCustomer(ctx context.Context, n NewCustomer, actor string) (*store.Customer, string, error) {
	var problems []string
	if !ValidCustomerCode(n.Code) {
		problems = append(problems, "customer code must be 4 to 16 digits")
	}
	if l := utf8.RuneCountInString(n.Password); l < minPassword || l > maxPassword {
		problems = append(problems, fmt.Sprintf("password must be %d to %d characters", minPassword, maxPassword))
	}
	email := ""
	if n.Email != "" {
		var ok bool
		if email, ok = NormalizeEmail(n.Email); !ok {
			problems = append(problems, "e-mail address is not valid")
		}
	}
	factor := n.SecondFactor
	switch factor {
	case store.FactorNone:
		if email != "" {
			factor = store.FactorEmail
		}
	case store.FactorEmail:
		if n.Email == "" {
			problems = append(problems, "e-mail second factor needs an e-mail address")
		}
	case store.FactorTOTP:
	default:
		problems = append(problems, "second factor must be totp or email")
	}
	secret := strings.ToUpper(strings.ReplaceAll(n.TOTPSecret, " ", ""))
	if secret != "" && factor != store.FactorTOTP {
		problems = append(problems, "a TOTP secret needs --second-factor totp")
	}
	if factor == store.FactorTOTP {
		if secret == "" {
			key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Brand.Site, AccountName: n.Code, SecretSize: 20})
			if err != nil {
				return nil, "", err
			}
			secret = key.Secret()
		} else if _, err := totp.GenerateCode(secret, s.now()); err != nil || len(secret) < 16 {
			problems = append(problems, "TOTP secret must be base32 of at least 80 bits")
		}
	}
	if len(problems) > 0 {
		return nil, "", newErr(CodeInvalidRequest, errors.New(strings.Join(problems, "; ")))
	}
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return nil, "", err
	}
	handle := make([]byte, 32)
	rand.Read(handle)
	now := s.now()
	c := &store.Customer{
		Code: n.Code, PasswordHash: hash, Email: email, SecondFactor: factor,
		UserHandle: handle, Lang: langOr(n.Lang, "ja"), CreatedAt: now,
	}
	if email != "" {
		c.EmailVerifiedAt = now
	}
	if factor == store.FactorTOTP {
		c.TOTPSecret = s.keys.Seal([]byte(secret), totpAAD(n.Code))
	}
	err = s.st.InTx(ctx, func(st store.Store) error {
		if err := st.CreateCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, st, actor, c.ID, "customer.created", Meta{}, map[string]any{"second_factor": factor, "email": email != ""})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, "", newErr(CodeInvalidRequest, fmt.Errorf("customer code %s already exists", n.Code))
	}
	if err != nil {
		return nil, "", err
	}
	if factor != store.FactorTOTP {
		secret = ""
	}
	return c, secret, nil
}

// SetPassword replaces a customer's password (CLI, demo).
func (s *Service) SetPassword(ctx context.Context, c *store.Customer, password, actor string) error {
	if l := utf8.RuneCountInString(password); l < minPassword || l > maxPassword {
		return newErr(CodeInvalidRequest, fmt.Errorf("password must be %d to %d characters", minPassword, maxPassword))
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(st store.Store) error {
		if err := st.SetPasswordHash(ctx, c.ID, hash); err != nil {
			return err
		}
		return s.audit(ctx, st, actor, c.ID, "customer.password_set", Meta{}, nil)
	})
}

// TOTPSecret returns a customer's TOTP secret in clear (demo output only).
func (s *Service) TOTPSecret(c *store.Customer) (string, error) {
	if c.SecondFactor != store.FactorTOTP {
		return "", nil
	}
	return s.openTOTP(c)
}
