package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

const pw = "correct horse battery"

func wantStatus(t *testing.T, r *testenv.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	if code != "" {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s: content type %q, want problem+json", r.Request.URL.Path, ct)
		}
		if got := r.Str("code"); got != code {
			t.Fatalf("%s: code %q, want %q; body %s", r.Request.URL.Path, got, code, r.Body)
		}
		if r.Str("detail") == "" {
			t.Fatalf("%s: problem without detail: %s", r.Request.URL.Path, r.Body)
		}
	}
}

func totpCustomer(e *testenv.Env, code string) (*store.Customer, string) {
	return e.Customer(auth.NewCustomer{Code: code, Password: pw, Email: code + "@example.jp", SecondFactor: "totp"})
}

// A2: customer code + password, then the authenticator app's code.
func TestPasswordTOTPLogin_A2(t *testing.T) {
	e := testenv.New(t)
	_, secret := totpCustomer(e, "10000001")
	c := e.Client()

	r := c.PostJSON("/api/login/password", map[string]string{"customer_code": "10000001", "password": pw})
	wantStatus(t, r, 200, "")
	if r.Str("next") != "second_factor" || r.Str("method") != "totp" {
		t.Fatalf("password step: %s", r.Body)
	}
	pending := c.Cookie("kagi_session")
	// A pending session is not a login.
	wantStatus(t, c.Get("/account"), http.StatusSeeOther, "")
	if s := c.Get("/api/session"); s.Str("stage") != "second_factor" || s.Str("method") != "" {
		t.Fatalf("pending session: %s", s.Body)
	}

	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": "000000"}), 401, "invalid_code")
	code := auth.TOTPCode(secret, e.Clock.Now())
	r = c.PostJSON("/api/login/second-factor", map[string]string{"code": code})
	wantStatus(t, r, 200, "")
	if r.Str("next") != "done" {
		t.Fatalf("second factor: %s", r.Body)
	}
	// A6: the session identifier changes at login.
	if full := c.Cookie("kagi_session"); full == "" || full == pending {
		t.Fatalf("session not rotated: %q -> %q", pending, full)
	}
	s := c.Get("/api/session")
	wantStatus(t, s, 200, "")
	if s.Str("customer_code") != "10000001" || s.Str("method") != "password_totp" || s.Str("authenticated_at") == "" {
		t.Fatalf("session: %s", s.Body)
	}

	// A5: the same TOTP code cannot log in a second time within its window.
	c2 := e.Client()
	wantStatus(t, c2.PostJSON("/api/login/password", map[string]string{"customer_code": "10000001", "password": pw}), 200, "")
	wantStatus(t, c2.PostJSON("/api/login/second-factor", map[string]string{"code": code}), 401, "invalid_code")
	// The next step's code works.
	e.Clock.Advance(30 * time.Second)
	wantStatus(t, c2.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")

	// P4 / issue 2 item 8: attempts, failures and successes are audited; a login notice was mailed.
	events := e.Audit(1)
	for _, want := range []string{"login.password.ok", "login.second_factor.fail", "login.success"} {
		if !slices.Contains(events, want) {
			t.Errorf("audit lacks %s: %v", want, events)
		}
	}
	if m := e.WaitMail("10000001@example.jp", 0); !strings.Contains(m.Subject+m.Body, "ログイン") {
		t.Errorf("login notice: %+v", m)
	}
}

// A2, A5: e-mail one-time codes are single-use, expire after 10 minutes and
// allow a bounded number of attempts.
func TestPasswordEmailLogin_A2_A5(t *testing.T) {
	e := testenv.New(t)
	e.Customer(auth.NewCustomer{Code: "10000002", Password: pw, Email: "hanako@example.jp"})
	addr := "hanako@example.jp"

	login := func(c *testenv.Client) {
		t.Helper()
		r := c.PostJSON("/api/login/password", map[string]string{"customer_code": "10000002", "password": pw})
		wantStatus(t, r, 200, "")
		if r.Str("method") != "email" {
			t.Fatalf("method: %s", r.Body)
		}
	}
	c := e.Client()
	login(c)
	code := e.MailCode(addr, 0)
	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": code}), 200, "")
	if s := c.Get("/api/session"); s.Str("method") != "password_email" {
		t.Fatalf("session: %s", s.Body)
	}

	t.Run("reused code", func(t *testing.T) {
		c := e.Client()
		n := e.Settled(addr)
		e.Clock.Advance(time.Minute) // past the resend gap
		login(c)
		e.WaitMail(addr, n)
		wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": code}), 401, "invalid_code")
	})
	t.Run("expired code", func(t *testing.T) {
		c := e.Client()
		n := e.Settled(addr)
		e.Clock.Advance(time.Minute)
		login(c)
		fresh := e.MailCode(addr, n)
		e.Clock.Advance(9*time.Minute + 59*time.Second) // the pending session itself lasts 10 minutes
		wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": "999999"}), 401, "invalid_code")
		e.Clock.Advance(2 * time.Second)
		r := c.PostJSON("/api/login/second-factor", map[string]string{"code": fresh})
		if r.StatusCode != 401 || (r.Str("code") != "code_expired" && r.Str("code") != "session_expired") {
			t.Fatalf("expired code accepted: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("bounded attempts", func(t *testing.T) {
		unlock(t, e, "10000002")
		c := e.Client()
		n := e.Settled(addr)
		e.Clock.Advance(time.Minute)
		login(c)
		fresh := e.MailCode(addr, n)
		wrong := "000000"
		if fresh == wrong {
			wrong = "111111"
		}
		for i := 0; i < 4; i++ {
			wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": wrong}), 401, "invalid_code")
		}
		// The fifth wrong code uses up the code and, being the fifth failure, locks the account.
		r := c.PostJSON("/api/login/second-factor", map[string]string{"code": wrong})
		wantStatus(t, r, http.StatusLocked, "account_locked")
		unlock(t, e, "10000002")
		wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": fresh}), 401, "not_authenticated")
	})
	t.Run("resend", func(t *testing.T) {
		c := e.Client()
		n := e.Settled(addr)
		e.Clock.Advance(time.Minute)
		login(c)
		e.WaitMail(addr, n)
		wantStatus(t, c.PostJSON("/api/login/second-factor/resend", nil), 429, "code_resend_wait")
		e.Clock.Advance(31 * time.Second)
		wantStatus(t, c.PostJSON("/api/login/second-factor/resend", nil), 202, "")
		newest := e.MailCode(addr, n+1)
		wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": newest}), 200, "")
	})
}

func unlock(t *testing.T, e *testenv.Env, code string) {
	t.Helper()
	if err := e.Auth.Unlock(context.Background(), code, "test"); err != nil {
		t.Fatal(err)
	}
}

// A4: five consecutive failures (password or code) lock the account; the
// locked customer is told to call the call center; the lock mail goes out;
// an unlock lets them in again.
func TestLockout_A4(t *testing.T) {
	e := testenv.New(t)
	cust, secret := totpCustomer(e, "20000001")
	c := e.Client()
	bad := map[string]string{"customer_code": "20000001", "password": "wrong password"}
	for i := 0; i < 3; i++ {
		wantStatus(t, c.PostJSON("/api/login/password", bad), 401, "invalid_credentials")
	}
	// Failures of either factor count together.
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "20000001", "password": pw}), 200, "")
	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": "000000"}), 401, "invalid_code")
	r := c.PostJSON("/api/login/password", bad)
	wantStatus(t, r, http.StatusLocked, "account_locked")
	if !strings.Contains(r.Str("detail"), e.Config.CallCenterPhone) {
		t.Errorf("lock message lacks the call-center number: %s", r.Body)
	}
	// The right password does not get past the lock.
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "20000001", "password": pw}), http.StatusLocked, "account_locked")
	// The page version shows the locked page with the number.
	p := c.PostForm("/login", "customer_code", "20000001", "password", pw)
	if p.StatusCode != http.StatusLocked || !p.Contains(e.Config.CallCenterPhone) {
		t.Fatalf("locked page: %d", p.StatusCode)
	}
	m := e.WaitMail(cust.Email, 0)
	if !strings.Contains(m.Body, e.Config.CallCenterPhone) {
		t.Errorf("lock mail: %+v", m)
	}
	if ev := e.Audit(cust.ID); !slices.Contains(ev, "account.locked") {
		t.Errorf("audit: %v", ev)
	}

	unlock(t, e, "20000001")
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "20000001", "password": pw}), 200, "")
	wantStatus(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
	got, _ := e.Store.CustomerByID(context.Background(), cust.ID)
	if got.FailedAttempts != 0 {
		t.Errorf("failures not reset by a login: %d", got.FailedAttempts)
	}
}

