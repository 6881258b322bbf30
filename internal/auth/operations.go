package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/store"
)

// Codes of policy refusals and of the mandatory phase (P1–P3, P6).
const (
	CodePasskeyRequired     = policy.ReasonPasskeyRequired
	CodeCoolingOff          = policy.ReasonCoolingOff
	CodeRestricted          = policy.ReasonRestricted
	CodePasskeyLoginNeeded  = "passkey_login_required" // legacy login refused after the mandatory date
	ceremonyOperation       = "step_up_operation"
	ceremonyAuthorization   = "operation_authorization"
	operationAuthorizationT = 5 * time.Minute
)

// Schedule is the brokerage's published passkey schedule (P1).
func (s *Service) Schedule() policy.Schedule { return s.cfg.Schedule }

// Phase is the phase in force now.
func (s *Service) Phase() policy.Phase { return s.cfg.Schedule.PhaseAt(s.now()) }

// Restricted reports a legacy session after the mandatory date (P3).
func (c *Current) Restricted() bool { return c != nil && c.Session.Stage == store.StageRestricted }

// facts gathers what the policy needs to know about a session.
func (s *Service) facts(ctx context.Context, cur *Current) (policy.Facts, error) {
	n, err := s.st.CountActivePasskeys(ctx, cur.Customer.ID)
	if err != nil {
		return policy.Facts{}, err
	}
	return policy.Facts{
		Passkey:         cur.Session.Method == store.MethodPasskey,
		Restricted:      cur.Restricted(),
		PasskeyStepUpAt: decodeData(cur.Session).PasskeyStepUpAt,
		HasPasskey:      n > 0,
		CoolingOffFrom:  cur.Customer.SensitiveChangedAt,
	}, nil
}

// Decide tells whether the session may perform op now, and if not, why.
func (s *Service) Decide(ctx context.Context, cur *Current, op policy.Operation) (policy.Decision, error) {
	if cur == nil || (!cur.Full() && !cur.Restricted()) {
		return policy.Decision{}, newErr(CodeNotAuthenticated, nil)
	}
	f, err := s.facts(ctx, cur)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Decide(s.cfg.Schedule, s.now(), op, f), nil
}

