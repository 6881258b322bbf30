package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/console"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// env is a customer site (testenv) and the operator console beside it, on
// its own 127.0.0.1 listener and origin, sharing the store and the clock.
type env struct {
	*testenv.Env
	ConsoleURL string
	Con        *auth.Console
}

func newEnv(t *testing.T, opts ...testenv.Option) *env {
	t.Helper()
	e := testenv.New(t, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	con, err := e.Auth.NewConsole(auth.ConsoleConfig{RP: auth.RP{ID: "localhost", Origin: origin, Name: "test console"}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("KAGI_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h, err := console.NewServer(console.Deps{Origin: origin, Console: con, Store: e.Store, Logger: logger, Now: e.Clock.Now,
		RateLimitIP: e.Config.RateLimitIP})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{Env: e, ConsoleURL: origin, Con: con}
}

// op is an operator's browser on the console.
type op struct {
	t    testing.TB
	e    *env
	http *http.Client
	jar  *cookiejar.Jar
	Name string
	auth *testenv.Authenticator
	cred *testenv.Credential
}

func (e *env) browser(t testing.TB) *op {
	jar, _ := cookiejar.New(nil)
	return &op{t: t, e: e, jar: jar, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	*http.Response
	Body []byte
}

func (r *resp) has(s string) bool { return bytes.Contains(r.Body, []byte(s)) }

func (r *resp) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

func (o *op) do(method, path, ct string, body []byte, hdr ...string) *resp {
	o.t.Helper()
	req, err := http.NewRequest(method, o.e.ConsoleURL+path, bytes.NewReader(body))
	if err != nil {
		o.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := o.http.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return &resp{Response: r, Body: b}
}

func (o *op) get(path string) *resp { return o.do("GET", path, "", nil) }

// post submits a form as the console's own pages do (same origin).
func (o *op) post(path string, kv ...string) *resp {
	o.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return o.do("POST", path, "application/x-www-form-urlencoded", []byte(v.Encode()), "Origin", o.e.ConsoleURL, "Sec-Fetch-Site", "same-origin")
}

func (o *op) postJSON(path string, body []byte) *resp {
	return o.do("POST", path, "application/json", body, "Origin", o.e.ConsoleURL, "Sec-Fetch-Site", "same-origin")
}

func want(t testing.TB, r *resp, status int, contains ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, snippet(r.Body))
	}
	for _, c := range contains {
		if !r.has(c) {
			t.Fatalf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL.Path, c, snippet(r.Body))
		}
	}
}

// wantProblem checks a JSON problem with its code.
func wantProblem(t testing.TB, r *resp, status int, code string) {
	t.Helper()
	want(t, r, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: content type %q", r.Request.URL.Path, ct)
	}
	if got, _ := r.json()["code"].(string); got != code {
		t.Fatalf("%s: code %q, want %q (%s)", r.Request.URL.Path, got, code, r.Body)
	}
	if d, _ := r.json()["detail"].(string); d == "" {
		t.Fatalf("%s: no detail", r.Request.URL.Path)
	}
}

// wantSee checks a 303 redirect to path.
func wantSee(t testing.TB, r *resp, path string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Fatalf("%s %s: %d to %q, want 303 to %q\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), path, snippet(r.Body))
	}
}

func snippet(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500]
	}
	return s
}

// operator creates an operator with the domain (as `kagi operator add`),
// enrolls a passkey through the console with the software authenticator
// and returns their logged-in browser.
func (e *env) operator(t testing.TB, name, role string) *op {
	t.Helper()
	en, err := e.Con.AddOperator(context.Background(), name, role, "test")
	if err != nil {
		t.Fatal(err)
	}
	o := e.browser(t)
	o.Name = name
	o.auth = testenv.NewAuthenticator(testenv.AuthenticatorOptions{Origin: e.ConsoleURL, T: t})
	r := o.postJSON("/api/enroll/options", mustJSON(map[string]string{"name": name, "code": en.Code}))
	want(t, r, 200)
	body, cred := o.auth.Register(r.Body)
	o.cred = cred
	want(t, o.postJSON("/api/enroll", body), 201)
	return o
}

// login logs the operator in again with their passkey.
func (o *op) login() *resp {
	o.t.Helper()
	r := o.postJSON("/api/login/options", nil)
	want(o.t, r, 200)
	return o.postJSON("/api/login", o.auth.Login(r.Body, o.cred))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

const pw = "Sakura-2026-kagi"

func (e *env) customer(t testing.TB, code, email, factor string) *store.Customer {
	t.Helper()
	c, _ := e.Customer(auth.NewCustomer{Code: code, Password: pw, Email: email, SecondFactor: factor, Lang: "ja"})
	return c
}

func (e *env) reload(t testing.TB, id int64) *store.Customer {
	t.Helper()
	c, err := e.Store.CustomerByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// events lists a customer's audit entries (event → actor of the newest).
func (e *env) events(t testing.TB, id int64) map[string]*store.AuditEntry {
	t.Helper()
	es, err := e.Store.AuditByCustomer(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*store.AuditEntry{}
	for _, x := range es {
		if _, ok := m[x.Event]; !ok {
			m[x.Event] = x
		}
	}
	return m
}

// mailTo waits for a new mail to addr whose subject contains part.
func (e *env) mailTo(t testing.TB, addr string, before int, part string) testenv.DevMail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ms := e.Mails(addr)
		if n := len(ms) - before; n > 0 {
			for _, m := range ms[:n] {
				if strings.Contains(m.Subject, part) {
					return m
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no mail %q to %s within 10s (have %v)", part, addr, subjects(e.Mails(addr)))
	return testenv.DevMail{}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func subjects(ms []testenv.DevMail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Subject)
	}
	return out
}
