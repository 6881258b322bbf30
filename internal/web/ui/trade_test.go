package ui

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"testing"

	"github.com/kagi-auth/kagi/internal/locale"
)

// Pages of the passkey-mandatory phase and the demo trading site (issue 6).

// sampleDate is the mandatory date as the handlers format it.
func sampleDate(lang string) string {
	if lang == "en" {
		return "Mon 18 May 2026"
	}
	return "2026年5月18日（月）"
}

func sampleDestination(lang string) BankAccountRow {
	typ := "普通"
	if lang == "en" {
		typ = "Ordinary"
	}
	return BankAccountRow{Bank: "ホームトレード銀行", Branch: "本店営業部", Type: typ, Number: "****567", Holder: "カブシキ タロウ"}
}

func sampleHoldings(lang string) []Holding {
	return []Holding{
		{Symbol: "7203", Name: "トヨタ自動車", Quantity: FormatShares(lang, 200), Price: FormatYen(lang, 2850), Value: FormatYen(lang, 570000)},
		{Symbol: "9432", Name: "日本電信電話", Quantity: FormatShares(lang, 1000), Price: FormatYen(lang, 152), Value: FormatYen(lang, 152000)},
	}
}

func sampleSymbols(lang string) []SymbolOption {
	return []SymbolOption{
		{Symbol: "7203", Name: "トヨタ自動車", Price: FormatYen(lang, 2850)},
		{Symbol: "6758", Name: "ソニーグループ", Price: FormatYen(lang, 3420)},
		{Symbol: "7974", Name: "任天堂"},
	}
}

func sampleUntil(lang string) string {
	if lang == "en" {
		return "26 Nov 2026 09:30 JST"
	}
	return "2026年11月26日 09:30"
}

// tradeSamples returns one filled view per issue-6 page (merged into samples).
func tradeSamples(lang string) map[string]any {
	return map[string]any{
		"trade": TradeView{Base: sampleBase(lang, "/trade", true), Holdings: sampleHoldings(lang), Total: FormatYen(lang, 722000),
			Phase: PhaseNotice{Phase: "mandatory", MandatoryFrom: sampleDate(lang), HasPasskey: true},
			Blocked: []OperationStatus{
				{Operation: "trade", Reason: "step_up_required"},
				{Operation: "withdraw", Reason: "cooling_off", Until: sampleUntil(lang)},
				{Operation: "change_bank_account", Reason: "cooling_off", Until: sampleUntil(lang)},
			}},
		"trade_order": OrderView{Base: sampleBase(lang, "/trade/order", true), Status: OperationStatus{Operation: "trade", Reason: "step_up_required"},
			Symbols: sampleSymbols(lang), Form: OrderForm{Symbol: "6758", Side: "sell", Quantity: "100", PriceType: "limit", Price: "3400"}},
		"trade_withdraw": WithdrawView{Base: sampleBase(lang, "/trade/withdraw", true), Status: OperationStatus{Operation: "withdraw", Allowed: true, NeedsStepUp: true},
			Amount: "100000", Destination: sampleDestination(lang), Max: FormatYen(lang, 10_000_000)},
		"trade_withdraw_confirm": WithdrawConfirmView{Base: sampleBase(lang, "/trade/withdraw/confirm", true), Status: OperationStatus{Operation: "withdraw", Allowed: true, NeedsStepUp: true},
			Amount: 100000, AmountText: FormatYen(lang, 100000), Destination: sampleDestination(lang), DetailsJSON: `{"amount":100000}`},
		"trade_bank_account": BankAccountView{Base: sampleBase(lang, "/trade/bank-account", true), Status: OperationStatus{Operation: "change_bank_account", Allowed: true, NeedsStepUp: true},
			Current: sampleDestination(lang), Form: BankAccountForm{Bank: "みらい銀行", Branch: "駅前支店", Type: "toza", Number: "7654321", Holder: "カブシキ タロウ"}},
		"trade_bank_account_confirm": BankAccountConfirmView{Base: sampleBase(lang, "/trade/bank-account/confirm", true), Status: OperationStatus{Operation: "change_bank_account", Allowed: true, NeedsStepUp: true},
			New:         BankAccountRow{Bank: "みらい銀行", Branch: "駅前支店", Type: "当座", Number: "7654321", Holder: "カブシキ タロウ"},
			Form:        BankAccountForm{Bank: "みらい銀行", Branch: "駅前支店", Type: "toza", Number: "7654321", Holder: "カブシキ タロウ"},
			DetailsJSON: `{"bank":"みらい銀行","branch":"駅前支店","type":"toza","number":"7654321","holder":"カブシキ タロウ"}`},
		"account_email": EmailChangeView{Base: sampleBase(lang, "/account/email", true), Status: OperationStatus{Operation: "change_email", Allowed: true},
			Current: "taro@example.jp", Pending: "taro.new@example.jp", Email: "taro.new@example.jp", CoolingHours: 24},
		"account_logins":     LoginHistoryView{Base: sampleBase(lang, "/account/logins", true), Logins: sampleLogins()},
		"account_restricted": RestrictedView{Base: sampleBase(lang, "/account/restricted", true), MandatoryFrom: sampleDate(lang)},
	}
}

