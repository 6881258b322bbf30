package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

// notices are the only messages a redirect may ask a page to show (?m=key),
// so no one can put words of their own on our pages.
var notices = map[string]string{
	"logged_out":      "notice.logged_out",
	"logged_out_all":  "notice.logged_out_all",
	"code_sent":       "notice.code_sent",
	"passkey_added":   "notice.passkey_added",
	"passkey_deleted": "notice.passkey_deleted",
	"passkey_renamed": "notice.passkey_renamed",
	"step_up_done":    "notice.step_up_done",
	"session_ended":   "notice.session_ended",
}

func (s *server) base(r *http.Request, cur *auth.Current) ui.Base {
	lang := locale.Negotiate(r)
	q := r.URL.Query()
	q.Del("lang")
	path := r.URL.Path
	if enc := q.Encode(); enc != "" {
		path += "?" + enc
	}
	b := ui.Base{
		Lang: lang, Path: path,
		SiteName: s.cfg.SiteName, Brokerage: s.cfg.Brokerage, CallCenter: s.cfg.CallCenter, Phone: s.cfg.CallCenterPhone, Hours: s.cfg.CallCenterHours,
	}
	if key, ok := notices[q.Get("m")]; ok {
		b.Notice = locale.Printer(lang).T(key)
	}
	if cur.Full() || cur.Restricted() { // a restricted session too: its pages need ログアウト in the header
		b.LoggedIn, b.CustomerCode = true, cur.Customer.Code
	}
	return b
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, v any) {
	if err := s.ui.Render(w, status, page, v); err != nil {
		s.log.Error("render failed", "page", page, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// errorPage renders a full page for a problem code.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, code string, args ...any) {
	cur, _ := current(r)
	b := s.base(r, cur)
	if code == auth.CodeAccountLocked || code == auth.CodeAccountFrozen {
		s.render(w, r, status(code), "locked", ui.LockedView{Base: b})
		return
	}
	st := status(code)
	if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "30")
		}
	}
	s.render(w, r, st, "error", ui.ErrorView{Base: b, Status: st, Message: message(b.Lang, code, args...)})
}

func (s *server) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	code, args := s.classify(r, err)
	s.errorPage(w, r, code, args...)
}

func (s *server) pageNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.errorPage(w, r, codeNotFound) })
}

func see(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// formValue reads a bounded url-encoded form field.
func formValue(w http.ResponseWriter, r *http.Request, name string) string {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	return strings.TrimSpace(r.PostFormValue(name))
}

// stageRedirect sends a customer to the page that fits their session.
func stageRedirect(cur *auth.Current) string {
	switch {
	case cur == nil:
		return "/login"
	case cur.Full():
		return "/account"
	case cur.Restricted():
		return "/account/restricted"
	case cur.Session.Stage == store.StageSecondFactor:
		return "/login/second-factor"
	default:
		return "/setup"
	}
}

func (s *server) pageHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, _ := current(r)
		see(w, r, stageRedirect(cur))
	})
}

func (s *server) pageLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := current(r)
		if cur.Full() {
			see(w, r, "/account")
			return
		}
		b := s.base(r, nil)
		if auth.ErrorCode(err) == auth.CodeSessionExpired {
			b.Notice = locale.Printer(b.Lang).T("notice.session_ended")
		}
		s.render(w, r, http.StatusOK, "login", ui.LoginView{Base: b, PasskeyAvailable: true, Phase: s.phaseNotice(b.Lang, false)})
	})
}

