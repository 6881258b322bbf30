package web

import (
	"net/http"

	"github.com/kagi-auth/kagi/internal/mail"
)

// routes is the whole surface of the customer site.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	open := s.limitIP // unauthenticated endpoints carry the per-IP budget

	// JSON API
	mux.Handle("POST /api/login/password", open(s.apiPasswordLogin()))
	mux.Handle("POST /api/login/second-factor", open(s.limitCustomer(s.apiSecondFactor())))
	mux.Handle("POST /api/login/second-factor/resend", open(s.limitCustomer(s.apiResendLoginCode())))
	mux.Handle("GET /api/session", s.apiSession())
	mux.Handle("POST /api/logout", s.apiLogout(false))
	mux.Handle("POST /api/logout/all", s.apiLogout(true))
	mux.Handle("GET /api/setup", s.apiSetupState())
	mux.Handle("POST /api/setup/email", open(s.apiSetupEmail()))
	mux.Handle("POST /api/setup/email/resend", open(s.apiSetupResend()))
	mux.Handle("POST /api/setup/email/verify", open(s.limitCustomer(s.apiSetupVerify())))
	mux.Handle("POST /api/setup/method", open(s.apiSetupMethod()))
	mux.Handle("POST /api/setup/totp", open(s.limitCustomer(s.apiSetupTOTP())))
	mux.Handle("POST /api/login/passkey/options", open(s.apiPasskeyLoginOptions()))
	mux.Handle("POST /api/login/passkey", open(s.apiPasskeyLogin()))
	mux.Handle("POST /api/step-up/send-code", s.apiStepUpSendCode())
	mux.Handle("POST /api/step-up", s.limitCustomer(s.apiStepUp()))
	mux.Handle("GET /api/passkeys", s.apiPasskeys())
	mux.Handle("POST /api/passkeys/options", s.apiPasskeyOptions())
	mux.Handle("POST /api/passkeys", s.apiPasskeyRegister())
	mux.Handle("PATCH /api/passkeys/{id}", s.apiPasskeyRename())
	mux.Handle("DELETE /api/passkeys/{id}", s.apiPasskeyDelete())
	mux.Handle("GET /api/portfolio", s.apiPortfolio())
	mux.Handle("POST /api/orders", s.apiOrder())
	mux.Handle("POST /api/withdrawals", s.apiWithdraw())
	mux.Handle("PUT /api/bank-account", s.apiBankAccount())
	mux.Handle("POST /api/step-up/passkey/options", s.apiOperationStepUpOptions())
	mux.Handle("POST /api/step-up/passkey", s.apiOperationStepUp())
	mux.Handle("POST /api/email-change", s.apiEmailChange())
	mux.Handle("POST /api/email-change/verify", s.limitCustomer(s.apiEmailChangeVerify()))
	mux.Handle("GET /api/logins", s.apiLogins())
	mux.Handle("/api/", s.apiNotFound())

	// Pages
	mux.Handle("GET /{$}", s.pageHome())
	mux.Handle("GET /login", s.pageLogin())
	mux.Handle("POST /login", open(s.postLogin()))
	mux.Handle("GET /login/second-factor", s.pageSecondFactor())
	mux.Handle("POST /login/second-factor", open(s.limitCustomer(s.postSecondFactor())))
	mux.Handle("POST /login/second-factor/resend", open(s.postResendLoginCode()))
	mux.Handle("GET /setup", s.pageSetup())
	mux.Handle("GET /setup/email", s.pageSetupEmail())
	mux.Handle("POST /setup/email", open(s.postSetupEmail()))
	mux.Handle("GET /setup/email/verify", s.pageSetupVerify())
	mux.Handle("POST /setup/email/verify", open(s.limitCustomer(s.postSetupVerify())))
	mux.Handle("POST /setup/email/resend", open(s.postSetupResend()))
	mux.Handle("GET /setup/method", s.pageSetupMethod())
	mux.Handle("POST /setup/method", open(s.postSetupMethod()))
	mux.Handle("GET /setup/totp", s.pageSetupTOTP())
	mux.Handle("POST /setup/totp", open(s.limitCustomer(s.postSetupTOTP())))
	mux.Handle("GET /account", s.pageAccount())
	mux.Handle("GET /account/passkeys", s.pagePasskeys())
	mux.Handle("POST /account/passkeys/verify/send", s.postStepUpSend())
	mux.Handle("POST /account/passkeys/verify", s.limitCustomer(s.postStepUp()))
	mux.Handle("POST /account/passkeys/{id}/rename", s.postPasskeyRename())
	mux.Handle("GET /account/passkeys/{id}/delete", s.pagePasskeyDelete())
	mux.Handle("POST /account/passkeys/{id}/delete", s.postPasskeyDelete())
	// Issue 6 pages (trade_pages.go): the restricted session, the demo
	// trading site's important operations, e-mail change, login history.
	mux.Handle("GET /account/restricted", s.pageRestricted())
	mux.Handle("GET /account/email", s.pageEmail())
	mux.Handle("POST /account/email", s.postEmail())
	mux.Handle("POST /account/email/verify", s.limitCustomer(s.postEmailVerify()))
	mux.Handle("GET /account/logins", s.pageLogins())
	mux.Handle("GET /trade", s.pageTrade())
	mux.Handle("GET /trade/order", s.pageOrder())
	mux.Handle("POST /trade/order", s.postOrder())
	mux.Handle("GET /trade/withdraw", s.pageWithdraw())
	mux.Handle("POST /trade/withdraw/confirm", s.postWithdrawConfirm())
	mux.Handle("POST /trade/withdraw", s.postWithdraw())
	mux.Handle("GET /trade/bank-account", s.pageBankAccount())
	mux.Handle("POST /trade/bank-account/confirm", s.postBankAccountConfirm())
	mux.Handle("POST /trade/bank-account", s.postBankAccount())
	mux.Handle("POST /logout", s.postLogout(false))
	mux.Handle("POST /logout/all", s.postLogout(true))
	mux.Handle("GET /guide/start", s.pageGuide())
	mux.Handle("GET /inquiry", s.pageInquiry())        // issue 7: inquiry.go
	mux.Handle("POST /inquiry", open(s.postInquiry())) // the form, and the e-mail change confirmation
	mux.Handle("GET /static/", s.ui.StaticHandler())
	mux.Handle("GET /healthz", s.health())
	mux.Handle("GET /readyz", s.health())
	if s.cfg.Dev {
		mux.Handle("GET /dev/mail", mail.DevMailboxHTML(s.st))
		mux.Handle("GET /dev/mail.json", mail.DevMailboxJSON(s.st))
	}
	mux.Handle("/", s.pageNotFound())

	var h http.Handler = mux
	h = s.withSession(h)
	h = rememberLang(h)
	h = s.crossOrigin(h)
	h = s.canonicalHost(h)
	h = s.secureHeaders(h)
	h = s.logRequests(h)
	h = s.recoverer(h)
	return h
}

func (s *server) health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.st.Ping(r.Context()); err != nil {
			s.log.Error("health check failed", "err", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
