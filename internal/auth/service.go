// Package auth is kagi's domain: customers, second factors, sessions, lockout
// and (later) passkeys — the rules of SPEC sections 1–3, with no HTTP and no SQL.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/secret"
	"github.com/kagi-auth/kagi/internal/store"
)

// Config holds the domain's tunables; zero values take the defaults in New.
type Config struct {
	LockThreshold     int           // failed attempts that lock an account (A4)
	LockDuration      time.Duration // 0: only an operator unlocks
	SessionIdle       time.Duration
	SessionMax        time.Duration
	PendingTTL        time.Duration // between password and second factor
	SetupTTL          time.Duration // initial setup after the password
	EmailCodeTTL      time.Duration
	EmailCodeAttempts int
	EmailCodeResend   time.Duration // minimum gap between two code mails
	StepUpWindow      time.Duration
	PasskeyLimit      int
	Brand             mail.Brand
	Schedule          policy.Schedule // the passkey-mandatory phases (P1)
	ReminderLead      time.Duration   // how long before MandatoryFrom the reminder goes out
	SentMailRetention time.Duration   // Sweep deletes mails sent longer ago; 0 keeps them
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.LockThreshold <= 0 {
		c.LockThreshold = 5
	}
	def(&c.SessionIdle, 30*time.Minute)
	def(&c.SessionMax, 12*time.Hour)
	def(&c.PendingTTL, 10*time.Minute)
	def(&c.SetupTTL, 30*time.Minute)
	def(&c.EmailCodeTTL, 10*time.Minute)
	def(&c.EmailCodeResend, 30*time.Second)
	def(&c.StepUpWindow, 5*time.Minute)
	if c.EmailCodeAttempts <= 0 {
		c.EmailCodeAttempts = 5
	}
	if c.PasskeyLimit <= 0 {
		c.PasskeyLimit = 5
	}
	if c.Schedule.StepUpWindow <= 0 {
		c.Schedule.StepUpWindow = c.StepUpWindow
	}
	if c.Brand.Phone == "" {
		c.Brand = mail.DefaultBrand()
	}
}

// Service carries out customer authentication.
type Service struct {
	st       store.Store
	cfg      Config
	keys     *secret.Keys
	hasher   *Hasher
	now      func() time.Time
	log      *slog.Logger
	onMailed func() // wakes the outbox worker after a commit that enqueued mail
	wa       *webauthn.WebAuthn
	rp       RP
}

// Deps are the Service's collaborators.
type Deps struct {
	Store    store.Store
	Keys     *secret.Keys
	Hasher   *Hasher
	Now      func() time.Time
	Logger   *slog.Logger
	OnMailed func()
}

func New(cfg Config, d Deps) *Service {
	cfg.defaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Hasher == nil {
		d.Hasher = NewHasher(0, 0)
	}
	if d.OnMailed == nil {
		d.OnMailed = func() {}
	}
	return &Service{st: d.Store, cfg: cfg, keys: d.Keys, hasher: d.Hasher, now: d.Now, log: d.Logger, onMailed: d.OnMailed}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Store returns the store the service writes to.
func (s *Service) Store() store.Store { return s.st }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Meta describes the request an action came from, for audit and notifications.
type Meta struct {
	IP        string
	UserAgent string
	Lang      string
}

// newToken returns a random session token and the hash stored for it.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, HashToken(tok)
}

// HashToken is what the store keeps of a session token.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// audit appends an entry within st (the caller's transaction, if any).
func (s *Service) audit(ctx context.Context, st store.Store, actor string, customerID int64, event string, m Meta, detail map[string]any) error {
	d := "{}"
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	return st.AppendAudit(ctx, &store.AuditEntry{
		At: s.now(), Actor: actor, CustomerID: customerID, Event: event,
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512), Detail: d,
	})
}

// inTx runs fn in a transaction and wakes the mail worker if fn enqueued mail.
func (s *Service) inTx(ctx context.Context, fn func(st store.Store, mailed *bool) error) error {
	mailed := false
	err := s.st.InTx(ctx, func(st store.Store) error { return fn(st, &mailed) })
	if err == nil && mailed {
		s.onMailed()
	}
	return err
}

// notify composes a mail for c in their language and enqueues it within st.
func (s *Service) notify(ctx context.Context, st store.Store, to, lang string, kind mail.Kind, d mail.Data) error {
	m, err := s.compose(to, lang, kind, d)
	if err != nil || m == nil {
		return err
	}
	return st.EnqueueMail(ctx, m)
}

// compose renders a mail for the outbox, or returns nil when there is no
// address. Composing before a transaction keeps the template work out of it.
func (s *Service) compose(to, lang string, kind mail.Kind, d mail.Data) (*store.Mail, error) {
	if to == "" {
		return nil, nil
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	subject, body, err := mail.Compose(s.cfg.Brand, lang, kind, d)
	if err != nil {
		return nil, fmt.Errorf("auth: compose %v: %w", kind, err)
	}
	return &store.Mail{To: to, Subject: subject, Body: body, CreatedAt: s.now()}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// isNotFound reports a store miss.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
