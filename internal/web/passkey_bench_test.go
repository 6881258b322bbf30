package web_test

import (
	"testing"

	"github.com/kagi-auth/kagi/internal/testenv"
)

// BenchmarkPasskeyLogin measures a full discoverable passkey login (K5)
// through the HTTP server: POST /api/login/passkey/options, the
// authenticator's assertion (its counter increases every iteration),
// POST /api/login/passkey and GET /api/session.
//
//	go test -run '^$' -bench PasskeyLogin -benchmem ./internal/web/
func BenchmarkPasskeyLogin(b *testing.B) {
	e := testenv.New(b)
	_, _, c := loggedInTOTP(b, e, "70000001")
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	p, cred := registerPasskey(b, c, a)
	browser := e.Client() // one browser logging in again and again

	b.ReportAllocs()
	for b.Loop() {
		opts := browser.PostJSON("/api/login/passkey/options", map[string]any{})
		if opts.StatusCode != 200 {
			b.Fatalf("options: %d %s", opts.StatusCode, opts.Body)
		}
		r := postAssertion(browser, a.Login(opts.Body, cred))
		if r.StatusCode != 200 || r.Str("next") != "done" {
			b.Fatalf("login: %d %s", r.StatusCode, r.Body)
		}
		s := browser.Get("/api/session")
		if s.StatusCode != 200 || s.Str("method") != "passkey" {
			b.Fatalf("session: %d %s", s.StatusCode, s.Body)
		}
	}
	if sp := storedPasskey(b, e, p.ID); sp.SignCount != cred.Counter || !sp.SuspendedAt.IsZero() {
		b.Fatalf("stored counter %d, authenticator %d, suspended %v", sp.SignCount, cred.Counter, sp.SuspendedAt)
	}
}
