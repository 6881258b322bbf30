package web_test

import (
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// BenchmarkPasswordLogin measures a full password + TOTP login through the
// HTTP server from a fresh browser: POST /api/login/password (one argon2id
// verification, about 15 ms of CPU and 19 MiB), POST /api/login/second-factor
// with the current code (the clock moves one TOTP step every iteration: a code
// is accepted once) and GET /api/session.
//
//	go test -run '^$' -bench PasswordLogin -benchmem ./internal/web/
func BenchmarkPasswordLogin(b *testing.B) {
	e := testenv.New(b)
	const code = "70000002"
	_, secret := e.Customer(auth.NewCustomer{Code: code, Password: pw, Email: code + "@example.jp", SecondFactor: "totp"})

	b.ReportAllocs()
	for b.Loop() {
		c := e.Client()
		r := c.PostJSON("/api/login/password", map[string]string{"customer_code": code, "password": pw})
		if r.StatusCode != 200 || r.Str("next") != "second_factor" {
			b.Fatalf("password: %d %s", r.StatusCode, r.Body)
		}
		e.Clock.Advance(30 * time.Second)
		r = c.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())})
		if r.StatusCode != 200 || r.Str("next") != "done" {
			b.Fatalf("second factor: %d %s", r.StatusCode, r.Body)
		}
		if s := c.Get("/api/session"); s.StatusCode != 200 || s.Str("method") != "password_totp" {
			b.Fatalf("session: %d %s", s.StatusCode, s.Body)
		}
	}
}
