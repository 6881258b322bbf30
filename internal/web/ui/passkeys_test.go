package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kagi-auth/kagi/internal/locale"
)

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(body, b) {
			t.Errorf("%s contains %q", what, b)
		}
	}
}

// The registration form, the re-verification forms and the refusals are
// recognised by these markers.
const (
	markRegister  = `id="passkey-register"`
	markVerify    = `action="/account/passkeys/verify"`
	markSend      = `action="/account/passkeys/verify/send"`
	markRefused   = `id="passkey-refused"`
	markLimit     = `id="passkey-limit"`
	markStepUpBox = `id="passkey-step-up"`
)

// K1, K6, K14: the list and the registration form.
func TestPasskeysPage(t *testing.T) {
	r := newRenderer(t)
	v := PasskeysView{Base: Base{Lang: "ja", LoggedIn: true, Phone: "0120-99-1234"}, Passkeys: samplePasskeys("ja"),
		Limit: 5, EmailVerified: true, StepUpValid: true, SecondFactor: "totp", Signal: sampleSignal()}
	body := render(t, r, "passkeys", v)
	mustContain(t, "passkeys page", body,
		// K1: where it lives.
		"口座情報", "お客様情報", `<a href="/account">登録情報照会</a>`, `aria-current="page">パスキー登録</li>`,
		"<h1>パスキー登録・一覧</h1>",
		// K6: the list.
		`id="passkey-count">2 / 5 件登録済み</span>`,
		`<table class="pk-table">`, `<th scope="col" class="pk-col-name">名前</th>`,
		`id="passkey-1" data-passkey-id="1" data-credential-id="Y3JlZC1vbmU"`,
		`<span class="pk-name">iPhone</span>`, `<span class="pk-auth">iCloud キーチェーン</span>`,
		"同期（クラウド連携型）", "この端末のみ（デバイス内蔵型）", "共用PC", "一時停止中",
		"2026年2月9日 9:30", "2026年2月12日 8:05", "未使用",
		`<form method="post" action="/account/passkeys/1/rename"`,
		`<input id="rename-1" name="name" type="text" class="input input--small" maxlength="64" required`,
		`value="iPhone"`,
		`href="/account/passkeys/3/delete"`,
		// HTML in a name is escaped.
		"YubiKey &lt;5&gt;",
		// K10: suspended, with the call center.
		`class="pk-row pk-row--suspended"`, `href="tel:0120991234"`,
		// K14 and the registration.
		`type="radio" id="shared-no" name="shared" value="no" required`,
		`type="radio" id="shared-yes" name="shared" value="yes"`,
		"共用の端末にパスキーを登録すると", "別のユーザーアカウント", "ご自身のスマートフォン",
		`<input id="passkey-name" name="name" type="text" class="input" maxlength="64"`,
		`<button type="button" id="passkey-register"`, "パスキーを登録</span>",
		`id="passkey-register-status" role="status" aria-live="polite"`,
		"<noscript>",
		// K2 Check3 and K8.
		"顔認証・指紋認証・PINコードなどの設定が必要です",
		"同じApple IDやGoogleアカウント", "新しい端末でパスキーをあらためて登録",
		"複数の端末", "0120-99-1234",
		// K11: the Signal API data.
		`<div id="passkey-signal" hidden data-rp-id="localhost" data-user-id="dXNlci1oYW5kbGU" data-name="1234567" data-display-name="1234567" data-credential-ids="Y3JlZC1vbmU,Y3JlZC10d28"></div>`,
		// The script's sentences.
		`<p id="msg-cancelled">`, `<p id="msg-no-uv">`, `<p id="msg-exists">`, `<p id="msg-choose-shared">`,
		`src="/static/js/passkeys.js?v=`,
	)
	mustNotContain(t, "passkeys page", body, markVerify, markSend, markRefused, markLimit, `id="passkey-empty"`)
	// Every row has a rename form and a delete link.
	if n := strings.Count(body, `action="/account/passkeys/`); n != 3 {
		t.Errorf("%d rename forms, want 3", n)
	}
	if n := regexp.MustCompile(`href="/account/passkeys/\d+/delete"`).FindAllStringIndex(body, -1); len(n) != 3 {
		t.Errorf("%d delete links, want 3", len(n))
	}
}

