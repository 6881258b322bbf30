package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// Four eyes (O4): changing a customer's e-mail address or second factor, and
// lifting a freeze, take two operators. One requests, with a reason; another,
// a supervisor, approves, and only then does the change happen — in the
// approval's transaction, with its audit entries and the customer's mail. Nobody
// approves their own request. From the command line the same holds:
// `kagi operator request ... --as A`, then `kagi operator approve --id N --as B`.

// Further codes of the four-eyes procedures.
const CodeIDCheckRequired = "id_check_required" // unfreezing needs the identity re-verification recorded

// NewRequest is a four-eyes procedure an operator asks for.
type NewRequest struct {
	Kind      string // store.Request*
	Code      string // the customer's code
	Reason    string
	Email     string // RequestEmailChange: the new address (default: the inquiry's)
	InquiryID int64  // RequestEmailChange: the inquiry it answers (optional from the CLI)
	IDCheck   string // RequestUnfreeze: how the identity was re-verified, e.g. "運転免許証"
	IDNote    string // RequestUnfreeze: what was checked
}

// RequestPayload is the kind-specific part of a request, stored as JSON.
type RequestPayload struct {
	Email   string `json:"email,omitempty"`
	IDCheck string `json:"id_check,omitempty"`
	IDNote  string `json:"id_note,omitempty"`
}

// PayloadOf decodes a request's payload (an unreadable one reads as empty).
func PayloadOf(r *store.ApprovalRequest) RequestPayload {
	var p RequestPayload
	_ = json.Unmarshal([]byte(r.Payload), &p)
	return p
}

