package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/store"
)

// registrar returns a full or restricted session (passkey registration is the
// one thing a restricted session may do), or answers.
func (s *server) registrar(w http.ResponseWriter, r *http.Request) *auth.Current {
	cur, err := current(r)
	if err == nil && !cur.Full() && !cur.Restricted() {
		err = &auth.Error{Code: auth.CodeNotAuthenticated}
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return cur
}

// mayJSON is what GET /api/session says about the important operations.
type reasonJSON struct {
	Code  string     `json:"code"`
	Until *time.Time `json:"until,omitempty"`
}

func (s *server) sessionPolicy(r *http.Request, cur *auth.Current, out map[string]any) error {
	sched := s.auth.Schedule()
	out["phase"] = s.auth.Phase().String()
	if !sched.RecommendFrom.IsZero() {
		out["recommend_from"] = sched.RecommendFrom
	}
	if !sched.MandatoryFrom.IsZero() {
		out["mandatory_from"] = sched.MandatoryFrom
	}
	if !cur.Full() && !cur.Restricted() {
		return nil
	}
	may, err := s.auth.May(r.Context(), cur)
	if err != nil {
		return err
	}
	allowed := map[string]bool{}
	reasons := map[string]reasonJSON{}
	for op, d := range may {
		allowed[string(op)] = d.Allowed
		if !d.Allowed {
			rj := reasonJSON{Code: d.Reason}
			if !d.Until.IsZero() {
				u := d.Until
				rj.Until = &u
			}
			reasons[string(op)] = rj
		}
	}
	out["may"], out["reasons"] = allowed, reasons
	out["passkey_step_up_for"] = []string{string(policy.OpWithdraw), string(policy.OpChangeBankAccount)}
	return nil
}

func (s *server) apiPortfolio() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		type holding struct {
			Symbol   string `json:"symbol"`
			Name     string `json:"name"`
			Quantity int    `json:"quantity"`
			Price    int64  `json:"price"`
		}
		var hs []holding
		for _, h := range s.auth.Portfolio(cur) {
			hs = append(hs, holding{h.Symbol, h.Name, h.Quantity, h.Price})
		}
		ba, err := s.auth.CurrentBankAccount(r.Context(), cur)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"holdings": hs, "bank_account": ba})
	})
}

func operationJSON(o *store.Operation) map[string]any {
	return map[string]any{"id": o.ID, "operation": o.Kind, "details": json.RawMessage(o.Detail), "method": o.Method, "created_at": o.CreatedAt}
}

// operation decodes a request of type T and runs it through do.
func operation[T any](s *server, do func(r *http.Request, cur *auth.Current, v T) (*store.Operation, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, bad := decode[T](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		o, err := do(r, cur, v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, operationJSON(o))
	})
}

func (s *server) apiOrder() http.Handler {
	return operation(s, func(r *http.Request, cur *auth.Current, o auth.OrderDetails) (*store.Operation, error) {
		return s.auth.PlaceOrder(r.Context(), cur, o, s.meta(r))
	})
}

func (s *server) apiWithdraw() http.Handler {
	return operation(s, func(r *http.Request, cur *auth.Current, v auth.WithdrawalDetails) (*store.Operation, error) {
		return s.auth.Withdraw(r.Context(), cur, v, s.meta(r))
	})
}

func (s *server) apiBankAccount() http.Handler {
	return operation(s, func(r *http.Request, cur *auth.Current, v auth.BankAccount) (*store.Operation, error) {
		return s.auth.ChangeBankAccount(r.Context(), cur, v, s.meta(r))
	})
}

type stepUpOptionsReq struct {
	Operation string          `json:"operation"`
	Details   json.RawMessage `json:"details"`
}

func (s *server) apiOperationStepUpOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[stepUpOptionsReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		if len(req.Details) == 0 {
			req.Details = json.RawMessage("{}")
		}
		op := policy.Operation(req.Operation)
		opts, details, err := s.auth.OperationStepUpOptions(r.Context(), cur, op, req.Details, s.binding(w, r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"publicKey": opts.Response, "operation": op, "details": json.RawMessage(details),
			"summary": s.auth.Summary(r.Context(), cur, op, details, locale.Negotiate(r)),
		})
	})
}

func (s *server) apiOperationStepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bad := rawJSON(w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		op, tok, err := s.auth.OperationStepUp(r.Context(), cur, body, existingBinding(r), s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, tok)
		writeJSON(w, http.StatusOK, map[string]string{"operation": string(op)})
	})
}

func (s *server) apiEmailChange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[emailReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.RequestEmailChange(r.Context(), cur, req.Email, s.meta(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "code_sent"})
	})
}

func (s *server) apiEmailChangeVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, bad := decode[codeReq](w, r)
		if bad != "" {
			s.problem(w, r, bad)
			return
		}
		cur := s.full(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.ConfirmEmailChange(r.Context(), cur, req.Code, s.meta(r)); err != nil {
			s.loginStep(w, r, nil, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"email": cur.Customer.Email})
	})
}

func (s *server) apiLogins() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.registrar(w, r)
		if cur == nil {
			return
		}
		evs, err := s.auth.LoginHistory(r.Context(), cur, 20)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		type ev struct {
			At      time.Time `json:"at"`
			Method  string    `json:"method,omitempty"`
			IP      string    `json:"ip"`
			Browser string    `json:"browser"`
			OK      bool      `json:"ok"`
			Detail  string    `json:"detail,omitempty"`
		}
		out := make([]ev, 0, len(evs))
		for _, e := range evs {
			out = append(out, ev{e.At, e.Method, e.IP, e.Browser, e.OK, e.Detail})
		}
		writeJSON(w, http.StatusOK, map[string]any{"logins": out})
	})
}