func sampleLogins() []LoginRow {
	return []LoginRow{
		{At: "2026年11月25日 09:30", Method: "passkey", IP: "203.0.113.5", Browser: "Chrome (Windows)", OK: true},
		{At: "2026年11月25日 09:28", Method: "", IP: "198.51.100.7", Browser: "Safari (iPhone)", Reason: LoginReason("login.password.fail")},
		{At: "2026年11月24日 18:02", Method: "password_email", IP: "203.0.113.5", Browser: "", OK: true, Restricted: true},
		{At: "2026年11月24日 18:01", Method: "password_email", IP: "", Browser: "Firefox (Linux)", Reason: LoginReason("login.second_factor.fail")},
		{At: "2026年11月23日 07:00", Method: "passkey", IP: "192.0.2.1", Browser: "Edge (Windows)", Reason: LoginReason("login.passkey.suspended")},
	}
}

// TestRenderTradeVariants renders the branches the samples do not take.
func TestRenderTradeVariants(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range locale.Supported {
		b := sampleBase(lang, "/x", true)
		b.Error, b.Notice = "", ""
		allowed := func(op string) OperationStatus { return OperationStatus{Operation: op, Allowed: true} }
		refused := func(op, reason string) OperationStatus {
			return OperationStatus{Operation: op, Reason: reason, Until: sampleUntil(lang)}
		}
		variants := map[string][]any{
			"login": {
				LoginView{Base: b, PasskeyAvailable: true, Phase: PhaseNotice{Phase: "optional", MandatoryFrom: sampleDate(lang)}},
				LoginView{Base: b, PasskeyAvailable: true, Phase: PhaseNotice{Phase: "recommended"}},
				LoginView{Base: b, PasskeyAvailable: true, Phase: PhaseNotice{Phase: "mandatory", MandatoryFrom: sampleDate(lang)}},
				LoginView{Base: b, PasskeyAvailable: true, Phase: PhaseNotice{Phase: "mandatory"}},
			},
			"account": {
				AccountView{Base: b, PasskeysAvailable: true, Phase: PhaseNotice{Phase: "optional", MandatoryFrom: sampleDate(lang)}},
				AccountView{Base: b, PasskeysAvailable: true, Phase: PhaseNotice{Phase: "recommended", MandatoryFrom: sampleDate(lang)}},
				AccountView{Base: b, PasskeysAvailable: true, Phase: PhaseNotice{Phase: "recommended"}},
				AccountView{Base: b, PasskeysAvailable: true, PasskeyCount: 2, Phase: PhaseNotice{Phase: "mandatory", MandatoryFrom: sampleDate(lang), HasPasskey: true}},
				AccountView{Base: b, PasskeysAvailable: true, Phase: PhaseNotice{Phase: "mandatory", MandatoryFrom: sampleDate(lang)}},
			},
			"trade": {
				TradeView{Base: b, Total: FormatYen(lang, 0)},
				TradeView{Base: b, Holdings: sampleHoldings(lang), Total: "1", Phase: PhaseNotice{Phase: "recommended", MandatoryFrom: sampleDate(lang)}},
				TradeView{Base: b, Holdings: sampleHoldings(lang), Total: "1", Blocked: []OperationStatus{
					refused("trade", "passkey_required"), refused("withdraw", "passkey_required"),
					refused("change_bank_account", "restricted_session"), refused("change_email", "unknown_reason"),
					refused("change_second_factor", "step_up_required"),
				}},
			},
			"trade_order": {
				OrderView{Base: b, Status: allowed("trade"), Symbols: sampleSymbols(lang)},
				OrderView{Base: b, Status: refused("trade", "passkey_required"), Symbols: sampleSymbols(lang)},
			},
			"trade_withdraw": {
				WithdrawView{Base: b, Status: allowed("withdraw"), Destination: sampleDestination(lang), Max: "1"},
				WithdrawView{Base: b, Status: refused("withdraw", "cooling_off"), Destination: sampleDestination(lang), Max: "1"},
				WithdrawView{Base: b, Status: refused("withdraw", "passkey_required"), Destination: sampleDestination(lang), Max: "1"},
			},
			"trade_withdraw_confirm": {
				WithdrawConfirmView{Base: b, Status: allowed("withdraw"), Amount: 5, AmountText: "5", Destination: sampleDestination(lang)},
				WithdrawConfirmView{Base: b, Status: refused("withdraw", "cooling_off"), Amount: 5, AmountText: "5", Destination: sampleDestination(lang)},
			},
			"trade_bank_account": {
				BankAccountView{Base: b, Status: allowed("change_bank_account"), Current: sampleDestination(lang)},
				BankAccountView{Base: b, Status: refused("change_bank_account", "cooling_off"), Current: sampleDestination(lang)},
			},
			"trade_bank_account_confirm": {
				BankAccountConfirmView{Base: b, Status: allowed("change_bank_account"), New: sampleDestination(lang)},
				BankAccountConfirmView{Base: b, Status: refused("change_bank_account", "passkey_required"), New: sampleDestination(lang)},
			},
			"account_email": {
				EmailChangeView{Base: b, Status: allowed("change_email"), Current: "taro@example.jp"},
				EmailChangeView{Base: b, Status: refused("change_email", "step_up_required"), Current: "taro@example.jp"},
				EmailChangeView{Base: b, Status: refused("change_email", "passkey_required"), Current: "", Pending: "a@b.jp"},
			},
			"account_logins":     {LoginHistoryView{Base: b}},
			"account_restricted": {RestrictedView{Base: b}},
		}
		for page, vs := range variants {
			for i, v := range vs {
				t.Run(fmt.Sprintf("%s/%s/%d", lang, page, i), func(t *testing.T) {
					checkPage(t, lang, render(t, r, page, v), v.(baser).base())
				})
			}
		}
	}
}

