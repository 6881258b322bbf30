package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// A3: a customer without a verified e-mail is led through initial setup right
// after the password: register and verify an address, then choose e-mail.
func TestInitialSetupEmail_A3(t *testing.T) {
	e := testenv.New(t)
	cust, _ := e.Customer(auth.NewCustomer{Code: "40000001", Password: pw})
	c := e.Client()
	r := c.PostJSON("/api/login/password", map[string]string{"customer_code": "40000001", "password": pw})
	wantStatus(t, r, 200, "")
	if r.Str("next") != "setup" {
		t.Fatalf("next: %s", r.Body)
	}
	// Not logged in yet: no account page, no second factor step.
	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": "123456"}), 403, "setup_required")
	if g := c.Get("/api/setup"); g.Str("step") != "email" {
		t.Fatalf("setup state: %s", g.Body)
	}
	wantStatus(t, c.PostJSON("/api/setup/email", map[string]string{"email": "not an address"}), 400, "invalid_email")
	wantStatus(t, c.PostJSON("/api/setup/email", map[string]string{"email": "Ichiro <ichiro@example.jp>"}), 400, "invalid_email")
	wantStatus(t, c.PostJSON("/api/setup/method", map[string]string{"method": "email"}), 403, "setup_required")
	wantStatus(t, c.PostJSON("/api/setup/email", map[string]string{"email": "ichiro@Example.JP"}), 202, "")
	code := e.MailCode("ichiro@example.jp", 0)

	// The code expires after 10 minutes (the setup session itself lasts longer).
	e.Clock.Advance(10*time.Minute + time.Second)
	wantStatus(t, c.PostJSON("/api/setup/email/verify", map[string]string{"code": code}), 401, "code_expired")
	wantStatus(t, c.PostJSON("/api/setup/email/resend", nil), 202, "")
	code = e.MailCode("ichiro@example.jp", 1)
	wantStatus(t, c.PostJSON("/api/setup/email/verify", map[string]string{"code": code}), 200, "")
	got, _ := e.Store.CustomerByID(context.Background(), cust.ID)
	if got.Email != "ichiro@example.jp" || got.EmailVerifiedAt.IsZero() {
		t.Fatalf("e-mail not verified: %+v", got)
	}
	r = c.PostJSON("/api/setup/method", map[string]string{"method": "email"})
	wantStatus(t, r, 200, "")
	if r.Str("next") != "done" {
		t.Fatalf("method: %s", r.Body)
	}
	s := c.Get("/api/session")
	if s.Str("method") != "password_email" || s.Str("email") != "ichiro@example.jp" {
		t.Fatalf("session: %s", s.Body)
	}
	wantStatus(t, c.PostJSON("/api/setup/email", map[string]string{"email": "x@example.jp"}), 409, "already_set_up")

	// Next time, the normal e-mail second factor applies.
	c2 := e.Client()
	r = c2.PostJSON("/api/login/password", map[string]string{"customer_code": "40000001", "password": pw})
	if r.Str("next") != "second_factor" || r.Str("method") != "email" {
		t.Fatalf("second login: %s", r.Body)
	}
}