// A4: with a configured lock duration the lock lifts by itself.
func TestLockTimeout_A4(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.LockDuration = 30 * time.Minute; c.LockThreshold = 3 })
	totpCustomer(e, "20000002")
	c := e.Client()
	bad := map[string]string{"customer_code": "20000002", "password": "nope nope"}
	wantStatus(t, c.PostJSON("/api/login/password", bad), 401, "invalid_credentials")
	wantStatus(t, c.PostJSON("/api/login/password", bad), 401, "invalid_credentials")
	wantStatus(t, c.PostJSON("/api/login/password", bad), http.StatusLocked, "account_locked")
	e.Clock.Advance(29 * time.Minute)
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "20000002", "password": pw}), http.StatusLocked, "account_locked")
	e.Clock.Advance(time.Minute)
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "20000002", "password": pw}), 200, "")
}

// A5: a wrong customer code and a wrong password get the same answer, and
// each costs exactly one argon2id hash, so neither answers faster. Unknown
// codes "lock" after the same number of failures as real ones.
func TestNoEnumeration_A5(t *testing.T) {
	e := testenv.New(t)
	totpCustomer(e, "30000001")
	c := e.Client()
	before := e.Hasher.Count()
	known := c.PostJSON("/api/login/password", map[string]string{"customer_code": "30000001", "password": "wrong password"})
	mid := e.Hasher.Count()
	unknown := c.PostJSON("/api/login/password", map[string]string{"customer_code": "39999999", "password": "wrong password"})
	malformed := c.PostJSON("/api/login/password", map[string]string{"customer_code": "abc", "password": "wrong password"})
	after := e.Hasher.Count()
	if mid-before != 1 || after-mid != 2 {
		t.Fatalf("hash counts: known %d, unknown+malformed %d; want 1 and 2", mid-before, after-mid)
	}
	for _, r := range []*testenv.Response{unknown, malformed} {
		if r.StatusCode != known.StatusCode || string(r.Body) != string(known.Body) {
			t.Fatalf("answers differ:\n known   %d %s\n other   %d %s", known.StatusCode, known.Body, r.StatusCode, r.Body)
		}
	}
	// Locked accounts hash too.
	for i := 0; i < 4; i++ {
		c.PostJSON("/api/login/password", map[string]string{"customer_code": "30000001", "password": "wrong password"})
		c.PostJSON("/api/login/password", map[string]string{"customer_code": "39999999", "password": "wrong password"})
	}
	b := e.Hasher.Count()
	lk := c.PostJSON("/api/login/password", map[string]string{"customer_code": "30000001", "password": pw})
	un := c.PostJSON("/api/login/password", map[string]string{"customer_code": "39999999", "password": pw})
	if e.Hasher.Count()-b != 2 {
		t.Fatalf("locked/unknown paths skipped hashing")
	}
	if lk.StatusCode != http.StatusLocked || un.StatusCode != lk.StatusCode || string(un.Body) != string(lk.Body) {
		t.Fatalf("locked answers differ: %d %s / %d %s", lk.StatusCode, lk.Body, un.StatusCode, un.Body)
	}
}

// A5, R3: passwords are stored as argon2id hashes, TOTP secrets sealed.
func TestPasswordStoredArgon2id_A5(t *testing.T) {
	e := testenv.New(t)
	c, secret := totpCustomer(e, "30000002")
	if !strings.HasPrefix(c.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(c.PasswordHash, pw) {
		t.Fatalf("hash: %s", c.PasswordHash)
	}
	if len(secret) < 32 || strings.Contains(string(c.TOTPSecret), secret) || len(c.TOTPSecret) < len(secret)+28 {
		t.Fatalf("TOTP secret not sealed: %q", c.TOTPSecret)
	}
}