func (s *server) postLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := formValue(w, r, "customer_code")
		password := r.PostFormValue("password")
		if !s.limitAccount(w, r, code) {
			return
		}
		res, err := s.auth.PasswordLogin(r.Context(), code, password, s.meta(r))
		if err != nil {
			c, args := s.classify(r, err)
			if c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen {
				s.errorPage(w, r, c, args...)
				return
			}
			b := s.base(r, nil)
			b.Error = message(b.Lang, c, args...)
			if st := status(c); st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests {
				// Busy (every password-hashing slot taken) or rate limited: the
				// page says to retry or to use a passkey, the header says when.
				if w.Header().Get("Retry-After") == "" {
					w.Header().Set("Retry-After", "30")
				}
			}
			s.render(w, r, status(c), "login", ui.LoginView{Base: b, CustomerCode: truncate(code, 16), PasskeyAvailable: true, Phase: s.phaseNotice(b.Lang, false)})
			return
		}
		s.setCookie(w, res.Token)
		if res.Next == auth.NextSetup {
			see(w, r, "/setup")
			return
		}
		see(w, r, "/login/second-factor")
	})
}

// pending returns the session of a customer between password and second factor.
func (s *server) pending(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, _ := current(r)
	if cur == nil || cur.Session.Stage != store.StageSecondFactor {
		see(w, r, stageRedirect(cur))
		return nil
	}
	return cur
}

func (s *server) secondFactorView(r *http.Request, cur *auth.Current) ui.SecondFactorView {
	return ui.SecondFactorView{Base: s.base(r, cur), Method: cur.Customer.SecondFactor, MaskedEmail: maskEmail(cur.Customer.Email)}
}

func (s *server) pageSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := s.pending(w, r); cur != nil {
			s.render(w, r, http.StatusOK, "second_factor", s.secondFactorView(r, cur))
		}
	})
}

func (s *server) postSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.pending(w, r)
		if cur == nil {
			return
		}
		res, err := s.auth.SecondFactor(r.Context(), cur, formValue(w, r, "code"), s.meta(r))
		if err != nil {
			c, args := s.classify(r, err)
			if c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen || c == codeInternal {
				s.clearCookie(w)
				s.errorPage(w, r, c, args...)
				return
			}
			v := s.secondFactorView(r, cur)
			v.Error = message(v.Lang, c, args...)
			s.render(w, r, status(c), "second_factor", v)
			return
		}
		s.setCookie(w, res.Token)
		see(w, r, "/account")
	})
}

func (s *server) postResendLoginCode() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.pending(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.ResendLoginCode(r.Context(), cur, s.meta(r)); err != nil {
			c, args := s.classify(r, err)
			v := s.secondFactorView(r, cur)
			v.Error = message(v.Lang, c, args...)
			s.render(w, r, status(c), "second_factor", v)
			return
		}
		see(w, r, "/login/second-factor?m=code_sent")
	})
}

// inSetup returns the session of a customer in initial setup; others are sent on.
func (s *server) inSetup(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, _ := current(r)
	if cur == nil || cur.Session.Stage != store.StageSetup {
		see(w, r, stageRedirect(cur))
		return nil
	}
	return cur
}

var setupPaths = map[string]string{
	auth.SetupStepEmail:       "/setup/email",
	auth.SetupStepEmailVerify: "/setup/email/verify",
	auth.SetupStepMethod:      "/setup/method",
	auth.SetupStepTOTP:        "/setup/totp",
}

func (s *server) pageSetup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := s.inSetup(w, r); cur != nil {
			see(w, r, setupPaths[auth.SetupStep(cur)])
		}
	})
}

// setupPage renders a setup page, or redirects when the customer is not at
// that step (a verified address cannot be changed here, for instance).
func (s *server) setupPage(w http.ResponseWriter, r *http.Request, allowed ...string) *auth.Current {
	cur := s.inSetup(w, r)
	if cur == nil {
		return nil
	}
	step := auth.SetupStep(cur)
	for _, a := range allowed {
		if a == step {
			return cur
		}
	}
	see(w, r, setupPaths[step])
	return nil
}

