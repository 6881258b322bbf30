package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// The test clock starts at 2026-11-25 00:30 UTC (09:30 in Tokyo).
func schedule(recommend, mandatory string, opts ...func(*config.Config)) testenv.Option {
	return func(c *config.Config) {
		c.PasskeyRecommendFrom, c.PasskeyMandatoryFrom = recommend, mandatory
		c.CoolingOff = 0
		for _, o := range opts {
			o(c)
		}
	}
}

type sessionPolicy struct {
	Stage   string          `json:"stage"`
	Method  string          `json:"method"`
	Phase   string          `json:"phase"`
	May     map[string]bool `json:"may"`
	Reasons map[string]struct {
		Code  string     `json:"code"`
		Until *time.Time `json:"until"`
	} `json:"reasons"`
}

func policyOf(t *testing.T, c *testenv.Client) sessionPolicy {
	t.Helper()
	r := c.Get("/api/session")
	wantStatus(t, r, 200, "")
	var sp sessionPolicy
	if err := json.Unmarshal(r.Body, &sp); err != nil {
		t.Fatal(err)
	}
	return sp
}

var order = map[string]any{"symbol": "7203", "side": "buy", "quantity": 100, "price": 0}

// P1, P2, P3: phases change at the configured Tokyo times; before the
// mandatory date legacy sessions may trade; after it they may not, a new legacy
// login without a passkey is restricted to registering one, and a customer who
// has one is sent to 「パスキーでログイン」.
func TestMandatoryPhase_P1_P2_P3(t *testing.T) {
	e := testenv.New(t, schedule("2026-11-25T09:45", "2026-11-25T10:30"))
	_, secret := totpCustomer(e, "90000001")
	c := e.Client()
	loginTOTP(t, e, c, "90000001", secret) // 09:30:30 JST
	if sp := policyOf(t, c); sp.Phase != "optional" || !sp.May["trade"] || !sp.May["withdraw"] {
		t.Fatalf("before recommend_from: %+v", sp)
	}
	e.Clock.Advance(15 * time.Minute) // 09:45:30
	if sp := policyOf(t, c); sp.Phase != "recommended" || !sp.May["trade"] {
		t.Fatalf("after recommend_from: %+v", sp)
	}
	wantStatus(t, c.PostJSON("/api/orders", order), 201, "")

	e.Clock.Advance(25 * time.Minute)
	policyOf(t, c)                    // activity keeps the session within its idle timeout
	e.Clock.Advance(20 * time.Minute) // 10:30:30: mandatory, the same session goes on
	sp := policyOf(t, c)
	if sp.Phase != "mandatory" || sp.May["trade"] || sp.Reasons["trade"].Code != "passkey_required" || sp.Reasons["withdraw"].Code != "passkey_required" {
		t.Fatalf("after mandatory_from: %+v", sp)
	}
	wantStatus(t, c.PostJSON("/api/orders", order), 403, "passkey_required")
	wantStatus(t, c.PostJSON("/api/withdrawals", map[string]any{"amount": 10000}), 403, "passkey_required")

	// A new legacy login is restricted to registering a passkey.
	r := e.Client()
	loginTOTP(t, e, r, "90000001", secret)
	if sp := policyOf(t, r); sp.Stage != "restricted" || sp.May["trade"] || sp.Reasons["trade"].Code != "restricted_session" {
		t.Fatalf("restricted session: %+v", sp)
	}
	wantStatus(t, r.PostJSON("/api/orders", order), 403, "restricted_session")
	if p := r.Get("/account"); p.Header.Get("Location") != "/account/restricted" {
		t.Fatalf("account page of a restricted session: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	registerPasskey(t, r, a)
	wantStatus(t, r.PostJSON("/api/orders", order), 403, "restricted_session") // still restricted: log in with the passkey

	// With a passkey, the password is refused before any one-time code.
	wantStatus(t, e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": "90000001", "password": pw}), 403, "passkey_login_required")
	if ev := e.Audit(1); !contains(ev, "login.restricted") || !contains(ev, "login.refused") {
		t.Errorf("audit: %v", ev)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// P2: with legacy login kept after the mandatory date, a legacy session with
// a passkey trades after a passkey step-up, within its window only.
func TestLegacySessionStepUp_P2(t *testing.T) {
	e := testenv.New(t, schedule("", "2026-11-25", func(c *config.Config) { c.LegacyLoginAfterMandatory = true }))
	_, secret, r := loggedInTOTP(t, e, "90000002")
	if sp := policyOf(t, r); sp.Stage != "restricted" {
		t.Fatalf("a customer without a passkey is restricted even so: %+v", sp)
	}
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	_, cred := registerPasskey(t, r, a)
	// With a passkey, legacy login stays allowed here, but the session must step up.
	c := e.Client()
	loginTOTP(t, e, c, "90000002", secret)
	if sp := policyOf(t, c); sp.Stage != "full" || sp.Reasons["trade"].Code != "step_up_required" {
		t.Fatalf("legacy session: %+v", sp)
	}
	wantStatus(t, c.PostJSON("/api/orders", order), 403, "step_up_required")

	stepUp(t, c, a, cred, "trade", map[string]any{})
	wantStatus(t, c.PostJSON("/api/orders", order), 201, "")
	e.Clock.Advance(5 * time.Minute)
	wantStatus(t, c.PostJSON("/api/orders", order), 403, "step_up_required")
}

// stepUp runs a passkey step-up for op with details and fails unless it succeeds.
func stepUp(t *testing.T, c *testenv.Client, a *testenv.Authenticator, cred *testenv.Credential, op string, details any) []byte {
	t.Helper()
	opts := c.PostJSON("/api/step-up/passkey/options", map[string]any{"operation": op, "details": details})
	wantStatus(t, opts, 200, "")
	resp := a.Login(opts.Body, cred)
	wantStatus(t, c.Do("POST", "/api/step-up/passkey", "application/json", resp), 200, "")
	return resp
}

// P7: a withdrawal in the mandatory phase needs a passkey assertion over its
// own amount; it authorizes that amount once, and no other.
func TestTransactionBoundStepUp_P7(t *testing.T) {
	e := testenv.New(t, schedule("", "2026-11-25"))
	_, _, c := loggedInTOTP(t, e, "90000003")
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	_, cred := registerPasskey(t, c, a)
	pc, r := passkeyLogin(t, e, a, cred)
	wantStatus(t, r, 200, "")

	w := map[string]any{"amount": 100000}
	wantStatus(t, pc.PostJSON("/api/withdrawals", w), 403, "step_up_required")

	opts := pc.PostJSON("/api/step-up/passkey/options", map[string]any{"operation": "withdraw", "details": w})
	wantStatus(t, opts, 200, "")
	if s := opts.Str("summary"); !strings.Contains(s, "100,000円") || !strings.Contains(s, "***567") {
		t.Fatalf("summary shown before the prompt: %q", s)
	}
	// A second ceremony for another amount: its challenge differs.
	other := pc.PostJSON("/api/step-up/passkey/options", map[string]any{"operation": "withdraw", "details": map[string]any{"amount": 9000000}})
	var o1, o2 struct {
		PublicKey struct{ Challenge string } `json:"publicKey"`
	}
	_ = json.Unmarshal(opts.Body, &o1)
	_ = json.Unmarshal(other.Body, &o2)
	if o1.PublicKey.Challenge == "" || o1.PublicKey.Challenge == o2.PublicKey.Challenge {
		t.Fatal("challenges not bound to the operation")
	}
	resp := a.Login(opts.Body, cred)
	wantStatus(t, pc.Do("POST", "/api/step-up/passkey", "application/json", resp), 200, "")

	// The authorization covers 100,000 only, and once.
	wantStatus(t, pc.PostJSON("/api/withdrawals", map[string]any{"amount": 9000000}), 403, "step_up_required")
	wantStatus(t, pc.PostJSON("/api/withdrawals", w), 201, "")
	wantStatus(t, pc.PostJSON("/api/withdrawals", w), 403, "step_up_required")
	// The assertion cannot be replayed, not even for the same amount.
	wantStatus(t, pc.Do("POST", "/api/step-up/passkey", "application/json", resp), 400, "ceremony_expired")
	// Nor used from another session of the same customer.
	pc2, r2 := passkeyLogin(t, e, a, cred)
	wantStatus(t, r2, 200, "")
	opts3 := pc.PostJSON("/api/step-up/passkey/options", map[string]any{"operation": "withdraw", "details": w})
	wantStatus(t, pc2.Do("POST", "/api/step-up/passkey", "application/json", a.Login(opts3.Body, cred)), 400, "ceremony_expired")

	// A bank-account change is bound the same way.
	ba := map[string]any{"bank": "みらい銀行", "branch": "新潟支店", "type": "futsu", "number": "7654321", "holder": "カブシキ タロウ"}
	wantStatus(t, pc.Do("PUT", "/api/bank-account", "application/json", mustJSON(ba)), 403, "step_up_required")
	stepUp(t, pc, a, cred, "change_bank_account", ba)
	wantStatus(t, pc.Do("PUT", "/api/bank-account", "application/json", mustJSON(ba)), 201, "")
	if p := pc.Get("/api/portfolio"); !strings.Contains(string(p.Body), "7654321") {
		t.Fatalf("bank account not changed: %s", p.Body)
	}
	// P4: each operation is mailed.
	if n := mailsWith(e, "90000003@example.jp", "出金"); n < 1 {
		t.Errorf("no operation notice for the withdrawal")
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// P6: after a passkey is registered, withdrawals wait the cooling-off and the
// refusal says until when; trading does not wait.
func TestCoolingOff_P6(t *testing.T) {
	e := testenv.New(t, schedule("", "", func(c *config.Config) { c.CoolingOff = 24 * time.Hour }))
	_, _, c := loggedInTOTP(t, e, "90000004")
	wantStatus(t, c.PostJSON("/api/withdrawals", map[string]any{"amount": 5000}), 201, "")
	registeredAt := e.Clock.Now()
	registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	r := c.PostJSON("/api/withdrawals", map[string]any{"amount": 5000})
	wantStatus(t, r, 403, "cooling_off")
	var p struct{ Until time.Time }
	_ = json.Unmarshal(r.Body, &p)
	if want := registeredAt.Add(24 * time.Hour).Truncate(time.Microsecond); !p.Until.Equal(want) {
		t.Fatalf("until %v, want %v", p.Until, want)
	}
	if !strings.Contains(r.Str("detail"), "2026年11月26日") {
		t.Errorf("detail does not say when, in JST: %s", r.Str("detail"))
	}
	wantStatus(t, c.PostJSON("/api/orders", order), 201, "")
	e.Clock.Advance(23*time.Hour + 50*time.Minute)
	_, secret, c2 := relogin(t, e, "90000004")
	wantStatus(t, c2.PostJSON("/api/withdrawals", map[string]any{"amount": 5000}), 403, "cooling_off")
	e.Clock.Advance(11 * time.Minute)
	wantStatus(t, c2.PostJSON("/api/withdrawals", map[string]any{"amount": 5000}), 201, "")
	_ = secret
}

func relogin(t *testing.T, e *testenv.Env, code string) (*testenv.Client, string, *testenv.Client) {
	t.Helper()
	cust, err := e.Store.CustomerByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := e.Auth.TOTPSecret(cust)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Client()
	loginTOTP(t, e, c, code, secret)
	return nil, secret, c
}

// P2, P4, P6: an e-mail change is verified at the new address, both addresses
// are told, and money waits the cooling-off afterwards.
func TestEmailChange_P2_P4_P6(t *testing.T) {
	e := testenv.New(t, schedule("", "", func(c *config.Config) { c.CoolingOff = time.Hour }))
	_, _, c := loggedInTOTP(t, e, "90000005")
	wantStatus(t, c.PostJSON("/api/email-change", map[string]string{"email": "not-an-address"}), 400, "invalid_email")
	wantStatus(t, c.PostJSON("/api/email-change", map[string]string{"email": "new5@example.jp"}), 202, "")
	code := e.MailCode("new5@example.jp", 0)
	wantStatus(t, c.PostJSON("/api/email-change/verify", map[string]string{"code": "000000"}), 401, "invalid_code")
	wantStatus(t, c.PostJSON("/api/email-change/verify", map[string]string{"code": code}), 200, "")
	cust, _ := e.Store.CustomerByCode(context.Background(), "90000005")
	if cust.Email != "new5@example.jp" {
		t.Fatalf("email %q", cust.Email)
	}
	e.WaitMail("90000005@example.jp", e.Settled("90000005@example.jp")-1)
	if mailsWith(e, "90000005@example.jp", "メールアドレス") == 0 || mailsWith(e, "new5@example.jp", "メールアドレス") < 2 {
		t.Errorf("both addresses not told")
	}
	wantStatus(t, c.PostJSON("/api/withdrawals", map[string]any{"amount": 1000}), 403, "cooling_off")
}

// P8: the login history lists successes and failures with method, IP and browser.
func TestLoginHistory_P8(t *testing.T) {
	e := testenv.New(t)
	_, secret := totpCustomer(e, "90000006")
	bad := e.Client()
	wantStatus(t, bad.PostJSON("/api/login/password", map[string]string{"customer_code": "90000006", "password": "wrong password"}), 401, "invalid_credentials")
	c := e.Client()
	loginTOTP(t, e, c, "90000006", secret)
	r := c.Get("/api/logins")
	wantStatus(t, r, 200, "")
	var h struct {
		Logins []struct {
			Method, IP, Browser, Detail string
			OK                          bool
		}
	}
	_ = json.Unmarshal(r.Body, &h)
	if len(h.Logins) != 2 || !h.Logins[0].OK || h.Logins[0].Method != "password_totp" || h.Logins[1].OK ||
		h.Logins[0].IP != "127.0.0.1" || !strings.Contains(h.Logins[0].Browser, "Chrome") {
		t.Fatalf("history: %+v", h.Logins)
	}
}

// P1, P4: within the lead time before the mandatory date, every customer
// without a passkey is mailed once; customers with one are not.
func TestPhaseReminders_P1_P4(t *testing.T) {
	e := testenv.New(t, schedule("", "2026-12-03", func(c *config.Config) { c.PasskeyReminderLead = 7 * 24 * time.Hour }))
	totpCustomer(e, "90000007")
	_, _, c := loggedInTOTP(t, e, "90000008")
	registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	ctx := context.Background()
	if n, err := e.Auth.SendPhaseReminders(ctx); err != nil || n != 0 {
		t.Fatalf("before the lead time: %d %v", n, err)
	}
	e.Clock.Advance(24 * time.Hour) // 2026-11-26 09:30 JST: inside the 7 days before 12-03
	if n, err := e.Auth.SendPhaseReminders(ctx); err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	if n, _ := e.Auth.SendPhaseReminders(ctx); n != 0 {
		t.Fatalf("sent twice: %d", n)
	}
	m := e.WaitMail("90000007@example.jp", e.Settled("90000007@example.jp")-1)
	if !strings.Contains(m.Body, "2026年12月3日") {
		t.Errorf("reminder does not give the date: %s", m.Body)
	}
	if mailsWith(e, "90000008@example.jp", "必須") != 0 {
		t.Error("a customer with a passkey was reminded")
	}
}

var _ = auth.Yen