// May decides every important operation at once (GET /api/session).
func (s *Service) May(ctx context.Context, cur *Current) (map[policy.Operation]policy.Decision, error) {
	if cur == nil || (!cur.Full() && !cur.Restricted()) {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	f, err := s.facts(ctx, cur)
	if err != nil {
		return nil, err
	}
	out := make(map[policy.Operation]policy.Decision, len(policy.Operations))
	for _, op := range policy.Operations {
		out[op] = policy.Decide(s.cfg.Schedule, s.now(), op, f)
	}
	return out, nil
}

// refusal turns a negative decision into the error the customer sees.
func refusal(d policy.Decision) error {
	if d.Reason == policy.ReasonCoolingOff {
		return newErr(CodeCoolingOff, nil, d.Until)
	}
	return newErr(d.Reason, nil)
}

// Holding is a line of the demo portfolio.
type Holding struct {
	Symbol   string
	Name     string
	Quantity int
	Price    int64 // yen
}

var demoHoldings = []Holding{
	{"7203", "トヨタ自動車", 200, 2850},
	{"6758", "ソニーグループ", 100, 3420},
	{"8306", "三菱UFJフィナンシャル・グループ", 500, 1720},
	{"9432", "日本電信電話", 1000, 152},
}

// Portfolio is the static demo holdings (P5).
func (s *Service) Portfolio(cur *Current) []Holding { return append([]Holding(nil), demoHoldings...) }

// OrderDetails is a buy or sell order (P5).
type OrderDetails struct {
	Symbol   string `json:"symbol"`
	Side     string `json:"side"` // buy or sell
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"` // yen; 0 = market order
}

// WithdrawalDetails is a withdrawal to the registered bank account.
type WithdrawalDetails struct {
	Amount int64 `json:"amount"` // yen
}

// BankAccount is where withdrawals go.
type BankAccount struct {
	Bank   string `json:"bank"`
	Branch string `json:"branch"`
	Type   string `json:"type"` // futsu or toza
	Number string `json:"number"`
	Holder string `json:"holder"`
}

var demoBankAccount = BankAccount{Bank: "ホームトレード銀行", Branch: "本店営業部", Type: "futsu", Number: "1234567", Holder: "カブシキ タロウ"}

const maxWithdrawal = 10_000_000

func (o OrderDetails) valid() bool {
	return validSymbol(o.Symbol) && (o.Side == "buy" || o.Side == "sell") &&
		o.Quantity > 0 && o.Quantity <= 1_000_000 && o.Price >= 0 && o.Price <= 100_000_000
}

func validSymbol(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func (w WithdrawalDetails) valid() bool { return w.Amount >= 1 && w.Amount <= maxWithdrawal }

func (b BankAccount) trimmed() BankAccount {
	b.Bank, b.Branch, b.Holder = strings.TrimSpace(b.Bank), strings.TrimSpace(b.Branch), strings.TrimSpace(b.Holder)
	return b
}

// withdrawalBinding is what a withdrawal's step-up signs: the amount and
// where the money goes (P7), so a later change of account voids it.
type withdrawalBinding struct {
	Amount      int64       `json:"amount"`
	Destination BankAccount `json:"destination"`
}

// bind adds to canonical details what the operation depends on besides them.
func (s *Service) bind(ctx context.Context, cur *Current, op policy.Operation, details []byte) ([]byte, error) {
	if op != policy.OpWithdraw {
		return details, nil
	}
	var w WithdrawalDetails
	if err := json.Unmarshal(details, &w); err != nil {
		return nil, err
	}
	dest, err := s.CurrentBankAccount(ctx, cur)
	if err != nil {
		return nil, err
	}
	return json.Marshal(withdrawalBinding{Amount: w.Amount, Destination: dest})
}

func (b BankAccount) valid() bool {
	if b.Type != "futsu" && b.Type != "toza" || len(b.Number) != 7 {
		return false
	}
	for _, r := range b.Number {
		if r < '0' || r > '9' {
			return false
		}
	}
	for _, f := range []string{b.Bank, b.Branch, b.Holder} {
		if strings.TrimSpace(f) == "" || utf8.RuneCountInString(f) > 40 || strings.ContainsAny(f, "\r\n\t<>") {
			return false
		}
	}
	return true
}

// canonical validates raw details for op and returns them in one fixed
// encoding, so the challenge and the authorization commit to exactly what
// will be executed (P7).
func canonical(op policy.Operation, raw []byte) ([]byte, error) {
	bad := newErr(CodeInvalidRequest, fmt.Errorf("invalid details for %s", op))
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return bad
		}
		return nil
	}
	var v any
	switch op {
	case policy.OpTrade:
		// Trading is not transaction-bound: the step-up covers the window, and
		// the order it is for is optional.
		if strings.TrimSpace(string(raw)) == "{}" {
			v = struct{}{}
			break
		}
		var o OrderDetails
		if err := dec(&o); err != nil || !o.valid() {
			return nil, bad
		}
		v = o
	case policy.OpWithdraw:
		var w WithdrawalDetails
		if err := dec(&w); err != nil || !w.valid() {
			return nil, bad
		}
		v = w
	case policy.OpChangeBankAccount:
		var b BankAccount
		if err := dec(&b); err != nil {
			return nil, bad
		}
		if b = b.trimmed(); !b.valid() {
			return nil, bad
		}
		v = b
	case policy.OpChangeEmail, policy.OpChangeSecondFactor:
		v = struct{}{}
	default:
		return nil, newErr(CodeInvalidRequest, fmt.Errorf("unknown operation %q", op))
	}
	return json.Marshal(v)
}

