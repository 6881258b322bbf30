package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kagi-auth/kagi/internal/store"
)

// The call center's side of the domain (issue 7, SPEC O1–O6): operators, who
// log in to the console with passkeys of their own, and the procedures they
// carry out on customers, four-eyes ones included. Console holds it; it
// shares the customers' Service (store, clock, keys, mail) and has a WebAuthn
// relying party of its own, for the console's origin.

// Error codes of the console's domain, besides the customers' ones.
const (
	CodeOperatorForbidden  = "operator_forbidden"   // the operator's role does not allow it
	CodeOwnRequest         = "own_request"          // four eyes: nobody approves their own request
	CodeRequestClosed      = "request_closed"       // the request was already decided
	CodeRequestExpired     = "request_expired"      // a pending request too old to approve
	CodeRequestDuplicate   = "request_duplicate"    // the same request is already pending
	CodeReasonRequired     = "reason_required"      // every operator action needs a reason
	CodeEnrollmentInvalid  = "enrollment_invalid"   // unknown operator, wrong or used enrollment code
	CodeNotApplicable      = "not_applicable"       // the procedure does not fit the customer's state
	CodeInvalidOperator    = "invalid_operator"     // a bad operator name or role
	CodeOperatorExists     = "operator_exists"      // the name is taken
	CodeEmailChangeInvalid = "email_change_invalid" // wrong customer code or confirmation code, expired or used up (no enumeration)
)

// ConsoleConfig configures the console's domain; zero values take defaults.
type ConsoleConfig struct {
	RP             RP            // the console's origin and host (the operators' RP ID)
	SessionIdle    time.Duration // default 30 minutes
	SessionMax     time.Duration // default 10 hours: a working day
	EnrollTTL      time.Duration // validity of an enrollment code, default 24 hours
	RequestTTL     time.Duration // a pending four-eyes request may be approved for this long, default 7 days
	EmailChangeTTL time.Duration // validity of the code mailed to a new address, default 24 hours
}

func (c *ConsoleConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SessionIdle, 30*time.Minute)
	def(&c.SessionMax, 10*time.Hour)
	def(&c.EnrollTTL, 24*time.Hour)
	def(&c.RequestTTL, 7*24*time.Hour)
	def(&c.EmailChangeTTL, 24*time.Hour)
}

// Console carries out the operators' work.
type Console struct {
	s   *Service
	cfg ConsoleConfig
	wa  *webauthn.WebAuthn
}

