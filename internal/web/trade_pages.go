package web

// The pages of the passkey-mandatory phase and of the demo trading site
// (issue 6, SPEC P1–P8): ポートフォリオ, 注文, 出金, 出金先口座, メールアドレスの
// 変更, ログイン履歴 and the restricted session's explanation. Every form is a
// plain POST; the passkey step-up that the mandatory phase asks for runs in
// static/js/stepup.js through the JSON API (operations_api.go), after which
// the page submits its form and the domain accepts it once, for exactly the
// details the passkey confirmed (P7).

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

func init() {
	// The notices these pages' redirects may ask for (?m=key).
	for k, v := range map[string]string{
		"order_placed":         "notice.order_placed",
		"withdrawal_requested": "notice.withdrawal_requested",
		"bank_account_changed": "notice.bank_account_changed",
		"email_code_sent":      "notice.email_code_sent",
		"email_changed":        "notice.email_changed",
	} {
		notices[k] = v
	}
}

// maxWithdrawal is the largest withdrawal the demo accepts (the domain checks it too).
const maxWithdrawal = 10_000_000

// extraSymbols are offered in the order form besides the holdings, so that a
// customer can buy something new.
var extraSymbols = []ui.SymbolOption{
	{Symbol: "7974", Name: "任天堂"},
	{Symbol: "9984", Name: "ソフトバンクグループ"},
	{Symbol: "6861", Name: "キーエンス"},
}

var weekdaysJA = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// formatDateJST shows a date of the published schedule with its weekday, in
// Japan time: "2026年5月18日（月）" or "Mon 18 May 2026".
func formatDateJST(t time.Time, lang string) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(jst)
	if lang == "en" {
		return t.Format("Mon 2 Jan 2006")
	}
	return t.Format("2006年1月2日") + "（" + weekdaysJA[t.Weekday()] + "）"
}

// phaseNotice is the published schedule (P1) for the login and account pages.
func (s *server) phaseNotice(lang string, hasPasskey bool) ui.PhaseNotice {
	return ui.PhaseNotice{
		Phase:         s.auth.Phase().String(),
		MandatoryFrom: formatDateJST(s.auth.Schedule().MandatoryFrom, lang),
		HasPasskey:    hasPasskey,
	}
}

// hasPasskey reports whether the customer has an active passkey.
func (s *server) hasPasskey(ctx context.Context, cur *auth.Current) (bool, error) {
	n, err := s.st.CountActivePasskeys(ctx, cur.Customer.ID)
	return n > 0, err
}

// opStatus puts a decision of the policy into words for the pages.
func opStatus(op policy.Operation, d policy.Decision, lang string) ui.OperationStatus {
	return ui.OperationStatus{
		Operation: string(op), Allowed: d.Allowed, Reason: d.Reason,
		Until: formatJST(d.Until, lang), NeedsStepUp: d.Allowed && d.NeedsTransactionStepUp,
	}
}

// decide asks the policy about op for the page's banner.
func (s *server) decide(r *http.Request, cur *auth.Current, op policy.Operation, lang string) (ui.OperationStatus, error) {
	d, err := s.auth.Decide(r.Context(), cur, op)
	if err != nil {
		return ui.OperationStatus{}, err
	}
	return opStatus(op, d, lang), nil
}

// opFailed shows what went wrong with an important operation: on the page it
// came from (render), or as a full page for the session's own problems.
func (s *server) opFailed(w http.ResponseWriter, r *http.Request, err error, render func(b ui.Base, st int)) {
	c, args := s.classify(r, err)
	switch c {
	case auth.CodeAccountLocked, auth.CodeAccountFrozen, codeInternal, auth.CodeNotAuthenticated, auth.CodeSessionExpired:
		if c != codeInternal {
			s.clearCookie(w)
		}
		s.errorPage(w, r, c, args...)
		return
	case auth.CodeRestricted:
		see(w, r, "/account/restricted")
		return
	}
	cur, _ := current(r)
	b := s.base(r, cur)
	b.Error = message(b.Lang, c, args...)
	render(b, status(c))
}