// K2, K3: what the registration card shows in each state.
func TestPasskeysPageStates(t *testing.T) {
	r := newRenderer(t)
	b := Base{Lang: "ja", LoggedIn: true}
	cases := []struct {
		name      string
		v         PasskeysView
		want, not []string
	}{
		{"no verified e-mail (Check1)",
			PasskeysView{Base: b, Limit: 5, StepUpValid: true},
			[]string{markRefused, `href="/guide/start"`, "初期設定（メールアドレスの登録）が必要です", `id="passkey-empty">まだパスキーは登録されていません。</p>`},
			[]string{markRegister, markVerify, markSend, markLimit, `name="shared"`}},
		{"limit reached (K3)",
			PasskeysView{Base: b, Limit: 3, LimitReached: true, EmailVerified: true, StepUpValid: true, Passkeys: samplePasskeys("ja")},
			[]string{markLimit, "パスキーは最大3件まで登録できます。新しく登録するには、お使いでないパスキーを削除してください。", "2 / 3 件登録済み"},
			[]string{markRegister, markVerify, markSend, markRefused, `name="shared"`}},
		{"limit reached before re-verification",
			PasskeysView{Base: b, Limit: 5, LimitReached: true, EmailVerified: true, SecondFactor: "email"},
			[]string{markLimit},
			[]string{markRegister, markVerify, markSend}},
		{"re-verification by app (Check2)",
			PasskeysView{Base: b, Limit: 5, EmailVerified: true, SecondFactor: "totp"},
			[]string{markStepUpBox, "本人確認のため、現在ご利用中の二段階認証でもう一度確認します。", markVerify,
				`name="code"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, "認証アプリに表示されたコード"},
			[]string{markSend, markRegister, `name="shared"`, "autofocus"}},
		{"re-verification by e-mail (Check2)",
			PasskeysView{Base: b, Limit: 5, EmailVerified: true, SecondFactor: "email", MaskedEmail: "ta***@example.jp"},
			[]string{markStepUpBox, markSend, "確認コードを送信", "ta***@example.jp", markVerify, `autocomplete="one-time-code"`},
			[]string{markRegister, `name="shared"`, "autofocus"}},
		{"empty list, may register",
			PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: true},
			[]string{`id="passkey-empty"`, "新しいパスキーの登録」から", "0 / 5 件登録済み", markRegister},
			[]string{"<table"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := render(t, r, "passkeys", c.v)
			checkPage(t, "ja", body, c.v.Base)
			mustContain(t, c.name, body, c.want...)
			mustNotContain(t, c.name, body, c.not...)
			// The Signal element is always there; empty data signals nothing.
			mustContain(t, c.name, body, `id="passkey-signal" hidden data-rp-id=""`)
		})
	}
}

func TestPasskeyDeletePage(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range locale.Supported {
		p := locale.Printer(lang)
		pk := samplePasskeys(lang)[0]
		body := render(t, r, "passkey_delete", PasskeyDeleteView{Base: Base{Lang: lang, LoggedIn: true}, Passkey: pk})
		mustContain(t, lang+" delete page", body,
			`<form method="post" action="/account/passkeys/1/delete"`,
			`<button type="submit" id="passkey-delete-confirm" class="btn btn--danger btn--danger-solid"`,
			p.T("passkey_delete.submit")+"</button>",
			`id="passkey-delete-cancel" href="/account/passkeys"`,
			`data-passkey-id="1" data-credential-id="Y3JlZC1vbmU"`,
			"<dd>iPhone</dd>", "iCloud キーチェーン", pk.CreatedAt,
			p.T("passkey_delete.no_login"), p.T("passkey_delete.last_one"),
		)
	}
	body := render(t, r, "passkey_delete", PasskeyDeleteView{Base: Base{Lang: "ja", LoggedIn: true}, Passkey: samplePasskeys("ja")[2]})
	mustContain(t, "suspended delete page", body, "一時停止中", "セキュリティキー", "YubiKey &lt;5&gt;", `action="/account/passkeys/3/delete"`)
	if strings.Contains(body, "<script") && !strings.Contains(body, "/static/js/app.js") {
		t.Error("the delete page loads a page script; it needs none")
	}
}

// K12: the offer card on the account page.
func TestAccountPasskeyOffer(t *testing.T) {
	r := newRenderer(t)
	b := Base{Lang: "ja", LoggedIn: true}
	on := render(t, r, "account", AccountView{Base: b, SessionMethod: "password_totp", PasskeysAvailable: true, PasskeyOffer: true, Signal: sampleSignal()})
	mustContain(t, "account with offer", on,
		`id="passkey-offer"`, "パスキーで安全・かんたんにログイン",
		`name="shared" value="no" required`, `name="shared" value="yes"`, "共用の端末にパスキーを登録すると",
		`<button type="button" id="passkey-register"`, `id="passkey-register-status" role="status" aria-live="polite"`,
		`<p id="msg-cancelled">`, `href="/account/passkeys"`,
		`id="passkey-signal" hidden data-rp-id="localhost"`,
		`src="/static/js/account.js?v=`,
	)
	mustNotContain(t, "account with offer", on, `id="passkey-name"`)
	if strings.Index(on, `id="passkey-offer"`) > strings.Index(on, `id="info-heading"`) {
		t.Error("the offer is not the first card")
	}
	off := render(t, r, "account", AccountView{Base: b, SessionMethod: "passkey", PasskeysAvailable: true, PasskeyCount: 1})
	mustNotContain(t, "account without offer", off, `id="passkey-offer"`, `id="passkey-register"`, `id="msg-cancelled"`, `id="passkey-signal"`)
}

// K5: the login page enables the button and carries the script's sentences.
func TestLoginPasskeyScript(t *testing.T) {
	r := newRenderer(t)
	on := render(t, r, "login", LoginView{Base: Base{Lang: "en"}, PasskeyAvailable: true})
	mustContain(t, "login page", on,
		`src="/static/js/login.js?v=`, `id="passkey-status" role="status" aria-live="polite"`,
		`<p id="msg-cancelled">`+locale.Printer("en").T("error.passkey_cancelled")+`</p>`,
		`<p id="msg-working">`, `<p id="msg-logging-in">`, `<p id="msg-unsupported">`, "<noscript>",
		`autocomplete="username webauthn"`,
	)
	off := render(t, r, "login", LoginView{Base: Base{Lang: "en"}})
	mustNotContain(t, "login page without passkeys", off, `id="msg-cancelled"`, "<noscript>")
}

// The scripts find what they look for: every element id they use and every
// #msg-* sentence they show is rendered on the page that loads them.
func TestScriptsMatchPages(t *testing.T) {
	r := newRenderer(t)
	b := Base{Lang: "ja", LoggedIn: true}
	pages := map[string]string{
		"js/login.js":    render(t, r, "login", LoginView{Base: Base{Lang: "ja"}, PasskeyAvailable: true}),
		"js/passkeys.js": render(t, r, "passkeys", PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: true}),
		"js/account.js":  render(t, r, "account", AccountView{Base: b, PasskeysAvailable: true, PasskeyOffer: true, Signal: sampleSignal()}),
	}
	modules := map[string][]string{ // what each page script imports
		"js/login.js":    {"js/login.js", "js/webauthn.js"},
		"js/passkeys.js": {"js/passkeys.js", "js/register.js", "js/webauthn.js"},
		"js/account.js":  {"js/account.js", "js/register.js", "js/webauthn.js"},
	}
	reID := regexp.MustCompile(`getElementById\('([a-z-]+)'\)`)
	reMsg := regexp.MustCompile(`message\('([a-z-]+)'\)`)
	for page, body := range pages {
		for _, mod := range modules[page] {
			src, err := staticFS.ReadFile("static/" + mod)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range reID.FindAllStringSubmatch(string(src), -1) {
				id := m[1]
				if id == "msg-" { // message() builds these
					continue
				}
				if !strings.Contains(body, `id="`+id+`"`) {
					// passkey-name is optional (not on the account offer);
					// login.js does not call signalFromPage.
					if id == "passkey-name" && page == "js/account.js" || id == "passkey-signal" && page == "js/login.js" {
						continue
					}
					t.Errorf("%s (via %s) looks for #%s, which the page lacks", page, mod, id)
				}
			}
			for _, m := range reMsg.FindAllStringSubmatch(string(src), -1) {
				if !strings.Contains(body, `<p id="msg-`+m[1]+`">`) {
					t.Errorf("%s (via %s) shows #msg-%s, which the page lacks", page, mod, m[1])
				}
			}
		}
		if !strings.Contains(body, `src="/static/`+page+`?v=`) {
			t.Errorf("the page does not load %s", page)
		}
	}
}

// Every classified failure key of webauthn.js has a sentence.
func TestClassifyKeysHaveSentences(t *testing.T) {
	src, err := staticFS.ReadFile("static/js/webauthn.js")
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t)
	body := render(t, r, "login", LoginView{Base: Base{Lang: "ja"}, PasskeyAvailable: true})
	for _, m := range regexp.MustCompile(`key: (?:registering \? )?'([a-z-]+)'(?: : '([a-z-]+)')?`).FindAllStringSubmatch(string(src), -1) {
		for _, k := range m[1:] {
			if k != "" && !strings.Contains(body, `<p id="msg-`+k+`">`) {
				t.Errorf("classify returns key %q without a #msg-%s sentence", k, k)
			}
		}
	}
}

// The keys the Go handlers use exist in every catalog.
func TestPasskeyKeysForHandlers(t *testing.T) {
	keys := []string{
		"passkey.authenticator.default", "passkey.authenticator.security_key", "passkey.authenticator.hybrid",
		"passkey.shared_suffix", "passkey.default_name",
		"notice.passkey_added", "notice.passkey_deleted", "notice.passkey_renamed", "notice.step_up_done",
		"notice.code_sent", "notice.session_ended", "error.passkey_name_invalid",
	}
	for _, lang := range locale.Supported {
		p := locale.Printer(lang)
		for _, k := range keys {
			if !p.Has(k) {
				t.Errorf("%s: missing %s", lang, k)
			}
		}
		if got := p.T("passkey.default_name", "Windows Hello", "Chrome (Windows)"); got != "Windows Hello - Chrome (Windows)" {
			t.Errorf("%s: passkey.default_name = %q", lang, got)
		}
	}
}
