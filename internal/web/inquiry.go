package web

import (
	"net/http"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/ratelimit"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

// お問い合わせフォーム (issue 7, SPEC O2): the public inquiry form, and the
// confirmation of an approved e-mail change with the code mailed to the new
// address. Both are POSTs to /inquiry, told apart by the hidden field "form".
// Nothing is mailed to the address an inquiry names; the answers are the
// same whether a customer code exists or not.

// Budgets of the form per client IP, on top of the site's per-IP budget
// (both off when --rate-limit-ip is 0).
var (
	inquiryRule = ratelimit.Rule{Limit: 10, Window: time.Hour}
	verifyRule  = ratelimit.Rule{Limit: 20, Window: time.Hour}
)

func (s *server) inquiryView(r *http.Request) ui.InquiryView {
	cur, _ := current(r)
	return ui.InquiryView{Base: s.base(r, cur)}
}

func (s *server) pageInquiry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.inquiryView(r)
		if cur, _ := current(r); cur.Full() {
			v.CustomerCode, v.VerifyCode = cur.Customer.Code, cur.Customer.Code
		}
		s.render(w, r, http.StatusOK, "inquiry", v)
	})
}

// limitInquiry applies one of the form's budgets; false after answering 429.
func (s *server) limitInquiry(w http.ResponseWriter, r *http.Request, key string, rule ratelimit.Rule, v ui.InquiryView) bool {
	if s.cfg.RateLimitIP <= 0 {
		return true
	}
	ok, wait, err := s.limiter.Allow(r.Context(), key+":"+s.clientIP(r), rule)
	if err != nil {
		s.pageFail(w, r, err)
		return false
	}
	if !ok {
		retryAfter(w, wait)
		v.Error = message(v.Lang, auth.CodeRateLimited)
		s.render(w, r, http.StatusTooManyRequests, "inquiry", v)
	}
	return ok
}

func (s *server) postInquiry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		v := s.inquiryView(r)
		if err := r.ParseForm(); err != nil {
			v.Error = message(v.Lang, auth.CodeInvalidRequest)
			s.render(w, r, http.StatusBadRequest, "inquiry", v)
			return
		}
		switch r.PostForm.Get("form") {
		case "inquiry":
			s.submitInquiry(w, r, v)
		case "verify":
			s.verifyEmailChange(w, r, v)
		default:
			v.Error = message(v.Lang, auth.CodeInvalidRequest)
			s.render(w, r, http.StatusBadRequest, "inquiry", v)
		}
	})
}

func (s *server) submitInquiry(w http.ResponseWriter, r *http.Request, v ui.InquiryView) {
	f := auth.InquiryForm{
		CustomerCode: r.PostForm.Get("customer_code"), Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"),
		Topic: r.PostForm.Get("topic"), Message: r.PostForm.Get("message"),
	}
	clean, bad := auth.ValidateInquiry(f)
	v.CustomerCode, v.Name, v.Email, v.Topic, v.Message = truncate(clean.CustomerCode, 16), clean.Name, truncate(f.Email, 254), clean.Topic, clean.Message
	if len(bad) > 0 {
		v.Invalid = bad
		v.Error = locale.Printer(v.Lang).T("inquiry.invalid")
		s.render(w, r, http.StatusBadRequest, "inquiry", v)
		return
	}
	if !s.limitInquiry(w, r, "inquiry", inquiryRule, v) {
		return
	}
	q, err := s.auth.SubmitInquiry(r.Context(), f, s.meta(r))
	if err != nil {
		c, args := s.classify(r, err)
		if c == codeInternal {
			s.errorPage(w, r, c)
			return
		}
		v.Error = message(v.Lang, c, args...)
		s.render(w, r, status(c), "inquiry", v)
		return
	}
	v.Sent, v.Receipt, v.VerifyCode = true, q.ID, clean.CustomerCode
	s.render(w, r, http.StatusOK, "inquiry", v)
}

func (s *server) verifyEmailChange(w http.ResponseWriter, r *http.Request, v ui.InquiryView) {
	code := truncate(r.PostForm.Get("customer_code"), 16)
	v.VerifyCode = code
	if !s.limitInquiry(w, r, "inquiry-verify", verifyRule, v) {
		return
	}
	if err := s.auth.VerifyEmailChange(r.Context(), code, r.PostForm.Get("code"), s.meta(r)); err != nil {
		c, args := s.classify(r, err)
		if c == codeInternal {
			s.errorPage(w, r, c)
			return
		}
		v.Error = message(v.Lang, c, args...)
		s.render(w, r, status(c), "inquiry", v)
		return
	}
	v.Verified = true
	s.render(w, r, http.StatusOK, "inquiry", v)
}
