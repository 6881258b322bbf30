package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

func (s *server) apiNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.problem(w, r, codeNotFound) })
}

type passwordReq struct {
	CustomerCode string `json:"customer_code"`
	Password     string `json:"password"`
}

func (s *server) apiPasswordLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[passwordReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		if !s.limitAccount(w, r, req.CustomerCode) {
			return
		}
		res, err := s.auth.PasswordLogin(r.Context(), req.CustomerCode, req.Password, s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, res.Token)
		out := map[string]string{"next": res.Next}
		if res.Method != "" {
			out["method"] = res.Method
		}
		writeJSON(w, http.StatusOK, out)
	})
}

type codeReq struct {
	Code string `json:"code"`
}

// loginStep runs a step that may complete a login and answers with its next step.
func (s *server) loginStep(w http.ResponseWriter, r *http.Request, res *auth.LoginResult, err error) {
	if err != nil {
		if c := auth.ErrorCode(err); c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen {
			s.clearCookie(w)
		}
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, res.Token)
	writeJSON(w, http.StatusOK, map[string]string{"next": res.Next})
}

func (s *server) apiSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[codeReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur, err := current(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		res, err := s.auth.SecondFactor(r.Context(), cur, req.Code, s.meta(r))
		s.loginStep(w, r, res, err)
	})
}

func (s *server) apiResendLoginCode() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := current(r)
		if err == nil {
			err = s.auth.ResendLoginCode(r.Context(), cur, s.meta(r))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	})
}

// sessionJSON is GET /api/session.
type sessionJSON struct {
	CustomerCode    string     `json:"customer_code"`
	Stage           string     `json:"stage"`
	Method          string     `json:"method,omitempty"`
	PasskeyID       int64      `json:"passkey_id,omitempty"`
	AuthenticatedAt *time.Time `json:"authenticated_at,omitempty"`
	ExpiresAt       time.Time  `json:"expires_at"`
	Email           string     `json:"email,omitempty"`
	SecondFactor    string     `json:"second_factor,omitempty"`
}

func (s *server) apiSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := current(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := sessionJSON{
			CustomerCode: cur.Customer.Code, Stage: cur.Session.Stage,
			Method: cur.Session.Method, PasskeyID: cur.Session.PasskeyID,
			ExpiresAt: cur.Session.ExpiresAt, SecondFactor: cur.Customer.SecondFactor,
		}
		if cur.Full() || cur.Restricted() {
			at := cur.Session.AuthenticatedAt
			out.AuthenticatedAt = &at
			out.Email = cur.Customer.Email
		}
		// The session's fields plus the phase and what it may do (P1, P2).
		b, _ := json.Marshal(out)
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		if err := s.sessionPolicy(r, cur, m); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
}

func (s *server) apiLogout(everywhere bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := current(r)
		if err != nil {
			s.clearCookie(w)
			s.fail(w, r, err)
			return
		}
		if everywhere {
			_, err = s.auth.LogoutEverywhere(r.Context(), cur, s.meta(r))
		} else {
			err = s.auth.Logout(r.Context(), cur, s.meta(r))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.clearCookie(w)
		w.WriteHeader(http.StatusNoContent)
	})
}

// setupCurrent returns the session of a customer in initial setup, or answers.
func (s *server) setupCurrent(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, err := current(r)
	if err == nil && cur.Session.Stage != store.StageSetup {
		code := auth.CodeNotAuthenticated
		if cur.Full() {
			code = auth.CodeAlreadySetUp
		}
		err = &auth.Error{Code: code}
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return cur
}

func (s *server) apiSetupState() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"step": auth.SetupStep(cur), "email": auth.PendingEmail(cur)})
	})
}

type emailReq struct {
	Email string `json:"email"`
}

func (s *server) apiSetupEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[emailReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.SetupEmail(r.Context(), cur, req.Email, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"next": auth.SetupStepEmailVerify})
	})
}

func (s *server) apiSetupResend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.ResendSetupCode(r.Context(), cur, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	})
}

func (s *server) apiSetupVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[codeReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.SetupVerifyEmail(r.Context(), cur, req.Code, s.meta(r)); err != nil {
			s.loginStep(w, r, nil, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"next": auth.SetupStepMethod})
	})
}

type methodReq struct {
	Method string `json:"method"`
}

func (s *server) apiSetupMethod() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[methodReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		switch req.Method {
		case store.FactorEmail:
			res, err := s.auth.SetupChooseEmail(r.Context(), cur, s.meta(r))
			s.loginStep(w, r, res, err)
		case store.FactorTOTP:
			en, err := s.auth.SetupStartTOTP(r.Context(), cur, s.meta(r))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"next": auth.SetupStepTOTP, "secret": en.Secret, "otpauth_url": en.URL, "qr_png": en.QRPNG})
		default:
			s.problem(w, r, auth.CodeInvalidRequest)
		}
	})
}

func (s *server) apiSetupTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[codeReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.setupCurrent(w, r)
		if cur == nil {
			return
		}
		res, err := s.auth.SetupConfirmTOTP(r.Context(), cur, req.Code, s.meta(r))
		s.loginStep(w, r, res, err)
	})
}
