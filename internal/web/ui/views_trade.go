package ui

// Views of the passkey-mandatory phase and of the demo trading site's
// important operations (issue 6, SPEC P1–P8). Handlers in
// internal/web/trade_pages.go fill them; every time and amount arrives
// preformatted (JST, "100,000円" / "¥100,000").

import (
	"strconv"
	"strings"
)

// PhaseNotice is the published schedule (P1) as the login and account pages
// show it. Phase is "optional", "recommended" or "mandatory"; MandatoryFrom
// is the JST date with its weekday ("2026年5月18日（月）" / "Mon 18 May
// 2026"), "" while no date is scheduled; HasPasskey (account page only)
// changes the advice: a customer with a passkey is told they are ready, one
// without is sent to /account/passkeys. The zero value shows nothing.
type PhaseNotice struct {
	Phase         string
	MandatoryFrom string
	HasPasskey    bool
}

// Show reports whether there is anything to announce: a scheduled date, or
// the recommendation phase.
func (p PhaseNotice) Show() bool {
	return p.MandatoryFrom != "" || p.Phase == "recommended" || p.Phase == "mandatory"
}

// OperationStatus is the policy's answer for one important operation
// (policy.Decision in words). Operation is the policy key ("trade",
// "withdraw", "change_bank_account", "change_email",
// "change_second_factor"). When Allowed is false, Reason is
// "passkey_required" (register a passkey: link to /account/passkeys),
// "step_up_required" (confirm with a passkey on the operation's page),
// "cooling_off" (Until: the JST time it ends) or "restricted_session".
// NeedsStepUp: allowed, but the operation itself is confirmed with a passkey
// bound to its details (P7).
type OperationStatus struct {
	Operation   string
	Allowed     bool
	Reason      string
	Until       string
	NeedsStepUp bool
}

// Holding is one row of the portfolio, preformatted.
type Holding struct {
	Symbol   string // 銘柄コード, e.g. "7203"
	Name     string // 銘柄名
	Quantity string // 保有数量, e.g. "200株" / "200"
	Price    string // 時価
	Value    string // 評価額
}

// TradeView is ポートフォリオ (GET /trade), the top of the demo trading
// site: the holdings (#holdings), links to the operations and, when
// important operations are not allowed now (Blocked), a box (#blocked) with
// one line per operation (#operation-status-<operation>) saying why, and
// what to do once per reason (#blocked-register → /account/passkeys).
type TradeView struct {
	Base
	Phase    PhaseNotice
	Holdings []Holding
	Total    string // 評価額合計
	Blocked  []OperationStatus
}

// BlockedBy reports whether an operation is blocked for reason (the page
// then explains that reason once, below the list).
func (v TradeView) BlockedBy(reason string) bool {
	for _, b := range v.Blocked {
		if b.Reason == reason {
			return true
		}
	}
	return false
}

// SymbolOption is one choice of the order form's 銘柄 select.
type SymbolOption struct {
	Symbol string
	Name   string
	Price  string // 時価, preformatted
}

// OrderForm is what the order form holds, to refill it after an error.
type OrderForm struct {
	Symbol    string
	Side      string // "buy" | "sell"
	Quantity  string
	PriceType string // "market" | "limit"
	Price     string
}

// OrderView is 注文 (GET /trade/order; form#order-form POSTs symbol, side,
// quantity, price_type and price to /trade/order). With Status.Reason
// "step_up_required" the page first shows the passkey confirmation
// (#stepup-button, operation "trade"; static/js/trade_order.js reloads the
// page after it).
type OrderView struct {
	Base
	Status  OperationStatus
	Symbols []SymbolOption
	Form    OrderForm
}

// BankAccountRow is a withdrawal bank account in words: Type is "普通" /
// "当座" ("Ordinary" / "Current"), Number masked but for its last three
// digits where the page says so.
type BankAccountRow struct {
	Bank, Branch, Type, Number, Holder string
}

// WithdrawView is 出金 (GET /trade/withdraw): the amount (field amount),
// POSTed to /trade/withdraw/confirm, and the destination it will go to.
type WithdrawView struct {
	Base
	Status      OperationStatus
	Amount      string // refill after an error
	Destination BankAccountRow
	Max         string // the largest amount, preformatted
}

