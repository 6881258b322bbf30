// Package store defines kagi's persistent data and the Store interface every
// backend (SQLite, PostgreSQL) implements. The conformance suite in storetest
// is the contract: a backend is correct when it passes it.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with %w; callers branch with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict") // unique key already taken
	ErrLimit    = errors.New("store: limit reached")
)

// Second-factor methods (SPEC A1).
const (
	FactorNone  = ""
	FactorTOTP  = "totp"
	FactorEmail = "email"
)

// Customer is a Home Trade account holder.
type Customer struct {
	ID              int64
	Code            string // お客様コード, digits, unique
	PasswordHash    string // argon2id PHC string
	Email           string // "" until initial setup
	EmailVerifiedAt time.Time
	SecondFactor    string // FactorNone until initial setup
	TOTPSecret      []byte // encrypted at rest (AES-GCM, see internal/secret)
	TOTPLastStep    int64  // last accepted TOTP time step: a code is never accepted twice
	UserHandle      []byte // random WebAuthn user handle, never derived from Code
	Lang            string // "ja" or "en": language of mails
	FailedAttempts  int
	LockedAt        time.Time // zero when not locked
	FrozenAt        time.Time // zero when not frozen
	CreatedAt       time.Time
	// SensitiveChangedAt is the last passkey registration or change of e-mail
	// or second factor: money operations wait out the cooling-off from it (P6).
	SensitiveChangedAt time.Time
	PhaseNoticeAt      time.Time // when the "passkeys become mandatory" reminder was mailed
}

// EmailVerified reports whether initial setup verified an address.
func (c *Customer) EmailVerified() bool { return c.Email != "" && !c.EmailVerifiedAt.IsZero() }

// Session stages.
const (
	StageRestricted   = "restricted"    // legacy login after the mandatory date: may only register a passkey (P3)
	StageSecondFactor = "second_factor" // password verified, waiting for the one-time code
	StageSetup        = "setup"         // password verified, initial setup not done
	StageFull         = "full"          // logged in
)

// Login methods recorded on a full session.
const (
	MethodPasswordTOTP  = "password_totp"
	MethodPasswordEmail = "password_email"
	MethodPasskey       = "passkey"
)

// Session is a server-side session. Only the SHA-256 of the cookie value is stored.
type Session struct {
	IDHash          []byte
	CustomerID      int64
	Stage           string
	Method          string // set when Stage == StageFull
	PasskeyID       int64  // the passkey that authenticated, 0 if none
	AuthenticatedAt time.Time
	StepUpAt        time.Time // last re-verification (zero if none)
	CreatedAt       time.Time
	LastSeenAt      time.Time
	ExpiresAt       time.Time // absolute expiry
	IP              string
	UserAgent       string
	Data            string // small JSON for stage-specific state (e.g. pending setup e-mail, pending TOTP secret)
}

// Purposes of e-mail one-time codes.
const (
	CodeLogin      = "login"       // second factor at login
	CodeSetupEmail = "setup_email" // verifying an address during initial setup
	CodeStepUp     = "step_up"     // re-verification before a sensitive action
)

// EmailCode is an e-mailed one-time code; only its keyed hash is stored.
type EmailCode struct {
	ID         int64
	CustomerID int64
	Purpose    string
	Email      string // the address it was sent to
	CodeHash   []byte
	Attempts   int
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time
}

// Ceremony is server-side WebAuthn ceremony state (go-webauthn SessionData as JSON).
type Ceremony struct {
	ID         []byte // random, referenced by a cookie
	Kind       string // "register", "login", "step_up", ...
	CustomerID int64  // 0 for discoverable login
	Data       []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Passkey is a WebAuthn credential bound to a customer. Revoked passkeys are kept (SPEC K13).
type Passkey struct {
	ID                int64
	CustomerID        int64
	CredentialID      []byte // unique across all customers
	PublicKey         []byte // COSE key
	SignCount         uint32
	AAGUID            []byte
	Transports        []string
	BackupEligible    bool
	BackupState       bool
	AttestationFormat string
	Name              string
	Shared            bool // registered on a device the customer said is shared (K14)
	CreatedAt         time.Time
	CreatedIP         string
	CreatedUserAgent  string
	LastUsedAt        time.Time
	RevokedAt         time.Time
	RevokedBy         string // "customer", "operator:<name>", ...
	SuspendedAt       time.Time
	SuspendReason     string
}

// Active reports whether the passkey may be used to log in.
func (p *Passkey) Active() bool { return p.RevokedAt.IsZero() && p.SuspendedAt.IsZero() }

// Operation is a request made on the demo trading site (P5): stored, nothing more.
type Operation struct {
	ID         int64
	CustomerID int64
	Kind       string // policy.Operation
	Detail     string // JSON of the request
	Method     string // how the session was authenticated, and any step-up
	CreatedAt  time.Time
	IP         string
}

// AuditEntry is one row of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq        int64
	At         time.Time
	Actor      string // "customer", "system", "operator:<name>", "cli"
	CustomerID int64  // 0 when none (e.g. unknown customer code)
	Event      string // e.g. "login.password.fail"
	IP         string
	UserAgent  string
	Detail     string // JSON object
	PrevHash   []byte
	Hash       []byte
}