// operationCeremony is what a step-up ceremony for an operation remembers.
type operationCeremony struct {
	ceremonyState
	Operation policy.Operation `json:"operation"`
	Details   json.RawMessage  `json:"details"`
	Session   []byte           `json:"session_hash"`
}

// authorizationID keys the one-time permission a transaction step-up grants:
// this session, this operation, exactly these details.
func authorizationID(sessionHash []byte, op policy.Operation, details []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "kagi-authz-v1\x00%x\x00%s\x00", sessionHash, op)
	h.Write(details)
	return h.Sum(nil)
}

// Summary describes an operation for the page that asks for the passkey (P7).
func (s *Service) Summary(ctx context.Context, cur *Current, op policy.Operation, details []byte, lang string) string {
	switch op {
	case policy.OpWithdraw:
		var w withdrawalBinding
		_ = json.Unmarshal(details, &w)
		ba := w.Destination
		if ba.Number == "" {
			ba, _ = s.CurrentBankAccount(ctx, cur)
		}
		return pick(lang, "出金 ", "Withdrawal of ") + Yen(w.Amount, lang) + " → " + ba.Describe(lang)
	case policy.OpChangeBankAccount:
		var b BankAccount
		_ = json.Unmarshal(details, &b)
		return pick(lang, "出金先口座の変更 → ", "New withdrawal account: ") + b.Describe(lang)
	case policy.OpTrade:
		var o OrderDetails
		_ = json.Unmarshal(details, &o)
		return o.Describe(lang)
	}
	return string(op)
}

