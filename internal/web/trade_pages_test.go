package web_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// The HTML pages of issue 6 (trade_pages.go): what a customer sees of the
// published schedule, the demo trading site and the policy (P1–P8).

// wantPage checks an HTML answer's status and that its body says every want.
func wantPage(t *testing.T, r *testenv.Response, status int, wants ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; Location %q", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Header.Get("Location"))
	}
	body := html.UnescapeString(string(r.Body))
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s %s lacks %q", r.Request.Method, r.Request.URL.Path, w)
		}
	}
}

// wantRedirect checks a 303 to location.
func wantRedirect(t *testing.T, r *testenv.Response, location string) {
	t.Helper()
	if r.StatusCode != 303 || r.Header.Get("Location") != location {
		t.Fatalf("%s %s: %d to %q, want 303 to %q; body %.300s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), location, r.Body)
	}
}

func lacks(t *testing.T, r *testenv.Response, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(string(r.Body), b) {
			t.Errorf("%s %s has %q", r.Request.Method, r.Request.URL.Path, b)
		}
	}
}

var reDetails = regexp.MustCompile(`id="stepup-button"[^>]*data-details="([^"]*)"`)

// pageDetails reads the details the page's passkey button confirms, as the
// page script does.
func pageDetails(t *testing.T, r *testenv.Response) string {
	t.Helper()
	m := reDetails.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s has no #stepup-button with data-details", r.Request.URL.Path)
	}
	return html.UnescapeString(string(m[1]))
}

// pageStepUp runs the passkey step-up the page's button would: the page's
// own operation and details.
func pageStepUp(t *testing.T, c *testenv.Client, a *testenv.Authenticator, cred *testenv.Credential, page *testenv.Response, op string) {
	t.Helper()
	if !strings.Contains(string(page.Body), `data-operation="`+op+`"`) {
		t.Fatalf("%s: the passkey button is not for %s", page.Request.URL.Path, op)
	}
	opts := c.Do("POST", "/api/step-up/passkey/options", "application/json",
		[]byte(`{"operation":"`+op+`","details":`+pageDetails(t, page)+`}`))
	wantStatus(t, opts, 200, "")
	wantStatus(t, c.Do("POST", "/api/step-up/passkey", "application/json", a.Login(opts.Body, cred)), 200, "")
}

var bankForm = []string{"bank", "みらい銀行", "branch", "新潟支店", "type", "toza", "number", "７６５４３２１", "holder", "カブシキ ハナコ"}

