// Package testenv starts a real kagi customer site for tests: the SQLite
// store in a temporary directory, the mail worker delivering into the
// development mailbox, a controllable clock, on 127.0.0.1 with the origin
// http://localhost:PORT (an IP address cannot be a WebAuthn RP ID).
//
// Postgres(t) (or KAGI_TEST_STORE=postgres for every New) puts the store in a
// fresh PostgreSQL schema instead, and Env.Instance starts a second server of
// the same deployment, as behind a load balancer.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/cli"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/secret"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
	"github.com/kagi-auth/kagi/internal/web"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

// Clock is a settable clock shared by every part of the server under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Env is a running customer site.
type Env struct {
	T      testing.TB
	URL    string // http://localhost:PORT: the origin, shared by every Instance
	Config config.Config
	Store  store.Store
	Auth   *auth.Service
	Hasher *auth.Hasher
	Clock  *Clock
	Server *httptest.Server
	// Addr is where this server listens (127.0.0.1:PORT). It is the URL's
	// port except on an Instance, whose Client dials Addr for the URL's host.
	Addr string
}

// Option adjusts the configuration before the server starts.
type Option func(*config.Config)

// EnvStore names the variable that moves every Env without an explicit
// store onto PostgreSQL: KAGI_TEST_STORE=postgres go test ./...
const EnvStore = "KAGI_TEST_STORE"

// Postgres runs the site on a fresh PostgreSQL schema, dropped when t ends.
// It skips t when PostgreSQL is not reachable (fails it under CI); see
// internal/store/sqlstore/pgtest for KAGI_TEST_DATABASE_URL.
func Postgres(t testing.TB) Option {
	t.Helper()
	u := pgtest.URL(t)
	return func(c *config.Config) { c.DatabaseURL = u }
}

// New starts a customer site; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, _ := config.Register(fs)
	if err := config.Parse(fs, cfg, []string{
		"--origin", "http://localhost:" + strconv.Itoa(port), "--data", t.TempDir(),
		"--rate-limit-ip", "0", "--rate-limit-account", "0", "--log-level", "error",
	}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.DatabaseURL == "" && os.Getenv(EnvStore) == "postgres" {
		cfg.DatabaseURL = pgtest.URL(t)
	}
	clock := &Clock{t: time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)} // 09:30 in Tokyo
	return start(t, cfg, clock, ln)
}

// Instance starts another server of the same deployment, as a second
// instance behind a load balancer: the same database (a second connection
// pool on it), configuration, origin, key and clock, with its own domain
// service, mail worker and listener. Its Client dials it while addressing the
// shared origin, so cookies set by one instance go to the other. It stops
// when the test ends.
func (e *Env) Instance() *Env {
	e.T.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.T.Fatal(err)
	}
	cfg := e.Config
	return start(e.T, &cfg, e.Clock, ln)
}

// start runs a server for cfg on ln.
func start(t testing.TB, cfg *config.Config, clock *Clock, ln net.Listener) *Env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("KAGI_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var st *sqlstore.DB
	var err error
	if cfg.DatabaseURL != "" {
		st, err = sqlstore.OpenPostgres(ctx, cfg.DatabaseURL, logger)
	} else {
		st, err = sqlstore.OpenSQLite(ctx, cfg.Data, logger)
	}
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	keys, err := secret.New(bytes.Repeat([]byte{42}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hasher := auth.NewHasher(0, 5*time.Second)
	var worker *mail.Worker
	svc := auth.New(AuthConfig(cfg), auth.Deps{
		Store: st, Keys: keys, Hasher: hasher, Now: clock.Now, Logger: logger,
		OnMailed: func() { worker.Nudge() },
	})
	if err := svc.EnablePasskeys(auth.RP{ID: cfg.RPID(), Origin: cfg.Origin, Name: cfg.SiteName}); err != nil {
		t.Fatal(err)
	}
	worker = mail.NewWorker(st, mail.DevSender{}, logger, mail.WithClock(clock.Now), mail.WithPollInterval(50*time.Millisecond))
	done := make(chan struct{})
	go func() { defer close(done); _ = worker.Run(ctx) }()
	renderer, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	h := web.NewServer(web.Deps{Config: *cfg, Auth: svc, Store: st, UI: renderer, Logger: logger, Now: clock.Now})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		st.Close()
	})
	return &Env{T: t, URL: cfg.Origin, Config: *cfg, Store: st, Auth: svc, Hasher: hasher, Clock: clock, Server: srv,
		Addr: ln.Addr().String()}
}

// AuthConfig maps the configuration onto the domain's, as `kagi serve` does.
func AuthConfig(cfg *config.Config) auth.Config { return cli.AuthConfig(cfg) }

