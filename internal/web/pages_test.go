package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// A2 and the account page (K1's path) through the HTML forms, in Japanese,
// then in English.
func TestLoginPages_A2(t *testing.T) {
	e := testenv.New(t)
	_, secret := totpCustomer(e, "80000001")
	c := e.Client()

	login := c.Get("/login")
	for _, want := range []string{`lang="ja"`, "パスキーでログイン", `name="customer_code"`, `autocomplete="username webauthn"`, `name="password"`, "/guide/start", e.Config.CallCenterPhone} {
		if !login.Contains(want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	bad := c.PostForm("/login", "customer_code", "80000001", "password", "wrong password")
	if bad.StatusCode != 401 || !bad.Contains("お客様コードまたはパスワードが正しくありません") || !bad.Contains(`value="80000001"`) {
		t.Fatalf("failed login page: %d", bad.StatusCode)
	}
	r := c.PostForm("/login", "customer_code", "80000001", "password", pw)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login/second-factor" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	sf := c.Get("/login/second-factor")
	if !sf.Contains(`name="code"`) || !sf.Contains(`autocomplete="one-time-code"`) {
		t.Fatal("second factor page lacks the code field")
	}
	wrong := c.PostForm("/login/second-factor", "code", "000000")
	if wrong.StatusCode != 401 || !wrong.Contains(`role="alert"`) {
		t.Fatalf("wrong code page: %d", wrong.StatusCode)
	}
	r = c.PostForm("/login/second-factor", "code", auth.TOTPCode(secret, e.Clock.Now()))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
		t.Fatalf("second factor: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	acc := c.Get("/account")
	for _, want := range []string{"口座情報", "お客様情報", "登録情報照会", "80000001@example.jp", "認証アプリ", "パスキー"} {
		if !acc.Contains(want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	// Logged in, /login leads to the account.
	if r := c.Get("/login"); r.Header.Get("Location") != "/account" {
		t.Errorf("login while logged in: %d", r.StatusCode)
	}
	out := c.PostForm("/logout")
	if out.Header.Get("Location") != "/login?m=logged_out" {
		t.Fatalf("logout: %d %s", out.StatusCode, out.Header.Get("Location"))
	}
	if r := c.Get("/account"); r.Header.Get("Location") != "/login" {
		t.Fatalf("account after logout: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if p := c.Get("/login?m=logged_out"); !p.Contains(`role="status"`) {
		t.Error("no logout notice")
	}
	if p := c.Get("/login?m=<script>"); p.Contains("<script>") {
		t.Error("notice parameter reflected")
	}

	// English, by ?lang=en (remembered by cookie) and by Accept-Language.
	en := e.Client()
	p := en.Get("/login?lang=en")
	if !p.Contains(`lang="en"`) || !p.Contains("Customer code") {
		t.Fatalf("English login page:\n%s", p.Body)
	}
	if p := en.Get("/login"); !p.Contains(`lang="en"`) {
		t.Error("language choice not remembered")
	}
	al := e.Client()
	al.Lang = "en-US,en;q=0.9,ja;q=0.5"
	if p := al.Get("/login"); !p.Contains(`lang="en"`) {
		t.Error("Accept-Language ignored")
	}
	wantStatus(t, al.PostJSON("/api/login/password", map[string]string{"customer_code": "80000001", "password": "nope nope"}), 401, "invalid_credentials")
	if r := al.PostJSON("/api/login/password", map[string]string{"customer_code": "80000001", "password": "nope nope"}); !strings.Contains(r.Str("detail"), "incorrect") {
		t.Errorf("English problem detail: %s", r.Body)
	}
	e.Clock.Advance(time.Second)
}

// Issue 2 item 6: the development mailbox is served only in dev mode.
func TestDevMailboxOnlyInDev(t *testing.T) {
	e := testenv.New(t)
	if r := e.Client().Get("/dev/mail"); r.StatusCode != 200 {
		t.Fatalf("dev mailbox in dev mode: %d", r.StatusCode)
	}
	prod := testenv.New(t, func(c *config.Config) { c.Dev = false })
	for _, p := range []string{"/dev/mail", "/dev/mail.json"} {
		if r := prod.Client().Get(p); r.StatusCode != 404 {
			t.Fatalf("%s outside dev mode: %d", p, r.StatusCode)
		}
	}
}