// P1, P5, P6, P8 before the mandatory date: the schedule is announced, every
// operation works with the legacy login as plain forms, and the cooling-off
// after an e-mail change is shown with its end.
func TestTradePagesBeforeMandatory_P1_P5_P6_P8(t *testing.T) {
	e := testenv.New(t, schedule("2026-11-25T09:45", "2026-12-01", func(c *config.Config) { c.CoolingOff = time.Hour }))

	// The login page announces the date (optional phase).
	wantPage(t, e.Client().Get("/login"), 200, `id="phase-notice"`, "2026年12月1日（火）から", "パスキーの登録のみ行えます")
	en := e.Client()
	en.Lang = "en"
	wantPage(t, en.Get("/login"), 200, "From Tue 1 Dec 2026")

	_, _, c := loggedInTOTP(t, e, "61000001")
	wantPage(t, c.Get("/account"), 200, `id="phase-notice"`, "2026年12月1日（火）から", `id="phase-register"`,
		`href="/trade"`, `href="/account/logins"`, `href="/account/email"`)

	// Portfolio: holdings, nothing blocked.
	p := c.Get("/trade")
	wantPage(t, p, 200, `id="holdings"`, "トヨタ自動車", "200株", "2,850円", "570,000円", `id="holdings-total"`)
	lacks(t, p, `id="blocked"`)

	// An order, as a plain form.
	wantPage(t, c.Get("/trade/order?symbol=6758"), 200, `<option value="6758" selected>`)
	r := c.PostForm("/trade/order", "symbol", "7203", "side", "buy", "quantity", "１００", "price_type", "market")
	wantRedirect(t, r, "/trade?m=order_placed")
	wantPage(t, c.Get("/trade?m=order_placed"), 200, "ご注文を受け付けました")
	bad := c.PostForm("/trade/order", "symbol", "7203", "side", "buy", "quantity", "0", "price_type", "limit", "price", "")
	wantPage(t, bad, 400, `role="alert"`, `value="0"`, `id="price-limit" name="price_type" value="limit" checked`)

	// A withdrawal: the confirmation shows amount and destination, then a plain submit.
	wantPage(t, c.Get("/trade/withdraw"), 200, "ホームトレード銀行", "****567", `action="/trade/withdraw/confirm"`)
	wantPage(t, c.PostForm("/trade/withdraw/confirm", "amount", "abc"), 400, `role="alert"`, "10,000,000円以下")
	wantPage(t, c.PostForm("/trade/withdraw/confirm", "amount", "10000001"), 400)
	conf := c.PostForm("/trade/withdraw/confirm", "amount", "100,000円")
	wantPage(t, conf, 200, `id="confirm-amount">100,000円`, "ホームトレード銀行 本店営業部", "****567",
		`<input type="hidden" name="amount" value="100000">`, `id="operation-submit"`)
	lacks(t, conf, `id="stepup-button"`)
	wantRedirect(t, c.PostForm("/trade/withdraw", "amount", "100000"), "/trade?m=withdrawal_requested")
	if m := waitMailSubject(t, e, "61000001@example.jp", "（出金）"); !strings.Contains(m.Body, "100,000円") {
		t.Errorf("the withdrawal notice lacks the amount:\n%s", m.Body)
	}

	// A new destination: confirmed in full, then masked everywhere else.
	wantPage(t, c.PostForm("/trade/bank-account/confirm", "bank", "x", "branch", "y", "type", "futsu", "number", "12"), 400, `role="alert"`)
	bc := c.PostForm("/trade/bank-account/confirm", bankForm...)
	wantPage(t, bc, 200, `id="confirm-account"`, "みらい銀行", "新潟支店", "当座", "7654321", "カブシキ ハナコ",
		`<input type="hidden" name="number" value="7654321">`, `id="operation-submit"`)
	wantRedirect(t, c.PostForm("/trade/bank-account", bankForm...), "/trade?m=bank_account_changed")
	wantPage(t, c.Get("/trade/withdraw"), 200, "みらい銀行", "****321")
	wantPage(t, c.Get("/trade/bank-account"), 200, `id="current-account"`, "新潟支店", "****321")

	// The e-mail change: code to the new address, then the cooling-off.
	wantPage(t, c.Get("/account/email"), 200, `id="current-email">61000001@example.jp`, `id="email-cooling"`, "1時間")
	wantPage(t, c.PostForm("/account/email", "email", "not-an-address"), 400, `role="alert"`)
	wantRedirect(t, c.PostForm("/account/email", "email", "new61@example.jp"), "/account/email?m=email_code_sent")
	wantPage(t, c.Get("/account/email?m=email_code_sent"), 200, `id="pending-email">new61@example.jp`, `action="/account/email/verify"`)
	code := e.MailCode("new61@example.jp", 0)
	wantPage(t, c.PostForm("/account/email/verify", "code", "000000"), 401, `role="alert"`)
	wantRedirect(t, c.PostForm("/account/email/verify", "code", code), "/account?m=email_changed")
	wantPage(t, c.Get("/account?m=email_changed"), 200, "メールアドレスを変更しました", "new61@example.jp")
	until := "2026年11月25日 10:3" // an hour after the change, in JST
	wantPage(t, c.Get("/trade"), 200, `id="operation-status-withdraw"`, `id="operation-status-change_bank_account"`, until)
	w := c.PostForm("/trade/withdraw/confirm", "amount", "5000")
	wantPage(t, w, 200, `id="operation-status-withdraw"`, until)
	lacks(t, w, `id="operation-submit"`, `id="stepup-button"`)
	wantPage(t, c.PostForm("/trade/withdraw", "amount", "5000"), 403, `role="alert"`, until)

	// The login history: this login, in words.
	bad2 := e.Client()
	bad2.PostJSON("/api/login/password", map[string]string{"customer_code": "61000001", "password": "wrong"})
	wantPage(t, c.Get("/account/logins"), 200, `id="login-history"`, "パスワード＋認証アプリ", "127.0.0.1", "Chrome", "成功", "失敗",
		"お客様コードまたはパスワードの誤り")

	// Recommended phase: the account page insists.
	e.Clock.Advance(20 * time.Minute)
	wantPage(t, c.Get("/account"), 200, "phase--recommended", "お客さまはまだパスキーを登録されていません")
	wantPage(t, e.Client().Get("/login"), 200, "お早めにパスキーをご登録ください")
}