// before reports whether a occurs in body and comes before b.
func before(body, a, b string) bool {
	i, j := strings.Index(body, a), strings.Index(body, b)
	return i >= 0 && j >= 0 && i < j
}

// TestWithdrawConfirmShowsDetailsBeforeThePrompt: P7 — the amount and the
// destination are on the page, above the passkey button, and the button
// carries exactly the details the hidden form submits.
func TestWithdrawConfirmShowsDetailsBeforeThePrompt(t *testing.T) {
	r := newRenderer(t)
	v := tradeSamples("ja")["trade_withdraw_confirm"].(WithdrawConfirmView)
	body := render(t, r, "trade_withdraw_confirm", v)
	for _, want := range []string{
		`<dd class="amount" id="confirm-amount">100,000円</dd>`,
		`id="confirm-destination"`, "ホームトレード銀行 本店営業部", "****567", "カブシキ タロウ",
		`<form method="post" action="/trade/withdraw" id="operation-form"`,
		`<input type="hidden" name="amount" value="100000">`,
		`data-operation="withdraw"`, `data-details="{&#34;amount&#34;:100000}"`, `data-form="operation-form"`,
		"パスキーで確認して出金する", `id="stepup-status" role="status"`,
		`src="/static/js/trade_withdraw_confirm.js?v=`, `id="msg-cancelled"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("confirm page lacks %q", want)
		}
	}
	if !before(body, `id="confirm-amount"`, `id="stepup-button"`) || !before(body, `id="confirm-destination"`, `id="stepup-button"`) {
		t.Error("the details are not shown before the passkey button")
	}
	if strings.Contains(body, `id="operation-submit"`) {
		t.Error("a plain submit next to the passkey confirmation")
	}

	// Before the mandatory date: a plain submit, no passkey.
	v.Status = OperationStatus{Operation: "withdraw", Allowed: true}
	body = render(t, r, "trade_withdraw_confirm", v)
	if !strings.Contains(body, `<button type="submit" id="operation-submit"`) || strings.Contains(body, `id="stepup-button"`) {
		t.Error("without a step-up the page should have a plain submit and no passkey button")
	}
	// Refused (cooling-off): says until when, and offers no button at all.
	v.Status = OperationStatus{Operation: "withdraw", Reason: "cooling_off", Until: "2026年11月26日 09:30"}
	body = render(t, r, "trade_withdraw_confirm", v)
	if strings.Contains(body, `id="operation-submit"`) || strings.Contains(body, `id="stepup-button"`) {
		t.Error("a refused withdrawal still has a button")
	}
	if !strings.Contains(body, `id="operation-status-withdraw"`) || !strings.Contains(body, "2026年11月26日 09:30までお受けできません") {
		t.Error("the cooling-off refusal does not say until when")
	}
}

func TestBankAccountConfirmCarriesTheNewAccount(t *testing.T) {
	r := newRenderer(t)
	v := tradeSamples("ja")["trade_bank_account_confirm"].(BankAccountConfirmView)
	body := render(t, r, "trade_bank_account_confirm", v)
	for _, want := range []string{
		`action="/trade/bank-account" id="operation-form"`,
		`<input type="hidden" name="bank" value="みらい銀行">`, `<input type="hidden" name="type" value="toza">`,
		`<input type="hidden" name="number" value="7654321">`, `<input type="hidden" name="holder" value="カブシキ タロウ">`,
		`data-operation="change_bank_account"`, `&#34;number&#34;:&#34;7654321&#34;`,
		"パスキーで確認して変更する", `src="/static/js/trade_bank_account_confirm.js?v=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("bank-account confirm page lacks %q", want)
		}
	}
	if !before(body, `id="confirm-account"`, `id="stepup-button"`) {
		t.Error("the new account is not shown before the passkey button")
	}
}

func TestTradePortfolio(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, "trade", tradeSamples("ja")["trade"])
	for _, want := range []string{
		`<table class="data-table" id="holdings">`, "銘柄コード", "銘柄名", "保有数量", "時価", "評価額",
		"トヨタ自動車", "200株", "2,850円", "570,000円", `id="holdings-total">722,000円`,
		`href="/trade/order"`, `href="/trade/withdraw"`, `href="/trade/bank-account"`, `href="/account/email"`,
		`<li id="operation-status-trade">`, "「パスキーで本人確認」",
		`<li id="operation-status-withdraw">`, "安全のため、2026年11月26日 09:30までお受けできません",
		"パスキーの登録やメールアドレス・二段階認証の変更のあと一定時間は",
		`aria-current="page">ポートフォリオ`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("portfolio lacks %q", want)
		}
	}
	if strings.Contains(body, `id="phase-notice"`) {
		t.Error("a customer with a passkey is shown the schedule on the portfolio")
	}
	v := TradeView{Base: Base{Lang: "ja", LoggedIn: true}, Blocked: []OperationStatus{{Operation: "withdraw", Reason: "passkey_required"}},
		Phase: PhaseNotice{Phase: "mandatory", MandatoryFrom: "2026年5月18日（月）"}}
	body = render(t, r, "trade", v)
	refusal := regexp.MustCompile(`(?s)<section class="refusal blocked" id="blocked".*?</section>`).FindString(body)
	for _, want := range []string{`<li id="operation-status-withdraw"><span class="blocked__op">出金</span>：パスキー認証の必須化により`,
		`href="/account/passkeys" id="blocked-register">パスキーを登録する`} {
		if !strings.Contains(refusal, want) {
			t.Errorf("passkey_required refusal lacks %q: %s", want, refusal)
		}
	}
	if strings.Contains(body, `id="phase-notice"`) {
		t.Error("the schedule repeats the refusal in the mandatory phase")
	}
	v.Blocked, v.Phase.Phase = nil, "recommended"
	body = render(t, r, "trade", v)
	if !strings.Contains(body, `id="phase-notice"`) || !strings.Contains(body, "2026年5月18日（月）から") {
		t.Error("no schedule for a customer without a passkey before the date")
	}
}

func TestOrderPage(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, "trade_order", tradeSamples("ja")["trade_order"])
	for _, want := range []string{
		`<form method="post" action="/trade/order" class="form" id="order-form">`,
		`<select id="symbol" name="symbol"`, `<option value="6758" selected>6758 ソニーグループ（時価 3,420円）</option>`,
		`<option value="7974">7974 任天堂</option>`,
		`id="side-sell" name="side" value="sell" checked`, `id="price-limit" name="price_type" value="limit" checked`,
		`name="quantity"`, `value="100"`, `name="price"`, `value="3400"`,
		`id="stepup-button"`, `data-operation="trade"`, `data-details="{}"`, `src="/static/js/trade_order.js?v=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("order page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<button type="submit"[^>]*id="operation-submit" disabled>`).MatchString(body) {
		t.Error("the order button is not disabled before the step-up")
	}
	body = render(t, r, "trade_order", OrderView{Base: Base{Lang: "ja"}, Status: OperationStatus{Operation: "trade", Allowed: true}, Symbols: sampleSymbols("ja")})
	if strings.Contains(body, `id="stepup-button"`) || strings.Contains(body, "disabled") {
		t.Error("an allowed order shows a step-up or a disabled button")
	}
	if !strings.Contains(body, `id="side-buy" name="side" value="buy" required checked`) || !strings.Contains(body, `id="price-market" name="price_type" value="market" required checked`) {
		t.Error("buy at market is not the default")
	}
}

func TestEmailChangePage(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, "account_email", tradeSamples("ja")["account_email"])
	for _, want := range []string{
		`id="current-email">taro@example.jp`, `id="pending-email">taro.new@example.jp`,
		`action="/account/email/verify"`, `name="code"`, `autocomplete="one-time-code"`,
		`action="/account/email"`, `name="email"`, `type="email"`,
		`id="email-cooling">安全のため、メールアドレスを変更してから24時間は`, "両方",
		"別のメールアドレスにする",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("e-mail page lacks %q", want)
		}
	}
	body = render(t, r, "account_email", EmailChangeView{Base: Base{Lang: "ja"}, Status: OperationStatus{Operation: "change_email", Allowed: true}, Current: "a@b.jp"})
	if strings.Contains(body, "/account/email/verify") || strings.Contains(body, "email-cooling") {
		t.Error("verify form or cooling note without a pending change / cooling-off")
	}
	body = render(t, r, "account_email", EmailChangeView{Base: Base{Lang: "ja"}, Status: OperationStatus{Operation: "change_email", Reason: "step_up_required"}})
	if !strings.Contains(body, `data-operation="change_email"`) || !strings.Contains(body, `src="/static/js/account_email.js?v=`) {
		t.Error("no passkey step-up on the e-mail page")
	}
}