// digits reads a number typed by a person: full-width digits, thousands
// separators and a trailing 円 or 株 are accepted. ok is false for anything
// else, for an empty field and for values beyond max.
func digits(s string, max int64) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "円"), "株"))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == ',' || r == '，' || r == '、':
		default:
			return 0, false
		}
	}
	s = b.String()
	if s == "" || len(s) > 12 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

// clip keeps at most n runes of s (truncate counts bytes, which would cut a
// Japanese name in the middle of a character).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ---------- ポートフォリオ ----------

// tradeOps are the operations the portfolio reports on (those with a page).
var tradeOps = []policy.Operation{policy.OpTrade, policy.OpWithdraw, policy.OpChangeBankAccount, policy.OpChangeEmail}

func (s *server) pageTrade() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		b := s.base(r, cur)
		may, err := s.auth.May(r.Context(), cur)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		has, err := s.hasPasskey(r.Context(), cur)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		v := ui.TradeView{Base: b, Phase: s.phaseNotice(b.Lang, has)}
		var total int64
		for _, h := range s.auth.Portfolio(cur) {
			value := h.Price * int64(h.Quantity)
			total += value
			v.Holdings = append(v.Holdings, ui.Holding{
				Symbol: h.Symbol, Name: h.Name, Quantity: ui.FormatShares(b.Lang, h.Quantity),
				Price: ui.FormatYen(b.Lang, h.Price), Value: ui.FormatYen(b.Lang, value),
			})
		}
		v.Total = ui.FormatYen(b.Lang, total)
		for _, op := range tradeOps {
			if d, ok := may[op]; ok && !d.Allowed {
				v.Blocked = append(v.Blocked, opStatus(op, d, b.Lang))
			}
		}
		s.render(w, r, http.StatusOK, "trade", v)
	})
}

// ---------- 注文 ----------

func (s *server) symbolOptions(cur *auth.Current, lang string) []ui.SymbolOption {
	var out []ui.SymbolOption
	seen := map[string]bool{}
	for _, h := range s.auth.Portfolio(cur) {
		out = append(out, ui.SymbolOption{Symbol: h.Symbol, Name: h.Name, Price: ui.FormatYen(lang, h.Price)})
		seen[h.Symbol] = true
	}
	for _, o := range extraSymbols {
		if !seen[o.Symbol] {
			out = append(out, o)
		}
	}
	return out
}

func (s *server) orderView(r *http.Request, cur *auth.Current, b ui.Base, f ui.OrderForm) (ui.OrderView, error) {
	st, err := s.decide(r, cur, policy.OpTrade, b.Lang)
	return ui.OrderView{Base: b, Status: st, Symbols: s.symbolOptions(cur, b.Lang), Form: f}, err
}

func (s *server) pageOrder() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		v, err := s.orderView(r, cur, s.base(r, cur), ui.OrderForm{Symbol: r.URL.Query().Get("symbol")})
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "trade_order", v)
	})
}

// orderForm reads the order form; ok is false when it is incomplete or malformed.
func orderForm(w http.ResponseWriter, r *http.Request) (ui.OrderForm, auth.OrderDetails, bool) {
	f := ui.OrderForm{
		Symbol: clip(formValue(w, r, "symbol"), 8), Side: formValue(w, r, "side"),
		Quantity: clip(formValue(w, r, "quantity"), 16), PriceType: formValue(w, r, "price_type"),
		Price: clip(formValue(w, r, "price"), 16),
	}
	o := auth.OrderDetails{Symbol: f.Symbol, Side: f.Side}
	q, ok := digits(f.Quantity, 1_000_000)
	if !ok || q < 1 || (f.Side != "buy" && f.Side != "sell") {
		return f, o, false
	}
	o.Quantity = int(q)
	switch f.PriceType {
	case "market":
		f.Price = ""
	case "limit":
		p, ok := digits(f.Price, 100_000_000)
		if !ok || p < 1 {
			return f, o, false
		}
		o.Price = p
	default:
		return f, o, false
	}
	return f, o, true
}

