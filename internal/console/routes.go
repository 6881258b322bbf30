package console

import "net/http"

// routes is the whole surface of the console. Every route but login,
// enrollment, static files and health checks needs an operator session
// (s.operator); what each operator may do is the domain's rule (roles, four
// eyes), answered 403 here.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	open := s.limitIP // unauthenticated endpoints carry the per-IP budget
	op := s.operator

	// Login and enrollment with the operator's own passkey.
	mux.Handle("GET /login", s.pageLogin())
	mux.Handle("GET /enroll", s.pageEnroll())
	mux.Handle("POST /api/login/options", open(s.apiLoginOptions()))
	mux.Handle("POST /api/login", open(s.apiLogin()))
	mux.Handle("POST /api/enroll/options", open(s.apiEnrollOptions()))
	mux.Handle("POST /api/enroll", open(s.apiEnroll()))
	mux.Handle("POST /logout", op(s.postLogout()))

	// Customers and their procedures (O1–O3).
	mux.Handle("GET /{$}", op(s.pageHome()))
	mux.Handle("GET /customers", op(s.findCustomer()))
	mux.Handle("GET /customers/{code}", op(s.pageCustomer()))
	mux.Handle("POST /customers/{code}/unlock", op(s.postProcedure(procUnlock)))
	mux.Handle("POST /customers/{code}/freeze", op(s.postProcedure(procFreeze)))
	mux.Handle("POST /customers/{code}/setup-guide", op(s.postProcedure(procSetupGuide)))
	mux.Handle("POST /customers/{code}/passkeys/revoke-all", op(s.postProcedure(procRevokeAll)))
	mux.Handle("POST /customers/{code}/passkeys/{id}/revoke", op(s.postProcedure(procRevoke)))
	mux.Handle("POST /customers/{code}/passkeys/{id}/unsuspend", op(s.postProcedure(procUnsuspend)))

	// Four eyes (O4).
	mux.Handle("POST /customers/{code}/requests", op(s.postRequest()))
	mux.Handle("GET /requests", op(s.pageRequests()))
	mux.Handle("POST /requests/{id}/approve", op(s.postDecision(decideApprove)))
	mux.Handle("POST /requests/{id}/reject", op(s.postDecision(decideReject)))
	mux.Handle("POST /requests/{id}/cancel", op(s.postDecision(decideCancel)))
	mux.Handle("POST /requests/{id}/resend-code", op(s.postDecision(decideResend)))

	// The inquiry queue (O2).
	mux.Handle("GET /inquiries", op(s.pageInquiries()))
	mux.Handle("GET /inquiries/{id}", op(s.pageInquiry()))
	mux.Handle("POST /inquiries/{id}/close", op(s.postCloseInquiry()))

	// The adoption dashboard (O6) and the audit chain (O5).
	mux.Handle("GET /dashboard", op(s.pageDashboard()))
	mux.Handle("GET /api/dashboard", op(s.apiDashboard()))
	mux.Handle("GET /audit", op(s.pageAudit()))
	mux.Handle("POST /audit/verify", op(s.postAuditVerify()))

	mux.Handle("GET /static/", s.pages.static())
	mux.Handle("GET /healthz", s.health())
	mux.Handle("GET /readyz", s.health())
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.problem(w, codePageNotFound) }))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.errorPage(w, r, codePageNotFound) }))

	var h http.Handler = mux
	h = s.withSession(h)
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
			s.log.Error("console: health check failed", "err", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
