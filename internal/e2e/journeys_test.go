package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/kagi-auth/kagi/internal/auth"
)

// Journey 1 (A2, A3, K1, K2, K4, K5): a new customer logs in with the
// password, goes through initial setup (e-mail code from the development
// mailbox, e-mail as second factor), reaches the account page, registers a
// passkey after re-verifying, logs out and logs in with パスキーでログイン.
func TestJourneyNewCustomerToPasskeyLogin(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	const code, email = "30000001", "taro.yamada@example.jp"
	c, _ := s.e.Customer(auth.NewCustomer{Code: code, Password: testPassword, Lang: "ja"})

	// Password login (A2).
	if st := b.Go("/login"); st != 200 {
		b.fatalf("GET /login: HTTP %d", st)
	}
	if lang := b.evalString(`document.documentElement.lang`); lang != "ja" {
		b.fatalf("the login page is in %q, want ja (Accept-Language ja-JP)", lang)
	}
	b.WaitVisible("#customer_code")
	b.Shot("login")
	b.MobileShot("login")
	s.passwordLogin(code, testPassword)

	// Initial setup (A3): e-mail address, its code, the second factor.
	if p := b.Path(); p != "/setup/email" {
		b.fatalf("a customer without an e-mail address should land on /setup/email, not %s", p)
	}
	b.Shot("setup-email")
	b.Type(`input[name="email"]`, email)
	b.ClickNav(`form[action="/setup/email"] button[type="submit"]`)
	if p := b.Path(); p != "/setup/email/verify" {
		b.fatalf("after the address the site should ask for its code, not show %s", p)
	}
	if !strings.Contains(b.Text("main"), email) {
		b.fatalf("the verify page should say where the code went (%s)", email)
	}
	b.Type(`input[name="code"]`, s.mailCode(email, 0))
	b.Shot("setup-email-verify")
	b.ClickNav(`form[action="/setup/email/verify"] button[type="submit"]`)
	if p := b.Path(); p != "/setup/method" {
		b.fatalf("after the code the site should ask for the second factor, not show %s", p)
	}
	s.choose("method", "email")
	b.Shot("setup-method")
	b.ClickNav(`form[action="/setup/method"] button[type="submit"]`)

	// The account page: 口座情報 → お客様情報 → 登録情報照会 (K1).
	if p := b.Path(); p != "/account" {
		b.fatalf("after initial setup the site should show the account page, not %s", p)
	}
	s.expectLoggedInAs(code)
	main := b.Text("main")
	for _, want := range []string{"口座情報", "登録情報照会", email} {
		if !strings.Contains(main, want) {
			b.fatalf("the account page does not show %q", want)
		}
	}
	if m := s.infoValue("二段階認証の方法"); m != msg(t, "method.second_factor.email") {
		b.fatalf("二段階認証の方法 is %q, want %q", m, msg(t, "method.second_factor.email"))
	}
	b.Shot("account")
	b.MobileShot("account")

	// Passkey registration from the account page's link (K1), with
	// re-verification by e-mail code (K2, Check2). The customer reads the
	// page for a while first: the second factor of the login no longer
	// counts once the step-up window (5 minutes) has passed.
	s.requirePasskeyUI()
	s.e.Clock.Advance(s.e.Config.StepUpWindow + time.Minute)
	b.Go("/account")
	b.ClickNav(`main a[href="/account/passkeys"]`)
	b.Shot("passkeys")
	cu := customer{Customer: c, Password: testPassword}
	cu.Email = email
	if !s.stepUp(cu, true) {
		b.fatalf("%s after the login, the passkeys page should ask for re-verification", s.e.Config.StepUpWindow+time.Minute)
	}
	b.WaitVisible("#passkey-register")
	b.MobileShot("passkeys")
	a := b.AddAuthenticator(AuthenticatorConfig{})
	cred := s.registerPasskey(a, registration{Name: "自宅のパソコン", Shot: "register"})
	b.Shot("passkey-added")
	if !bytes.Equal(cred.UserHandle, c.UserHandle) {
		b.fatalf("the passkey's user handle is not the customer's random handle (K4)")
	}
	if bytes.Contains(cred.UserHandle, []byte(code)) {
		b.fatalf("the user handle contains the customer code (K4)")
	}
	if rows := s.passkeyRows(); len(rows) != 1 || !strings.Contains(rows[0], "自宅のパソコン") {
		b.fatalf("the list should show the new passkey by its name, shows %q", rows)
	}

	// Log out, then パスキーでログイン (K5).
	s.logout()
	s.passkeyLogin(cu, "login-passkey")
	b.Shot("account-by-passkey")
}