// A3: choosing the authenticator app shows a QR code and needs a first code.
func TestInitialSetupTOTP_A3(t *testing.T) {
	e := testenv.New(t)
	e.Customer(auth.NewCustomer{Code: "40000002", Password: pw})
	c := e.Client()
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "40000002", "password": pw}), 200, "")
	wantStatus(t, c.PostJSON("/api/setup/email", map[string]string{"email": "jiro@example.jp"}), 202, "")
	wantStatus(t, c.PostJSON("/api/setup/email/verify", map[string]string{"code": e.MailCode("jiro@example.jp", 0)}), 200, "")
	r := c.PostJSON("/api/setup/method", map[string]string{"method": "totp"})
	wantStatus(t, r, 200, "")
	secret := r.Str("secret")
	if secret == "" || !strings.HasPrefix(r.Str("qr_png"), "data:image/png;base64,") || !strings.HasPrefix(r.Str("otpauth_url"), "otpauth://totp/") {
		t.Fatalf("enrollment: %s", r.Body)
	}
	wantStatus(t, c.PostJSON("/api/setup/totp", map[string]string{"code": "000000"}), 401, "invalid_code")
	wantStatus(t, c.PostJSON("/api/setup/totp", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
	if s := c.Get("/api/session"); s.Str("method") != "password_totp" {
		t.Fatalf("session: %s", s.Body)
	}
	// The enrolled secret is the customer's second factor from now on.
	e.Clock.Advance(30 * time.Second)
	c2 := e.Client()
	wantStatus(t, c2.PostJSON("/api/login/password", map[string]string{"customer_code": "40000002", "password": pw}), 200, "")
	wantStatus(t, c2.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
	// The setup-done notice went to the verified address.
	if ms := e.Mails("jiro@example.jp"); len(ms) < 3 {
		t.Fatalf("mails: %d", len(ms))
	}
}

// A3 through the pages a browser sees, without JavaScript: every step is a form.
func TestInitialSetupPages_A3(t *testing.T) {
	e := testenv.New(t)
	e.Customer(auth.NewCustomer{Code: "40000003", Password: pw})
	c := e.Client()
	r := c.PostForm("/login", "customer_code", "40000003", "password", pw)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/setup" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	r = c.Get("/setup")
	if r.Header.Get("Location") != "/setup/email" {
		t.Fatalf("setup: %s", r.Header.Get("Location"))
	}
	page := c.Get("/setup/email")
	if page.StatusCode != 200 || !page.Contains(`name="email"`) || !page.Contains(`/guide/start`) {
		t.Fatalf("setup email page: %d", page.StatusCode)
	}
	bad := c.PostForm("/setup/email", "email", "nope")
	if bad.StatusCode != 400 || !bad.Contains(`role="alert"`) {
		t.Fatalf("bad address page: %d", bad.StatusCode)
	}
	r = c.PostForm("/setup/email", "email", "saburo@example.jp")
	if r.Header.Get("Location") != "/setup/email/verify" {
		t.Fatalf("after email: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if p := c.Get("/setup/email/verify"); !p.Contains("saburo@example.jp") {
		t.Fatal("verify page does not show the address")
	}
	r = c.PostForm("/setup/email/verify", "code", e.MailCode("saburo@example.jp", 0))
	if r.Header.Get("Location") != "/setup/method" {
		t.Fatalf("after verify: %d %s", r.StatusCode, r.Body)
	}
	r = c.PostForm("/setup/method", "method", "totp")
	if r.Header.Get("Location") != "/setup/totp" {
		t.Fatalf("after method: %d", r.StatusCode)
	}
	p := c.Get("/setup/totp")
	if !p.Contains("data:image/png;base64,") {
		t.Fatal("no QR code on the TOTP page")
	}
	// The page shows the secret grouped in fours; read it back as a person would.
	secret := readSecret(t, c)
	r = c.PostForm("/setup/totp", "code", auth.TOTPCode(secret, e.Clock.Now()))
	if r.Header.Get("Location") != "/account" {
		t.Fatalf("after totp: %d %s", r.StatusCode, r.Body)
	}
	acc := c.Get("/account")
	if acc.StatusCode != 200 || !acc.Contains("saburo@example.jp") {
		t.Fatalf("account page: %d", acc.StatusCode)
	}
}

func readSecret(t *testing.T, c *testenv.Client) string {
	t.Helper()
	g := c.Get("/setup/totp")
	body := string(g.Body)
	i := strings.Index(body, `class="secret__value"`)
	if i < 0 {
		t.Fatalf("no secret on the page")
	}
	rest := body[i:]
	rest = rest[strings.Index(rest, ">")+1:]
	return strings.ReplaceAll(rest[:strings.Index(rest, "<")], " ", "")
}