func (s *server) postOrder() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		f, o, ok := orderForm(w, r)
		rerender := func(b ui.Base, st int) {
			v, err := s.orderView(r, cur, b, f)
			if err != nil {
				s.pageFail(w, r, err)
				return
			}
			s.render(w, r, st, "trade_order", v)
		}
		if !ok {
			s.opFailed(w, r, &auth.Error{Code: auth.CodeInvalidRequest}, rerender)
			return
		}
		if _, err := s.auth.PlaceOrder(r.Context(), cur, o, s.meta(r)); err != nil {
			s.opFailed(w, r, err, rerender)
			return
		}
		see(w, r, "/trade?m=order_placed")
	})
}

// ---------- 出金 ----------

// bankRow shows an account; masked keeps only the number's last three digits.
func bankRow(a auth.BankAccount, lang string, masked bool) ui.BankAccountRow {
	typ := "trade.bank.type.futsu"
	if a.Type == "toza" {
		typ = "trade.bank.type.toza"
	}
	num := a.Number
	if masked && len(num) > 3 {
		num = strings.Repeat("*", len(num)-3) + num[len(num)-3:]
	}
	return ui.BankAccountRow{Bank: a.Bank, Branch: a.Branch, Type: locale.Printer(lang).T(typ), Number: num, Holder: a.Holder}
}

func (s *server) withdrawView(r *http.Request, cur *auth.Current, b ui.Base, amount string) (ui.WithdrawView, error) {
	st, err := s.decide(r, cur, policy.OpWithdraw, b.Lang)
	if err != nil {
		return ui.WithdrawView{}, err
	}
	ba, err := s.auth.CurrentBankAccount(r.Context(), cur)
	if err != nil {
		return ui.WithdrawView{}, err
	}
	return ui.WithdrawView{Base: b, Status: st, Amount: amount, Destination: bankRow(ba, b.Lang, true), Max: ui.FormatYen(b.Lang, maxWithdrawal)}, nil
}

func (s *server) pageWithdraw() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		v, err := s.withdrawView(r, cur, s.base(r, cur), "")
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "trade_withdraw", v)
	})
}

func (s *server) withdrawConfirmView(r *http.Request, cur *auth.Current, b ui.Base, amount int64) (ui.WithdrawConfirmView, error) {
	st, err := s.decide(r, cur, policy.OpWithdraw, b.Lang)
	if err != nil {
		return ui.WithdrawConfirmView{}, err
	}
	ba, err := s.auth.CurrentBankAccount(r.Context(), cur)
	if err != nil {
		return ui.WithdrawConfirmView{}, err
	}
	details, _ := json.Marshal(auth.WithdrawalDetails{Amount: amount})
	return ui.WithdrawConfirmView{
		Base: b, Status: st, Amount: amount, AmountText: ui.FormatYen(b.Lang, amount),
		Destination: bankRow(ba, b.Lang, true), DetailsJSON: string(details),
	}, nil
}

// withdrawAmount reads the amount field, or re-renders the amount page.
func (s *server) withdrawAmount(w http.ResponseWriter, r *http.Request, cur *auth.Current) (int64, bool) {
	raw := formValue(w, r, "amount")
	amount, ok := digits(raw, maxWithdrawal)
	if ok && amount >= 1 {
		return amount, true
	}
	s.opFailed(w, r, &auth.Error{Code: auth.CodeInvalidRequest}, func(b ui.Base, st int) {
		b.Error = locale.Printer(b.Lang).T("trade.withdraw.amount_hint", ui.FormatYen(b.Lang, maxWithdrawal))
		v, err := s.withdrawView(r, cur, b, clip(raw, 16))
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, st, "trade_withdraw", v)
	})
	return 0, false
}