func TestLoginHistoryPage(t *testing.T) {
	for _, tt := range []struct {
		lang  string
		wants []string
	}{
		{"ja", []string{`<table class="data-table" id="login-history">`, "日時", "ログイン方法", "IPアドレス", "ブラウザ", "結果",
			"<td>パスキー</td>", "<td>パスワード＋メール認証</td>", "<td>-</td>", "203.0.113.5", "Chrome (Windows)",
			"成功", "失敗", "お客様コードまたはパスワードの誤り", "認証コードの誤り", "利用停止中のパスキー", "パスキーの登録のみ",
			`<td class="num">不明</td>`, `action="/logout/all"`}},
		{"en", []string{"<td>Passkey</td>", "wrong customer code or password", "wrong verification code", "Success", "Failed", "passkey registration only"}},
	} {
		body := render(t, newRenderer(t), "account_logins", tradeSamples(tt.lang)["account_logins"])
		for _, w := range tt.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s login history lacks %q", tt.lang, w)
			}
		}
		if n := strings.Count(body, "<tr class=\"login-row--"); n != 5 {
			t.Errorf("%s: %d rows, want 5", tt.lang, n)
		}
	}
}

func TestRestrictedPage(t *testing.T) {
	body := render(t, newRenderer(t), "account_restricted", tradeSamples("ja")["account_restricted"])
	for _, want := range []string{
		"2026年5月18日（月）から、ホームトレードではパスキー認証が必須になりました。",
		"パスキーの登録のみご利用いただけます",
		`<a class="btn btn--primary btn--block" id="register-passkey" href="/account/passkeys">`,
		`<form method="post" action="/logout"`, "0120-99-1234",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("restricted page lacks %q", want)
		}
	}
	if strings.Contains(body, `href="/trade"`) || strings.Contains(body, `href="/account/email"`) {
		t.Error("the restricted page links to pages the session cannot use")
	}
}

