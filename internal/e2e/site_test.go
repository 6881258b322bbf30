package e2e

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// What a customer does on kagi's pages, step by step, in the browser. These
// helpers click, type and read; they never call the JSON API or touch cookies.

// passkeyWait bounds a whole passkey ceremony as the page runs it (options,
// the virtual authenticator, finish, navigation).
const passkeyWait = 10 * time.Second

// ja is the Japanese catalog, for the sentences the pages must show.
var ja = locale.Printer("ja")

// msg is the catalog's Japanese sentence for key (the test fails if the key
// is missing: then the page cannot show it either).
func msg(t *testing.T, key string, args ...any) string {
	t.Helper()
	if !ja.Has(key) {
		t.Fatalf("the ja catalog has no %q", key)
	}
	return ja.T(key, args...)
}

// site is one test's server, browser and customers.
type site struct {
	t *testing.T
	e *testenv.Env
	b *Browser
}

func newSite(t *testing.T) *site {
	t.Helper()
	e := testenv.New(t)
	return &site{t: t, e: e, b: newBrowser(t, e)}
}

// customer is a customer the brokerage created (testenv.Customer); with an
// e-mail address it has finished initial setup with the e-mail second factor.
type customer struct {
	*store.Customer
	Password string
}

const testPassword = "Sakura-2026-kagi"