func (s *server) postWithdrawConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		amount, ok := s.withdrawAmount(w, r, cur)
		if !ok {
			return
		}
		v, err := s.withdrawConfirmView(r, cur, s.base(r, cur), amount)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "trade_withdraw_confirm", v)
	})
}

func (s *server) postWithdraw() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		amount, ok := s.withdrawAmount(w, r, cur)
		if !ok {
			return
		}
		if _, err := s.auth.Withdraw(r.Context(), cur, auth.WithdrawalDetails{Amount: amount}, s.meta(r)); err != nil {
			s.opFailed(w, r, err, func(b ui.Base, st int) {
				v, err := s.withdrawConfirmView(r, cur, b, amount)
				if err != nil {
					s.pageFail(w, r, err)
					return
				}
				s.render(w, r, st, "trade_withdraw_confirm", v)
			})
			return
		}
		see(w, r, "/trade?m=withdrawal_requested")
	})
}

// ---------- 出金先口座 ----------

func (s *server) bankAccountView(r *http.Request, cur *auth.Current, b ui.Base, f ui.BankAccountForm) (ui.BankAccountView, error) {
	st, err := s.decide(r, cur, policy.OpChangeBankAccount, b.Lang)
	if err != nil {
		return ui.BankAccountView{}, err
	}
	ba, err := s.auth.CurrentBankAccount(r.Context(), cur)
	if err != nil {
		return ui.BankAccountView{}, err
	}
	return ui.BankAccountView{Base: b, Status: st, Current: bankRow(ba, b.Lang, true), Form: f}, nil
}

func (s *server) pageBankAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		v, err := s.bankAccountView(r, cur, s.base(r, cur), ui.BankAccountForm{})
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "trade_bank_account", v)
	})
}

// bankForm reads a bank account from the form, trimmed and with full-width
// digits made plain; ok is false when a field is missing or malformed.
func bankForm(w http.ResponseWriter, r *http.Request) (ui.BankAccountForm, auth.BankAccount, bool) {
	f := ui.BankAccountForm{
		Bank: clip(formValue(w, r, "bank"), 41), Branch: clip(formValue(w, r, "branch"), 41),
		Type: formValue(w, r, "type"), Number: clip(formValue(w, r, "number"), 16), Holder: clip(formValue(w, r, "holder"), 41),
	}
	f.Number = strings.Map(func(r rune) rune { // full-width digits typed by an IME
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		return r
	}, f.Number)
	a := auth.BankAccount{Bank: f.Bank, Branch: f.Branch, Type: f.Type, Number: f.Number, Holder: f.Holder}
	ok := (f.Type == "futsu" || f.Type == "toza") && len(f.Number) == 7
	for _, c := range f.Number {
		ok = ok && c >= '0' && c <= '9'
	}
	for _, v := range []string{f.Bank, f.Branch, f.Holder} {
		ok = ok && v != "" && utf8.RuneCountInString(v) <= 40 && !strings.ContainsAny(v, "<>\t\r\n")
	}
	return f, a, ok
}

func (s *server) bankConfirmView(r *http.Request, cur *auth.Current, b ui.Base, f ui.BankAccountForm, a auth.BankAccount) (ui.BankAccountConfirmView, error) {
	st, err := s.decide(r, cur, policy.OpChangeBankAccount, b.Lang)
	if err != nil {
		return ui.BankAccountConfirmView{}, err
	}
	details, _ := json.Marshal(a)
	return ui.BankAccountConfirmView{Base: b, Status: st, New: bankRow(a, b.Lang, false), Form: f, DetailsJSON: string(details)}, nil
}

// bankFormOrFail reads the form, or shows the change page again with the error.
func (s *server) bankFormOrFail(w http.ResponseWriter, r *http.Request, cur *auth.Current) (ui.BankAccountForm, auth.BankAccount, bool) {
	f, a, ok := bankForm(w, r)
	if !ok {
		s.opFailed(w, r, &auth.Error{Code: auth.CodeInvalidRequest}, func(b ui.Base, st int) {
			v, err := s.bankAccountView(r, cur, b, f)
			if err != nil {
				s.pageFail(w, r, err)
				return
			}
			s.render(w, r, st, "trade_bank_account", v)
		})
	}
	return f, a, ok
}

