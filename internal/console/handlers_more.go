package console

import (
	"html/template"
	"net/http"

	"github.com/kagi-auth/kagi/internal/audit"
	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

// The inquiry queue (O2), the adoption dashboard (O6) and the audit chain (O5).

// InquiriesView is the queue of open inquiries.
type InquiriesView struct {
	Base
	Open []InquiryRow
}

// InquiryRow is an inquiry with what the console knows of its customer code.
type InquiryRow struct {
	Q     *store.Inquiry
	Known bool // the code matched a customer when it was sent
}

func (s *server) pageInquiries() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qs, err := s.con.OpenInquiries(r.Context(), 200)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := InquiriesView{Base: s.base(r, "お問い合わせ", "inquiries")}
		for _, q := range qs {
			v.Open = append(v.Open, InquiryRow{Q: q, Known: q.CustomerID != 0})
		}
		s.render(w, http.StatusOK, "inquiries", v)
	})
}

// InquiryView is one inquiry.
type InquiryView struct {
	Base
	Q     *store.Inquiry
	Known bool
}

func (s *server) pageInquiry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderInquiry(w, r, http.StatusOK, "")
	})
}

func (s *server) renderInquiry(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	id, ok := pathID(r, "id")
	if !ok {
		s.failCode(w, r, auth.CodeNotFound)
		return
	}
	q, err := s.con.Inquiry(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := InquiryView{Base: s.base(r, "お問い合わせ", "inquiries"), Q: q, Known: q.CustomerID != 0}
	v.Error = errMsg
	s.render(w, status, "inquiry", v)
}

func (s *server) postCloseInquiry() http.Handler {
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
		if err := s.con.CloseInquiry(r.Context(), s.actor(r), id, field(r, "note")); err != nil {
			ec, args := s.classify(r, err)
			if ec == codeInternal || ec == auth.CodeNotFound {
				s.failCode(w, r, ec, args...)
				return
			}
			s.renderInquiry(w, r, status(ec), message(ec, args...))
			return
		}
		see(w, r, "/inquiries?m=closed")
	})
}

// DashboardView is the adoption dashboard with its charts, drawn here.
type DashboardView struct {
	Base
	D                                  *auth.Dashboard
	Share, Logins, Authenticators, Mix template.HTML
}

// restrictedSample is how many customers without a passkey the page lists.
const restrictedSample = 20

func (s *server) pageDashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := s.con.Dashboard(r.Context(), restrictedSample)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := DashboardView{Base: s.base(r, "パスキー普及状況", "dashboard"), D: d,
			Share: shareChart(d.Weekly), Logins: loginsChart(d.Days),
			Authenticators: authenticatorsChart(d.Authenticators), Mix: syncedChart(d.Synced, d.DeviceBound)}
		s.render(w, http.StatusOK, "dashboard", v)
	})
}

// apiDashboard is the dashboard's figures as JSON, for scripts and tests.
func (s *server) apiDashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := s.con.Dashboard(r.Context(), restrictedSample)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
}

// AuditView shows the result of verifying the chain.
type AuditView struct {
	Base
	Ran    bool
	Result audit.Result
}

func (s *server) pageAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusOK, "audit", AuditView{Base: s.base(r, "監査ログの検証", "audit")})
	})
}

func (s *server) postAuditVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := audit.Verify(r.Context(), s.st, 0, nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cur, _ := current(r)
		s.log.Info("console: audit chain verified", "operator", cur.Operator.Name, "entries", res.Entries, "ok", res.OK())
		st := http.StatusOK
		if !res.OK() {
			st = http.StatusConflict
		}
		s.render(w, st, "audit", AuditView{Base: s.base(r, "監査ログの検証", "audit"), Ran: true, Result: res})
	})
}