func shortText(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// Request records a four-eyes request after checking that it fits the
// customer's state; nothing changes until another operator approves it.
func (c *Console) Request(ctx context.Context, a Actor, n NewRequest) (*store.ApprovalRequest, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	reason, err := cleanReason(n.Reason)
	if err != nil {
		return nil, err
	}
	var req *store.ApprovalRequest
	err = c.s.st.InTx(ctx, func(st store.Store) error {
		cu, err := c.customer(ctx, st, n.Code)
		if err != nil {
			return err
		}
		var p RequestPayload
		switch n.Kind {
		case store.RequestSecondFactorEmail:
			if err := canSwitchToEmail(cu); err != nil {
				return err
			}
		case store.RequestEmailChange:
			if n.InquiryID != 0 {
				q, err := st.InquiryByID(ctx, n.InquiryID)
				if isNotFound(err) || (err == nil && q.CustomerID != cu.ID) {
					return newErr(CodeNotFound, fmt.Errorf("inquiry %d of customer %s", n.InquiryID, cu.Code))
				}
				if err != nil {
					return err
				}
				if !q.Open() {
					return newErr(CodeNotApplicable, fmt.Errorf("inquiry %d is closed", q.ID))
				}
				if strings.TrimSpace(n.Email) == "" {
					n.Email = q.Email
				}
			}
			addr, ok := NormalizeEmail(n.Email)
			if !ok {
				return newErr(CodeInvalidEmail, nil)
			}
			if strings.EqualFold(addr, cu.Email) && cu.EmailVerified() {
				return newErr(CodeNotApplicable, errors.New("that address is already registered"))
			}
			p.Email = addr
		case store.RequestUnfreeze:
			if cu.FrozenAt.IsZero() {
				return newErr(CodeNotApplicable, errors.New("the account is not frozen"))
			}
			p.IDCheck, p.IDNote = shortText(n.IDCheck, 100), shortText(n.IDNote, 500)
			if p.IDCheck == "" {
				return newErr(CodeIDCheckRequired, nil)
			}
		default:
			return newErr(CodeInvalidRequest, fmt.Errorf("unknown request kind %q", n.Kind))
		}
		pending, err := st.ApprovalRequestsByCustomer(ctx, cu.ID, 100)
		if err != nil {
			return err
		}
		for _, r := range pending {
			if r.Status == store.RequestPending && r.Kind == n.Kind && c.s.now().Sub(r.RequestedAt) < c.cfg.RequestTTL {
				return newErr(CodeRequestDuplicate, fmt.Errorf("request %d is pending", r.ID))
			}
		}
		payload, _ := json.Marshal(p)
		req = &store.ApprovalRequest{
			Kind: n.Kind, CustomerID: cu.ID, InquiryID: n.InquiryID, Payload: string(payload), Reason: reason,
			RequestedBy: a.Operator.Name, RequestedAt: c.s.now(), Status: store.RequestPending,
		}
		if err := st.CreateApprovalRequest(ctx, req); err != nil {
			return err
		}
		d := map[string]any{"request_id": req.ID, "kind": req.Kind}
		if p.Email != "" {
			d["email"] = p.Email
		}
		if p.IDCheck != "" {
			d["id_check"] = p.IDCheck
		}
		return c.opAudit(ctx, st, a, cu.ID, "request.created", reason, d)
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}

func canSwitchToEmail(cu *store.Customer) error {
	if cu.SecondFactor != store.FactorTOTP {
		return newErr(CodeNotApplicable, errors.New("the customer is not on the authenticator app"))
	}
	if !cu.EmailVerified() {
		return newErr(CodeNotApplicable, errors.New("the customer has no verified e-mail address for codes"))
	}
	return nil
}

// decidable loads a pending request and checks that a may decide it.
func (c *Console) decidable(ctx context.Context, a Actor, id int64) (*store.ApprovalRequest, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	r, err := c.s.st.ApprovalRequestByID(ctx, id)
	if isNotFound(err) {
		return nil, newErr(CodeNotFound, fmt.Errorf("no request %d", id))
	}
	if err != nil {
		return nil, err
	}
	if r.Status != store.RequestPending {
		return nil, newErr(CodeRequestClosed, fmt.Errorf("request %d is %s", id, r.Status))
	}
	return r, nil
}

// Approve carries out a pending request: only a supervisor may, never the
// operator who asked (four eyes), and only within RequestTTL.
func (c *Console) Approve(ctx context.Context, a Actor, id int64, note string) (*store.ApprovalRequest, error) {
	r, err := c.decidable(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if r.RequestedBy == a.Operator.Name {
		return nil, newErr(CodeOwnRequest, fmt.Errorf("%s asked for request %d", a.Operator.Name, id))
	}
	if !a.Supervisor() {
		return nil, newErr(CodeOperatorForbidden, fmt.Errorf("%s is an agent: only a supervisor approves", a.Operator.Name))
	}
	if c.s.now().Sub(r.RequestedAt) >= c.cfg.RequestTTL {
		return nil, newErr(CodeRequestExpired, fmt.Errorf("request %d is older than %s", id, c.cfg.RequestTTL))
	}
	note, err = cleanReason(note)
	if err != nil {
		return nil, err
	}
	err = c.s.inTx(ctx, func(st store.Store, mailed *bool) error {
		ok, err := st.DecideApprovalRequest(ctx, r.ID, store.RequestApproved, a.Operator.Name, note, c.s.now())
		if err != nil {
			return err
		}
		if !ok {
			return newErr(CodeRequestClosed, fmt.Errorf("request %d was decided meanwhile", r.ID))
		}
		cu, err := st.CustomerByID(ctx, r.CustomerID)
		if err != nil {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "request.approved", note, map[string]any{
			"request_id": r.ID, "kind": r.Kind, "requested_by": r.RequestedBy,
		}); err != nil {
			return err
		}
		*mailed = true
		return c.carryOut(ctx, st, a, r, cu)
	})
	if err != nil {
		return nil, err
	}
	return c.s.st.ApprovalRequestByID(ctx, r.ID)
}

// carryOut makes the change an approved request asked for.
func (c *Console) carryOut(ctx context.Context, st store.Store, a Actor, r *store.ApprovalRequest, cu *store.Customer) error {
	p := PayloadOf(r)
	base := map[string]any{"request_id": r.ID, "requested_by": r.RequestedBy}
	now := c.s.now()
	switch r.Kind {
	case store.RequestSecondFactorEmail: // O1
		if err := canSwitchToEmail(cu); err != nil {
			return err
		}
		if err := st.SetSecondFactor(ctx, cu.ID, store.FactorEmail, nil); err != nil {
			return err
		}
		if err := st.SetSensitiveChange(ctx, cu.ID, now); err != nil {
			return err
		}
		n, err := st.DeleteCustomerSessions(ctx, cu.ID)
		if err != nil {
			return err
		}
		base["from"], base["to"], base["sessions_ended"] = store.FactorTOTP, store.FactorEmail, n
		if err := c.opAudit(ctx, st, a, cu.ID, "second_factor.changed", r.Reason, base); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorSecondFactor, mail.Data{Method: store.FactorEmail})
	case store.RequestEmailChange: // O2: nothing changes until the code comes back
		return c.issueEmailChangeCode(ctx, st, a, r, cu, p.Email)
	case store.RequestUnfreeze: // O3
		if cu.FrozenAt.IsZero() {
			return newErr(CodeNotApplicable, errors.New("the account is not frozen"))
		}
		if err := st.SetFrozen(ctx, cu.ID, time.Time{}); err != nil {
			return err
		}
		base["id_check"], base["id_note"] = p.IDCheck, p.IDNote
		if err := c.opAudit(ctx, st, a, cu.ID, "account.unfrozen", r.Reason, base); err != nil {
			return err
		}
		return c.tell(ctx, st, cu, mail.KindOperatorUnfrozen, mail.Data{})
	}
	return newErr(CodeInvalidRequest, fmt.Errorf("request %d has unknown kind %q", r.ID, r.Kind))
}

// issueEmailChangeCode mails a one-time code to the new address; the customer
// enters it on the inquiry page (VerifyEmailChange), which makes the change.
// The address gets nothing else until then (O2).
func (c *Console) issueEmailChangeCode(ctx context.Context, st store.Store, a Actor, r *store.ApprovalRequest, cu *store.Customer, addr string) error {
	if addr == "" {
		return newErr(CodeInvalidEmail, errors.New("request without an address"))
	}
	v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", v.Int64())
	now := c.s.now()
	if err := st.CreateEmailCode(ctx, &store.EmailCode{
		CustomerID: cu.ID, Purpose: store.CodeEmailChange, Email: addr,
		CodeHash: c.s.codeMAC(cu.ID, store.CodeEmailChange, addr, code), CreatedAt: now, ExpiresAt: now.Add(c.cfg.EmailChangeTTL),
	}); err != nil {
		return err
	}
	if err := c.opAudit(ctx, st, a, cu.ID, "email.change_code_sent", "", map[string]any{"request_id": r.ID, "email": addr}); err != nil {
		return err
	}
	return c.s.notify(ctx, st, addr, langOr(cu.Lang, "ja"), mail.KindOperatorEmailCode, mail.Data{
		CustomerCode: cu.Code, Code: code, Email: addr, ExpiresMinutes: int(c.cfg.EmailChangeTTL / time.Minute),
	})
}

// ResendEmailChangeCode mails a new code for an approved e-mail change whose
// code expired or was used up by wrong attempts; the older code stops working.
func (c *Console) ResendEmailChangeCode(ctx context.Context, a Actor, id int64, reason string) error {
	if err := a.check(); err != nil {
		return err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	r, err := c.s.st.ApprovalRequestByID(ctx, id)
	if isNotFound(err) {
		return newErr(CodeNotFound, fmt.Errorf("no request %d", id))
	}
	if err != nil {
		return err
	}
	if r.Kind != store.RequestEmailChange || r.Status != store.RequestApproved {
		return newErr(CodeNotApplicable, fmt.Errorf("request %d is not an approved e-mail change", id))
	}
	if c.s.now().Sub(r.DecidedAt) >= c.cfg.RequestTTL {
		return newErr(CodeRequestExpired, fmt.Errorf("request %d was approved more than %s ago", id, c.cfg.RequestTTL))
	}
	return c.s.inTx(ctx, func(st store.Store, mailed *bool) error {
		cu, err := st.CustomerByID(ctx, r.CustomerID)
		if err != nil {
			return err
		}
		p := PayloadOf(r)
		if strings.EqualFold(cu.Email, p.Email) {
			return newErr(CodeNotApplicable, errors.New("the new address is already registered"))
		}
		if last, err := st.LatestEmailCode(ctx, cu.ID, store.CodeEmailChange); err == nil && c.s.now().Sub(last.CreatedAt) < c.s.cfg.EmailCodeResend {
			return newErr(CodeResendWait, nil)
		} else if err != nil && !isNotFound(err) {
			return err
		}
		if err := c.opAudit(ctx, st, a, cu.ID, "email.change_code_resent", reason, map[string]any{"request_id": r.ID}); err != nil {
			return err
		}
		*mailed = true
		return c.issueEmailChangeCode(ctx, st, a, r, cu, p.Email)
	})
}

// Reject closes a pending request without carrying it out: a supervisor's
// decision, with a reason, on somebody else's request.
func (c *Console) Reject(ctx context.Context, a Actor, id int64, note string) error {
	r, err := c.decidable(ctx, a, id)
	if err != nil {
		return err
	}
	if r.RequestedBy == a.Operator.Name {
		return newErr(CodeOwnRequest, errors.New("withdraw your own request instead"))
	}
	if !a.Supervisor() {
		return newErr(CodeOperatorForbidden, fmt.Errorf("%s is an agent: only a supervisor rejects", a.Operator.Name))
	}
	return c.close(ctx, a, r, store.RequestRejected, "request.rejected", note)
}

// Cancel withdraws one's own pending request.
func (c *Console) Cancel(ctx context.Context, a Actor, id int64, note string) error {
	r, err := c.decidable(ctx, a, id)
	if err != nil {
		return err
	}
	if r.RequestedBy != a.Operator.Name {
		return newErr(CodeOperatorForbidden, fmt.Errorf("request %d is %s's", id, r.RequestedBy))
	}
	return c.close(ctx, a, r, store.RequestCancelled, "request.cancelled", note)
}

func (c *Console) close(ctx context.Context, a Actor, r *store.ApprovalRequest, status, event, note string) error {
	note, err := cleanReason(note)
	if err != nil {
		return err
	}
	return c.s.st.InTx(ctx, func(st store.Store) error {
		ok, err := st.DecideApprovalRequest(ctx, r.ID, status, a.Operator.Name, note, c.s.now())
		if err != nil {
			return err
		}
		if !ok {
			return newErr(CodeRequestClosed, fmt.Errorf("request %d was decided meanwhile", r.ID))
		}
		return c.opAudit(ctx, st, a, r.CustomerID, event, note, map[string]any{"request_id": r.ID, "kind": r.Kind, "requested_by": r.RequestedBy})
	})
}

// Requests lists requests by status ("" for all), newest first.
func (c *Console) Requests(ctx context.Context, status string, limit int) ([]*store.ApprovalRequest, error) {
	return c.s.st.ApprovalRequests(ctx, status, limit)
}

// RequestByID returns one request.
func (c *Console) RequestByID(ctx context.Context, id int64) (*store.ApprovalRequest, error) {
	r, err := c.s.st.ApprovalRequestByID(ctx, id)
	if isNotFound(err) {
		return nil, newErr(CodeNotFound, err)
	}
	return r, err
}

// CustomerByID returns a customer (for the request queue's customer codes).
func (c *Console) CustomerByID(ctx context.Context, id int64) (*store.Customer, error) {
	return c.s.st.CustomerByID(ctx, id)
}
