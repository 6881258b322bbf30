package web_test

// SPEC R2: two kagi instances on one PostgreSQL database, behind a load
// balancer, behave as one. Both servers are configured with the same origin;
// the test's browser addresses that origin while its transport dials
// whichever instance the test picks for each request.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// lbBrowser is a browser behind the load balancer: to(e) routes its next
// requests to instance e.
type lbBrowser struct {
	*testenv.Client
	target atomic.Pointer[string]
	mu     sync.Mutex
	dialed map[string]int // connections opened per instance address
}

func newLBBrowser(first *testenv.Env) *lbBrowser {
	b := &lbBrowser{Client: first.Client(), dialed: map[string]int{}}
	b.to(first)
	b.HTTP.Transport = &http.Transport{
		DisableKeepAlives: true, // a kept connection would stick to one instance
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			addr := *b.target.Load()
			b.mu.Lock()
			b.dialed[addr]++
			b.mu.Unlock()
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
	}
	return b
}

func (b *lbBrowser) to(e *testenv.Env) *lbBrowser {
	addr := e.Addr
	b.target.Store(&addr)
	return b
}

// lbSession is the browser's GET /api/session on instance e.
func lbSession(t *testing.T, b *lbBrowser, e *testenv.Env) (status int, stage, method string) {
	t.Helper()
	r := b.to(e).Get("/api/session")
	return r.StatusCode, r.Str("stage"), r.Str("method")
}

// twoInstances starts instance a and b of one deployment on PostgreSQL.
func twoInstances(t *testing.T) (a, b *testenv.Env) {
	t.Helper()
	a = testenv.New(t, testenv.Postgres(t))
	b = a.Instance()
	if a.URL != b.URL || a.Addr == b.Addr || a.Store == b.Store {
		t.Fatalf("instances: %s %s / %s %s", a.URL, a.Addr, b.URL, b.Addr)
	}
	return a, b
}

// R2, A2, A6: password on one instance, second factor on the other; the
// session is valid on both, and logging out on one ends it on both.
func TestTwoInstancesLogin_R2_A2_A6(t *testing.T) {
	a, b := twoInstances(t)
	_, secret := a.Customer(auth.NewCustomer{Code: "70000001", Password: pw, Email: "70000001@example.jp", SecondFactor: "totp"})
	br := newLBBrowser(a)
	wantStatus(t, br.to(a).PostJSON("/api/login/password", map[string]string{"customer_code": "70000001", "password": pw}), 200, "")
	a.Clock.Advance(30 * time.Second) // one clock for the deployment
	wantStatus(t, br.to(b).PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, b.Clock.Now())}), 200, "")
	for _, e := range []*testenv.Env{a, b} {
		if st, stage, method := lbSession(t, br, e); st != 200 || stage != "full" || method != "password_totp" {
			t.Fatalf("session on %s: %d %s %s", e.Addr, st, stage, method)
		}
	}
	if br.dialed[a.Addr] != 2 || br.dialed[b.Addr] != 2 {
		t.Fatalf("requests per instance: %v", br.dialed)
	}
	// The same TOTP code, replayed at the other instance, is refused (A5).
	other := newLBBrowser(b)
	wantStatus(t, other.to(b).PostJSON("/api/login/password", map[string]string{"customer_code": "70000001", "password": pw}), 200, "")
	if r := other.to(a).PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, a.Clock.Now())}); r.StatusCode == 200 {
		t.Fatalf("a TOTP code was accepted twice: %s", r.Body)
	}

	if r := br.to(b).Do("POST", "/api/logout", "application/json", nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.StatusCode, r.Body)
	}
	if st, _, _ := lbSession(t, br, a); st != http.StatusUnauthorized {
		t.Fatalf("session on a after logout on b: %d", st)
	}
}

// R2, A5: an e-mailed code is sent once by either instance's worker, accepted
// on the other instance, and used only once.
func TestTwoInstancesEmailCode_R2_A5(t *testing.T) {
	a, b := twoInstances(t)
	a.Customer(auth.NewCustomer{Code: "70000002", Password: pw, Email: "70000002@example.jp", SecondFactor: "email"})
	br := newLBBrowser(a)
	wantStatus(t, br.to(b).PostJSON("/api/login/password", map[string]string{"customer_code": "70000002", "password": pw}), 200, "")
	code := a.MailCode("70000002@example.jp", 0)
	wantStatus(t, br.to(a).PostJSON("/api/login/second-factor", map[string]string{"code": code}), 200, "")
	if st, stage, _ := lbSession(t, br, b); st != 200 || stage != "full" {
		t.Fatalf("session on b: %d %s", st, stage)
	}
	// A second login cannot reuse the code on either instance.
	br2 := newLBBrowser(b)
	wantStatus(t, br2.to(a).PostJSON("/api/login/password", map[string]string{"customer_code": "70000002", "password": pw}), 200, "")
	for _, e := range []*testenv.Env{a, b} {
		if r := br2.to(e).PostJSON("/api/login/second-factor", map[string]string{"code": code}); r.StatusCode == 200 {
			t.Fatalf("a used e-mail code was accepted again on %s", e.Addr)
		}
	}
}