// Journey 2 (K4, K14): two customers of one family register passkeys on the
// same shared PC (one authenticator); each logs in with パスキーでログイン and
// the account chooser's pick lands in the right account.
func TestJourneySharedPC(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	hanako := s.customer("30000011", "hanako@example.jp")
	ichiro := s.customer("30000012", "ichiro@example.jp")
	a := b.AddAuthenticator(AuthenticatorConfig{})

	for i, c := range []customer{hanako, ichiro} {
		s.loginWithEmailCode(c)
		s.requirePasskeyUI()
		s.stepUp(c, false)
		shot := ""
		if i == 0 {
			shot = "register-shared"
		}
		s.registerPasskey(a, registration{Shared: true, Name: "リビングのパソコン", Shot: shot})
		if rows := s.passkeyRows(); len(rows) != 1 || !strings.Contains(rows[0], msg(t, "passkeys.shared")) {
			b.fatalf("the list should mark the passkey as on a shared PC (%s): %q", msg(t, "passkeys.shared"), rows)
		}
		if i == 0 {
			b.Shot("passkey-added-shared")
		}
		s.logout()
	}
	creds := a.Credentials()
	if len(creds) != 2 || bytes.Equal(creds[0].UserHandle, creds[1].UserHandle) {
		b.fatalf("the shared authenticator should hold one passkey per customer, holds %d", len(creds))
	}

	s.passkeyLogin(hanako, "login-as-hanako")
	b.Shot("account-hanako")
	s.logout()
	s.passkeyLogin(ichiro, "")
	b.Shot("account-ichiro")
	s.logout()
	s.passkeyLogin(hanako, "")
}

// Journey 3 (K3): five passkeys on five devices; the sixth is refused with
// the limit message before the browser's prompt (no credential is made).
func TestJourneyPasskeyLimit(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000021", "kenji@example.jp")
	s.loginWithEmailCode(c)
	s.requirePasskeyUI()
	s.stepUp(c, false)

	// One device at a time: with excludeCredentials, a plugged-in device that
	// already holds a passkey would make Chromium refuse the next creation.
	for i := 1; i <= 5; i++ {
		a := b.AddAuthenticator(AuthenticatorConfig{Synced: i%2 == 0})
		b.Go("/account/passkeys")
		s.stepUp(c, false)
		s.registerPasskey(a, registration{Name: "端末" + string(rune('0'+i))})
		a.Unplug()
	}
	if rows := s.passkeyRows(); len(rows) != 5 {
		b.fatalf("the list shows %d passkeys, want 5", len(rows))
	}

	sixth := b.AddAuthenticator(AuthenticatorConfig{})
	b.Go("/account/passkeys")
	want := msg(t, "error.passkey_limit_reached", 5)
	if b.Has("#passkey-register") && b.evalBool(`(e => e.offsetParent !== null && !e.disabled)(document.querySelector("#passkey-register"))`) {
		// A page that keeps the button must refuse before the prompt.
		s.choose("shared", "no")
		b.Click("#passkey-register")
		b.WaitText("#passkey-register-status", passkeyWait, want)
	} else if !strings.Contains(b.Text("main"), want) {
		b.fatalf("the page neither offers registration nor says %q", want)
	}
	b.Shot("limit-reached")
	if n := len(sixth.Credentials()); n != 0 {
		b.fatalf("the sixth device made %d credentials; the refusal must come before the prompt", n)
	}
}

// Journey 4 (K6, K11, K13): a deleted passkey; the confirmation page, the
// Signal API removing it from the customer's passkey provider, and a login
// with a copy the provider still had: refused with a clear message, and the
// copy is signalled away too.
func TestJourneyDeletePasskey(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000031", "misaki@example.jp")
	s.loginWithEmailCode(c)
	s.requirePasskeyUI()
	s.stepUp(c, false)
	a := b.AddAuthenticator(AuthenticatorConfig{})
	cred := s.registerPasskey(a, registration{Name: "古いスマートフォン"})
	b.Go("/account/passkeys") // a fresh look at the list, as after a while
	b.Shot("before-delete")

	b.ClickNav(`a[href^="/account/passkeys/"][href$="/delete"]`)
	if !strings.Contains(b.Text("main"), "古いスマートフォン") {
		b.fatalf("the confirmation page should name the passkey it deletes")
	}
	b.Shot("delete-confirm")
	b.ClickNav(`main form[action$="/delete"] button[type="submit"]`)
	if p := b.Path(); p != "/account/passkeys" {
		b.fatalf("after deleting the site should show the list, not %s", p)
	}
	s.expectBanner(msg(t, "notice.passkey_deleted"))
	if rows := s.passkeyRows(); len(rows) != 0 {
		b.fatalf("the list still shows %q", rows)
	}
	b.Shot("deleted")
	// signalAllAcceptedCredentials on the list page (K11).
	s.waitCredentials(a, c.UserHandle, 0, "after the list page loaded")

	// A copy of the deleted passkey (another synced device not yet told)
	// tries to log in.
	s.logout()
	a.AddCredential(cred)
	restore := s.passkeyButton(c.UserHandle, "")
	defer restore()
	got := b.WaitText("#passkey-status", passkeyWait, msg(t, "error.passkey_unknown"))
	if b.Path() != "/login" {
		b.fatalf("a deleted passkey logged in (%s); the status said %q", b.Path(), got)
	}
	b.Shot("deleted-passkey-refused")
	// signalUnknownCredential after the refused login (K11).
	s.waitCredentials(a, c.UserHandle, 0, "after the refused login")
}

