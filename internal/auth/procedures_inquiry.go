package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// The inquiry form (お問い合わせフォーム, O2): anyone may send it, nothing in it is
// trusted, and nothing is mailed to the address it names. An operator reads the
// queue; for an e-mail change, an approved request mails a code to the new
// address, and the customer enters it on the same page (VerifyEmailChange).

// InquiryForm is what the form sends.
type InquiryForm struct {
	CustomerCode string
	Name         string
	Email        string
	Topic        string // store.Topic*
	Message      string
}

// Limits of the form's fields, in characters.
const (
	maxInquiryName    = 50
	maxInquiryMessage = 1000
)

// Topics lists the inquiry topics in the order the form offers them.
var Topics = []string{store.TopicEmailChange, store.TopicLoginTrouble, store.TopicOther}

// cleanFormText drops control characters (keeping line breaks when lines) and
// trims; the form's text reaches operators, never a mail.
func cleanFormText(s string, lines bool) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' && lines {
			return r
		}
		if r == '\r' {
			return -1
		}
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.In(r, unicode.Cf) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// ValidateInquiry cleans the form and names the fields that are wrong
// ("customer_code", "name", "email", "topic", "message").
func ValidateInquiry(f InquiryForm) (InquiryForm, []string) {
	var bad []string
	f.CustomerCode = strings.TrimSpace(f.CustomerCode)
	f.Name = cleanFormText(f.Name, false)
	f.Topic = strings.TrimSpace(f.Topic)
	f.Message = cleanFormText(f.Message, true)
	if !ValidCustomerCode(f.CustomerCode) {
		bad = append(bad, "customer_code")
	}
	if n := utf8.RuneCountInString(f.Name); n == 0 || n > maxInquiryName {
		bad = append(bad, "name")
	}
	if addr, ok := NormalizeEmail(f.Email); ok {
		f.Email = addr
	} else {
		bad = append(bad, "email")
	}
	valid := false
	for _, t := range Topics {
		valid = valid || f.Topic == t
	}
	if !valid {
		bad = append(bad, "topic")
	}
	if utf8.RuneCountInString(f.Message) > maxInquiryMessage || (f.Topic == store.TopicOther && f.Message == "") {
		bad = append(bad, "message")
	}
	return f, bad
}