// TestPhaseNotices: the published schedule on the login and account pages (P1).
func TestPhaseNotices(t *testing.T) {
	r := newRenderer(t)
	const date = "2026年5月18日（月）"
	login := func(p PhaseNotice) string {
		return render(t, r, "login", LoginView{Base: Base{Lang: "ja"}, PasskeyAvailable: true, Phase: p})
	}
	account := func(p PhaseNotice) string {
		return render(t, r, "account", AccountView{Base: Base{Lang: "ja", LoggedIn: true}, PasskeysAvailable: true, Phase: p})
	}
	notice := regexp.MustCompile(`(?s)<section class="phase[^"]*" id="phase-notice".*?</section>`)
	tests := []struct {
		name   string
		body   string
		wants  []string
		absent []string
	}{
		{"login/none", login(PhaseNotice{Phase: "optional"}), nil, []string{"phase-notice"}},
		{"login/scheduled", login(PhaseNotice{Phase: "optional", MandatoryFrom: date}),
			[]string{"phase--optional", date + "から", "パスキーの登録のみ行えます"}, []string{"お早めに"}},
		{"login/recommended", login(PhaseNotice{Phase: "recommended", MandatoryFrom: date}),
			[]string{"phase--recommended", date + "から", "お早めにパスキーをご登録ください", "「パスキー登録」"}, nil},
		{"login/mandatory", login(PhaseNotice{Phase: "mandatory", MandatoryFrom: date}),
			[]string{"phase--mandatory", date + "から、ホームトレードではパスキー認証が必須になりました", "「パスキーでログイン」"}, nil},
		{"account/none", account(PhaseNotice{}), nil, []string{"phase-notice"}},
		{"account/scheduled", account(PhaseNotice{Phase: "optional", MandatoryFrom: date}),
			[]string{date + "から", `href="/account/passkeys" id="phase-register"`}, nil},
		{"account/recommended", account(PhaseNotice{Phase: "recommended", MandatoryFrom: date}),
			[]string{"phase--recommended", "<strong>お客さまはまだパスキーを登録されていません", `id="phase-register"`}, nil},
		{"account/recommended/ready", account(PhaseNotice{Phase: "recommended", MandatoryFrom: date, HasPasskey: true}),
			[]string{"phase--ready", "登録済み"}, []string{"phase-register"}},
		{"account/mandatory", account(PhaseNotice{Phase: "mandatory", MandatoryFrom: date, HasPasskey: true}),
			[]string{"phase--mandatory", "お手続きの画面でパスキーによるご本人確認"}, []string{"phase-register"}},
	}
	for _, tt := range tests {
		n := notice.FindString(tt.body)
		for _, w := range tt.wants {
			if !strings.Contains(n, w) {
				t.Errorf("%s: notice lacks %q:\n%s", tt.name, w, n)
			}
		}
		for _, w := range tt.absent {
			if strings.Contains(tt.body, w) {
				t.Errorf("%s: page has %q", tt.name, w)
			}
		}
	}
	// The account page links to the issue-6 pages.
	body := account(PhaseNotice{})
	for _, href := range []string{"/trade", "/account/logins", "/account/email"} {
		if !strings.Contains(body, `<a class="link-arrow" href="`+href+`">`) {
			t.Errorf("account page lacks a link to %s", href)
		}
	}
}