func (s *server) pageSetupEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := s.setupPage(w, r, auth.SetupStepEmail, auth.SetupStepEmailVerify); cur != nil {
			s.render(w, r, http.StatusOK, "setup_email", ui.SetupEmailView{Base: s.base(r, cur), Email: auth.PendingEmail(cur)})
		}
	})
}

func (s *server) postSetupEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepEmail, auth.SetupStepEmailVerify)
		if cur == nil {
			return
		}
		email := formValue(w, r, "email")
		if err := s.auth.SetupEmail(r.Context(), cur, email, s.meta(r)); err != nil {
			c, args := s.classify(r, err)
			v := ui.SetupEmailView{Base: s.base(r, cur), Email: truncate(email, 254)}
			v.Error = message(v.Lang, c, args...)
			s.render(w, r, status(c), "setup_email", v)
			return
		}
		see(w, r, "/setup/email/verify")
	})
}

func (s *server) pageSetupVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := s.setupPage(w, r, auth.SetupStepEmailVerify); cur != nil {
			s.render(w, r, http.StatusOK, "setup_email_verify", ui.SetupEmailVerifyView{Base: s.base(r, cur), Email: auth.PendingEmail(cur)})
		}
	})
}

func (s *server) postSetupVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepEmailVerify)
		if cur == nil {
			return
		}
		if err := s.auth.SetupVerifyEmail(r.Context(), cur, formValue(w, r, "code"), s.meta(r)); err != nil {
			s.setupError(w, r, cur, err)
			return
		}
		see(w, r, "/setup/method")
	})
}

func (s *server) setupError(w http.ResponseWriter, r *http.Request, cur *auth.Current, err error) {
	c, args := s.classify(r, err)
	if c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen || c == codeInternal {
		s.clearCookie(w)
		s.errorPage(w, r, c, args...)
		return
	}
	v := ui.SetupEmailVerifyView{Base: s.base(r, cur), Email: auth.PendingEmail(cur)}
	v.Error = message(v.Lang, c, args...)
	s.render(w, r, status(c), "setup_email_verify", v)
}

func (s *server) postSetupResend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepEmailVerify)
		if cur == nil {
			return
		}
		if err := s.auth.ResendSetupCode(r.Context(), cur, s.meta(r)); err != nil {
			s.setupError(w, r, cur, err)
			return
		}
		see(w, r, "/setup/email/verify?m=code_sent")
	})
}

func (s *server) pageSetupMethod() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur := s.setupPage(w, r, auth.SetupStepMethod, auth.SetupStepTOTP); cur != nil {
			s.render(w, r, http.StatusOK, "setup_method", ui.SetupMethodView{Base: s.base(r, cur)})
		}
	})
}

func (s *server) postSetupMethod() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepMethod, auth.SetupStepTOTP)
		if cur == nil {
			return
		}
		switch formValue(w, r, "method") {
		case store.FactorEmail:
			res, err := s.auth.SetupChooseEmail(r.Context(), cur, s.meta(r))
			if err != nil {
				s.pageFail(w, r, err)
				return
			}
			s.setCookie(w, res.Token)
			see(w, r, "/account")
		case store.FactorTOTP:
			if _, err := s.auth.SetupStartTOTP(r.Context(), cur, s.meta(r)); err != nil {
				s.pageFail(w, r, err)
				return
			}
			see(w, r, "/setup/totp")
		default:
			v := ui.SetupMethodView{Base: s.base(r, cur)}
			v.Error = message(v.Lang, auth.CodeInvalidRequest)
			s.render(w, r, http.StatusBadRequest, "setup_method", v)
		}
	})
}

func (s *server) totpView(r *http.Request, cur *auth.Current) (ui.SetupTOTPView, error) {
	en, err := s.auth.SetupTOTPEnrollment(cur)
	if err != nil {
		return ui.SetupTOTPView{}, err
	}
	return ui.SetupTOTPView{Base: s.base(r, cur), QRDataURL: template.URL(en.QRPNG), Secret: group4(en.Secret)}, nil
}