// Customer creates a customer through the domain, as `kagi customer add` does.
func (e *Env) Customer(n auth.NewCustomer) (*store.Customer, string) {
	e.T.Helper()
	c, secret, err := e.Auth.CreateCustomer(context.Background(), n, "test")
	if err != nil {
		e.T.Fatalf("create customer %s: %v", n.Code, err)
	}
	return c, secret
}

// Client is a browser-like HTTP client with its own cookie jar. It does not
// follow redirects, so tests see each step.
type Client struct {
	e    *Env
	HTTP *http.Client
	Jar  *cookiejar.Jar
	Lang string
}

func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	c := &Client{e: e, Jar: jar, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if u, err := url.Parse(e.URL); err == nil && u.Port() != "" && !strings.HasSuffix(e.Addr, ":"+u.Port()) {
		// An Instance: the origin's host, this server's socket.
		c.HTTP.Transport = DialTo(e.Addr)
	}
	return c
}

// DialTo is a transport that sends each request to addr (given several, to
// each in turn), whatever the URL's host: a load balancer in front of
// instances that share one origin. It keeps no idle connections, so every
// request is routed afresh.
func DialTo(addr ...string) *http.Transport {
	var next atomic.Uint64
	return &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			a := addr[(next.Add(1)-1)%uint64(len(addr))]
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, a)
		},
	}
}

// Response is a read answer.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Str returns a string field of a JSON body.
func (r *Response) Str(key string) string {
	s, _ := r.JSON()[key].(string)
	return s
}

// Do sends a request with an optional raw body and headers.
func (c *Client) Do(method, path, contentType string, body []byte, header ...string) *Response {
	c.e.T.Helper()
	req, err := http.NewRequest(method, c.e.URL+path, bytes.NewReader(body))
	if err != nil {
		c.e.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Lang != "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.T.Fatal(err)
	}
	return &Response{Response: resp, Body: b}
}

// Get fetches path.
func (c *Client) Get(path string) *Response { return c.Do("GET", path, "", nil) }

// PostJSON posts v as JSON.
func (c *Client) PostJSON(path string, v any) *Response {
	c.e.T.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.e.T.Fatal(err)
	}
	return c.Do("POST", path, "application/json", b)
}

// PostForm posts an HTML form as a browser would (same-origin).
func (c *Client) PostForm(path string, kv ...string) *Response {
	c.e.T.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return c.Do("POST", path, "application/x-www-form-urlencoded", []byte(v.Encode()), "Origin", c.e.URL, "Sec-Fetch-Site", "same-origin")
}

// Cookie returns the value of the named cookie the jar holds for the site.
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.e.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// MailCode waits for a mail to addr whose subject contains subjectPart and that
// arrived after since mails, reads it from /dev/mail.json as a person would, and
// returns the six-digit code in it.
func (e *Env) MailCode(addr string, before int) string {
	e.T.Helper()
	m := e.WaitMail(addr, before)
	code := codeRE.FindStringSubmatch(m.Body)
	if code == nil {
		e.T.Fatalf("no code in mail %q", m.Body)
	}
	return code[1]
}

// DevMail is one entry of /dev/mail.json.
type DevMail struct {
	To, Subject, Body string
	SentAt            time.Time `json:"sent_at"`
}

// Mails lists the development mailbox for addr, newest first.
func (e *Env) Mails(addr string) []DevMail {
	e.T.Helper()
	resp, err := http.Get(e.URL + "/dev/mail.json?to=" + url.QueryEscape(addr))
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	var out []DevMail
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.T.Fatalf("/dev/mail.json: %v", err)
	}
	return out
}

// Settled waits until mail to addr has stopped arriving (the worker runs
// asynchronously) and returns how many there are, so a test can then wait
// for the next one without mistaking a late earlier mail for it.
func (e *Env) Settled(addr string) int {
	e.T.Helper()
	n := len(e.Mails(addr))
	for stable := 0; stable < 3; {
		time.Sleep(60 * time.Millisecond)
		if m := len(e.Mails(addr)); m != n {
			n, stable = m, 0
		} else {
			stable++
		}
	}
	return n
}

// WaitMail waits until addr has more than before mails and returns the newest.
func (e *Env) WaitMail(addr string, before int) DevMail {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ms := e.Mails(addr); len(ms) > before {
			return ms[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.T.Fatalf("no new mail to %s within 10s", addr)
	return DevMail{}
}

// Audit lists a customer's audit events, oldest first.
func (e *Env) Audit(customerID int64) []string {
	e.T.Helper()
	es, err := e.Store.AuditByCustomer(context.Background(), customerID, 1000)
	if err != nil {
		e.T.Fatal(err)
	}
	out := make([]string, len(es))
	for i, en := range es {
		out[len(es)-1-i] = en.Event
	}
	return out
}

// Contains reports whether the body contains s.
func (r *Response) Contains(s string) bool { return strings.Contains(string(r.Body), s) }