// SubmitInquiry stores a valid form. The answer is the same whether the
// customer code exists or not (A5); the inquiry notes the customer it matched.
func (s *Service) SubmitInquiry(ctx context.Context, f InquiryForm, m Meta) (*store.Inquiry, error) {
	f, bad := ValidateInquiry(f)
	if len(bad) > 0 {
		return nil, newErr(CodeInvalidRequest, fmt.Errorf("inquiry fields %v", bad))
	}
	q := &store.Inquiry{
		CustomerCode: f.CustomerCode, Name: f.Name, Email: f.Email, Topic: f.Topic, Message: f.Message,
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512), CreatedAt: s.now(),
	}
	if c, err := s.st.CustomerByCode(ctx, f.CustomerCode); err == nil {
		q.CustomerID = c.ID
	} else if !isNotFound(err) {
		return nil, err
	}
	err := s.st.InTx(ctx, func(st store.Store) error {
		if err := st.CreateInquiry(ctx, q); err != nil {
			return err
		}
		return s.audit(ctx, st, "customer", q.CustomerID, "inquiry.received", m, map[string]any{"inquiry_id": q.ID, "topic": q.Topic})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// VerifyEmailChange completes an approved e-mail change (O2): the customer
// enters their customer code and the code mailed to the new address. Only then
// is the address registered (verified), the customer's sessions ended and both
// addresses told, in one transaction. Every failure is CodeEmailChangeInvalid,
// so the page reveals neither customers nor pending changes.
func (s *Service) VerifyEmailChange(ctx context.Context, customerCode, code string, m Meta) error {
	invalid := func(why string) error { return newErr(CodeEmailChangeInvalid, errors.New(why)) }
	customerCode = strings.TrimSpace(customerCode)
	code = strings.TrimSpace(code)
	if !ValidCustomerCode(customerCode) || !validCodeFormat(code) {
		return invalid("malformed customer code or code")
	}
	c, err := s.st.CustomerByCode(ctx, customerCode)
	if isNotFound(err) {
		return invalid("unknown customer")
	}
	if err != nil {
		return err
	}
	if !c.FrozenAt.IsZero() {
		return invalid("account frozen")
	}
	var derr error
	err = s.inTx(ctx, func(st store.Store, mailed *bool) error {
		ec, err := st.LatestEmailCode(ctx, c.ID, store.CodeEmailChange)
		if isNotFound(err) {
			derr = invalid("no pending e-mail change")
			return nil
		}
		if err != nil {
			return err
		}
		if cerr := s.checkCode(ctx, st, c, store.CodeEmailChange, code); cerr != nil {
			if ErrorCode(cerr) == "" {
				return cerr
			}
			derr = invalid(ErrorCode(cerr))
			_ = s.audit(ctx, st, "customer", c.ID, "email.change.fail", m, map[string]any{"reason": ErrorCode(cerr)})
			return nil // keep the used-up attempt
		}
		old, now := c.Email, s.now()
		if err := st.SetEmail(ctx, c.ID, ec.Email, now); err != nil {
			return err
		}
		if err := st.SetSensitiveChange(ctx, c.ID, now); err != nil {
			return err
		}
		n, err := st.DeleteCustomerSessions(ctx, c.ID)
		if err != nil {
			return err
		}
		d := map[string]any{"email": ec.Email, "sessions_ended": n}
		if r := approvedChange(ctx, st, c.ID, ec.Email); r != nil {
			d["request_id"], d["approved_by"], d["requested_by"] = r.ID, r.DecidedBy, r.RequestedBy
			if r.InquiryID != 0 {
				if err := st.CloseInquiry(ctx, r.InquiryID, "system", "メールアドレス変更完了", now); err != nil && !isNotFound(err) {
					return err
				}
				d["inquiry_id"] = r.InquiryID
			}
		}
		if err := s.audit(ctx, st, "customer", c.ID, "email.changed", m, d); err != nil {
			return err
		}
		lang := langOr(c.Lang, "ja")
		*mailed = true
		if err := s.notify(ctx, st, ec.Email, lang, mail.KindOperatorEmailChanged, mail.Data{CustomerCode: c.Code, Email: ec.Email}); err != nil {
			return err
		}
		if old != "" && !strings.EqualFold(old, ec.Email) {
			// The old address learns that the address changed, not to what in full.
			return s.notify(ctx, st, old, lang, mail.KindOperatorEmailChanged, mail.Data{CustomerCode: c.Code, Email: maskNewAddress(ec.Email)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return derr
}

// approvedChange finds the approved e-mail change request for addr, if any.
func approvedChange(ctx context.Context, st store.Store, customerID int64, addr string) *store.ApprovalRequest {
	rs, err := st.ApprovalRequestsByCustomer(ctx, customerID, 50)
	if err != nil {
		return nil
	}
	for _, r := range rs {
		if r.Kind == store.RequestEmailChange && r.Status == store.RequestApproved && strings.EqualFold(PayloadOf(r).Email, addr) {
			return r
		}
	}
	return nil
}

// maskNewAddress shows the first two characters of the local part and the domain:
// "ha***@example.jp".
func maskNewAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "***"
	}
	local := []rune(addr[:at])
	if len(local) > 2 {
		local = local[:2]
	}
	return string(local) + "***" + addr[at:]
}

// OpenInquiries lists the inquiries waiting for the call center, oldest first.
func (c *Console) OpenInquiries(ctx context.Context, limit int) ([]*store.Inquiry, error) {
	return c.s.st.OpenInquiries(ctx, limit)
}

// Inquiry returns one inquiry.
func (c *Console) Inquiry(ctx context.Context, id int64) (*store.Inquiry, error) {
	q, err := c.s.st.InquiryByID(ctx, id)
	if isNotFound(err) {
		return nil, newErr(CodeNotFound, err)
	}
	return q, err
}

// CloseInquiry marks an inquiry handled, with a note.
func (c *Console) CloseInquiry(ctx context.Context, a Actor, id int64, note string) error {
	if err := a.check(); err != nil {
		return err
	}
	note, err := cleanReason(note)
	if err != nil {
		return err
	}
	return c.s.st.InTx(ctx, func(st store.Store) error {
		q, err := st.InquiryByID(ctx, id)
		if isNotFound(err) {
			return newErr(CodeNotFound, err)
		}
		if err != nil {
			return err
		}
		if err := st.CloseInquiry(ctx, id, a.Name(), note, c.s.now()); err != nil {
			if isNotFound(err) {
				return newErr(CodeNotApplicable, fmt.Errorf("inquiry %d is already closed", id))
			}
			return err
		}
		return c.opAudit(ctx, st, a, q.CustomerID, "inquiry.closed", note, map[string]any{"inquiry_id": id})
	})
}
