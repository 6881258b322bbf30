package store

import "time"

// The call center (issue 7, SPEC O1–O6): operators and their passkeys and
// sessions, four-eyes approval requests, the inquiry form, and the figures of
// the adoption dashboard.

// Operator roles (O4). Both may look customers up, carry out the procedures
// and request the four-eyes ones; only a supervisor approves a request, and
// never their own.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
)

// Operator is a call-center operator. They log in to the console with their
// own passkeys; the first passkey is registered with a one-time enrollment
// code that `kagi operator add` prints.
type Operator struct {
	ID         int64
	Name       string // login name, unique: [a-z0-9._-], shown in the audit log as "operator:<name>"
	Role       string // RoleAgent or RoleSupervisor
	UserHandle []byte // random WebAuthn user handle
	// EnrollHash is the keyed hash of the pending one-time enrollment code,
	// nil when none is pending; it expires at EnrollExpiresAt.
	EnrollHash      []byte
	EnrollExpiresAt time.Time
	CreatedAt       time.Time
	CreatedBy       string
	DisabledAt      time.Time // zero while the operator may log in
}

// Active reports whether the operator may log in and act.
func (o *Operator) Active() bool { return o.DisabledAt.IsZero() }

// OperatorPasskey is a WebAuthn credential of an operator, for the console's
// relying party. Revoked ones are kept.
type OperatorPasskey struct {
	ID                int64
	OperatorID        int64
	CredentialID      []byte // unique among operator passkeys
	PublicKey         []byte
	SignCount         uint32
	AAGUID            []byte
	Transports        []string
	BackupEligible    bool
	BackupState       bool
	AttestationFormat string
	CreatedAt         time.Time
	CreatedIP         string
	LastUsedAt        time.Time
	RevokedAt         time.Time
}

// OperatorSession is a console session; only the SHA-256 of the cookie value
// is stored. It lives in a table of its own, so a customer's session token
// means nothing to the console and an operator's nothing to the customer site.
type OperatorSession struct {
	IDHash     []byte
	OperatorID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string
}

// Kinds of four-eyes requests (O4): changing a customer's e-mail address or
// second factor, and lifting a freeze.
const (
	RequestSecondFactorEmail = "second_factor_email" // switch the app (TOTP) second factor to e-mail (O1)
	RequestEmailChange       = "email_change"        // register a new address, verified by a code mailed to it (O2)
	RequestUnfreeze          = "unfreeze"            // lift a freeze after identity re-verification (O3)
)

// States of a request. Approved is final for second factor and unfreeze; an
// approved e-mail change waits for the customer to enter the code.
const (
	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestRejected  = "rejected"
	RequestCancelled = "cancelled"
)

// ApprovalRequest is a procedure one operator asked for and another must
// approve before it takes effect.
type ApprovalRequest struct {
	ID           int64
	Kind         string // Request*
	CustomerID   int64
	InquiryID    int64  // the inquiry it answers, 0 if none
	Payload      string // JSON of the kind's parameters (the new address, the identity check)
	Reason       string
	RequestedBy  string // operator name
	RequestedAt  time.Time
	Status       string // Request{Pending,Approved,Rejected,Cancelled}
	DecidedBy    string // operator name
	DecidedAt    time.Time
	DecisionNote string
}

// Inquiry topics (ご相談内容) of the inquiry form (O2).
const (
	TopicEmailChange  = "email_change"  // メールアドレス変更希望
	TopicLoginTrouble = "login_trouble" // ログインできない
	TopicOther        = "other"         // その他
)

// Inquiry is a message sent through the public inquiry form. Nothing in it is
// verified: the customer code is as typed, and the address receives nothing
// until an operator's approved e-mail change mails it a code.
type Inquiry struct {
	ID           int64
	CustomerCode string // as typed
	CustomerID   int64  // the customer with that code when it was sent, 0 if none
	Name         string
	Email        string
	Topic        string // Topic*
	Message      string
	IP           string
	UserAgent    string
	CreatedAt    time.Time
	ClosedAt     time.Time // zero while open
	ClosedBy     string
	CloseNote    string
}

// Open reports whether the inquiry still waits for the call center.
func (q *Inquiry) Open() bool { return q.ClosedAt.IsZero() }

// Purpose of the e-mail code that verifies an address an operator's approved
// e-mail change sends it to (O2).
const CodeEmailChange = "email_change"

// LoginDay counts successful logins of one method on one day in Japan.
type LoginDay struct {
	Day    time.Time // midnight in Asia/Tokyo
	Method string    // store.Method*
	Count  int
}

// PasskeyGroup counts active passkeys that share an AAGUID, transports and
// backup state, so the dashboard can name the authenticators and tell synced
// from device-bound ones.
type PasskeyGroup struct {
	AAGUID      []byte
	Transports  []string
	BackupState bool
	Count       int
}

// ActiveCustomer is a customer who logged in recently.
type ActiveCustomer struct {
	ID        int64     `json:"id"`
	Code      string    `json:"customer_code"`
	LastLogin time.Time `json:"last_login"`
}