// NewConsole builds the call center's domain on the customers' service. The
// relying party is the console's own: operators' passkeys are bound to its
// origin, customers' to the customer site's.
func (s *Service) NewConsole(cfg ConsoleConfig) (*Console, error) {
	cfg.defaults()
	if cfg.RP.Name == "" {
		cfg.RP.Name = "kagi console"
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RP.ID,
		RPDisplayName:         cfg.RP.Name,
		RPOrigins:             []string{cfg.RP.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: console webauthn: %w", err)
	}
	return &Console{s: s, cfg: cfg, wa: wa}, nil
}

// Config returns the effective configuration.
func (c *Console) Config() ConsoleConfig { return c.cfg }

// Service is the customers' service the console works on.
func (c *Console) Service() *Service { return c.s }

// Actor is an operator at work: from a console session or the command line.
// Every audit entry of theirs names "operator:<name>" and says which.
type Actor struct {
	Operator *store.Operator
	Via      string // "console" or "cli"
	Meta     Meta   // the console request's IP and browser; empty from the CLI
}

// Name is the actor as the audit log and RevokedBy record it.
func (a Actor) Name() string { return "operator:" + a.Operator.Name }

// Supervisor reports whether the actor may approve requests.
func (a Actor) Supervisor() bool { return a.Operator.Role == store.RoleSupervisor }

func (a Actor) check() error {
	if a.Operator == nil || !a.Operator.Active() {
		return newErr(CodeNotAuthenticated, errors.New("no active operator"))
	}
	return nil
}

// detail adds the actor's channel to an audit detail.
func (a Actor) detail(d map[string]any) map[string]any {
	if d == nil {
		d = map[string]any{}
	}
	d["via"] = a.Via
	return d
}

var operatorName = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,31}$`)

// ValidOperatorName reports whether name can be an operator's login name:
// 2 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter.
func ValidOperatorName(name string) bool { return operatorName.MatchString(name) }

// Enrollment is a one-time code that lets an operator register a passkey.
type Enrollment struct {
	Operator  *store.Operator
	Code      string // shown once, e.g. "ABCD-EFGH-JKLM-NPQR"
	ExpiresAt time.Time
}

// AddOperator creates an operator and their first enrollment code (`kagi
// operator add`). by is who did it ("cli").
func (c *Console) AddOperator(ctx context.Context, name, role, by string) (*Enrollment, error) {
	if !ValidOperatorName(name) {
		return nil, newErr(CodeInvalidOperator, fmt.Errorf("operator name %q: 2-32 of a-z 0-9 . _ -, starting with a letter", name))
	}
	if role != store.RoleAgent && role != store.RoleSupervisor {
		return nil, newErr(CodeInvalidOperator, fmt.Errorf("role %q: want agent or supervisor", role))
	}
	handle := make([]byte, 32)
	rand.Read(handle)
	now := c.s.now()
	o := &store.Operator{Name: name, Role: role, UserHandle: handle, CreatedAt: now, CreatedBy: by}
	var en *Enrollment
	err := c.s.st.InTx(ctx, func(st store.Store) error {
		if err := st.CreateOperator(ctx, o); err != nil {
			return err
		}
		if err := c.s.audit(ctx, st, by, 0, "operator.created", Meta{}, map[string]any{"operator": name, "role": role}); err != nil {
			return err
		}
		var err error
		en, err = c.issueEnrollment(ctx, st, o, by)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, newErr(CodeOperatorExists, fmt.Errorf("operator %s already exists", name))
	}
	return en, err
}

// IssueEnrollment gives an existing operator a new enrollment code, to
// register a passkey on another device or after losing one. With revoke, every
// passkey and session the operator has is revoked first (a lost device).
func (c *Console) IssueEnrollment(ctx context.Context, name string, revoke bool, by string) (*Enrollment, error) {
	o, err := c.s.st.OperatorByName(ctx, name)
	if isNotFound(err) {
		return nil, newErr(CodeNotFound, fmt.Errorf("no operator %s", name))
	}
	if err != nil {
		return nil, err
	}
	if !o.Active() {
		return nil, newErr(CodeNotApplicable, fmt.Errorf("operator %s is disabled", name))
	}
	var en *Enrollment
	err = c.s.st.InTx(ctx, func(st store.Store) error {
		if revoke {
			n, err := st.RevokeOperatorPasskeys(ctx, o.ID, c.s.now())
			if err != nil {
				return err
			}
			if _, err := st.DeleteOperatorSessions(ctx, o.ID); err != nil {
				return err
			}
			if err := c.s.audit(ctx, st, by, 0, "operator.passkeys_revoked", Meta{}, map[string]any{"operator": name, "passkeys": n}); err != nil {
				return err
			}
		}
		var err error
		en, err = c.issueEnrollment(ctx, st, o, by)
		return err
	})
	return en, err
}

func (c *Console) issueEnrollment(ctx context.Context, st store.Store, o *store.Operator, by string) (*Enrollment, error) {
	raw := make([]byte, 10) // 80 bits
	rand.Read(raw)
	code := base32.StdEncoding.EncodeToString(raw) // 16 characters
	code = code[0:4] + "-" + code[4:8] + "-" + code[8:12] + "-" + code[12:16]
	expires := c.s.now().Add(c.cfg.EnrollTTL)
	hash := c.enrollHash(o.ID, code)
	if err := st.SetOperatorEnrollment(ctx, o.ID, hash, expires); err != nil {
		return nil, err
	}
	o.EnrollHash, o.EnrollExpiresAt = hash, expires
	if err := c.s.audit(ctx, st, by, 0, "operator.enrollment_issued", Meta{}, map[string]any{"operator": o.Name, "expires_at": expires.UTC().Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	return &Enrollment{Operator: o, Code: code, ExpiresAt: expires}, nil
}

// enrollHash keys the normalised code to its operator; only the hash is stored.
func (c *Console) enrollHash(operatorID int64, code string) []byte {
	norm := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\u3000' {
			return -1
		}
		return r
	}, code))
	return c.s.keys.MAC("operator-enroll", strconv.FormatInt(operatorID, 10), norm)
}

// checkEnrollment finds the operator whose pending enrollment code this is.
// Every failure is CodeEnrollmentInvalid, whatever went wrong.
func (c *Console) checkEnrollment(ctx context.Context, name, code string) (*store.Operator, error) {
	invalid := func(why string) error { return newErr(CodeEnrollmentInvalid, errors.New(why)) }
	if !ValidOperatorName(name) || len(code) > 64 {
		return nil, invalid("malformed name or code")
	}
	o, err := c.s.st.OperatorByName(ctx, name)
	if isNotFound(err) {
		return nil, invalid("unknown operator")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case !o.Active():
		return nil, invalid("operator disabled")
	case len(o.EnrollHash) == 0:
		return nil, invalid("no enrollment pending")
	case !c.s.now().Before(o.EnrollExpiresAt):
		return nil, invalid("enrollment code expired")
	case subtle.ConstantTimeCompare(o.EnrollHash, c.enrollHash(o.ID, code)) != 1:
		return nil, invalid("wrong enrollment code")
	}
	return o, nil
}

