package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

func loginTOTP(t *testing.T, e *testenv.Env, c *testenv.Client, code, secret string) {
	t.Helper()
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": code, "password": pw}), 200, "")
	// Each login needs a fresh TOTP step (codes are single-use).
	e.Clock.Advance(30 * time.Second)
	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
}

// A6: the session cookie is HttpOnly, SameSite=Lax, Secure except on
// http://localhost, and only a hash of it is stored.
func TestSessionCookie_A6(t *testing.T) {
	e := testenv.New(t)
	_, secret := totpCustomer(e, "50000001")
	c := e.Client()
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "50000001", "password": pw}), 200, "")
	e.Clock.Advance(30 * time.Second)
	r := c.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())})
	var ck *http.Cookie
	for _, k := range r.Cookies() {
		if k.Name == "kagi_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("cookie: %+v", ck)
	}
	if len(ck.Value) < 40 {
		t.Fatalf("session token too short: %q", ck.Value)
	}
	if _, _, err := e.Store.SessionWithCustomer(t.Context(), []byte(ck.Value)); err == nil {
		t.Fatal("raw token found as a stored key")
	}
	if _, _, err := e.Store.SessionWithCustomer(t.Context(), auth.HashToken(ck.Value)); err != nil {
		t.Fatalf("hashed token not stored: %v", err)
	}
}

// A6: idle and absolute timeouts, logout, and logout everywhere.
func TestSessionLifetime_A6(t *testing.T) {
	e := testenv.New(t)
	_, secret := totpCustomer(e, "50000002")

	t.Run("idle", func(t *testing.T) {
		c := e.Client()
		loginTOTP(t, e, c, "50000002", secret)
		e.Clock.Advance(29 * time.Minute)
		wantStatus(t, c.Get("/api/session"), 200, "")
		e.Clock.Advance(29 * time.Minute) // activity above renewed it
		wantStatus(t, c.Get("/api/session"), 200, "")
		e.Clock.Advance(30 * time.Minute)
		wantStatus(t, c.Get("/api/session"), 401, "session_expired")
		wantStatus(t, c.Get("/api/session"), 401, "not_authenticated")
	})
	t.Run("absolute", func(t *testing.T) {
		c := e.Client()
		loginTOTP(t, e, c, "50000002", secret)
		for i := 0; i < 35; i++ { // 35 × 20 min < 12 h
			e.Clock.Advance(20 * time.Minute)
			wantStatus(t, c.Get("/api/session"), 200, "")
		}
		e.Clock.Advance(20 * time.Minute)
		wantStatus(t, c.Get("/api/session"), 401, "session_expired")
	})
	t.Run("logout", func(t *testing.T) {
		c := e.Client()
		loginTOTP(t, e, c, "50000002", secret)
		token := c.Cookie("kagi_session")
		wantStatus(t, c.PostJSON("/api/logout", nil), 204, "")
		// The old token is dead even if someone kept it.
		c2 := e.Client()
		r := c2.Do("GET", "/api/session", "", nil, "Cookie", "kagi_session="+token)
		wantStatus(t, r, 401, "not_authenticated")
	})
	t.Run("everywhere", func(t *testing.T) {
		a, b := e.Client(), e.Client()
		loginTOTP(t, e, a, "50000002", secret)
		loginTOTP(t, e, b, "50000002", secret)
		wantStatus(t, a.PostJSON("/api/logout/all", nil), 204, "")
		wantStatus(t, b.Get("/api/session"), 401, "not_authenticated")
		wantStatus(t, a.Get("/api/session"), 401, "not_authenticated")
	})
}

// A6: on an https origin the cookie is Secure and __Host- prefixed.
func TestSecureCookieOnHTTPS_A6(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.Origin = "https://trade.example.jp" })
	_, secret := totpCustomer(e, "50000003")
	c := e.Client()
	post := func(path, body string) *http.Response {
		req, _ := http.NewRequest("POST", e.Server.URL+path, strings.NewReader(body))
		req.Host = "trade.example.jp"
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := post("/api/login/password", `{"customer_code":"50000003","password":"`+pw+`"}`)
	var ck *http.Cookie
	for _, k := range r.Cookies() {
		ck = k
	}
	if r.StatusCode != 200 || ck == nil || ck.Name != "__Host-kagi_session" || !ck.Secure || !ck.HttpOnly {
		t.Fatalf("status %d cookie %+v", r.StatusCode, ck)
	}
	if r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS on an https origin")
	}
	_ = secret
}