// WithdrawConfirmView is the confirmation of a withdrawal
// (POST /trade/withdraw/confirm). It shows the amount (#confirm-amount) and
// the destination (#confirm-destination) before any passkey prompt (P7).
// form#operation-form POSTs amount to /trade/withdraw; with
// Status.NeedsStepUp its submit is #stepup-button, which
// static/js/trade_withdraw_confirm.js turns into: step-up options for
// DetailsJSON → passkey → POST /api/step-up/passkey → submit the form.
// Otherwise (before the mandatory date) a plain #operation-submit.
type WithdrawConfirmView struct {
	Base
	Status      OperationStatus
	Amount      int64  // the hidden field's value
	AmountText  string // preformatted
	Destination BankAccountRow
	DetailsJSON string // {"amount":100000}: what the passkey confirms
}

// BankAccountForm is the raw input of a bank-account change (fields bank,
// branch, type = "futsu" | "toza", number, holder).
type BankAccountForm struct {
	Bank, Branch, Type, Number, Holder string
}

// BankAccountView is 出金先口座 (GET /trade/bank-account): the current
// account (#current-account) and the change form, POSTed to
// /trade/bank-account/confirm.
type BankAccountView struct {
	Base
	Status  OperationStatus
	Current BankAccountRow // number masked
	Form    BankAccountForm
}

// BankAccountConfirmView is the confirmation of a new destination
// (POST /trade/bank-account/confirm): the new account in full
// (#confirm-account), then form#operation-form POSTing the same fields to
// /trade/bank-account, with the passkey flow of WithdrawConfirmView.
type BankAccountConfirmView struct {
	Base
	Status      OperationStatus
	New         BankAccountRow // number in full: the customer checks what they typed
	Form        BankAccountForm
	DetailsJSON string
}

// EmailChangeView is メールアドレスの変更 (GET /account/email): the request
// form (field email, POST /account/email), and once a code went to the new
// address (Pending) the verify form (field code, POST /account/email/verify).
// CoolingHours > 0 says that withdrawals and bank-account changes then wait
// that many hours (P6). With Status.Reason "step_up_required" the page
// offers the passkey confirmation first (#stepup-button, operation
// "change_email").
type EmailChangeView struct {
	Base
	Status       OperationStatus
	Current      string
	Pending      string
	Email        string // refill after an error
	CoolingHours int
}

// LoginRow is one line of the login history.
type LoginRow struct {
	At      string // JST, preformatted
	Method  string // "password_totp" | "password_email" | "passkey" | "" (unknown)
	IP      string
	Browser string
	OK      bool
	// Restricted marks a successful legacy login that could only register a
	// passkey (P3).
	Restricted bool
	// Reason is why it failed, one of LoginReasons.
	Reason string
}

// LoginReasons are the failure reasons the login history can name (catalog
// keys logins.reason.<reason>).
var LoginReasons = []string{"password", "second_factor", "passkey", "passkey_suspended", "refused", "other"}

// LoginReason maps the domain's record of a failed login (an audit event
// such as "login.password.fail", or an error code) to one of LoginReasons.
func LoginReason(detail string) string {
	switch {
	case strings.Contains(detail, "passkey") && strings.Contains(detail, "suspend"):
		return "passkey_suspended"
	case strings.Contains(detail, "refused") || strings.Contains(detail, "passkey_login_required"):
		return "refused"
	case strings.Contains(detail, "second_factor") || strings.Contains(detail, "code"):
		return "second_factor"
	case strings.Contains(detail, "passkey"):
		return "passkey"
	case strings.Contains(detail, "password") || strings.Contains(detail, "credentials"):
		return "password"
	}
	return "other"
}

// LoginHistoryView is ログイン履歴 (GET /account/logins, P8): the recent
// logins in table#login-history, newest first.
type LoginHistoryView struct {
	Base
	Logins []LoginRow
}

// RestrictedView explains a restricted session (GET /account/restricted,
// P3): passkeys became mandatory on MandatoryFrom, so this password login
// may only register a passkey (a#register-passkey → /account/passkeys) or
// log out.
type RestrictedView struct {
	Base
	MandatoryFrom string // JST date with weekday
}

// FormatYen shows an amount of yen: "100,000円" or "¥100,000".
func FormatYen(lang string, v int64) string {
	if lang == "en" {
		return "¥" + groupDigits(v)
	}
	return groupDigits(v) + "円"
}

// FormatShares shows a number of shares: "1,000株" or "1,000".
func FormatShares(lang string, n int) string {
	if lang == "en" {
		return groupDigits(int64(n))
	}
	return groupDigits(int64(n)) + "株"
}

func groupDigits(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
