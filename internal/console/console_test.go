package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// O4: an operator registers a passkey with the one-time enrollment code and
// logs in with it; the code works once; wrong codes, unknown operators,
// disabled operators, revoked passkeys, other origins and missing user
// verification are refused.
func TestOperatorPasskeyEnrollmentAndLogin_O4(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	en, err := e.Con.AddOperator(ctx, "sato", store.RoleSupervisor, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(en.Code) != 19 || !en.ExpiresAt.After(e.Clock.Now()) {
		t.Fatalf("enrollment %+v", en)
	}
	b := e.browser(t)
	for _, body := range []map[string]string{
		{"name": "sato", "code": "AAAA-BBBB-CCCC-DDDD"},
		{"name": "nobody", "code": en.Code},
		{"name": "SATO!", "code": en.Code},
		{"name": "sato", "code": ""},
	} {
		wantProblem(t, b.postJSON("/api/enroll/options", mustJSON(body)), 401, auth.CodeEnrollmentInvalid)
	}
	a := testenv.NewAuthenticator(testenv.AuthenticatorOptions{Origin: e.ConsoleURL, T: t})
	// The code works in lower case and without dashes, as typed.
	r := b.postJSON("/api/enroll/options", mustJSON(map[string]string{"name": "sato", "code": strings.ToLower(strings.ReplaceAll(en.Code, "-", ""))}))
	want(t, r, 200, `"publicKey"`, `"userVerification":"required"`, `"residentKey":"required"`)
	// Without user verification the passkey is refused; the code stays valid.
	noUV, _ := a.Register(r.Body, testenv.UV(false))
	wantProblem(t, b.postJSON("/api/enroll", noUV), 400, auth.CodePasskeyUV)
	r = b.postJSON("/api/enroll/options", mustJSON(map[string]string{"name": "sato", "code": en.Code}))
	want(t, r, 200)
	body, cred := a.Register(r.Body)
	want(t, b.postJSON("/api/enroll", body), 201, `"operator":"sato"`, `"role":"supervisor"`)
	want(t, b.get("/"), 200, `id="operator-name">sato<`, "スーパーバイザー")
	// Used once.
	wantProblem(t, e.browser(t).postJSON("/api/enroll/options", mustJSON(map[string]string{"name": "sato", "code": en.Code})), 401, auth.CodeEnrollmentInvalid)

	// Log out, then in with the passkey.
	wantSee(t, b.post("/logout"), "/login?m=logged_out")
	wantSee(t, b.get("/"), "/login")
	o := &op{t: t, e: e, http: b.http, jar: b.jar, Name: "sato", auth: a, cred: cred}
	want(t, o.login(), 200, `"next":"/"`)
	want(t, b.get("/"), 200, "sato")

	// The customer site's relying party does not accept it, nor the console
	// an assertion made for another origin or without user verification.
	c2 := e.browser(t)
	ro := c2.postJSON("/api/login/options", nil)
	wantProblem(t, c2.postJSON("/api/login", a.Login(ro.Body, cred, testenv.Origin(e.URL))), 400, auth.CodePasskeyFailed)
	ro = c2.postJSON("/api/login/options", nil)
	wantProblem(t, c2.postJSON("/api/login", a.Login(ro.Body, cred, testenv.UV(false))), 400, auth.CodePasskeyUV)
	ro = c2.postJSON("/api/login/options", nil)
	replay := a.Login(ro.Body, cred)
	want(t, c2.postJSON("/api/login", replay), 200)
	wantProblem(t, e.browser(t).postJSON("/api/login", replay), 400, auth.CodeCeremonyExpired)

	// A passkey the console never registered is unknown.
	stranger := testenv.NewAuthenticator(testenv.AuthenticatorOptions{Origin: e.ConsoleURL, T: t})
	_, other := stranger.Register(r.Body) // the response is never sent
	ro = c2.postJSON("/api/login/options", nil)
	wantProblem(t, c2.postJSON("/api/login", stranger.Login(ro.Body, other)), 401, auth.CodePasskeyUnknown)

	// A disabled operator's sessions end and the passkey no longer logs in.
	if err := e.Con.DisableOperator(ctx, "sato", "test"); err != nil {
		t.Fatal(err)
	}
	wantSee(t, b.get("/"), "/login")
	ro = c2.postJSON("/api/login/options", nil)
	wantProblem(t, c2.postJSON("/api/login", a.Login(ro.Body, cred)), 401, auth.CodePasskeyUnknown)

	// A lost device: a new code with revocation; the old passkey is unknown.
	k := e.operator(t, "kato2", store.RoleAgent)
	if _, err := e.Con.IssueEnrollment(ctx, "kato2", true, "test"); err != nil {
		t.Fatal(err)
	}
	wantSee(t, k.get("/"), "/login")
	wantProblem(t, k.login(), 401, auth.CodePasskeyUnknown)
}

// O4, A6: every console route but login needs an operator session; a
// customer's session is nothing there; cross-origin posts are refused; the
// headers are the customer site's.
func TestConsoleNeedsOperatorSession_O4_A6(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "50000001", "cust@example.jp", store.FactorTOTP)
	secret, err := e.Auth.TOTPSecret(c)
	if err != nil {
		t.Fatal(err)
	}
	// A customer logged in on the customer site.
	site := e.Client()
	if r := site.PostJSON("/api/login/password", map[string]string{"customer_code": c.Code, "password": pw}); r.StatusCode != 200 {
		t.Fatalf("password: %d %s", r.StatusCode, r.Body)
	}
	if r := site.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}); r.StatusCode != 200 {
		t.Fatalf("second factor: %d %s", r.StatusCode, r.Body)
	}
	token := site.Cookie("kagi_session")
	if token == "" {
		t.Fatal("no customer session")
	}

	for name, b := range map[string]*op{
		"nobody":                    e.browser(t),
		"customer cookie":           withCookie(e.browser(t), e, "kagi_session", token),
		"customer token as console": withCookie(e.browser(t), e, "kagi_console", token),
	} {
		t.Run(name, func(t *testing.T) {
			b.t = t
			for _, p := range []string{"/", "/customers/50000001", "/customers?code=50000001", "/requests", "/inquiries", "/inquiries/1", "/dashboard", "/audit"} {
				wantSee(t, b.get(p), "/login")
			}
			for _, p := range []string{"/customers/50000001/unlock", "/customers/50000001/freeze", "/customers/50000001/requests",
				"/requests/1/approve", "/inquiries/1/close", "/audit/verify", "/logout"} {
				r := b.post(p, "reason", "x")
				want(t, r, 401, "ログインしてください")
			}
			wantProblem(t, b.get("/api/dashboard"), 401, auth.CodeNotAuthenticated)
			want(t, b.get("/login"), 200, "パスキーでログイン")
		})
	}
	if got := e.reload(t, c.ID); !got.FrozenAt.IsZero() {
		t.Fatal("a refused request changed the customer")
	}

	sato := e.operator(t, "sato", store.RoleSupervisor)
	r := sato.get("/")
	want(t, r, 200)
	for h, v := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		"Cross-Origin-Opener-Policy": "same-origin", "Cache-Control": "no-store",
	} {
		if got := r.Header.Get(h); got != v {
			t.Errorf("%s: %q, want %q", h, got, v)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	var cookie *http.Cookie
	for _, ck := range sato.jar.Cookies(mustURL(e.ConsoleURL)) {
		if ck.Name == "kagi_console" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no console cookie")
	}
	// The operator's cookie means nothing to the customer site.
	cs := e.Client()
	if r := cs.Do("GET", "/api/session", "", nil, "Cookie", "kagi_session="+cookie.Value); r.StatusCode != 401 {
		t.Fatalf("operator token on the customer site: %d", r.StatusCode)
	}

	// A form posted from the customer site (same site, other origin) is refused.
	r = sato.do("POST", "/customers/50000001/freeze", "application/x-www-form-urlencoded", []byte("reason=x"),
		"Origin", e.URL, "Sec-Fetch-Site", "same-site")
	want(t, r, 403, "ほかのサイト")
	if got := e.reload(t, c.ID); !got.FrozenAt.IsZero() {
		t.Fatal("a cross-origin post froze the account")
	}
	// Another host name is sent to the console's origin.
	req, _ := http.NewRequest("GET", strings.Replace(e.ConsoleURL, "localhost", "127.0.0.1", 1)+"/", nil)
	raw, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	if raw.StatusCode != http.StatusPermanentRedirect || raw.Header.Get("Location") != e.ConsoleURL+"/" {
		t.Fatalf("other host: %d %s", raw.StatusCode, raw.Header.Get("Location"))
	}
	// Idle timeout: a session unused for 30 minutes ends.
	e.Clock.Advance(31 * time.Minute)
	wantSee(t, sato.get("/"), "/login?m=expired")
	want(t, sato.get("/login?m=expired"), 200, "一定時間操作がなかった")
}

func withCookie(o *op, e *env, name, value string) *op {
	o.jar.SetCookies(mustURL(e.ConsoleURL), []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	return o
}