// A6: state-changing requests from another origin are refused and change nothing.
func TestCrossOriginRefused_A6(t *testing.T) {
	e := testenv.New(t)
	cust, _ := totpCustomer(e, "50000004")
	c := e.Client()
	body := []byte(`{"customer_code":"50000004","password":"wrong password"}`)
	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		r := c.Do("POST", "/api/login/password", "application/json", body, h...)
		wantStatus(t, r, 403, "csrf")
		f := c.Do("POST", "/login", "application/x-www-form-urlencoded", []byte("customer_code=50000004&password=x"), h...)
		if f.StatusCode != 403 {
			t.Fatalf("form from another origin: %d", f.StatusCode)
		}
	}
	got, _ := e.Store.CustomerByID(t.Context(), cust.ID)
	if got.FailedAttempts != 0 || len(e.Audit(cust.ID)) != 1 { // only customer.created
		t.Fatalf("cross-origin requests changed state: failures %d, audit %v", got.FailedAttempts, e.Audit(cust.ID))
	}
	// Same-origin requests pass.
	r := c.Do("POST", "/api/login/password", "application/json", body, "Origin", e.URL, "Sec-Fetch-Site", "same-origin")
	wantStatus(t, r, 401, "invalid_credentials")
}

// R1: a browser that reached the site by another host name is sent to the origin.
func TestCanonicalHostRedirect_R1(t *testing.T) {
	e := testenv.New(t)
	c := e.Client()
	req, _ := http.NewRequest("GET", e.Server.URL+"/login?lang=en", nil) // http://127.0.0.1:PORT
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != e.URL+"/login?lang=en" {
		t.Fatalf("redirect: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Health checks answer on any host (load balancers use addresses).
	h, err := http.Get(e.Server.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	h.Body.Close()
	if h.StatusCode != 200 {
		t.Fatalf("healthz: %d", h.StatusCode)
	}
}

// B3: per-IP and per-account budgets on unauthenticated endpoints.
func TestRateLimits_B3(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.RateLimitAccount = 3; c.RateLimitIP = 8 })
	c := e.Client()
	body := func(code string) map[string]string { return map[string]string{"customer_code": code, "password": "x"} }
	for i := 0; i < 3; i++ {
		wantStatus(t, c.PostJSON("/api/login/password", body("60000001")), 401, "invalid_credentials")
	}
	r := c.PostJSON("/api/login/password", body("60000001"))
	wantStatus(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Another account from the same address still has budget, until the IP's runs out.
	wantStatus(t, c.PostJSON("/api/login/password", body("60000002")), 401, "invalid_credentials")
	for i := 0; i < 3; i++ {
		c.PostJSON("/api/login/password", body("6000000"+string(rune('3'+i))))
	}
	wantStatus(t, c.PostJSON("/api/login/password", body("60000009")), 429, "rate_limited")
	// The window passes.
	e.Clock.Advance(time.Minute)
	wantStatus(t, c.PostJSON("/api/login/password", body("60000001")), 401, "invalid_credentials")
}

// Issue 2 item 7: strict CSP, no framing, on every page.
func TestSecurityHeaders(t *testing.T) {
	e := testenv.New(t)
	c := e.Client()
	for _, p := range []string{"/login", "/guide/start", "/api/session", "/nowhere"} {
		r := c.Get(p)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: framing/sniffing headers missing", p)
		}
		if bytes.Contains(r.Body, []byte("<script>")) || bytes.Contains(r.Body, []byte(" style=")) {
			t.Errorf("%s: inline script or style", p)
		}
	}
}

// A6: the session identifier changes at every step-up, by second factor and by
// passkey; the token from before the step-up no longer works.
func TestSessionRotatedAtStepUp_A6(t *testing.T) {
	e := testenv.New(t)
	_, secret, c := loggedInTOTP(t, e, "60000031")
	site, _ := url.Parse(e.URL)
	with := func(tok string) *testenv.Client {
		o := e.Client()
		o.Jar.SetCookies(site, []*http.Cookie{{Name: "kagi_session", Value: tok, Path: "/"}})
		return o
	}
	rotated := func(step string, before string) string {
		t.Helper()
		after := c.Cookie("kagi_session")
		if after == "" || after == before {
			t.Fatalf("%s: session not rotated", step)
		}
		wantStatus(t, with(before).Get("/api/session"), 401, "not_authenticated")
		wantStatus(t, with(after).Get("/api/session"), 200, "")
		return after
	}

	tok := c.Cookie("kagi_session")
	e.Clock.Advance(6 * time.Minute)
	stepUpTOTP(t, e, c, secret)
	rotated("second-factor step-up", tok)
	// Registration needs the step-up: it goes with the new token.

	a := e.Authenticator(testenv.AuthenticatorOptions{})
	_, cred := registerPasskey(t, c, a)
	c, r := passkeyLogin(t, e, a, cred)
	wantStatus(t, r, 200, "")
	tok = c.Cookie("kagi_session")
	stepUp(t, c, a, cred, "trade", map[string]any{})
	rotated("passkey step-up", tok)
}