func (s *server) pageSetupTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepTOTP)
		if cur == nil {
			return
		}
		v, err := s.totpView(r, cur)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "setup_totp", v)
	})
}

func (s *server) postSetupTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupPage(w, r, auth.SetupStepTOTP)
		if cur == nil {
			return
		}
		res, err := s.auth.SetupConfirmTOTP(r.Context(), cur, formValue(w, r, "code"), s.meta(r))
		if err != nil {
			c, args := s.classify(r, err)
			if c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen || c == codeInternal {
				s.clearCookie(w)
				s.errorPage(w, r, c, args...)
				return
			}
			v, verr := s.totpView(r, cur)
			if verr != nil {
				s.pageFail(w, r, verr)
				return
			}
			v.Error = message(v.Lang, c, args...)
			s.render(w, r, status(c), "setup_totp", v)
			return
		}
		s.setCookie(w, res.Token)
		see(w, r, "/account")
	})
}

// registrarPage returns a full or restricted session (the passkey pages serve
// both), or sends the visitor on.
func (s *server) registrarPage(w http.ResponseWriter, r *http.Request) *auth.Current {
	if cur, _ := current(r); cur.Restricted() {
		return cur
	}
	return s.loggedIn(w, r)
}

// loggedIn returns a full session or sends the visitor to log in.
func (s *server) loggedIn(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, err := current(r)
	if cur.Full() {
		return cur
	}
	if cur != nil {
		see(w, r, stageRedirect(cur))
		return nil
	}
	if auth.ErrorCode(err) == auth.CodeSessionExpired {
		see(w, r, "/login?m=session_ended")
		return nil
	}
	see(w, r, "/login")
	return nil
}

func (s *server) pageAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		b := s.base(r, cur)
		ps, err := s.auth.Passkeys(r.Context(), cur)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		active := 0
		for _, p := range ps {
			if p.Active() {
				active++
			}
		}
		s.render(w, r, http.StatusOK, "account", ui.AccountView{
			Base: b, Email: cur.Customer.Email, SecondFactor: cur.Customer.SecondFactor,
			SessionMethod: cur.Session.Method, AuthenticatedAt: formatJST(cur.Session.AuthenticatedAt, b.Lang),
			PasskeysAvailable: true, PasskeyCount: active,
			// K12: after a password login, offer a passkey to whoever has none.
			PasskeyOffer: len(ps) == 0 && cur.Session.Method != store.MethodPasskey && cur.Customer.EmailVerified(),
			Signal:       s.signalData(cur, ps),
			Phase:        s.phaseNotice(b.Lang, active > 0),
		})
	})
}

func (s *server) postLogout(everywhere bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, _ := current(r)
		s.clearCookie(w)
		if cur == nil {
			see(w, r, "/login")
			return
		}
		var err error
		m := "logged_out"
		if everywhere && cur.Full() {
			_, err = s.auth.LogoutEverywhere(r.Context(), cur, s.meta(r))
			m = "logged_out_all"
		} else {
			err = s.auth.Logout(r.Context(), cur, s.meta(r))
		}
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		see(w, r, "/login?m="+url.QueryEscape(m))
	})
}

func (s *server) pageGuide() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, _ := current(r)
		s.render(w, r, http.StatusOK, "guide_start", ui.GuideView{Base: s.base(r, cur)})
	})
}

var jst = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}()

// formatJST shows a time to customers, always in Japan time.
func formatJST(t time.Time, lang string) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(jst)
	if lang == "en" {
		return t.Format("2 Jan 2006 15:04 JST")
	}
	return t.Format("2006年1月2日 15:04")
}

// maskEmail shows enough of an address to recognize it: ta***@example.jp.
func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return ""
	}
	local := []rune(e[:at])
	keep := 2
	if len(local) <= 2 {
		keep = 1
	}
	return string(local[:keep]) + "***" + e[at:]
}

func group4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