func (s *site) customer(code, email string) customer {
	s.t.Helper()
	c, _ := s.e.Customer(auth.NewCustomer{Code: code, Password: testPassword, Email: email, Lang: "ja"})
	return customer{Customer: c, Password: testPassword}
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// mailCode reads the development mailbox as a person at /dev/mail does: it
// waits for a new mail to addr (beyond the before mails already there) whose
// subject mentions a code (コード), ignoring the notices (ログインのお知らせ …)
// that arrive at about the same time, and returns the six-digit code.
func (s *site) mailCode(addr string, before int) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ms := s.e.Mails(addr) // newest first
		if n := len(ms) - before; n > 0 {
			for _, m := range ms[:n] {
				if strings.Contains(m.Subject, "コード") {
					if c := sixDigits.FindStringSubmatch(m.Body); c != nil {
						return c[1]
					}
				}
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	s.t.Fatalf("no mail with a code reached %s within 10s", addr)
	return ""
}

// passwordLogin opens the login page, fills in the form and submits it.
// The authenticators hold nothing meanwhile: the page's autofill request
// would otherwise log in with a passkey they hold (see passkeyButton).
func (s *site) passwordLogin(code, password string) {
	s.t.Helper()
	b := s.b
	restore := b.HideCredentials()
	defer restore()
	b.Go("/login")
	b.Type("#customer_code", code)
	b.Type("#password", password)
	b.ClickNav(`form[action="/login"] button[type="submit"]`)
}

// loginWithEmailCode logs c in with password and the e-mailed code and
// returns on the page the site shows next (the account page).
func (s *site) loginWithEmailCode(c customer) {
	s.t.Helper()
	b := s.b
	before := len(s.e.Mails(c.Email))
	s.passwordLogin(c.Code, c.Password)
	if p := b.Path(); p != "/login/second-factor" {
		b.fatalf("after the password the site should ask for the e-mailed code, not show %s", p)
	}
	b.Type(`input[name="code"]`, s.mailCode(c.Email, before))
	b.ClickNav(`form[action="/login/second-factor"] button[type="submit"]`)
	if p := b.Path(); p != "/account" {
		b.fatalf("after the second factor the site should show the account page, not %s", p)
	}
	s.expectLoggedInAs(c.Code)
}

// expectLoggedInAs checks the header's お客様コード.
func (s *site) expectLoggedInAs(code string) {
	s.t.Helper()
	if got := strings.TrimSpace(s.b.Text(".user-code__value")); got != code {
		s.b.fatalf("logged in as %q, want %q", got, code)
	}
}

// logout presses ログアウト in the header. The site then shows the login
// page, whose autofill request a virtual authenticator holding a passkey
// would answer at once, logging the customer straight back in. So the
// authenticators hold nothing while the login page is open, and the tab
// leaves it (about:blank, as closing the tab) before they get their
// passkeys back; the next step opens the page it needs.
func (s *site) logout() {
	s.t.Helper()
	restore := s.b.HideCredentials()
	defer restore()
	s.b.ClickNav(`.site-header form[action="/logout"] button[type="submit"]`)
	if s.b.Has(".user-code__value") {
		s.b.fatalf("still logged in after ログアウト")
	}
	s.b.step("leave the page", chromedp.Navigate("about:blank"))
}

// infoValue reads a row of a definition list (<dt>label</dt><dd>value</dd>).
func (s *site) infoValue(label string) string {
	s.t.Helper()
	return s.b.evalString(fmt.Sprintf(`(() => {
		for (const dt of document.querySelectorAll("dt")) {
			if (dt.innerText.trim() === %q) {
				const dd = dt.nextElementSibling;
				return dd ? dd.innerText.trim() : "";
			}
		}
		return "";
	})()`, label))
}

// requirePasskeyUI skips the rest of a journey while the passkey pages are
// not built (the lead removes this when wiring the passkey UI). It opens
// /account/passkeys, so call it logged in.
func (s *site) requirePasskeyUI() {
	s.t.Helper()
	status := s.b.Go("/account/passkeys")
	if status == 404 || !(s.b.Has("#passkey-register") || s.b.Has(`form[action="/account/passkeys/verify"]`) ||
		s.b.Has("#passkey-limit") || s.b.Has("#passkey-refused")) {
		s.b.Shot("passkey-ui-missing")
		s.t.Skipf("passkey UI not built yet (/account/passkeys: HTTP %d, no #passkey-register)", status)
	}
}

// requirePasskeyLogin skips while the login page's passkey button is off
// ("coming soon"); on any other state of the page the journey goes on.
func (s *site) requirePasskeyLogin() {
	s.t.Helper()
	if s.b.Path() == "/login" && s.b.Has("#passkey-soon") && !s.b.Enabled("#passkey-login") {
		s.t.Skip("passkey UI not built yet (#passkey-login disabled on /login)")
	}
}

// stepUp re-verifies on /account/passkeys with the e-mailed code when the
// page asks for it (SPEC K2, Check2), and reports whether it had to.
func (s *site) stepUp(c customer, shot bool) bool {
	s.t.Helper()
	b := s.b
	if !b.Has(`form[action="/account/passkeys/verify"]`) {
		return false
	}
	if !b.Has(`form[action="/account/passkeys/verify/send"]`) {
		b.fatalf("the journeys use e-mail customers; the page asks for an app code")
	}
	if shot {
		b.Shot("step-up")
	}
	before := len(s.e.Mails(c.Email))
	b.ClickNav(`form[action="/account/passkeys/verify/send"] button[type="submit"]`)
	b.Type(`form[action="/account/passkeys/verify"] input[name="code"]`, s.mailCode(c.Email, before))
	if shot {
		b.Shot("step-up-code")
	}
	b.ClickNav(`form[action="/account/passkeys/verify"] button[type="submit"]`)
	if b.Has(`form[action="/account/passkeys/verify"]`) {
		b.fatalf("the page still asks for re-verification after the right code")
	}
	return true
}

// choose clicks a radio choice (name=value) the way a person does: on its
// label when it has one (styled choices often hide the input itself).
func (s *site) choose(name, value string) {
	s.t.Helper()
	input := fmt.Sprintf(`input[name=%q][value=%q]`, name, value)
	sel := s.b.evalString(fmt.Sprintf(`(() => {
		const i = document.querySelector(%q);
		if (!i) return "";
		if (i.id && document.querySelector("label[for='" + i.id + "']")) return "label[for='" + i.id + "']";
		return %q;
	})()`, input, input))
	if sel == "" {
		s.b.fatalf("no choice %s", input)
	}
	s.b.Click(sel)
	if !s.b.evalBool(fmt.Sprintf(`document.querySelector(%q).checked`, input)) {
		s.b.fatalf("clicking %s did not select %s", sel, input)
	}
}

// registration is what the customer answers on the registration card.
type registration struct {
	Shared bool   // "この端末は共用ですか" (K14)
	Name   string // optional passkey name, when the card has the field
	Shot   string // screenshot name of the filled card ("" for none)
}

// registerPasskey creates a passkey on the current page's registration card
// (/account/passkeys or the account page's offer), waits for the site to
// confirm it, and returns the credential the authenticator made.
func (s *site) registerPasskey(a *Authenticator, r registration) *webauthn.Credential {
	s.t.Helper()
	b := s.b
	old := map[string]bool{}
	for _, c := range a.Credentials() {
		old[string(c.CredentialID)] = true
	}
	if r.Shared {
		s.choose("shared", "yes")
	} else {
		s.choose("shared", "no")
	}
	if r.Name != "" && b.Has("#passkey-name") {
		b.Type("#passkey-name", r.Name)
	}
	if r.Shot != "" {
		b.Shot(r.Shot)
	}
	b.Click("#passkey-register")
	s.waitURL("passkey_added", "#passkey-register-status")
	var made []*webauthn.Credential
	for _, c := range a.Credentials() {
		if !old[string(c.CredentialID)] {
			made = append(made, c)
		}
	}
	if len(made) != 1 {
		b.fatalf("the authenticator made %d credentials, want 1", len(made))
	}
	s.expectBanner(msg(s.t, "notice.passkey_added"))
	return made[0]
}

// expectBanner checks that a status region (role=status) of the page says
// want.
func (s *site) expectBanner(want string) {
	s.t.Helper()
	if !s.b.evalBool(fmt.Sprintf(`[...document.querySelectorAll('[role="status"]')].some(e => e.innerText.includes(%q))`, want)) {
		s.b.fatalf("no status banner says %q", want)
	}
}

// waitURL waits until the location (path and query) contains want; when it
// does not, the failure shows what the status region said.
func (s *site) waitURL(want, statusSel string) {
	s.t.Helper()
	b := s.b
	deadline := time.Now().Add(passkeyWait)
	for time.Now().Before(deadline) {
		u, err := tryEval[string](b, `document.readyState === "complete" ? location.pathname + location.search : ""`)
		if err == nil && strings.Contains(u, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, _ := tryEval[string](b, fmt.Sprintf(`(e => e ? e.innerText : "")(document.querySelector(%q))`, statusSel))
	b.fatalf("the location never contained %q within %s; %s said %q", want, passkeyWait, statusSel, st)
}

// passkeyButton opens /login and presses パスキーでログイン, with the browser's
// account chooser picking the customer whose user handle is handle (on
// every plugged-in authenticator: hide another authenticator's credentials
// to pick the device too).
//
// The login page also starts a conditional request for the customer-code
// field's autofill (K5) as it loads, and a virtual authenticator answers a
// conditional request at once when it holds a matching credential (with
// none it rejects it at once). To press the button rather than be logged in
// by autofill, the page loads while the authenticator holds nothing; the
// chosen customer's credential comes back before the click. The returned
// func puts the other customers' credentials back; call it when the
// login's outcome has been checked.
func (s *site) passkeyButton(handle []byte, shot string) (restore func()) {
	s.t.Helper()
	others := s.b.ChooseAccount(handle)
	mine := s.b.HideCredentials()
	s.b.Go("/login")
	s.requirePasskeyLogin()
	if p := s.b.Path(); p != "/login" || !s.b.Has("#passkey-login") {
		s.b.fatalf("no パスキーでログイン button (at %s)", p)
	}
	s.conditionalSettled()
	mine()
	if shot != "" {
		s.b.Shot(shot)
	}
	s.b.Click("#passkey-login")
	return others
}

// conditionalSettled waits until the login page's autofill request, armed
// on load, has been answered (with no credential on the authenticator the
// virtual authenticator rejects it at once). It watches the page's resource
// timing for the request-options fetch that precedes the request, then
// gives the rejection a moment; a page that arms no autofill request costs
// a second.
func (s *site) conditionalSettled() {
	s.t.Helper()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if s.b.evalBool(`performance.getEntriesByType("resource").some(e => e.name.includes("/passkey/options"))`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(250 * time.Millisecond)
}

// passkeyLogin logs in with パスキーでログイン as the customer and checks the
// account page says so.
func (s *site) passkeyLogin(c customer, shot string) {
	s.t.Helper()
	restore := s.passkeyButton(c.UserHandle, shot)
	defer restore()
	s.b.WaitPath("/account", passkeyWait)
	s.expectLoggedInAs(c.Code)
	if m := s.infoValue("ログイン方法"); m != msg(s.t, "method.session.passkey") {
		s.b.fatalf("the account page says ログイン方法 %q, want %q", m, msg(s.t, "method.session.passkey"))
	}
}

// passkeyRows reads the passkey list on /account/passkeys: one text per
// passkey (each row is the element around a 削除 link).
func (s *site) passkeyRows() []string {
	s.t.Helper()
	return s.b.evalStrings(`(() => {
		const rows = [];
		for (const a of document.querySelectorAll('a[href^="/account/passkeys/"][href$="/delete"]')) {
			const row = a.closest("tr, li, [data-passkey-id]") || a.parentElement;
			rows.push(row.innerText.replace(/\s+/g, " ").trim());
		}
		return rows;
	})()`)
}

// waitCredentials waits until the authenticator holds n credentials for the
// customer (the Signal API works asynchronously after the page load).
func (s *site) waitCredentials(a *Authenticator, handle []byte, n int, why string) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	got := -1
	for time.Now().Before(deadline) {
		if got = a.HandleCount(handle); got == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.b.fatalf("%s: the authenticator holds %d of the customer's credentials, want %d", why, got, n)
}

// sameHandle reports whether a credential belongs to the customer.
func sameHandle(c *webauthn.Credential, cu customer) bool {
	return bytes.Equal(c.UserHandle, cu.UserHandle)
}
