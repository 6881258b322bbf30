package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// Journeys of the passkey-mandatory phase (issue 6, SPEC P1–P3, P6, P7): what
// a customer sees when passkeys become mandatory, in the browser.

// newSiteWith is newSite with a configured server (the schedule, cooling-off).
func newSiteWith(t *testing.T, opts ...testenv.Option) *site {
	t.Helper()
	e := testenv.New(t, opts...)
	return &site{t: t, e: e, b: newBrowser(t, e)}
}

// mandatoryFrom schedules the mandatory date (ISO 8601, Tokyo time) and the
// cooling-off. The test clock starts at 2026-11-25 09:30 in Tokyo.
func mandatoryFrom(date string, coolingOff time.Duration) testenv.Option {
	return func(c *config.Config) {
		c.PasskeyMandatoryFrom = date
		c.CoolingOff = coolingOff
	}
}

// withdraw enters amount on 出金, goes to the confirmation and checks that
// the page shows the amount and the destination before anything is asked
// (P7); it returns on the confirmation page.
func (s *site) withdraw(amount, shown string) {
	s.t.Helper()
	b := s.b
	b.Go("/trade/withdraw")
	if !b.Enabled(`form[action="/trade/withdraw/confirm"] button[type="submit"]`) {
		b.fatalf("the withdrawal form is disabled")
	}
	b.Type("#amount", amount)
	b.ClickNav(`form[action="/trade/withdraw/confirm"] button[type="submit"]`)
	if p := b.Path(); p != "/trade/withdraw/confirm" {
		b.fatalf("after the amount the site should show the confirmation, not %s", p)
	}
	if got := strings.TrimSpace(b.Text("#confirm-amount")); got != shown {
		b.fatalf("the confirmation shows the amount %q, want %q", got, shown)
	}
	if dest := b.Text("#confirm-destination"); !strings.Contains(dest, "****567") || !strings.Contains(dest, "ホームトレード銀行") {
		b.fatalf("the confirmation does not show the destination: %q", dest)
	}
}

// confirmWithPasskey presses the confirmation page's passkey button and waits
// for the site to accept the operation (the notice on the portfolio).
func (s *site) confirmWithPasskey(notice string) {
	s.t.Helper()
	s.b.Click("#stepup-button")
	s.waitURL("m="+notice, "#stepup-status")
	if p := s.b.Path(); p != "/trade" {
		s.b.fatalf("after the confirmation the site should show the portfolio, not %s", p)
	}
	s.expectBanner(msg(s.t, "notice."+notice))
}

// operations lists the kinds and methods of the customer's recorded operations.
func (s *site) operations(customerID int64) []string {
	s.t.Helper()
	ops, err := s.e.Store.OperationsByCustomer(context.Background(), customerID, "", 20)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, o := range ops {
		out = append(out, o.Kind+" "+o.Method)
	}
	return out
}

