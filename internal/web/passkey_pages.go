package web

import (
	"encoding/base64"
	"net/http"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

func (s *server) passkeyItem(p *store.Passkey, lang string) ui.PasskeyItem {
	return ui.PasskeyItem{
		ID: p.ID, Name: p.Name, Authenticator: auth.AuthenticatorName(p, lang),
		Synced: p.BackupState, Shared: p.Shared, Suspended: !p.SuspendedAt.IsZero(),
		CreatedAt: formatJST(p.CreatedAt, lang), LastUsedAt: formatJST(p.LastUsedAt, lang),
		CredentialID: base64.RawURLEncoding.EncodeToString(p.CredentialID),
	}
}

// signalData lets the page tell the browser's password manager which passkeys
// still exist and what the account is called (K11).
func (s *server) signalData(cur *auth.Current, ps []*store.Passkey) ui.SignalData {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Active() {
			ids = append(ids, base64.RawURLEncoding.EncodeToString(p.CredentialID))
		}
	}
	return ui.SignalData{
		RPID: s.auth.RPID(), UserID: base64.RawURLEncoding.EncodeToString(cur.Customer.UserHandle),
		Name: cur.Customer.Code, DisplayName: cur.Customer.Code, CredentialIDs: ids,
	}
}

func (s *server) passkeysView(r *http.Request, cur *auth.Current) (ui.PasskeysView, error) {
	ps, err := s.auth.Passkeys(r.Context(), cur)
	if err != nil {
		return ui.PasskeysView{}, err
	}
	b := s.base(r, cur)
	v := ui.PasskeysView{
		Base: b, Limit: s.auth.Config().PasskeyLimit, EmailVerified: cur.Customer.EmailVerified(),
		SecondFactor: cur.Customer.SecondFactor, MaskedEmail: maskEmail(cur.Customer.Email),
		Signal: s.signalData(cur, ps),
	}
	_, v.StepUpValid = s.auth.StepUpUntil(cur)
	active := 0
	for _, p := range ps {
		v.Passkeys = append(v.Passkeys, s.passkeyItem(p, b.Lang))
		if p.Active() {
			active++
		}
	}
	v.LimitReached = active >= v.Limit
	return v, nil
}

func (s *server) pagePasskeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		v, err := s.passkeysView(r, cur)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "passkeys", v)
	})
}

// passkeysProblem re-renders the passkeys page with an error banner.
func (s *server) passkeysProblem(w http.ResponseWriter, r *http.Request, cur *auth.Current, err error) {
	c, args := s.classify(r, err)
	if c == auth.CodeAccountLocked || c == auth.CodeAccountFrozen || c == "internal" || c == auth.CodeNotAuthenticated {
		s.clearCookie(w)
		s.errorPage(w, r, c, args...)
		return
	}
	v, verr := s.passkeysView(r, cur)
	if verr != nil {
		s.pageFail(w, r, verr)
		return
	}
	v.Error = message(v.Lang, c, args...)
	s.render(w, r, status(c), "passkeys", v)
}

func (s *server) postStepUpSend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.SendStepUpCode(r.Context(), cur, s.meta(r)); err != nil {
			s.passkeysProblem(w, r, cur, err)
			return
		}
		see(w, r, "/account/passkeys?m=code_sent")
	})
}

func (s *server) postStepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		tok, err := s.auth.StepUp(r.Context(), cur, formValue(w, r, "code"), s.meta(r))
		if err != nil {
			s.passkeysProblem(w, r, cur, err)
			return
		}
		s.setCookie(w, tok)
		see(w, r, "/account/passkeys?m=step_up_done")
	})
}

func (s *server) postPasskeyRename() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		id, _ := passkeyID(r)
		if _, err := s.auth.RenamePasskey(r.Context(), cur, id, formValue(w, r, "name"), s.meta(r)); err != nil {
			s.passkeysProblem(w, r, cur, err)
			return
		}
		see(w, r, "/account/passkeys?m=passkey_renamed")
	})
}

// ownPasskeyItem finds one of the customer's passkeys for the confirmation page.
func (s *server) ownPasskeyItem(r *http.Request, cur *auth.Current) (ui.PasskeyItem, bool) {
	id, ok := passkeyID(r)
	if !ok {
		return ui.PasskeyItem{}, false
	}
	ps, err := s.auth.Passkeys(r.Context(), cur)
	if err != nil {
		return ui.PasskeyItem{}, false
	}
	for _, p := range ps {
		if p.ID == id {
			return s.passkeyItem(p, locale.Negotiate(r)), true
		}
	}
	return ui.PasskeyItem{}, false
}

func (s *server) pagePasskeyDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		item, ok := s.ownPasskeyItem(r, cur)
		if !ok {
			s.errorPage(w, r, auth.CodeNotFound)
			return
		}
		s.render(w, r, http.StatusOK, "passkey_delete", ui.PasskeyDeleteView{Base: s.base(r, cur), Passkey: item})
	})
}

func (s *server) postPasskeyDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrarPage(w, r)
		if cur == nil {
			return
		}
		id, _ := passkeyID(r)
		if err := s.auth.DeletePasskey(r.Context(), cur, id, s.meta(r)); err != nil {
			if auth.ErrorCode(err) == auth.CodeNotFound {
				s.errorPage(w, r, auth.CodeNotFound)
				return
			}
			s.passkeysProblem(w, r, cur, err)
			return
		}
		see(w, r, "/account/passkeys?m=passkey_deleted")
	})
}