// TestStepUpDetailsAreEscaped: the details JSON goes into an attribute and
// stays data, whatever a bank name contains.
func TestStepUpDetailsAreEscaped(t *testing.T) {
	v := tradeSamples("ja")["trade_bank_account_confirm"].(BankAccountConfirmView)
	v.DetailsJSON = `{"bank":"\"><script>alert(1)</script>"}`
	v.Form.Bank = `"><script>alert(1)</script>`
	v.New.Bank = v.Form.Bank
	body := render(t, newRenderer(t), "trade_bank_account_confirm", v)
	if strings.Contains(body, "<script>alert") {
		t.Error("markup from the details reached the page")
	}
	if !strings.Contains(body, template.HTMLEscapeString(v.Form.Bank)) {
		t.Error("the bank name is not shown escaped")
	}
}

func TestLoginReason(t *testing.T) {
	for in, want := range map[string]string{
		"login.password.fail":      "password",
		"login.second_factor.fail": "second_factor",
		"login.passkey.fail":       "passkey",
		"login.passkey.suspended":  "passkey_suspended",
		"login.refused":            "refused",
		"invalid_credentials":      "password",
		"invalid_code":             "second_factor",
		"passkey_login_required":   "refused",
		"account_locked":           "other",
		"":                         "other",
	} {
		if got := LoginReason(in); got != want {
			t.Errorf("LoginReason(%q) = %q, want %q", in, got, want)
		}
	}
	for _, r := range LoginReasons {
		for _, lang := range locale.Supported {
			if !locale.Printer(lang).Has("account.logins.reason." + r) {
				t.Errorf("%s catalog lacks account.logins.reason.%s", lang, r)
			}
		}
	}
}

func TestFormatYenAndShares(t *testing.T) {
	for _, tt := range []struct {
		v      int64
		ja, en string
	}{
		{0, "0円", "¥0"}, {999, "999円", "¥999"}, {1000, "1,000円", "¥1,000"},
		{100000, "100,000円", "¥100,000"}, {10_000_000, "10,000,000円", "¥10,000,000"}, {-1500, "-1,500円", "¥-1,500"},
	} {
		if got := FormatYen("ja", tt.v); got != tt.ja {
			t.Errorf("FormatYen(ja, %d) = %q, want %q", tt.v, got, tt.ja)
		}
		if got := FormatYen("en", tt.v); got != tt.en {
			t.Errorf("FormatYen(en, %d) = %q, want %q", tt.v, got, tt.en)
		}
	}
	if got := FormatShares("ja", 1000); got != "1,000株" {
		t.Errorf("FormatShares = %q", got)
	}
	if got := FormatShares("en", 1000); got != "1,000" {
		t.Errorf("FormatShares(en) = %q", got)
	}
}