// Journey (P1, P3, P6, P7): after the mandatory date a customer without a
// passkey logs in the legacy way and gets a restricted session: it cannot
// withdraw, the page says why and leads to the registration. With the new
// passkey, after the cooling-off the page shows, the customer withdraws after a
// passkey step-up whose page shows the amount.
func TestJourneyMandatoryRestrictedToWithdrawal(t *testing.T) {
	s := newSiteWith(t, mandatoryFrom("2026-11-25", 24*time.Hour))
	b := s.b
	defer b.LogShots()
	c := s.customer("40000001", "ichiro.suzuki@example.jp")

	// The login page says passkeys are mandatory now (P1).
	b.Go("/login")
	if n := b.Text("#phase-notice"); !strings.Contains(n, "2026年11月25日（水）から") || !strings.Contains(n, "必須になりました") {
		b.fatalf("the login page does not announce the mandatory phase: %q", n)
	}
	b.Shot("login-mandatory")

	// The legacy login: password and e-mailed code, then the restricted session (P3).
	before := len(s.e.Mails(c.Email))
	s.passwordLogin(c.Code, c.Password)
	if p := b.Path(); p != "/login/second-factor" {
		b.fatalf("after the password the site should ask for the e-mailed code, not show %s", p)
	}
	b.Type(`input[name="code"]`, s.mailCode(c.Email, before))
	b.ClickNav(`form[action="/login/second-factor"] button[type="submit"]`)
	if p := b.Path(); p != "/account/restricted" {
		b.fatalf("a legacy login without a passkey should land on the restricted page, not %s", p)
	}
	why := b.Text("#restricted-reason")
	for _, want := range []string{"2026年11月25日（水）から", msg(t, "account.restricted.only")} {
		if !strings.Contains(why, want) {
			b.fatalf("the restricted page does not say %q", want)
		}
	}
	s.expectLoggedInAs(c.Code)
	b.Shot("restricted")
	b.MobileShot("restricted")

	// It cannot withdraw (nor see the portfolio): it is led back to register.
	for _, path := range []string{"/trade/withdraw", "/trade", "/account"} {
		b.Go(path)
		if p := b.Path(); p != "/account/restricted" {
			b.fatalf("a restricted session opened %s and got %s, want the restricted page", path, p)
		}
	}

	// 「パスキーを登録する」 → the passkeys page works for the restricted session.
	b.ClickNav("#register-passkey")
	if p := b.Path(); p != "/account/passkeys" {
		b.fatalf("the register button leads to %s", p)
	}
	s.stepUp(c, false)
	b.WaitVisible("#passkey-register")
	a := b.AddAuthenticator(AuthenticatorConfig{})
	s.registerPasskey(a, registration{Name: "自宅のパソコン", Shot: "restricted-register"})
	s.logout()

	// With the passkey: a full session, but the cooling-off holds money back (P6).
	s.passkeyLogin(c, "")
	b.Go("/trade/withdraw")
	refusal := b.Text("#operation-status-withdraw")
	if !strings.Contains(refusal, "2026年11月26日 09:3") || !strings.Contains(refusal, "までお受けできません") {
		b.fatalf("the withdrawal page does not say until when the cooling-off lasts: %q", refusal)
	}
	if b.Enabled(`form[action="/trade/withdraw/confirm"] button[type="submit"]`) {
		b.fatalf("the withdrawal form is enabled during the cooling-off")
	}
	b.Shot("cooling-off")

	// A day later: log in with the passkey and withdraw after the step-up (P7).
	s.logout()
	s.e.Clock.Advance(24*time.Hour + time.Minute)
	s.passkeyLogin(c, "")
	s.withdraw("120000", "120,000円")
	if !b.Has("#stepup-button") || b.Has("#operation-submit") {
		b.fatalf("the confirmation should ask for the passkey and offer no plain submit")
	}
	if label := b.Text("#stepup-button"); !strings.Contains(label, "パスキーで確認して出金する") {
		b.fatalf("the button says %q", label)
	}
	b.Shot("withdraw-confirm")
	b.MobileShot("withdraw-confirm")
	s.confirmWithPasskey("withdrawal_requested")
	b.Shot("withdrawn")
	if ops := s.operations(c.ID); len(ops) != 1 || ops[0] != "withdraw passkey+passkey_step_up" {
		b.fatalf("recorded operations %q, want one withdrawal confirmed by passkey", ops)
	}
}