// Mail is an outbox row: written in the transaction of the event it reports.
type Mail struct {
	ID        int64
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
	SentAt    time.Time
	Attempts  int
	NextTryAt time.Time
	LastError string
}

// Store is kagi's persistence. Every method runs in one transaction of its own,
// unless it is called on the Store handed to InTx's function.
type Store interface {
	// InTx runs fn in one transaction; fn's Store sees and writes within it.
	// A nested InTx joins the outer transaction.
	InTx(ctx context.Context, fn func(Store) error) error
	Ping(ctx context.Context) error
	Close() error

	// Customers
	CreateCustomer(ctx context.Context, c *Customer) error // sets ID; ErrConflict on a taken code or user handle
	CustomerByID(ctx context.Context, id int64) (*Customer, error)
	CustomerByCode(ctx context.Context, code string) (*Customer, error)
	CustomerByUserHandle(ctx context.Context, handle []byte) (*Customer, error)
	// RecordFailure atomically adds one failed attempt and, when the count reaches
	// threshold (>0), sets LockedAt=now if not already locked. Returns the new count and lock state.
	RecordFailure(ctx context.Context, customerID int64, threshold int, now time.Time) (failed int, locked bool, err error)
	// ReserveAttempt takes one of the customer's remaining attempts before a
	// password or code is checked: it adds one failure only while the account
	// is unlocked and below threshold, and reports the new count. false means
	// no attempt is left (locked, or every remaining one is being checked).
	ReserveAttempt(ctx context.Context, customerID int64, threshold int) (failed int, ok bool, err error)
	// ReleaseAttempt gives back a reserved attempt whose answer was right.
	ReleaseAttempt(ctx context.Context, customerID int64) error
	// Lock sets LockedAt=now unless already locked; true if this call locked.
	Lock(ctx context.Context, customerID int64, now time.Time) (bool, error)
	ResetFailures(ctx context.Context, customerID int64) error
	Unlock(ctx context.Context, customerID int64) error // clears LockedAt and the counter
	// UseTOTPStep sets TOTPLastStep=step only if step > TOTPLastStep; false means replay.
	UseTOTPStep(ctx context.Context, customerID int64, step int64) (bool, error)
	SetEmail(ctx context.Context, customerID int64, email string, verifiedAt time.Time) error
	SetSecondFactor(ctx context.Context, customerID int64, factor string, totpSecret []byte) error // also resets TOTPLastStep to 0
	SetLang(ctx context.Context, customerID int64, lang string) error
	SetPasswordHash(ctx context.Context, customerID int64, hash string) error

	// E-mail one-time codes
	CreateEmailCode(ctx context.Context, c *EmailCode) error // sets ID
	// LatestEmailCode returns the newest unused code of this purpose, expired or not.
	LatestEmailCode(ctx context.Context, customerID int64, purpose string) (*EmailCode, error)
	AddEmailCodeAttempt(ctx context.Context, id int64) (attempts int, err error)
	// UseEmailCode marks it used; false if it was already used (a concurrent winner).
	UseEmailCode(ctx context.Context, id int64, now time.Time) (bool, error)

	// Sessions
	CreateSession(ctx context.Context, s *Session) error
	// SessionWithCustomer reads a session by the hash of its token, and its customer.
	SessionWithCustomer(ctx context.Context, idHash []byte) (*Session, *Customer, error)
	UpdateSession(ctx context.Context, s *Session) error // all fields but IDHash, CustomerID, CreatedAt
	DeleteSession(ctx context.Context, idHash []byte) error
	DeleteCustomerSessions(ctx context.Context, customerID int64) (int, error)
	// DeletePasskeySessions ends the sessions a passkey authenticated (it was
	// deleted or suspended).
	DeletePasskeySessions(ctx context.Context, customerID, passkeyID int64) (int, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// WebAuthn ceremonies
	CreateCeremony(ctx context.Context, c *Ceremony) error
	// ConsumeCeremony deletes and returns the ceremony of this kind in one statement;
	// ErrNotFound if absent, of another kind, or expired (an expired one is deleted too).
	ConsumeCeremony(ctx context.Context, id []byte, kind string, now time.Time) (*Ceremony, error)
	DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int, error)

	// Passkeys
	// AddPasskey inserts p unless the customer already has limit active passkeys (ErrLimit)
	// or the credential ID exists for anyone (ErrConflict). Safe under concurrency.
	AddPasskey(ctx context.Context, p *Passkey, limit int) error
	PasskeyByID(ctx context.Context, id int64) (*Passkey, error)
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// PasskeyWithCustomer is PasskeyByCredentialID and the passkey's customer, in one read.
	PasskeyWithCustomer(ctx context.Context, credentialID []byte) (*Passkey, *Customer, error)
	PasskeysByCustomer(ctx context.Context, customerID int64, includeRevoked bool) ([]*Passkey, error) // oldest first
	CountActivePasskeys(ctx context.Context, customerID int64) (int, error)
	// RecordPasskeyUse stores the new counter, backup state and last use only if the
	// stored counter is still oldCount (compare-and-swap); false means a concurrent use won.
	RecordPasskeyUse(ctx context.Context, id int64, oldCount, newCount uint32, backupState bool, now time.Time) (bool, error)
	RenamePasskey(ctx context.Context, id int64, name string) error
	RevokePasskey(ctx context.Context, id int64, by string, now time.Time) error // ErrNotFound if absent or already revoked
	SuspendPasskey(ctx context.Context, id int64, reason string, now time.Time) error

	// The passkey-mandatory phase and important operations (issue 6)
	SetSensitiveChange(ctx context.Context, customerID int64, at time.Time) error
	// MarkPhaseNotice records the reminder once; false if it was already recorded.
	MarkPhaseNotice(ctx context.Context, customerID int64, at time.Time) (bool, error)
	// CustomersWithoutPasskey lists customers with a verified e-mail, no active
	// passkey and no reminder yet, by id after afterID (for batched reminders).
	CustomersWithoutPasskey(ctx context.Context, afterID int64, limit int) ([]*Customer, error)
	RecordOperation(ctx context.Context, op *Operation) error                                                 // sets ID
	OperationsByCustomer(ctx context.Context, customerID int64, kind string, limit int) ([]*Operation, error) // newest first; kind "" means all

	// Audit log (append-only, hash-chained: the backend fills Seq, PrevHash, Hash)
	AppendAudit(ctx context.Context, e *AuditEntry) error
	AuditByCustomer(ctx context.Context, customerID int64, limit int) ([]*AuditEntry, error) // newest first
	AuditRange(ctx context.Context, afterSeq int64, limit int) ([]*AuditEntry, error)        // ascending seq

	// Mail outbox
	EnqueueMail(ctx context.Context, m *Mail) error
	// ClaimMail returns up to limit unsent mails due at now and pushes their NextTryAt
	// to now+lease so that no other sender takes them meanwhile.
	ClaimMail(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]*Mail, error)
	MarkMailSent(ctx context.Context, id int64, now time.Time) error
	MarkMailFailed(ctx context.Context, id int64, errText string, next time.Time) error
	SentMail(ctx context.Context, to string, limit int) ([]*Mail, error) // newest first; to=="" means all
	// DeleteSentMail deletes the mails sent before the given time; unsent ones stay.
	DeleteSentMail(ctx context.Context, before time.Time) (int, error)

	// Rate limiting: fixed windows shared by every instance.
	// Hit adds one to key's counter for the window starting at windowStart and returns it.
	Hit(ctx context.Context, key string, windowStart time.Time) (int, error)
	// Count returns key's counter for the window without adding to it.
	Count(ctx context.Context, key string, windowStart time.Time) (int, error)
	DeleteOldHits(ctx context.Context, before time.Time) (int, error)

	// Operators, inquiries, approvals (issue 7). Types in operators.go.
	//
	// Operators and their enrollment (O4).
	CreateOperator(ctx context.Context, o *Operator) error // sets ID; ErrConflict on a taken name or user handle
	OperatorByID(ctx context.Context, id int64) (*Operator, error)
	OperatorByName(ctx context.Context, name string) (*Operator, error)
	OperatorByUserHandle(ctx context.Context, handle []byte) (*Operator, error)
	Operators(ctx context.Context) ([]*Operator, error) // by name
	SetOperatorEnrollment(ctx context.Context, id int64, hash []byte, expires time.Time) error
	// ConsumeOperatorEnrollment clears the pending enrollment code only if it is
	// still hash (single use); false if another use or a newer code came first.
	ConsumeOperatorEnrollment(ctx context.Context, id int64, hash []byte) (bool, error)
	DisableOperator(ctx context.Context, id int64, now time.Time) error
	// Operator passkeys and console sessions.
	AddOperatorPasskey(ctx context.Context, p *OperatorPasskey) error // sets ID; ErrConflict on a taken credential ID
	OperatorPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*OperatorPasskey, error)
	OperatorPasskeys(ctx context.Context, operatorID int64) ([]*OperatorPasskey, error) // oldest first, revoked ones too
	// RecordOperatorPasskeyUse is RecordPasskeyUse for operator passkeys (compare-and-swap on the counter).
	RecordOperatorPasskeyUse(ctx context.Context, id int64, oldCount, newCount uint32, backupState bool, now time.Time) (bool, error)
	RevokeOperatorPasskeys(ctx context.Context, operatorID int64, now time.Time) (int, error)
	CreateOperatorSession(ctx context.Context, s *OperatorSession) error
	OperatorSessionByHash(ctx context.Context, idHash []byte) (*OperatorSession, error)
	TouchOperatorSession(ctx context.Context, idHash []byte, now time.Time) error
	DeleteOperatorSession(ctx context.Context, idHash []byte) error
	DeleteOperatorSessions(ctx context.Context, operatorID int64) (int, error)
	DeleteExpiredOperatorSessions(ctx context.Context, now time.Time) (int, error)
	// Procedures on customers (O3).
	SetFrozen(ctx context.Context, customerID int64, frozenAt time.Time) error // the zero time unfreezes
	UnsuspendPasskey(ctx context.Context, id int64) error                      // ErrNotFound if absent, revoked or not suspended
	// The inquiry form (O2).
	CreateInquiry(ctx context.Context, q *Inquiry) error // sets ID
	InquiryByID(ctx context.Context, id int64) (*Inquiry, error)
	OpenInquiries(ctx context.Context, limit int) ([]*Inquiry, error)                         // oldest first
	InquiriesByCustomer(ctx context.Context, customerID int64, limit int) ([]*Inquiry, error) // newest first
	CloseInquiry(ctx context.Context, id int64, by, note string, now time.Time) error         // ErrNotFound if absent or closed
	// Four-eyes requests (O4).
	CreateApprovalRequest(ctx context.Context, a *ApprovalRequest) error // sets ID
	ApprovalRequestByID(ctx context.Context, id int64) (*ApprovalRequest, error)
	ApprovalRequests(ctx context.Context, status string, limit int) ([]*ApprovalRequest, error)              // newest first; status "" means all
	ApprovalRequestsByCustomer(ctx context.Context, customerID int64, limit int) ([]*ApprovalRequest, error) // newest first
	// DecideApprovalRequest moves a pending request to status; false if it was
	// no longer pending (another operator decided first).
	DecideApprovalRequest(ctx context.Context, id int64, status, by, note string, now time.Time) (bool, error)
	// The audit chain's tip and the adoption dashboard (O5, O6).
	AuditHead(ctx context.Context) (seq int64, hash []byte, err error)
	AuditByEvent(ctx context.Context, event string, limit int) ([]*AuditEntry, error) // newest first (operator alerts)
	// AdoptionAt counts the customers with a successful login in (at-window, at]
	// and, of those, the ones who had a passkey bound at at (registered by then,
	// not revoked by then).
	AdoptionAt(ctx context.Context, at time.Time, window time.Duration) (active, withPasskey int, err error)
	LoginsByDay(ctx context.Context, since time.Time) ([]LoginDay, error) // successful logins from since, by day in Japan and method
	PasskeyGroups(ctx context.Context) ([]PasskeyGroup, error)            // active passkeys
	// ActiveWithoutPasskey counts the customers with a successful login after
	// since and no active passkey, and lists up to limit of them, most recent login first.
	ActiveWithoutPasskey(ctx context.Context, since time.Time, limit int) (int, []ActiveCustomer, error)
}