// OperationStepUpOptions begins a passkey step-up for op (P2, P7). For money
// operations the challenge is derived from the details plus server randomness,
// so the assertion signs what the page showed.
func (s *Service) OperationStepUpOptions(ctx context.Context, cur *Current, op policy.Operation, rawDetails []byte, binding string) (*protocol.CredentialAssertion, []byte, error) {
	if err := requireFull(cur); err != nil {
		return nil, nil, err
	}
	details, err := canonical(op, rawDetails)
	if err != nil {
		return nil, nil, err
	}
	if details, err = s.bind(ctx, cur, op, details); err != nil {
		return nil, nil, err
	}
	ps, err := s.st.PasskeysByCustomer(ctx, cur.Customer.ID, false)
	if err != nil {
		return nil, nil, err
	}
	user := &waUser{c: cur.Customer}
	for _, p := range ps {
		if p.Active() {
			user.creds = append(user.creds, toCredential(p))
		}
	}
	if len(user.creds) == 0 {
		return nil, nil, newErr(CodePasskeyRequired, nil)
	}
	nonce := make([]byte, 32)
	rand.Read(nonce)
	h := sha256.New()
	fmt.Fprintf(h, "kagi-op-v1\x00%s\x00", op)
	h.Write(details)
	h.Write([]byte{0})
	h.Write(nonce)
	a, sd, err := s.wa.BeginLogin(user, webauthn.WithChallenge(h.Sum(nil)), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(operationCeremony{
		ceremonyState: ceremonyState{Session: *sd, Binding: bindingHash(binding)},
		Operation:     op, Details: details, Session: cur.Session.IDHash,
	})
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	err = s.st.CreateCeremony(ctx, &store.Ceremony{ID: ceremonyID(sd.Challenge), Kind: ceremonyOperation, CustomerID: cur.Customer.ID, Data: data, CreatedAt: now, ExpiresAt: now.Add(CeremonyTTL)})
	return a, details, err
}

// OperationStepUp finishes a passkey step-up. A money operation gets a
// one-time authorization for exactly its details; other operations mark the
// session as stepped up for the window. Either way the session gets a new
// identifier (A6): the returned token replaces the cookie.
func (s *Service) OperationStepUp(ctx context.Context, cur *Current, body []byte, binding string, m Meta) (policy.Operation, string, error) {
	if err := requireFull(cur); err != nil {
		return "", "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return "", "", passkeyErr(err)
	}
	cer, _, err := s.takeCeremony(ctx, ceremonyOperation, parsed.Response.CollectedClientData.Challenge, binding)
	if err != nil {
		return "", "", err
	}
	var oc operationCeremony
	if err := json.Unmarshal(cer.Data, &oc); err != nil {
		return "", "", err
	}
	if cer.CustomerID != cur.Customer.ID || string(oc.Session) != string(cur.Session.IDHash) {
		return "", "", newErr(CodeCeremonyExpired, errors.New("step-up begun by another session"))
	}
	p, err := s.st.PasskeyByCredentialID(ctx, parsed.RawID)
	if isNotFound(err) || (err == nil && (p.CustomerID != cur.Customer.ID || !p.RevokedAt.IsZero())) {
		return "", "", newErr(CodePasskeyUnknown, errors.New("credential not among the customer's passkeys"))
	}
	if err != nil {
		return "", "", err
	}
	if !p.SuspendedAt.IsZero() {
		return "", "", newErr(CodePasskeySuspended, nil, s.cfg.Brand.Phone)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if !flags.HasUserVerified() {
		return "", "", newErr(CodePasskeyUV, errors.New("step-up without user verification"))
	}
	if flags.HasBackupEligible() != p.BackupEligible || (!flags.HasBackupEligible() && flags.HasBackupState()) {
		return "", "", newErr(CodePasskeyFailed, errors.New("backup flags"))
	}
	user := &waUser{c: cur.Customer, creds: []webauthn.Credential{toCredential(p)}}
	cred, err := s.wa.ValidateLogin(user, oc.ceremonyState.Session, parsed)
	if err != nil {
		return "", "", passkeyErr(err)
	}
	newCount := parsed.Response.AuthenticatorData.Counter
	if (newCount != 0 || p.SignCount != 0) && newCount <= p.SignCount {
		return "", "", s.suspectClone(ctx, cur.Customer, p, newCount, m)
	}
	now := s.now()
	var tok string
	sess := *cur.Session
	err = s.st.InTx(ctx, func(tx store.Store) error {
		ok, err := tx.RecordPasskeyUse(ctx, p.ID, p.SignCount, newCount, cred.Flags.BackupState, now)
		if err != nil {
			return err
		}
		if !ok {
			return newErr(CodePasskeyFailed, errors.New("concurrent use of one passkey"))
		}
		if !oc.Operation.TransactionBound() {
			d := decodeData(&sess)
			d.PasskeyStepUpAt = now
			sess.Data = encodeData(d)
		}
		if tok, err = s.rotateSession(ctx, tx, &sess); err != nil {
			return err
		}
		if oc.Operation.TransactionBound() {
			// Bound to the rotated session: the operation must come with the new cookie.
			if err := tx.CreateCeremony(ctx, &store.Ceremony{
				ID: authorizationID(sess.IDHash, oc.Operation, oc.Details), Kind: ceremonyAuthorization,
				CustomerID: cur.Customer.ID, Data: oc.Details, CreatedAt: now, ExpiresAt: now.Add(operationAuthorizationT),
			}); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return s.audit(ctx, tx, "customer", cur.Customer.ID, "step_up.passkey.ok", m, map[string]any{
			"operation": oc.Operation, "details": json.RawMessage(oc.Details), "passkey_id": p.ID,
		})
	})
	if err != nil {
		return "", "", err
	}
	*cur.Session = sess
	return oc.Operation, tok, nil
}

// authorize checks the policy for op on this session and, when a transaction
// step-up is needed, consumes the authorization for exactly these details.
func (s *Service) authorize(ctx context.Context, tx store.Store, cur *Current, op policy.Operation, details []byte) (method string, err error) {
	d, err := s.Decide(ctx, cur, op)
	if err != nil {
		return "", err
	}
	if !d.Allowed {
		return "", refusal(d)
	}
	method = cur.Session.Method
	if d.NeedsTransactionStepUp {
		if _, err := tx.ConsumeCeremony(ctx, authorizationID(cur.Session.IDHash, op, details), ceremonyAuthorization, s.now()); err != nil {
			if isNotFound(err) {
				return "", newErr(CodeStepUpRequired, errors.New("no passkey step-up for these details"))
			}
			return "", err
		}
		method += "+passkey_step_up"
	} else if cur.Session.Method != store.MethodPasskey && !decodeData(cur.Session).PasskeyStepUpAt.IsZero() && s.Phase() == policy.PhaseMandatory {
		method += "+passkey_step_up"
	}
	return method, nil
}

// perform runs one important operation: policy, record, audit and the notice
// to the customer, in one transaction (P2, P4, P5).
func (s *Service) perform(ctx context.Context, cur *Current, op policy.Operation, details []byte, summary string, m Meta) (*store.Operation, error) {
	if cur == nil || (!cur.Full() && !cur.Restricted()) {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	var rec *store.Operation
	err := s.inTx(ctx, func(tx store.Store, mailed *bool) error {
		method, err := s.authorize(ctx, tx, cur, op, details)
		if err != nil {
			return err
		}
		rec = &store.Operation{CustomerID: cur.Customer.ID, Kind: string(op), Detail: string(details), Method: method, CreatedAt: s.now(), IP: m.IP}
		if err := tx.RecordOperation(ctx, rec); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "customer", cur.Customer.ID, "operation."+string(op), m, map[string]any{"operation_id": rec.ID, "method": method}); err != nil {
			return err
		}
		*mailed = true
		return s.notify(ctx, tx, cur.Customer.Email, cur.Customer.Lang, mail.KindOperationNotice, mail.Data{
			CustomerCode: cur.Customer.Code, Operation: string(op), Detail: summary, Method: cur.Session.Method,
			IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// PlaceOrder records a buy or sell order.
func (s *Service) PlaceOrder(ctx context.Context, cur *Current, o OrderDetails, m Meta) (*store.Operation, error) {
	if !o.valid() {
		return nil, newErr(CodeInvalidRequest, errors.New("invalid order"))
	}
	details, _ := json.Marshal(o)
	return s.perform(ctx, cur, policy.OpTrade, details, o.Describe(langOf(cur)), m)
}

// Withdraw records a withdrawal to the registered bank account.
func (s *Service) Withdraw(ctx context.Context, cur *Current, w WithdrawalDetails, m Meta) (*store.Operation, error) {
	if !w.valid() {
		return nil, newErr(CodeInvalidRequest, errors.New("invalid amount"))
	}
	details, _ := json.Marshal(w)
	summary := s.Summary(ctx, cur, policy.OpWithdraw, details, langOf(cur))
	bound, err := s.bind(ctx, cur, policy.OpWithdraw, details)
	if err != nil {
		return nil, err
	}
	return s.perform(ctx, cur, policy.OpWithdraw, bound, summary, m)
}

// ChangeBankAccount replaces the withdrawal destination.
func (s *Service) ChangeBankAccount(ctx context.Context, cur *Current, b BankAccount, m Meta) (*store.Operation, error) {
	if b = b.trimmed(); !b.valid() {
		return nil, newErr(CodeInvalidRequest, errors.New("invalid bank account"))
	}
	details, _ := json.Marshal(b)
	return s.perform(ctx, cur, policy.OpChangeBankAccount, details, s.Summary(ctx, cur, policy.OpChangeBankAccount, details, langOf(cur)), m)
}

// CurrentBankAccount is the latest destination, or the demo's default.
func (s *Service) CurrentBankAccount(ctx context.Context, cur *Current) (BankAccount, error) {
	ops, err := s.st.OperationsByCustomer(ctx, cur.Customer.ID, string(policy.OpChangeBankAccount), 1)
	if err != nil || len(ops) == 0 {
		return demoBankAccount, err
	}
	var b BankAccount
	if err := json.Unmarshal([]byte(ops[0].Detail), &b); err != nil {
		return demoBankAccount, nil
	}
	return b, nil
}

// RequestEmailChange mails a code to the new address (P2).
func (s *Service) RequestEmailChange(ctx context.Context, cur *Current, email string, m Meta) error {
	d, err := s.Decide(ctx, cur, policy.OpChangeEmail)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return refusal(d)
	}
	addr, ok := NormalizeEmail(email)
	if !ok {
		return newErr(CodeInvalidEmail, nil)
	}
	if strings.EqualFold(addr, cur.Customer.Email) {
		return newErr(CodeInvalidEmail, errors.New("same address"))
	}
	return s.inTx(ctx, func(tx store.Store, mailed *bool) error {
		sd := decodeData(cur.Session)
		sd.PendingEmail = addr
		cur.Session.Data = encodeData(sd)
		if err := tx.UpdateSession(ctx, cur.Session); err != nil {
			return err
		}
		if err := s.sendCode(ctx, tx, cur.Customer, codeEmailChange, addr, langOf(cur), mail.KindEmailChangeCode, m); err != nil {
			return err
		}
		*mailed = true
		return nil
	})
}

const codeEmailChange = "email_change"

// PendingEmailChange is the address waiting for its code, if any.
func (s *Service) PendingEmailChange(cur *Current) string {
	if cur == nil || !cur.Full() {
		return ""
	}
	return decodeData(cur.Session).PendingEmail
}

// ConfirmEmailChange checks the code sent to the new address and switches to
// it, telling both addresses; money operations then wait out the cooling-off.
func (s *Service) ConfirmEmailChange(ctx context.Context, cur *Current, code string, m Meta) error {
	addr := s.PendingEmailChange(cur)
	if addr == "" {
		return newErr(CodeInvalidRequest, errors.New("no pending e-mail change"))
	}
	c := cur.Customer
	old := c.Email
	err := s.guard(ctx, c, "email_change.fail", m, func() (wrong, err error) {
		err = s.inTx(ctx, func(tx store.Store, mailed *bool) error {
			if _, err := s.authorize(ctx, tx, cur, policy.OpChangeEmail, []byte("{}")); err != nil {
				return err
			}
			wrong = s.checkCodeFor(ctx, tx, c, codeEmailChange, addr, code)
			if wrong != nil {
				if ErrorCode(wrong) == "" {
					return wrong
				}
				return nil // keep the used-up attempt
			}
			now := s.now()
			if err := tx.SetEmail(ctx, c.ID, addr, now); err != nil {
				return err
			}
			if err := tx.SetSensitiveChange(ctx, c.ID, now); err != nil {
				return err
			}
			sd := decodeData(cur.Session)
			sd.PendingEmail = ""
			cur.Session.Data = encodeData(sd)
			if err := tx.UpdateSession(ctx, cur.Session); err != nil {
				return err
			}
			detail, _ := json.Marshal(map[string]string{"email": addr})
			if err := tx.RecordOperation(ctx, &store.Operation{CustomerID: c.ID, Kind: string(policy.OpChangeEmail), Detail: string(detail), Method: cur.Session.Method, CreatedAt: now, IP: m.IP}); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, "customer", c.ID, "email.changed", m, nil); err != nil {
				return err
			}
			*mailed = true
			data := mail.Data{CustomerCode: c.Code, Email: addr, OldEmail: old, CoolingHours: int(s.cfg.Schedule.CoolingOff / time.Hour), IP: m.IP, Browser: describeUA(m.UserAgent)}
			if err := s.notify(ctx, tx, old, c.Lang, mail.KindEmailChanged, data); err != nil {
				return err
			}
			return s.notify(ctx, tx, addr, c.Lang, mail.KindEmailChanged, data)
		})
		return wrong, err
	})
	if err != nil {
		return err
	}
	c.Email, c.SensitiveChangedAt = addr, s.now()
	return nil
}

// LoginEvent is one line of the login history (P8).
type LoginEvent struct {
	At      time.Time
	Method  string // store.Method*, "" when the attempt failed before one was known
	IP      string
	Browser string
	OK      bool
	Detail  string // what failed, as an audit event name
}

var loginEvents = map[string]bool{
	"login.success": true, "login.password.fail": true, "login.second_factor.fail": true,
	"login.passkey.fail": true, "login.passkey.suspended": true, "login.refused": true, "login.restricted": true,
}

// LoginHistory lists the customer's recent login attempts, newest first.
func (s *Service) LoginHistory(ctx context.Context, cur *Current, limit int) ([]LoginEvent, error) {
	if cur == nil || (!cur.Full() && !cur.Restricted()) {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	es, err := s.st.AuditByCustomer(ctx, cur.Customer.ID, limit*8)
	if err != nil {
		return nil, err
	}
	var out []LoginEvent
	for _, e := range es {
		if !loginEvents[e.Event] {
			continue
		}
		var d struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal([]byte(e.Detail), &d)
		ev := LoginEvent{At: e.At, Method: d.Method, IP: e.IP, Browser: describeUA(e.UserAgent), OK: e.Event == "login.success" || e.Event == "login.restricted"}
		if !ev.OK {
			ev.Detail = e.Event
		}
		out = append(out, ev)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// SendPhaseReminders mails, once, every customer without a passkey that
// passkeys become mandatory, within the configured lead time before the date.
func (s *Service) SendPhaseReminders(ctx context.Context) (int, error) {
	sched := s.cfg.Schedule
	now := s.now()
	if sched.MandatoryFrom.IsZero() || !now.Before(sched.MandatoryFrom) || now.Before(sched.MandatoryFrom.Add(-s.cfg.ReminderLead)) {
		return 0, nil
	}
	sent := 0
	var after int64
	for {
		cs, err := s.st.CustomersWithoutPasskey(ctx, after, 100)
		if err != nil || len(cs) == 0 {
			return sent, err
		}
		for _, c := range cs {
			after = c.ID
			err := s.inTx(ctx, func(tx store.Store, mailed *bool) error {
				first, err := tx.MarkPhaseNotice(ctx, c.ID, now)
				if err != nil || !first {
					return err
				}
				*mailed = true
				sent++
				return s.notify(ctx, tx, c.Email, c.Lang, mail.KindPasskeyReminder, mail.Data{CustomerCode: c.Code, Deadline: sched.MandatoryFrom})
			})
			if err != nil {
				return sent, err
			}
		}
	}
}

func langOf(cur *Current) string { return langOr(cur.Customer.Lang, "ja") }

// Yen formats an amount: "100,000円" or "¥100,000".
func Yen(v int64, lang string) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if lang == "en" {
		return "¥" + b.String()
	}
	return b.String() + "円"
}

// Describe shows an account with its number masked but for the last three digits.
func (b BankAccount) Describe(lang string) string {
	typ := pick(lang, "普通", "ordinary")
	if b.Type == "toza" {
		typ = pick(lang, "当座", "current")
	}
	num := b.Number
	if len(num) > 3 {
		num = strings.Repeat("*", len(num)-3) + num[len(num)-3:]
	}
	return fmt.Sprintf("%s %s %s %s %s", b.Bank, b.Branch, typ, num, b.Holder)
}

// Describe shows an order in one line.
func (o OrderDetails) Describe(lang string) string {
	side := pick(lang, "買", "buy")
	if o.Side == "sell" {
		side = pick(lang, "売", "sell")
	}
	name := o.Symbol
	for _, h := range demoHoldings {
		if h.Symbol == o.Symbol {
			name = pick(lang, h.Name+"("+h.Symbol+")", o.Symbol)
		}
	}
	price := pick(lang, "成行", "market")
	if o.Price > 0 {
		price = pick(lang, "指値 ", "limit ") + Yen(o.Price, lang)
	}
	return fmt.Sprintf("%s %s %d%s %s", name, side, o.Quantity, pick(lang, "株", " shares"), price)
}