// P2, P3, P7 after the mandatory date: a legacy login without a passkey is
// restricted and led to register; with a passkey, a withdrawal and a
// bank-account change go through after a passkey step-up over exactly the
// details the page showed, once.
func TestTradePagesMandatory_P2_P3_P7(t *testing.T) {
	e := testenv.New(t, schedule("", "2026-11-25"))
	wantPage(t, e.Client().Get("/login"), 200, "2026年11月25日（水）から、ホームトレードではパスキー認証が必須になりました", "「パスキーでログイン」")

	_, _, r := loggedInTOTP(t, e, "61000002")
	for _, path := range []string{"/account", "/trade", "/trade/withdraw", "/account/email", "/account/logins"} {
		wantRedirect(t, r.Get(path), "/account/restricted")
	}
	wantRedirect(t, r.PostForm("/trade/withdraw", "amount", "1000"), "/account/restricted")
	wantPage(t, r.Get("/account/restricted"), 200, "2026年11月25日（水）から", "パスキーの登録のみ",
		`id="register-passkey" href="/account/passkeys"`, `action="/logout"`)
	wantPage(t, r.Get("/account/passkeys"), 200)
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	_, cred := registerPasskey(t, r, a)
	wantRedirect(t, e.Client().Get("/account/restricted"), "/login")

	c, lr := passkeyLogin(t, e, a, cred)
	wantStatus(t, lr, 200, "")
	wantRedirect(t, c.Get("/account/restricted"), "/account")
	wantPage(t, c.Get("/account"), 200, "phase--mandatory", "phase--ready")
	// A passkey session trades without more ado.
	wantRedirect(t, c.PostForm("/trade/order", "symbol", "7203", "side", "sell", "quantity", "100", "price_type", "limit", "price", "3,000"), "/trade?m=order_placed")

	// Withdrawal: amount and destination first, then the passkey.
	wp := c.Get("/trade/withdraw")
	wantPage(t, wp, 200, "パスキーでご本人確認を行います")
	conf := c.PostForm("/trade/withdraw/confirm", "amount", "100000")
	wantPage(t, conf, 200, `id="confirm-amount">100,000円`, "****567", `data-operation="withdraw"`, `data-form="operation-form"`, "パスキーで確認して出金する")
	lacks(t, conf, `id="operation-submit"`)
	if d := pageDetails(t, conf); d != `{"amount":100000}` {
		t.Fatalf("details %s", d)
	}
	// Without the step-up the form is refused, and the page says so.
	wantPage(t, c.PostForm("/trade/withdraw", "amount", "100000"), 403, `role="alert"`, `id="stepup-button"`)
	pageStepUp(t, c, a, cred, conf, "withdraw")
	// Only that amount, and once.
	wantPage(t, c.PostForm("/trade/withdraw", "amount", "900000"), 403, `role="alert"`)
	wantRedirect(t, c.PostForm("/trade/withdraw", "amount", "100000"), "/trade?m=withdrawal_requested")
	wantPage(t, c.PostForm("/trade/withdraw", "amount", "100000"), 403, `role="alert"`)

	// Bank account: the same, bound to the new account.
	bc := c.PostForm("/trade/bank-account/confirm", bankForm...)
	wantPage(t, bc, 200, "7654321", `data-operation="change_bank_account"`, "パスキーで確認して変更する")
	pageStepUp(t, c, a, cred, bc, "change_bank_account")
	other := append([]string(nil), bankForm...)
	other[7] = "1111111"
	wantPage(t, c.PostForm("/trade/bank-account", other...), 403)
	wantRedirect(t, c.PostForm("/trade/bank-account", bankForm...), "/trade?m=bank_account_changed")
	wantPage(t, c.Get("/trade/bank-account"), 200, "****321")

	ops, err := e.Store.OperationsByCustomer(context.Background(), 1, "", 10)
	if err != nil || len(ops) != 3 {
		t.Fatalf("operations %d, %v", len(ops), err)
	}
}