// Journey 5 (K6, K10): a synced passkey (backup flags set, e.g. a phone's
// password manager) and a device-bound one (no backup flags, a PC's
// platform authenticator); the list tells them apart (同期 / この端末のみ),
// and both log in (the BE flag matches what was stored at registration).
func TestJourneySyncedAndDeviceBound(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000041", "yui@example.jp")
	s.loginWithEmailCode(c)
	s.requirePasskeyUI()
	s.stepUp(c, false)

	phone := b.AddAuthenticator(AuthenticatorConfig{Synced: true})
	sc := s.registerPasskey(phone, registration{Name: "同期されるパスキー"})
	if !sc.BackupEligibility || !sc.BackupState {
		b.fatalf("the synced authenticator made a credential without BE/BS")
	}
	phone.Unplug()
	pc := b.AddAuthenticator(AuthenticatorConfig{})
	b.Go("/account/passkeys")
	s.stepUp(c, false)
	dc := s.registerPasskey(pc, registration{Name: "この端末だけのパスキー"})
	if dc.BackupEligibility || dc.BackupState {
		b.fatalf("the device-bound authenticator made a credential with BE/BS")
	}
	b.Go("/account/passkeys")
	b.Shot("synced-and-device-bound")
	b.MobileShot("synced-and-device-bound")

	synced, deviceBound := msg(t, "passkeys.synced"), msg(t, "passkeys.device_bound")
	rows := s.passkeyRows()
	if len(rows) != 2 {
		b.fatalf("the list shows %d passkeys, want 2: %q", len(rows), rows)
	}
	for _, r := range rows {
		switch {
		case strings.Contains(r, "同期されるパスキー"):
			if !strings.Contains(r, synced) || strings.Contains(r, deviceBound) {
				b.fatalf("the synced passkey's row should say %s only: %q", synced, r)
			}
		case strings.Contains(r, "この端末だけのパスキー"):
			if !strings.Contains(r, deviceBound) || strings.Contains(r, synced) {
				b.fatalf("the device-bound passkey's row should say %s only: %q", deviceBound, r)
			}
		default:
			b.fatalf("a row with neither name: %q", r)
		}
	}

	// The PC's passkey logs in; then the phone's.
	s.logout()
	s.passkeyLogin(c, "")
	s.logout()
	pc.Unplug()
	phone = b.AddAuthenticator(AuthenticatorConfig{Synced: true})
	phone.AddCredential(sc)
	s.passkeyLogin(c, "")
}

// Journey 6 (K5): the customer-code field offers the passkey through autofill
// (conditional mediation); choosing it logs in without pressing a button.
func TestJourneyAutofill(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000051", "sora@example.jp")
	s.loginWithEmailCode(c)
	s.requirePasskeyUI()
	s.stepUp(c, false)
	a := b.AddAuthenticator(AuthenticatorConfig{})
	s.registerPasskey(a, registration{Name: "ノートパソコン"})
	s.logout()

	// First a look at the field with no passkey on the device.
	hide := a.HideAll()
	b.Go("/login")
	s.requirePasskeyLogin()
	if ac := b.evalString(`document.querySelector("#customer_code").autocomplete`); !strings.Contains(ac, "webauthn") {
		b.fatalf("the customer-code field's autocomplete is %q, want it to include webauthn", ac)
	}
	s.conditionalSettled()
	if b.Path() != "/login" || b.Text("#passkey-status") != "" {
		b.fatalf("an autofill request with no passkey on the device must end quietly; the status says %q", b.Text("#passkey-status"))
	}
	hide()

	// With the passkey on the device: Chromium's virtual authenticator
	// answers the page's conditional request at once, as the customer
	// picking the suggestion under the focused field does (it has no
	// suggestion UI to click). The test presses no button.
	b.Go("/login")
	if p, err := tryEval[string](b, `location.pathname`); err == nil && p == "/login" {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		_ = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#customer_code"))) // may race the navigation
		cancel()
	}
	b.WaitPath("/account", passkeyWait)
	s.expectLoggedInAs(c.Code)
	if m := s.infoValue("ログイン方法"); m != msg(t, "method.session.passkey") {
		b.fatalf("ログイン方法 is %q after the autofill login", m)
	}
	b.Shot("account-by-autofill")
}