// Journey (P1, P2, P7): a legacy session that began before the mandatory date
// goes on after it. The portfolio then says withdrawals need a passkey and
// leads to registering one; with it, the same session withdraws after a
// passkey step-up that shows the amount (a cancelled prompt says so and
// withdraws nothing), and orders after 「パスキーで本人確認」.
func TestJourneyLegacySessionAcrossTheMandatoryDate(t *testing.T) {
	s := newSiteWith(t, mandatoryFrom("2026-11-25T10:00", 0))
	b := s.b
	defer b.LogShots()
	c := s.customer("40000002", "jiro.tanaka@example.jp")

	// Announced in advance on the login and account pages (P1).
	b.Go("/login")
	if n := b.Text("#phase-notice"); !strings.Contains(n, "2026年11月25日（水）から") {
		b.fatalf("the login page does not announce the date: %q", n)
	}
	s.loginWithEmailCode(c)
	if !b.Has("#phase-notice #phase-register") {
		b.fatalf("the account page does not offer to register a passkey before the date")
	}
	b.Shot("account-scheduled")
	b.Go("/trade")
	if b.Has("#blocked") {
		b.fatalf("operations are blocked before the mandatory date: %q", b.Text("#blocked"))
	}

	// 10:01: mandatory. The session goes on (visited meanwhile: idle timeout).
	s.e.Clock.Advance(20 * time.Minute)
	b.Go("/trade")
	s.e.Clock.Advance(11 * time.Minute)
	b.Go("/trade")
	refusal := b.Text("#operation-status-withdraw")
	if !strings.Contains(refusal, "出金") || !strings.Contains(refusal, msg(t, "operation.short.passkey_required")) {
		b.fatalf("the portfolio does not say withdrawals need a passkey: %q", refusal)
	}
	if !b.Has(`#blocked a[href="/account/passkeys"]`) {
		b.fatalf("the portfolio does not lead to registering a passkey")
	}
	b.Shot("portfolio-mandatory")
	b.Go("/trade/withdraw")
	if !strings.Contains(b.Text("#operation-status-withdraw"), msg(t, "operation.reason.passkey_required")) {
		b.fatalf("the withdrawal page does not say a passkey is needed")
	}
	if b.Enabled(`form[action="/trade/withdraw/confirm"] button[type="submit"]`) {
		b.fatalf("the withdrawal form is enabled without a passkey")
	}
	b.Shot("withdraw-refused")

	// Led to register: the refusal's button, re-verification, registration.
	b.ClickNav(`#operation-status-withdraw a[href="/account/passkeys"]`)
	if !s.stepUp(c, false) {
		b.fatalf("31 minutes after the login the passkeys page should ask for re-verification")
	}
	b.WaitVisible("#passkey-register")
	a := b.AddAuthenticator(AuthenticatorConfig{Synced: true})
	s.registerPasskey(a, registration{})

	// The same legacy session withdraws after a transaction-bound step-up.
	s.withdraw("30000", "30,000円")
	restore := b.HideCredentials() // the authenticator has no passkey to offer: NotAllowedError
	b.Click("#stepup-button")
	b.WaitText("#stepup-status", passkeyWait, msg(t, "error.passkey_cancelled"))
	restore()
	if p := b.Path(); p != "/trade/withdraw/confirm" {
		b.fatalf("a cancelled confirmation left the page for %s", p)
	}
	b.Shot("withdraw-cancelled")
	s.confirmWithPasskey("withdrawal_requested")

	// An order needs 「パスキーで本人確認」 first; the page reloads without it after.
	b.Go("/trade/order")
	if !b.Has("#stepup-button") || b.Enabled("#operation-submit") {
		b.fatalf("the order page should ask for a passkey step-up first")
	}
	b.Shot("order-step-up")
	b.markDocument()
	b.Click("#stepup-button")
	b.waitNewDocument("after the passkey step-up on the order page")
	if b.Has("#stepup-button") || !b.Enabled("#operation-submit") {
		b.fatalf("after the step-up the order form is still locked")
	}
	b.Type("#quantity", "100")
	b.ClickNav("#operation-submit")
	if u := b.URL(); u != "/trade?m=order_placed" {
		b.fatalf("after the order the site shows %s", u)
	}
	s.expectBanner(msg(t, "notice.order_placed"))
	ops := s.operations(c.ID)
	if len(ops) != 2 || !strings.HasPrefix(ops[0], "trade password_email+passkey_step_up") || ops[1] != "withdraw password_email+passkey_step_up" {
		b.fatalf("recorded operations %q", ops)
	}
}