func (s *server) postBankAccountConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		f, a, ok := s.bankFormOrFail(w, r, cur)
		if !ok {
			return
		}
		v, err := s.bankConfirmView(r, cur, s.base(r, cur), f, a)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "trade_bank_account_confirm", v)
	})
}

// postBankAccount replaces the destination (PUT semantics: the whole account).
func (s *server) postBankAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		f, a, ok := s.bankFormOrFail(w, r, cur)
		if !ok {
			return
		}
		if _, err := s.auth.ChangeBankAccount(r.Context(), cur, a, s.meta(r)); err != nil {
			s.opFailed(w, r, err, func(b ui.Base, st int) {
				v, err := s.bankConfirmView(r, cur, b, f, a)
				if err != nil {
					s.pageFail(w, r, err)
					return
				}
				s.render(w, r, st, "trade_bank_account_confirm", v)
			})
			return
		}
		see(w, r, "/trade?m=bank_account_changed")
	})
}

// ---------- メールアドレスの変更 ----------

func (s *server) emailView(r *http.Request, cur *auth.Current, b ui.Base, email string) (ui.EmailChangeView, error) {
	st, err := s.decide(r, cur, policy.OpChangeEmail, b.Lang)
	return ui.EmailChangeView{
		Base: b, Status: st, Current: cur.Customer.Email, Pending: s.auth.PendingEmailChange(cur), Email: email,
		CoolingHours: int(s.auth.Schedule().CoolingOff / time.Hour),
	}, err
}

func (s *server) renderEmail(w http.ResponseWriter, r *http.Request, cur *auth.Current, email string) func(b ui.Base, st int) {
	return func(b ui.Base, st int) {
		v, err := s.emailView(r, cur, b, email)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.render(w, r, st, "account_email", v)
	}
}

func (s *server) pageEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		s.renderEmail(w, r, cur, "")(s.base(r, cur), http.StatusOK)
	})
}

func (s *server) postEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		email := formValue(w, r, "email")
		if err := s.auth.RequestEmailChange(r.Context(), cur, email, s.meta(r)); err != nil {
			s.opFailed(w, r, err, s.renderEmail(w, r, cur, clip(email, 254)))
			return
		}
		see(w, r, "/account/email?m=email_code_sent")
	})
}

func (s *server) postEmailVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		if err := s.auth.ConfirmEmailChange(r.Context(), cur, formValue(w, r, "code"), s.meta(r)); err != nil {
			s.opFailed(w, r, err, s.renderEmail(w, r, cur, ""))
			return
		}
		see(w, r, "/account?m=email_changed")
	})
}

// ---------- ログイン履歴 ----------

func (s *server) pageLogins() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := s.loggedIn(w, r)
		if cur == nil {
			return
		}
		b := s.base(r, cur)
		evs, err := s.auth.LoginHistory(r.Context(), cur, 20)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		v := ui.LoginHistoryView{Base: b}
		for _, e := range evs {
			row := ui.LoginRow{At: formatJST(e.At, b.Lang), Method: e.Method, IP: e.IP, Browser: e.Browser, OK: e.OK}
			if !e.OK {
				row.Reason = ui.LoginReason(e.Detail)
			}
			v.Logins = append(v.Logins, row)
		}
		s.render(w, r, http.StatusOK, "account_logins", v)
	})
}

// ---------- the restricted session (P3) ----------

func (s *server) pageRestricted() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, _ := current(r)
		if !cur.Restricted() {
			see(w, r, stageRedirect(cur))
			return
		}
		b := s.base(r, cur)
		s.render(w, r, http.StatusOK, "account_restricted", ui.RestrictedView{Base: b, MandatoryFrom: formatDateJST(s.auth.Schedule().MandatoryFrom, b.Lang)})
	})
}
