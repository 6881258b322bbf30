package console

import (
	"net/http"
	"net/url"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

// HomeView is the console's start page: the search, the queues, the alerts.
type HomeView struct {
	Base
	Query     string
	Requests  []RequestRow
	Inquiries []*store.Inquiry
	Alerts    []AlertRow
}

// AlertRow is an alert with the customer it concerns.
type AlertRow struct {
	E    *store.AuditEntry
	Code string // customer code, "" for none
}

func (s *server) pageHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderHome(w, r, http.StatusOK, "", "")
	})
}

func (s *server) renderHome(w http.ResponseWriter, r *http.Request, status int, query, errMsg string) {
	ctx := r.Context()
	v := HomeView{Base: s.base(r, "ホーム", "home"), Query: query}
	v.Error = errMsg
	rs, err := s.con.Requests(ctx, store.RequestPending, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Requests = s.requestRows(r, rs)
	if v.Inquiries, err = s.con.OpenInquiries(ctx, 10); err != nil {
		s.fail(w, r, err)
		return
	}
	alerts, err := s.con.Alerts(ctx, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range alerts {
		v.Alerts = append(v.Alerts, AlertRow{E: e, Code: s.customerCode(r, e.CustomerID)})
	}
	s.render(w, status, "home", v)
}

// customerCode is the code of a customer id, "" if none.
func (s *server) customerCode(r *http.Request, id int64) string {
	if id == 0 {
		return ""
	}
	c, err := s.con.CustomerByID(r.Context(), id)
	if err != nil {
		return ""
	}
	return c.Code
}

// findCustomer looks a customer up by code (recorded in the audit log) and
// opens their page.
func (s *server) findCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		c, err := s.con.Lookup(r.Context(), s.actor(r), code)
		if err != nil {
			ec, args := s.classify(r, err)
			msg := message(ec, args...)
			if ec == auth.CodeNotFound {
				msg = "お客様コード「" + truncate(code, 16) + "」のお客さまは見つかりません。"
			}
			s.renderHome(w, r, status(ec), truncate(code, 16), msg)
			return
		}
		see(w, r, "/customers/"+url.PathEscape(c.Code))
	})
}

// CustomerView is one customer's file with the procedures' forms.
type CustomerView struct {
	Base
	F                *auth.CustomerFile
	C                *store.Customer
	Passkeys         []PasskeyRow
	Bound            int // passkeys not revoked
	OpenInquiries    []*store.Inquiry
	Requests         []RequestRow
	CanSwitchToEmail bool
	// Form values kept after a refused submission.
	Form map[string]string
}

// PasskeyRow is one of the customer's passkeys.
type PasskeyRow struct {
	P      *store.Passkey
	Status string // 有効 / 利用停止中 / 削除済み
}

// pageCustomer shows a customer's file; opening it by its URL is a lookup
// too (audited like the search).
func (s *server) pageCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.con.Lookup(r.Context(), s.actor(r), r.PathValue("code")); err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderCustomer(w, r, http.StatusOK, "", nil)
	})
}

