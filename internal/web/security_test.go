package web_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// A4, A5: a burst of parallel one-time-code guesses gets no more tries than
// the lock allows, and a right code in the burst never yields a session on an
// account the burst locked.
func TestParallelGuessesStopAtTheLock_A4(t *testing.T) {
	e := testenv.New(t)
	cust, secret := totpCustomer(e, "95000001")
	c := e.Client()
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "95000001", "password": pw}), 200, "")
	right := auth.TOTPCode(secret, e.Clock.Now())
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	const n = 40
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := wrong
			if i == n-1 {
				code = right
			}
			codes[i] = c.PostJSON("/api/login/second-factor", map[string]string{"code": code}).Str("code")
		}()
	}
	wg.Wait()
	evaluated := 0
	for _, code := range codes {
		if code == "invalid_code" {
			evaluated++
		}
	}
	if evaluated > 4 {
		t.Fatalf("%d wrong codes were checked; the lock allows 4 before the fifth locks: %v", evaluated, codes)
	}
	got, _ := e.Store.CustomerByID(context.Background(), cust.ID)
	if got.FailedAttempts > 5 {
		t.Fatalf("failed attempts %d", got.FailedAttempts)
	}
	if !got.LockedAt.IsZero() {
		// Whatever the order, a locked account has no working session.
		if s := c.Get("/api/session"); s.StatusCode == 200 {
			t.Fatalf("locked account kept a session: %s", s.Body)
		}
	}
}

// K13, K10: deleting a passkey ends the sessions it opened.
func TestDeletedPasskeyEndsItsSessions_K13(t *testing.T) {
	e := testenv.New(t)
	_, _, c := loggedInTOTP(t, e, "95000002")
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	p, cred := registerPasskey(t, c, a)
	thief, r := passkeyLogin(t, e, a, cred)
	wantStatus(t, r, 200, "")
	wantStatus(t, thief.PostJSON("/api/orders", order), 201, "")
	wantStatus(t, c.Do("DELETE", "/api/passkeys/"+itoa(p.ID), "", nil), 204, "")
	wantStatus(t, thief.Get("/api/session"), 401, "not_authenticated")
	wantStatus(t, c.Get("/api/session"), 200, "") // the customer's own session stays
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// A5: frozen and locked accounts, and over-long passwords, answer a wrong
// password exactly like an unknown customer code.
func TestNoEnumerationThroughStates_A5(t *testing.T) {
	e := testenv.New(t)
	frozen, _ := totpCustomer(e, "95000003")
	if err := e.Store.SetFrozen(context.Background(), frozen.ID, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	totpCustomer(e, "95000004")
	c := e.Client()
	unknown := c.PostJSON("/api/login/password", map[string]string{"customer_code": "95999999", "password": "wrong password"})
	for _, r := range []*testenv.Response{
		c.PostJSON("/api/login/password", map[string]string{"customer_code": "95000003", "password": "wrong password"}),
		c.PostJSON("/api/login/password", map[string]string{"customer_code": "95000004", "password": strings.Repeat("x", 2000)}),
		c.PostJSON("/api/login/password", map[string]string{"customer_code": "95999998", "password": strings.Repeat("x", 2000)}),
	} {
		if r.StatusCode != unknown.StatusCode || string(r.Body) != string(unknown.Body) {
			t.Fatalf("answers differ: %d %s vs unknown %d %s", r.StatusCode, r.Body, unknown.StatusCode, unknown.Body)
		}
	}
	// The right password of a frozen account learns it is frozen.
	wantStatus(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "95000003", "password": pw}), 423, "account_frozen")
}

// A5: a code mailed to one address cannot verify another, and an older code
// never comes back once a newer one is issued.
func TestCodesBoundToAddressAndSuperseded_A5(t *testing.T) {
	e := testenv.New(t)
	_, _, s1 := loggedInTOTP(t, e, "95000005")
	wantStatus(t, s1.PostJSON("/api/email-change", map[string]string{"email": "not-mine@example.jp"}), 202, "")
	e.Clock.Advance(31 * time.Second)
	s2 := e.Client()
	cust, _ := e.Store.CustomerByCode(context.Background(), "95000005")
	secret, _ := e.Auth.TOTPSecret(cust)
	loginTOTP(t, e, s2, "95000005", secret)
	wantStatus(t, s2.PostJSON("/api/email-change", map[string]string{"email": "mine@attacker.example"}), 202, "")
	code := e.MailCode("mine@attacker.example", 0)
	wantStatus(t, s1.PostJSON("/api/email-change/verify", map[string]string{"code": code}), 401, "invalid_code")
	if got, _ := e.Store.CustomerByID(context.Background(), cust.ID); got.Email != "95000005@example.jp" {
		t.Fatalf("address changed to %q", got.Email)
	}

	// Superseded codes: C1, then C2; using C2 does not revive C1.
	h := e.Client()
	e.Customer(auth.NewCustomer{Code: "95000006", Password: pw, Email: "h6@example.jp"})
	wantStatus(t, h.PostJSON("/api/login/password", map[string]string{"customer_code": "95000006", "password": pw}), 200, "")
	c1 := e.MailCode("h6@example.jp", 0)
	e.Clock.Advance(31 * time.Second)
	wantStatus(t, h.PostJSON("/api/login/second-factor/resend", nil), 202, "")
	c2 := e.MailCode("h6@example.jp", 1)
	if c1 == c2 {
		t.Skip("two equal random codes")
	}
	wantStatus(t, h.PostJSON("/api/login/second-factor", map[string]string{"code": c1}), 401, "invalid_code")
	wantStatus(t, h.PostJSON("/api/login/second-factor", map[string]string{"code": c2}), 200, "")
}

// A6: a password alone (a pending session) cannot log the customer out everywhere.
func TestPendingSessionCannotLogOutEverywhere_A6(t *testing.T) {
	e := testenv.New(t)
	_, secret, victim := loggedInTOTP(t, e, "95000007")
	attacker := e.Client()
	wantStatus(t, attacker.PostJSON("/api/login/password", map[string]string{"customer_code": "95000007", "password": pw}), 200, "")
	wantStatus(t, attacker.PostJSON("/api/logout/all", nil), 204, "")
	wantStatus(t, victim.Get("/api/session"), 200, "")
	_ = secret
}

// B3: code checks of a session share the per-account budget.
func TestCodeChecksRateLimitedPerAccount_B3(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.RateLimitAccount = 3; c.LockThreshold = 100 })
	_, _, c := loggedInTOTP(t, e, "95000008") // its second factor used one of the minute's checks
	e.Clock.Advance(time.Minute)
	for range 3 {
		wantStatus(t, c.PostJSON("/api/step-up", map[string]string{"code": "000001"}), 401, "invalid_code")
	}
	wantStatus(t, c.PostJSON("/api/step-up", map[string]string{"code": "000001"}), 429, "rate_limited")
}
