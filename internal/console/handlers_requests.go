package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

// Four eyes (O4): a request is made on the customer's page and decided on
// the requests page by another operator, a supervisor.

// postRequest records a request (field kind: second_factor_email,
// email_change with inquiry_id and/or email, unfreeze with id_check and id_note).
func (s *server) postRequest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			s.failCode(w, r, auth.CodeInvalidRequest)
			return
		}
		n := auth.NewRequest{
			Kind: field(r, "kind"), Code: r.PathValue("code"), Reason: field(r, "reason"),
			Email: field(r, "email"), IDCheck: field(r, "id_check"), IDNote: field(r, "id_note"),
		}
		if v := field(r, "inquiry_id"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				s.procedureFailed(w, r, &auth.Error{Code: auth.CodeInvalidRequest})
				return
			}
			n.InquiryID = id
		}
		if _, err := s.con.Request(r.Context(), s.actor(r), n); err != nil {
			s.procedureFailed(w, r, err)
			return
		}
		see(w, r, "/customers/"+url.PathEscape(n.Code)+"?m=requested")
	})
}

// RequestsView is the approval queue and the recent decisions.
type RequestsView struct {
	Base
	Pending    []RequestRow
	Recent     []RequestRow
	Supervisor bool
}

func (s *server) pageRequests() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderRequests(w, r, http.StatusOK, "")
	})
}

func (s *server) renderRequests(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	all, err := s.con.Requests(r.Context(), "", 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, _ := current(r)
	v := RequestsView{Base: s.base(r, "承認待ちの申請", "requests"), Supervisor: cur.Operator.Role == store.RoleSupervisor}
	v.Error = errMsg
	for _, row := range s.requestRows(r, all) {
		if row.R.Status == store.RequestPending {
			v.Pending = append(v.Pending, row)
		} else if len(v.Recent) < 50 {
			v.Recent = append(v.Recent, row)
		}
	}
	s.render(w, status, "requests", v)
}

type decision int

const (
	decideApprove decision = iota
	decideReject
	decideCancel
	decideResend
)

var decisionNotices = map[decision]string{decideApprove: "approved", decideReject: "rejected", decideCancel: "cancelled", decideResend: "code_resent"}

// postDecision approves, rejects or withdraws a request, or mails a new code
// for an approved e-mail change; field note (the reason) is required.
func (s *server) postDecision(d decision) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			s.failCode(w, r, auth.CodeInvalidRequest)
			return
		}
		id, ok := pathID(r, "id")
		if !ok {
			s.failCode(w, r, auth.CodeNotFound)
			return
		}
		ctx, a, note := r.Context(), s.actor(r), field(r, "note")
		var err error
		switch d {
		case decideApprove:
			_, err = s.con.Approve(ctx, a, id, note)
		case decideReject:
			err = s.con.Reject(ctx, a, id, note)
		case decideCancel:
			err = s.con.Cancel(ctx, a, id, note)
		case decideResend:
			err = s.con.ResendEmailChangeCode(ctx, a, id, note)
		}
		if err != nil {
			ec, args := s.classify(r, err)
			if ec == codeInternal || ec == auth.CodeNotAuthenticated {
				s.failCode(w, r, ec, args...)
				return
			}
			s.renderRequests(w, r, status(ec), message(ec, args...))
			return
		}
		back := "/requests"
		if d == decideResend || field(r, "back") == "customer" {
			if req, err := s.con.RequestByID(ctx, id); err == nil {
				back = "/customers/" + url.PathEscape(s.customerCode(r, req.CustomerID))
			}
		}
		see(w, r, back+"?m="+decisionNotices[d])
	})
}