// Journey 7 (K2 Check3, K5): what a customer meets when it goes wrong: a
// device without face, fingerprint or PIN; a cancelled prompt, at
// registration and at login. Nothing is stored, and the page says why.
func TestJourneyFailures(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000061", "riku@example.jp")
	s.loginWithEmailCode(c)
	s.requirePasskeyUI()
	s.stepUp(c, false)

	// A device without user verification (Check3).
	noUV := b.AddAuthenticator(AuthenticatorConfig{NoUV: true})
	b.Go("/account/passkeys")
	s.choose("shared", "no")
	b.Click("#passkey-register")
	// The explanation of Check3 names what the device needs.
	b.WaitText("#passkey-register-status", passkeyWait, "顔認証", "指紋", "PIN")
	b.Shot("no-user-verification")
	if n := len(noUV.Credentials()); n != 0 {
		b.fatalf("the device without UV holds %d credentials", n)
	}
	noUV.Unplug()

	// Cancelling the prompt: a failed user verification ends the request at
	// once with NotAllowedError, which is what a cancelled prompt gives the
	// page (browsers do not tell the two apart).
	a := b.AddAuthenticator(AuthenticatorConfig{})
	a.SetUserVerified(false)
	b.Go("/account/passkeys")
	s.choose("shared", "no")
	b.Click("#passkey-register")
	b.WaitText("#passkey-register-status", passkeyWait, msg(t, "error.passkey_cancelled"))
	b.Shot("registration-cancelled")
	if n := len(a.Credentials()); n != 0 {
		b.fatalf("the cancelled registration left %d credentials on the device", n)
	}

	// Trying again on the same page works, and only that passkey is stored.
	a.SetUserVerified(true)
	s.registerPasskey(a, registration{Name: "再挑戦"})
	if rows := s.passkeyRows(); len(rows) != 1 {
		b.fatalf("after a cancelled and a good registration the list shows %q", rows)
	}

	// Cancelling at login leaves the customer on the login page, told so.
	s.logout()
	a.SetUserVerified(false)
	restore := s.passkeyButton(c.UserHandle, "")
	b.WaitText("#passkey-status", passkeyWait, msg(t, "error.passkey_cancelled"))
	restore()
	if p := b.Path(); p != "/login" {
		b.fatalf("a cancelled passkey login moved to %s", p)
	}
	b.Shot("login-cancelled")
	if b.Has(".user-code__value") {
		b.fatalf("logged in after a cancelled passkey login")
	}
	if n := a.HandleCount(c.UserHandle); n != 1 {
		b.fatalf("the cancelled login removed the passkey from the device (%d left)", n)
	}
}

// Journey 8 (K12): after a password login, the account page offers to create
// a passkey in one step; accepting it registers one.
func TestJourneyPasskeyOfferAfterPasswordLogin(t *testing.T) {
	s := newSite(t)
	b := s.b
	defer b.LogShots()
	c := s.customer("30000071", "aoi@example.jp")
	s.loginWithEmailCode(c)
	if !b.Has("#passkey-offer") {
		s.requirePasskeyUI() // skips while the UI is missing
		b.fatalf("after a password login without a passkey the account page should offer one (#passkey-offer)")
	}
	b.Shot("offer")
	b.MobileShot("offer")
	a := b.AddAuthenticator(AuthenticatorConfig{Synced: true})
	var cred *webauthn.Credential
	if b.Has("#passkey-offer #passkey-register") {
		cred = s.registerPasskey(a, registration{})
	} else {
		// The offer may lead through re-verification first.
		b.ClickNav(`#passkey-offer a[href="/account/passkeys"], #passkey-offer button[type="submit"]`)
		s.stepUp(c, false)
		cred = s.registerPasskey(a, registration{})
	}
	if !sameHandle(cred, c) {
		b.fatalf("the offer registered a passkey for another user handle")
	}
	b.Shot("offer-accepted")
	b.Go("/account")
	if b.Has("#passkey-offer") {
		b.fatalf("the account page still offers a passkey to a customer who has one")
	}
	s.logout()
	s.passkeyLogin(c, "")
	b.Go("/account")
	if b.Has("#passkey-offer") {
		b.fatalf("the account page offers a passkey after a passkey login")
	}
}