// DisableOperator stops an operator from logging in and ends their sessions.
func (c *Console) DisableOperator(ctx context.Context, name, by string) error {
	o, err := c.s.st.OperatorByName(ctx, name)
	if isNotFound(err) {
		return newErr(CodeNotFound, fmt.Errorf("no operator %s", name))
	}
	if err != nil {
		return err
	}
	return c.s.st.InTx(ctx, func(st store.Store) error {
		if err := st.DisableOperator(ctx, o.ID, c.s.now()); err != nil {
			if isNotFound(err) {
				return newErr(CodeNotApplicable, fmt.Errorf("operator %s is already disabled", name))
			}
			return err
		}
		if _, err := st.DeleteOperatorSessions(ctx, o.ID); err != nil {
			return err
		}
		return c.s.audit(ctx, st, by, 0, "operator.disabled", Meta{}, map[string]any{"operator": name})
	})
}

// Operators lists every operator by name.
func (c *Console) Operators(ctx context.Context) ([]*store.Operator, error) {
	return c.s.st.Operators(ctx)
}

// CLIActor is the operator a command-line procedure acts as (--as NAME). The
// shell's access to the database is the authority there; the audit log still
// names the operator, and the roles and four-eyes rules apply alike.
func (c *Console) CLIActor(ctx context.Context, name string) (Actor, error) {
	o, err := c.s.st.OperatorByName(ctx, name)
	if isNotFound(err) {
		return Actor{}, newErr(CodeNotFound, fmt.Errorf("no operator %s", name))
	}
	if err != nil {
		return Actor{}, err
	}
	if !o.Active() {
		return Actor{}, newErr(CodeOperatorForbidden, fmt.Errorf("operator %s is disabled", name))
	}
	return Actor{Operator: o, Via: "cli"}, nil
}

// OperatorCurrent is a resolved console session with its operator.
type OperatorCurrent struct {
	Session  *store.OperatorSession
	Operator *store.Operator
}

// Actor is the session's operator acting from the console.
func (cur *OperatorCurrent) Actor(m Meta) Actor {
	return Actor{Operator: cur.Operator, Via: "console", Meta: m}
}

// OperatorLogin is a new console session: the caller sets the cookie.
type OperatorLogin struct {
	Token    string
	Operator *store.Operator
}

func (c *Console) startSession(ctx context.Context, st store.Store, o *store.Operator, m Meta) (*OperatorLogin, error) {
	tok, hash := newToken()
	now := c.s.now()
	err := st.CreateOperatorSession(ctx, &store.OperatorSession{
		IDHash: hash, OperatorID: o.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(c.cfg.SessionMax),
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512),
	})
	if err != nil {
		return nil, err
	}
	return &OperatorLogin{Token: tok, Operator: o}, nil
}

// Authenticate resolves a console session token: CodeSessionExpired after
// the idle or absolute timeout, CodeNotAuthenticated for anything unknown
// (a customer's session token included: it is in another table).
func (c *Console) Authenticate(ctx context.Context, token string) (*OperatorCurrent, error) {
	if token == "" || len(token) > 128 {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	hash := HashToken(token)
	sess, err := c.s.st.OperatorSessionByHash(ctx, hash)
	if isNotFound(err) {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	if err != nil {
		return nil, err
	}
	now := c.s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= c.cfg.SessionIdle {
		if err := c.s.st.DeleteOperatorSession(ctx, hash); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, newErr(CodeSessionExpired, nil)
	}
	o, err := c.s.st.OperatorByID(ctx, sess.OperatorID)
	if err != nil {
		return nil, err
	}
	if !o.Active() {
		_ = c.s.st.DeleteOperatorSession(ctx, hash)
		return nil, newErr(CodeNotAuthenticated, errors.New("operator disabled"))
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := c.s.st.TouchOperatorSession(ctx, hash, now); err != nil && !isNotFound(err) {
			return nil, err
		}
		sess.LastSeenAt = now
	}
	return &OperatorCurrent{Session: sess, Operator: o}, nil
}

// Logout ends a console session.
func (c *Console) Logout(ctx context.Context, cur *OperatorCurrent, m Meta) error {
	return c.s.st.InTx(ctx, func(st store.Store) error {
		if err := st.DeleteOperatorSession(ctx, cur.Session.IDHash); err != nil && !isNotFound(err) {
			return err
		}
		return c.s.audit(ctx, st, "operator:"+cur.Operator.Name, 0, "operator.logout", m, nil)
	})
}

// Sweep deletes expired console sessions; run it with Service.Sweep.
func (c *Console) Sweep(ctx context.Context) error {
	_, err := c.s.st.DeleteExpiredOperatorSessions(ctx, c.s.now())
	return err
}