// R2, A4: failures spread over both instances add up to one lock, which holds
// on both; one lock mail is written.
func TestTwoInstancesLockout_R2_A4(t *testing.T) {
	a, b := twoInstances(t)
	cust, _ := a.Customer(auth.NewCustomer{Code: "70000003", Password: pw, Email: "70000003@example.jp", SecondFactor: "totp"})
	threshold := a.Config.LockThreshold
	for i := range threshold {
		e := a
		if i%2 == 1 {
			e = b
		}
		r := newLBBrowser(e).PostJSON("/api/login/password", map[string]string{"customer_code": "70000003", "password": "wrong password"})
		if r.StatusCode == 200 {
			t.Fatalf("wrong password %d accepted", i)
		}
	}
	for _, e := range []*testenv.Env{a, b} {
		wantStatus(t, newLBBrowser(e).PostJSON("/api/login/password", map[string]string{"customer_code": "70000003", "password": pw}),
			http.StatusLocked, "account_locked")
	}
	c, err := b.Store.CustomerByID(context.Background(), cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.FailedAttempts != threshold || c.LockedAt.IsZero() {
		t.Fatalf("failed attempts %d, locked at %v", c.FailedAttempts, c.LockedAt)
	}
	a.WaitMail("70000003@example.jp", 0)
	time.Sleep(200 * time.Millisecond) // both workers have polled since
	locks := 0
	for _, m := range a.Mails("70000003@example.jp") {
		if strings.Contains(m.Subject, "ロック") {
			locks++
		}
	}
	if locks != 1 {
		t.Errorf("%d lock mails, want 1", locks)
	}
}

// R2, K9: a passkey ceremony begun on one instance is finished on the other,
// for registration and for login, and each ceremony is used once.
func TestTwoInstancesPasskeys_R2_K9(t *testing.T) {
	a, b := twoInstances(t)
	_, secret := a.Customer(auth.NewCustomer{Code: "70000004", Password: pw, Email: "70000004@example.jp", SecondFactor: "totp"})
	br := newLBBrowser(a)
	// A fresh password + second-factor login is the re-verification (K2).
	wantStatus(t, br.to(b).PostJSON("/api/login/password", map[string]string{"customer_code": "70000004", "password": pw}), 200, "")
	a.Clock.Advance(30 * time.Second)
	wantStatus(t, br.to(a).PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, a.Clock.Now())}), 200, "")

	// Registration: options from a, the authenticator's answer to b.
	opts := br.to(a).PostJSON("/api/passkeys/options", map[string]any{})
	wantStatus(t, opts, 200, "")
	authr := a.Authenticator(testenv.AuthenticatorOptions{})
	resp, cred := authr.Register(opts.Body)
	r := br.to(b).Do("POST", "/api/passkeys", "application/json", resp)
	wantStatus(t, r, http.StatusCreated, "")
	var pk struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &pk); err != nil || pk.ID == 0 {
		t.Fatalf("registered: %s", r.Body)
	}
	// The same answer again, at either instance: the ceremony is gone.
	for _, e := range []*testenv.Env{a, b} {
		if r := br.to(e).Do("POST", "/api/passkeys", "application/json", resp); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("replayed registration on %s: %d %s", e.Addr, r.StatusCode, r.Body)
		}
	}

	// Login from another browser: options from b, the assertion to a.
	a.Clock.Advance(time.Minute)
	br2 := newLBBrowser(b)
	lo := br2.to(b).PostJSON("/api/login/passkey/options", map[string]any{})
	wantStatus(t, lo, 200, "")
	assertion := authr.Login(lo.Body, cred)
	r = br2.to(a).Do("POST", "/api/login/passkey", "application/json", assertion)
	wantStatus(t, r, 200, "")
	for _, e := range []*testenv.Env{a, b} {
		if st, stage, method := lbSession(t, br2, e); st != 200 || stage != "full" || method != "passkey" {
			t.Fatalf("passkey session on %s: %d %s %s", e.Addr, st, stage, method)
		}
	}
	// Replaying the assertion through the other instance fails.
	br3 := newLBBrowser(b)
	if r := br3.to(b).Do("POST", "/api/login/passkey", "application/json", assertion); r.StatusCode < 400 || r.StatusCode >= 500 {
		t.Fatalf("replayed assertion: %d %s", r.StatusCode, r.Body)
	}
	if st, _, _ := lbSession(t, br3, a); st == 200 {
		t.Fatal("the replay logged in")
	}
}
