package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/store"
)

// bindingCookie ties a begun WebAuthn ceremony to the browser that began it.
const bindingCookie = "kagi_wa"

// binding returns the browser's ceremony binding, creating it if absent.
func (s *server) binding(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(bindingCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: v, Path: "/api/", HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteStrictMode})
	return v
}

func existingBinding(r *http.Request) string {
	if c, err := r.Cookie(bindingCookie); err == nil {
		return c.Value
	}
	return ""
}

// rawJSON reads a bounded JSON body as bytes for go-webauthn's parser.
func rawJSON(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, codeUnsupportedMedia
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSON))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, codeBodyTooLarge
		}
		return nil, codeInvalidJSON
	}
	return b, ""
}

// optionalJSON decodes a body that may be absent or empty.
func optionalJSON[T any](w http.ResponseWriter, r *http.Request) (T, string) {
	var zero T
	if r.ContentLength == 0 {
		return zero, ""
	}
	return decode[T](w, r)
}

// full returns a logged-in session or answers 401.
func (s *server) full(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, err := current(r)
	if err == nil && cur.Restricted() {
		err = &auth.Error{Code: auth.CodeRestricted}
	} else if err == nil && !cur.Full() {
		err = &auth.Error{Code: auth.CodeNotAuthenticated}
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return cur
}

type loginOptionsReq struct {
	Mediation string `json:"mediation"`
}

func (s *server) apiPasskeyLoginOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := optionalJSON[loginOptionsReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		if req.Mediation != "" && req.Mediation != "conditional" {
			s.problem(w, r, auth.CodeInvalidRequest)
			return
		}
		opts, err := s.auth.LoginOptions(r.Context(), req.Mediation == "conditional", s.binding(w, r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	})
}

func (s *server) apiPasskeyLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bad := rawJSON(w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		prev, _ := current(r)
		res, _, err := s.auth.PasskeyLogin(r.Context(), prev, body, existingBinding(r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, res.Token)
		writeJSON(w, http.StatusOK, map[string]string{"next": res.Next})
	})
}

func (s *server) apiStepUpSendCode() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.SendStepUpCode(r.Context(), cur, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	})
}

func (s *server) apiStepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[codeReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		tok, err := s.auth.StepUp(r.Context(), cur, req.Code, s.meta(r))
		if err != nil {
			s.loginStep(w, r, nil, err)
			return
		}
		s.setCookie(w, tok)
		until, _ := s.auth.StepUpUntil(cur)
		writeJSON(w, http.StatusOK, map[string]any{"step_up_until": until})
	})
}

// passkeyJSON is one passkey in the API.
type passkeyJSON struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Authenticator string     `json:"authenticator"`
	Synced        bool       `json:"synced"`
	Shared        bool       `json:"shared"`
	Status        string     `json:"status"` // active or suspended
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	CredentialID  string     `json:"credential_id"`
}

func toPasskeyJSON(p *store.Passkey, lang string) passkeyJSON {
	out := passkeyJSON{
		ID: p.ID, Name: p.Name, Authenticator: auth.AuthenticatorName(p, lang), Synced: p.BackupState, Shared: p.Shared,
		Status: "active", CreatedAt: p.CreatedAt, CredentialID: base64.RawURLEncoding.EncodeToString(p.CredentialID),
	}
	if !p.SuspendedAt.IsZero() {
		out.Status = "suspended"
	}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}

func (s *server) apiPasskeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		ps, err := s.auth.Passkeys(r.Context(), cur)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		lang := locale.Negotiate(r)
		out := make([]passkeyJSON, 0, len(ps))
		for _, p := range ps {
			out = append(out, toPasskeyJSON(p, lang))
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"passkeys": out, "limit": s.auth.Config().PasskeyLimit,
			"rp_id": s.auth.RPID(), "user_id": base64.RawURLEncoding.EncodeToString(cur.Customer.UserHandle),
		})
	})
}

type registerOptionsReq struct {
	Shared    bool   `json:"shared"`
	Mediation string `json:"mediation"`
}

func (s *server) apiPasskeyOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := optionalJSON[registerOptionsReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		if req.Mediation != "" && req.Mediation != "conditional" {
			s.problem(w, r, auth.CodeInvalidRequest)
			return
		}
		// A customer still in initial setup is told what is missing (K2, Check1).
		if cur, _ := current(r); cur != nil && cur.Session.Stage == store.StageSetup && !cur.Customer.EmailVerified() {
			s.problem(w, r, auth.CodeEmailNotVerified)
			return
		}
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		opts, err := s.auth.RegistrationOptions(r.Context(), cur, req.Shared, req.Mediation == "conditional", s.binding(w, r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	})
}

func (s *server) apiPasskeyRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bad := rawJSON(w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		p, err := s.auth.RegisterPasskey(r.Context(), cur, body, r.URL.Query().Get("name"), existingBinding(r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, toPasskeyJSON(p, locale.Negotiate(r)))
	})
}

func passkeyID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

type renameReq struct {
	Name string `json:"name"`
}

func (s *server) apiPasskeyRename() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[renameReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		id, ok := passkeyID(r)
		if !ok {
			s.problem(w, r, auth.CodeNotFound)
			return
		}
		p, err := s.auth.RenamePasskey(r.Context(), cur, id, req.Name, s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toPasskeyJSON(p, locale.Negotiate(r)))
	})
}

func (s *server) apiPasskeyDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		id, ok := passkeyID(r)
		if !ok {
			s.problem(w, r, auth.CodeNotFound)
			return
		}
		if err := s.auth.DeletePasskey(r.Context(), cur, id, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