// renderCustomer shows the customer of the path, with an error banner and
// status when a procedure was refused.
func (s *server) renderCustomer(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) {
	f, err := s.con.File(r.Context(), r.PathValue("code"), 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := f.Customer
	v := CustomerView{Base: s.base(r, "お客さま "+c.Code, "home"), F: f, C: c, Form: form,
		CanSwitchToEmail: c.SecondFactor == store.FactorTOTP && c.EmailVerified()}
	v.Error = errMsg
	for _, p := range f.Passkeys {
		row := PasskeyRow{P: p, Status: "有効"}
		switch {
		case !p.RevokedAt.IsZero():
			row.Status = "削除済み"
		case !p.SuspendedAt.IsZero():
			row.Status = "利用停止中"
			v.Bound++
		default:
			v.Bound++
		}
		v.Passkeys = append(v.Passkeys, row)
	}
	for _, q := range f.Inquiries {
		if q.Open() {
			v.OpenInquiries = append(v.OpenInquiries, q)
		}
	}
	v.Requests = s.requestRows(r, f.Requests)
	s.render(w, status, "customer", v)
}

// Procedures carried out at once (no second operator).
type procedure int

const (
	procUnlock procedure = iota
	procFreeze
	procSetupGuide
	procRevokeAll
	procRevoke
	procUnsuspend
)

var procNotices = map[procedure]string{
	procUnlock: "unlocked", procFreeze: "frozen", procSetupGuide: "guide_sent",
	procRevokeAll: "revoked_all", procRevoke: "revoked", procUnsuspend: "unsuspended",
}

func (s *server) postProcedure(p procedure) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			s.failCode(w, r, auth.CodeInvalidRequest)
			return
		}
		ctx, a, code, reason := r.Context(), s.actor(r), r.PathValue("code"), field(r, "reason")
		var err error
		switch p {
		case procUnlock:
			err = s.con.Unlock(ctx, a, code, reason)
		case procFreeze:
			err = s.con.Freeze(ctx, a, code, reason)
		case procSetupGuide:
			err = s.con.SendSetupGuide(ctx, a, code, reason)
		case procRevokeAll:
			err = s.con.RevokeAllPasskeys(ctx, a, code, reason)
		case procRevoke, procUnsuspend:
			id, ok := pathID(r, "id")
			if !ok {
				s.failCode(w, r, auth.CodeNotFound)
				return
			}
			if p == procRevoke {
				err = s.con.RevokePasskey(ctx, a, code, id, reason)
			} else {
				err = s.con.LiftSuspension(ctx, a, code, id, reason)
			}
		}
		if err != nil {
			s.procedureFailed(w, r, err)
			return
		}
		see(w, r, "/customers/"+url.PathEscape(code)+"?m="+procNotices[p])
	})
}

// procedureFailed shows the customer's page again with why, or an error page
// when there is no such customer.
func (s *server) procedureFailed(w http.ResponseWriter, r *http.Request, err error) {
	ec, args := s.classify(r, err)
	if ec == codeInternal || ec == auth.CodeNotAuthenticated {
		s.failCode(w, r, ec, args...)
		return
	}
	if _, ferr := s.con.File(r.Context(), r.PathValue("code"), 1); ferr != nil {
		s.failCode(w, r, ec, args...)
		return
	}
	s.renderCustomer(w, r, status(ec), message(ec, args...), map[string]string{
		"kind": field(r, "kind"), "reason": truncate(field(r, "reason"), 500), "id_check": truncate(field(r, "id_check"), 100),
		"id_note": truncate(field(r, "id_note"), 500), "email": truncate(field(r, "email"), 254),
	})
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// RequestRow is a four-eyes request as the queues show it.
type RequestRow struct {
	R          *store.ApprovalRequest
	Code       string // the customer's code
	Payload    auth.RequestPayload
	Own        bool // the viewer asked for it
	CanApprove bool // the viewer may approve or reject it
	Expired    bool // pending but too old to approve
	Inquiry    int64
}

func (s *server) requestRows(r *http.Request, rs []*store.ApprovalRequest) []RequestRow {
	cur, _ := current(r)
	ttl := s.con.Config().RequestTTL
	codes := map[int64]string{}
	rows := make([]RequestRow, 0, len(rs))
	for _, x := range rs {
		code, ok := codes[x.CustomerID]
		if !ok {
			code = s.customerCode(r, x.CustomerID)
			codes[x.CustomerID] = code
		}
		row := RequestRow{R: x, Code: code, Payload: auth.PayloadOf(x), Inquiry: x.InquiryID}
		if cur != nil {
			row.Own = x.RequestedBy == cur.Operator.Name
			row.CanApprove = !row.Own && cur.Operator.Role == store.RoleSupervisor
		}
		row.Expired = x.Status == store.RequestPending && s.now().Sub(x.RequestedAt) >= ttl
		rows = append(rows, row)
	}
	return rows
}
