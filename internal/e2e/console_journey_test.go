package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/console"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// The operator console in the browser (issue 7). The console runs beside the
// customer site of testenv on its own 127.0.0.1 listener and origin, as
// `kagi serve` runs it, sharing the store and the clock.

// startConsole serves the console for e and returns its origin.
func startConsole(t *testing.T, e *testenv.Env) (string, *auth.Console) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	con, err := e.Auth.NewConsole(auth.ConsoleConfig{RP: auth.RP{ID: "localhost", Origin: origin, Name: "kagi console"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := console.NewServer(console.Deps{Origin: origin, Console: con, Store: e.Store, Now: e.Clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return origin, con
}

// openURL opens an absolute URL (the console is not the site b.Go knows).
func (b *Browser) openURL(u string) {
	b.t.Helper()
	b.step("open "+u, chromedp.Navigate(u))
	b.waitReady()
}

func subdir(t *testing.T, dir, name string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// seedAdoption gives the dashboard a plausible history: customers who log
// in over the last weeks, more and more of them with passkeys.
func seedAdoption(t *testing.T, e *testenv.Env) {
	t.Helper()
	ctx := context.Background()
	now := e.Clock.Now()
	day := 24 * time.Hour
	hexID := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	kinds := []struct {
		aaguid     []byte
		transports []string
		synced     bool
	}{
		{hexID("ea9b8d664d011d213ce4b6b48cb575d4"), []string{"hybrid", "internal"}, true}, // Google Password Manager
		{hexID("08987058cadc4b81b6e130de50dcbe96"), []string{"internal"}, false},          // Windows Hello
		{nil, []string{"internal", "hybrid"}, true},                                       // iCloud Keychain reports no AAGUID
		{nil, []string{"usb"}, false},                                                     // a security key
		{hexID("bada5566a7aa401fbd9645619a55120d"), []string{"internal"}, true},           // 1Password
	}
	for i := range 40 {
		c := &store.Customer{Code: fmt.Sprintf("6100%04d", i), PasswordHash: "-", UserHandle: []byte(fmt.Sprintf("handle-%032d", i)),
			Lang: "ja", CreatedAt: now.Add(-200 * day)}
		if err := e.Store.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		var registered time.Time
		if i%5 != 0 { // four in five register a passkey, the first ones earliest
			registered = now.Add(-time.Duration(i*2) * day)
			k := kinds[(i+i/5)%len(kinds)]
			if err := e.Store.AddPasskey(ctx, &store.Passkey{CustomerID: c.ID, CredentialID: []byte(c.Code), PublicKey: []byte("k"),
				AAGUID: k.aaguid, Transports: k.transports, BackupEligible: k.synced, BackupState: k.synced, Name: "seed", CreatedAt: registered}, 0); err != nil {
				t.Fatal(err)
			}
		}
		for d := i % 4; d < 100; d += 2 + i%5 {
			at := now.Add(-time.Duration(d)*day - time.Duration(i)*time.Minute - time.Hour)
			method := store.MethodPasswordEmail
			if i%3 == 0 {
				method = store.MethodPasswordTOTP
			}
			if !registered.IsZero() && at.After(registered) {
				method = store.MethodPasskey
			}
			detail, _ := json.Marshal(map[string]any{"method": method})
			if err := e.Store.AppendAudit(ctx, &store.AuditEntry{At: at, Actor: "customer", CustomerID: c.ID, Event: "login.success",
				IP: "203.0.113.9", Detail: string(detail)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// typeText types into an empty field such as a textarea (Browser.Type
// clears first, which chromedp cannot do on an empty textarea).
func typeText(b *Browser, sel, text string) {
	b.t.Helper()
	b.step("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// enrollOperator registers an operator's passkey on the console's
// enrollment page with the code `kagi operator add` printed, as the
// operator does at their desk, and returns on the console's home page.
func enrollOperator(t *testing.T, b *Browser, consoleURL string, en *auth.Enrollment, shot string) {
	t.Helper()
	b.openURL(consoleURL + "/enroll")
	b.Type("#enroll-name", en.Operator.Name)
	b.Type("#enroll-code", en.Code)
	if shot != "" {
		b.Shot(shot)
	}
	b.Click("#enroll-submit")
	b.WaitPath("/", passkeyWait)
	if got := strings.TrimSpace(b.Text("#operator-name")); got != en.Operator.Name {
		b.fatalf("logged in to the console as %q, want %s", got, en.Operator.Name)
	}
}

// Journey (O1, O4): an agent logs in to the console with a passkey and asks
// for a customer on the authenticator app to be switched to e-mail codes; a
// supervisor at another desk, logged in with their own passkey, approves; the
// change is made, audited and mailed. Screenshots of the console's pages.
func TestJourneyConsoleSecondFactorFourEyes(t *testing.T) {
	e := testenv.New(t)
	consoleURL, con := startConsole(t, e)
	ctx := context.Background()
	c, _ := e.Customer(auth.NewCustomer{Code: "60000001", Password: testPassword, Email: "yamada@example.jp", SecondFactor: store.FactorTOTP, Lang: "ja"})
	agentEn, err := con.AddOperator(ctx, "suzuki", store.RoleAgent, "test")
	if err != nil {
		t.Fatal(err)
	}
	supEn, err := con.AddOperator(ctx, "sato", store.RoleSupervisor, "test")
	if err != nil {
		t.Fatal(err)
	}
	seedAdoption(t, e)
	// An inquiry waits in the queue, for the screenshots.
	if _, err := e.Auth.SubmitInquiry(ctx, auth.InquiryForm{CustomerCode: c.Code, Name: "山田 太郎", Email: "yamada.new@example.jp",
		Topic: store.TopicEmailChange, Message: "スマートフォンを買い替え、以前のメールアドレスが使えなくなりました。"}, auth.Meta{IP: "203.0.113.20"}); err != nil {
		t.Fatal(err)
	}

	// Two operators at two desks: two browsers, each with its own device and
	// screenshots (test-artifacts/<test>/1-agent, 2-supervisor).
	agent, sup := newBrowser(t, e), newBrowser(t, e)
	agent.dir, sup.dir = subdir(t, agent.dir, "1-agent"), subdir(t, sup.dir, "2-supervisor")
	defer agent.LogShots()
	defer sup.LogShots()

	// The agent: enroll a passkey with the one-time code, log out, log in with it.
	agent.AddAuthenticator(AuthenticatorConfig{})
	agent.openURL(consoleURL + "/")
	if p := agent.Path(); p != "/login" {
		agent.fatalf("without a session the console should show its login page, not %s", p)
	}
	agent.Shot("console-login")
	enrollOperator(t, agent, consoleURL, agentEn, "console-enroll")
	agent.ClickNav(`form[action="/logout"] button[type="submit"]`)
	agent.WaitVisible("#operator-login")
	agent.Click("#operator-login")
	agent.WaitPath("/", passkeyWait)
	agent.Shot("console-home")

	// Look the customer up and request the switch (O1), with a reason.
	agent.Type("#search-code", c.Code)
	agent.ClickNav(`form[action="/customers"] button[type="submit"]`)
	if p := agent.Path(); p != "/customers/"+c.Code {
		agent.fatalf("the search should open the customer's page, not %s", p)
	}
	if f := agent.Text("#info-factor"); f != "認証アプリ" {
		agent.fatalf("二段階認証 is %q, want 認証アプリ", f)
	}
	agent.Shot("console-customer")
	typeText(agent, "#sf-reason", "認証アプリの端末を紛失。生年月日・住所・登録電話番号で本人確認済み。")
	agent.ClickNav(`#form-request-email-factor button[type="submit"]`)
	agent.WaitText("#page-notice", stepTimeout, "申請しました")
	agent.Shot("console-requested")
	// The agent cannot approve: the requests page says why and offers no button.
	agent.openURL(consoleURL + "/requests")
	if agent.Has(`form[action$="/approve"]`) || !strings.Contains(agent.Text("main"), "ご自身の申請です") {
		agent.fatalf("the requester must not be offered the approval")
	}
	if cu, _ := e.Store.CustomerByID(ctx, c.ID); cu.SecondFactor != store.FactorTOTP {
		t.Fatal("the second factor changed before the approval")
	}

	// The supervisor, in another browser with their own passkey, approves.
	sup.AddAuthenticator(AuthenticatorConfig{Synced: true})
	enrollOperator(t, sup, consoleURL, supEn, "")
	if n := strings.TrimSpace(sup.Text("#nav-pending")); n != "1" {
		sup.fatalf("the menu should count 1 pending request, says %q", n)
	}
	sup.ClickNav(`a[href="/requests"]`)
	sup.Shot("console-requests")
	typeText(sup, `textarea[id^="approve-note-"]`, "申請内容と本人確認の記録を確認しました。")
	mails := len(e.Mails(c.Email))
	sup.ClickNav(`form[id^="approve-"] button[type="submit"]`)
	sup.WaitText("#page-notice", stepTimeout, "承認し、手続きを実行しました")
	sup.Shot("console-approved")

	cu, err := e.Store.CustomerByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cu.SecondFactor != store.FactorEmail {
		t.Fatalf("after the approval the second factor is %q", cu.SecondFactor)
	}
	m := e.WaitMail(c.Email, mails)
	if !strings.Contains(m.Subject, "二段階認証の方法を変更しました") {
		t.Fatalf("mail %q", m.Subject)
	}
	sup.openURL(consoleURL + "/customers/" + c.Code)
	if f := sup.Text("#info-factor"); f != "メール認証" {
		sup.fatalf("二段階認証 is %q after the approval", f)
	}
	trail := sup.Text("#trail")
	for _, want := range []string{"二段階認証の変更", "オペレーター sato", "承認", "申請", "オペレーター suzuki"} {
		if !strings.Contains(trail, want) {
			sup.fatalf("the audit trail lacks %q", want)
		}
	}
	sup.Shot("console-customer-after")

	// The other pages, for the record.
	sup.openURL(consoleURL + "/inquiries")
	sup.Shot("console-inquiries")
	sup.openURL(consoleURL + "/dashboard")
	if !sup.Has("#chart-share-title") {
		sup.fatalf("the dashboard has no chart")
	}
	sup.Shot("console-dashboard")
	sup.openURL(consoleURL + "/audit")
	sup.ClickNav("#verify")
	sup.WaitText("#audit-result", stepTimeout, "改ざんは見つかりませんでした")
	sup.Shot("console-audit")

	// The customer site's inquiry form, where customers start an e-mail change.
	agent.Go("/inquiry")
	agent.Shot("site-inquiry")
	agent.MobileShot("site-inquiry")
}