// P2 with legacy login kept after the mandatory date: the portfolio and the
// order page ask for 「パスキーで本人確認」, and after it the order goes through.
func TestTradeOrderStepUpPage_P2(t *testing.T) {
	e := testenv.New(t, schedule("", "2026-11-25", func(c *config.Config) { c.LegacyLoginAfterMandatory = true }))
	_, secret, r := loggedInTOTP(t, e, "61000003")
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	_, cred := registerPasskey(t, r, a)
	c := e.Client()
	loginTOTP(t, e, c, "61000003", secret)

	wantPage(t, c.Get("/trade"), 200, `id="operation-status-trade"`, "「パスキーで本人確認」", `id="operation-status-change_email"`)
	op := c.Get("/trade/order")
	wantPage(t, op, 200, `id="stepup-button"`, `data-operation="trade"`, `src="/static/js/trade_order.js`)
	if !regexp.MustCompile(`id="operation-submit" disabled`).Match(op.Body) {
		t.Error("the order button is enabled before the step-up")
	}
	wantPage(t, c.PostForm("/trade/order", "symbol", "7203", "side", "buy", "quantity", "100", "price_type", "market"), 403, `role="alert"`)
	// The e-mail page asks too, for its own operation.
	wantPage(t, c.Get("/account/email"), 200, `data-operation="change_email"`, `src="/static/js/account_email.js`)
	pageStepUp(t, c, a, cred, op, "trade")
	op = c.Get("/trade/order")
	lacks(t, op, `id="stepup-button"`, "disabled")
	wantRedirect(t, c.PostForm("/trade/order", "symbol", "7203", "side", "buy", "quantity", "100", "price_type", "market"), "/trade?m=order_placed")
	// The step-up covers the other non-money operations within its window.
	lacks(t, c.Get("/account/email"), `id="stepup-button"`)
}

// The pages send visitors without a session to log in, and refuse foreign forms.
func TestTradePagesNeedLogin(t *testing.T) {
	e := testenv.New(t)
	c := e.Client()
	for _, path := range []string{"/trade", "/trade/order", "/trade/withdraw", "/trade/bank-account", "/account/email", "/account/logins", "/account/restricted"} {
		wantRedirect(t, c.Get(path), "/login")
	}
	_, _, lc := loggedInTOTP(t, e, "61000004")
	form := url.Values{"amount": {"1000"}}
	r := lc.Do("POST", "/trade/withdraw", "application/x-www-form-urlencoded", []byte(form.Encode()), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.StatusCode != 403 {
		t.Fatalf("cross-site form: %d", r.StatusCode)
	}
	if ops, _ := e.Store.OperationsByCustomer(context.Background(), 1, "", 10); len(ops) != 0 {
		t.Fatalf("a cross-site form withdrew: %d operations", len(ops))
	}
}
