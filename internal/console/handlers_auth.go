package console

import (
	"net/http"
)

// Operators' login and enrollment: pages that static/console.js drives
// through the JSON endpoints below with navigator.credentials.

// LoginView is the operator login page.
type LoginView struct{ Base }

// EnrollView is the page where an operator registers a passkey with the
// one-time enrollment code `kagi operator add` printed.
type EnrollView struct{ Base }

func (s *server) pageLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur, _ := current(r); cur != nil {
			see(w, r, "/")
			return
		}
		s.render(w, http.StatusOK, "login", LoginView{Base: s.base(r, "オペレーターログイン", "")})
	})
}

func (s *server) pageEnroll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusOK, "enroll", EnrollView{Base: s.base(r, "パスキーの登録（初回）", "")})
	})
}

func (s *server) apiLoginOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := s.con.LoginOptions(r.Context(), s.binding(w, r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	})
}

func (s *server) apiLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bad := rawJSON(w, r)
		if bad != "" {
			s.problem(w, bad)
			return
		}
		login, err := s.con.Login(r.Context(), body, existingBinding(r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, login.Token)
		writeJSON(w, http.StatusOK, map[string]string{"next": "/", "operator": login.Operator.Name, "role": login.Operator.Role})
	})
}

type enrollReq struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

func (s *server) apiEnrollOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[enrollReq](w, r)
		if bad != "" {
			s.problem(w, bad)
			return
		}
		opts, err := s.con.EnrollOptions(r.Context(), req.Name, req.Code, s.binding(w, r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	})
}

func (s *server) apiEnroll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bad := rawJSON(w, r)
		if bad != "" {
			s.problem(w, bad)
			return
		}
		login, err := s.con.Enroll(r.Context(), body, existingBinding(r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, login.Token)
		writeJSON(w, http.StatusCreated, map[string]string{"next": "/", "operator": login.Operator.Name, "role": login.Operator.Role})
	})
}

func (s *server) postLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, _ := current(r)
		if err := s.con.Logout(r.Context(), cur, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		s.clearCookie(w)
		see(w, r, "/login?m=logged_out")
	})
}
