package ui

import (
	"flag"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kagi-auth/kagi/internal/locale"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// A 1×1 PNG stands in for the TOTP QR code.
const sampleQR = template.URL("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

func sampleBase(lang, path string, loggedIn bool) Base {
	p := locale.Printer(lang)
	return Base{
		Lang:         lang,
		Path:         path,
		LoggedIn:     loggedIn,
		CustomerCode: "1234567",
		CallCenter:   p.T("callcenter.default_name"),
		Phone:        "0120-99-1234",
		Hours:        "8:45〜16:00",
		Notice:       "NOTICE-MESSAGE",
		Error:        p.T("error.invalid_code"),
	}
}

// samples returns one filled view per page.
func samples(lang string) map[string]any {
	m := map[string]any{
		"login":              LoginView{Base: sampleBase(lang, "/login", false), CustomerCode: "7654321", PasskeyAvailable: true, Phase: PhaseNotice{Phase: "recommended", MandatoryFrom: sampleDate(lang)}},
		"second_factor":      SecondFactorView{Base: sampleBase(lang, "/login/second-factor", false), Method: "email", MaskedEmail: "ta***@example.jp"},
		"setup_email":        SetupEmailView{Base: sampleBase(lang, "/setup/email", true), Email: "taro@example.jp"},
		"setup_email_verify": SetupEmailVerifyView{Base: sampleBase(lang, "/setup/email/verify", true), Email: "taro@example.jp"},
		"setup_method":       SetupMethodView{Base: sampleBase(lang, "/setup/method", true)},
		"setup_totp":         SetupTOTPView{Base: sampleBase(lang, "/setup/totp", true), QRDataURL: sampleQR, Secret: "JBSW Y3DP EHPK 3PXP"},
		"account": AccountView{Base: sampleBase(lang, "/account", true), Email: "taro@example.jp", SecondFactor: "totp",
			SessionMethod: "password_totp", AuthenticatedAt: "2026年2月9日 9:30", PasskeysAvailable: true, PasskeyCount: 1,
			Phase: PhaseNotice{Phase: "recommended", MandatoryFrom: sampleDate(lang), HasPasskey: true}},
		"passkeys": PasskeysView{Base: sampleBase(lang, "/account/passkeys", true), Passkeys: samplePasskeys(lang),
			Limit: 5, EmailVerified: true, StepUpValid: true, SecondFactor: "email", MaskedEmail: "ta***@example.jp", Signal: sampleSignal()},
		"passkey_delete": PasskeyDeleteView{Base: sampleBase(lang, "/account/passkeys/2/delete", true), Passkey: samplePasskeys(lang)[1]},
		"locked":         LockedView{Base: sampleBase(lang, "/login", false)},
		"guide_start":    GuideView{Base: sampleBase(lang, "/guide/start", false)},
		"error":          ErrorView{Base: sampleBase(lang, "/nowhere", false), Status: 404, Message: "MESSAGE-TEXT"},
	}
	for page, v := range tradeSamples(lang) { // trade_test.go
		m[page] = v
	}
	for page, v := range inquirySamples(lang) { // inquiry_test.go
		m[page] = v
	}
	return m
}

// samplePasskeys covers every kind and state of a passkey row.
func samplePasskeys(lang string) []PasskeyItem {
	p := locale.Printer(lang)
	return []PasskeyItem{
		{ID: 1, Name: "iPhone", Authenticator: "iCloud キーチェーン", Synced: true,
			CreatedAt: "2026年2月9日 9:30", LastUsedAt: "2026年2月12日 8:05", CredentialID: "Y3JlZC1vbmU"},
		{ID: 2, Name: "自宅のパソコン" + p.T("passkey.shared_suffix"), Authenticator: "Windows Hello", Shared: true,
			CreatedAt: "2026年2月10日 20:14", CredentialID: "Y3JlZC10d28"},
		{ID: 3, Name: "YubiKey <5>", Authenticator: p.T("passkey.authenticator.security_key"), Suspended: true,
			CreatedAt: "2026年2月11日 12:00", LastUsedAt: "2026年2月11日 12:01", CredentialID: "Y3JlZC10aHJlZQ"},
	}
}

func sampleSignal() SignalData {
	return SignalData{RPID: "localhost", UserID: "dXNlci1oYW5kbGU", Name: "1234567", DisplayName: "1234567",
		CredentialIDs: []string{"Y3JlZC1vbmU", "Y3JlZC10d28"}}
}

func newRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func render(t testing.TB, r *Renderer, page string, v any) string {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := r.Render(rec, http.StatusOK, page, v); err != nil {
		t.Fatalf("Render %s: %v", page, err)
	}
	return rec.Body.String()
}

var (
	reInlineScript = regexp.MustCompile(`<script\b[^>]*>`)
	reInputID      = regexp.MustCompile(`<input\b[^>]*\bid="([^"]+)"`)
	reKeyPrefixes  = func() *regexp.Regexp {
		seen := map[string]bool{}
		var alts []string
		for _, k := range locale.Keys(locale.Default) {
			p, _, _ := strings.Cut(k, ".")
			if !seen[p] {
				seen[p] = true
				alts = append(alts, regexp.QuoteMeta(p))
			}
		}
		return regexp.MustCompile(`\b(` + strings.Join(alts, "|") + `)\.[a-z0-9_]+`)
	}()
)

// checkPage holds the rules every rendered page must follow.
func checkPage(t *testing.T, lang, body string, b Base) {
	t.Helper()
	if !strings.Contains(body, `<html lang="`+lang+`">`) {
		t.Errorf("no <html lang=%q>", lang)
	}
	for _, bad := range []string{"<no value>", "%!", "ZgotmplZ", "style=", "<style", "javascript:", "onclick", "onload"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, tag := range reInlineScript.FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("inline script: %s", tag)
		}
	}
	if m := reKeyPrefixes.FindString(stripTags(body)); m != "" {
		t.Errorf("untranslated catalog key in text: %q", m)
	}
	if b.Error != "" {
		want := `role="alert" id="page-error"><p>` + template.HTMLEscapeString(b.Error) + `</p>`
		if !strings.Contains(body, want) {
			t.Errorf("Base.Error is not in a role=alert element")
		}
	}
	if b.Notice != "" && !strings.Contains(body, `role="status" id="page-notice"><p>`+template.HTMLEscapeString(b.Notice)+`</p>`) {
		t.Errorf("Base.Notice is not in a role=status element")
	}
	if !strings.Contains(body, `class="skip-link" href="#main"`) || !strings.Contains(body, `<main id="main"`) {
		t.Error("skip link or main landmark missing")
	}
	for _, m := range reInputID.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(body, `for="`+m[1]+`"`) {
			t.Errorf("input #%s has no <label for>", m[1])
		}
	}
	if strings.Count(body, "<h1") != 1 {
		t.Errorf("want exactly one <h1>, got %d", strings.Count(body, "<h1"))
	}
}

var reTag = regexp.MustCompile(`(?s)<[^>]*>`)

func stripTags(s string) string { return reTag.ReplaceAllString(s, " ") }

func TestRenderEveryPage(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range locale.Supported {
		s := samples(lang)
		for _, page := range Pages {
			t.Run(lang+"/"+page, func(t *testing.T) {
				v, ok := s[page]
				if !ok {
					t.Fatalf("no sample for page %s", page)
				}
				rec := httptest.NewRecorder()
				if err := r.Render(rec, http.StatusTeapot, page, v); err != nil {
					t.Fatal(err)
				}
				if rec.Code != http.StatusTeapot {
					t.Errorf("status %d", rec.Code)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
				body := rec.Body.String()
				checkPage(t, lang, body, v.(baser).base())
				checkGolden(t, lang+"_"+page, body)
			})
		}
	}
}

// TestRenderVariants renders the branches the samples do not take.
func TestRenderVariants(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range locale.Supported {
		b := sampleBase(lang, "/x", true)
		b.Error, b.Notice = "", ""
		variants := map[string][]any{
			"login": {
				LoginView{Base: Base{Lang: lang}},
				&LoginView{Base: sampleBase(lang, "/login", false)},
			},
			"second_factor": {SecondFactorView{Base: b, Method: "totp"}},
			"account": {
				AccountView{Base: b, SecondFactor: "email", SessionMethod: "password_email"},
				AccountView{Base: b, SecondFactor: "totp", SessionMethod: "passkey", PasskeysAvailable: true, PasskeyCount: 0},
				AccountView{Base: b, SecondFactor: "email", SessionMethod: "passkey", PasskeysAvailable: true, PasskeyCount: 5},
				AccountView{Base: b, SecondFactor: "email", SessionMethod: "password_email", PasskeysAvailable: true, PasskeyOffer: true, Signal: sampleSignal()},
			},
			"passkeys": {
				PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: true},
				PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: false, SecondFactor: "totp"},
				PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: false, SecondFactor: "email", MaskedEmail: "ta***@example.jp"},
				PasskeysView{Base: b, Limit: 3, EmailVerified: true, StepUpValid: true, LimitReached: true, Passkeys: samplePasskeys(lang)},
				PasskeysView{Base: b, Limit: 5, EmailVerified: false},
				&PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: true, Passkeys: samplePasskeys(lang)[:1], Signal: sampleSignal()},
			},
			"passkey_delete": {
				PasskeyDeleteView{Base: b, Passkey: samplePasskeys(lang)[0]},
				PasskeyDeleteView{Base: b, Passkey: samplePasskeys(lang)[2]},
			},
			"guide_start": {GuideView{Base: b}},
			"error": {
				ErrorView{Base: b, Status: 400}, ErrorView{Base: b, Status: 403}, ErrorView{Base: b, Status: 405},
				ErrorView{Base: b, Status: 418}, ErrorView{Base: b, Status: 429}, ErrorView{Base: b, Status: 500},
				ErrorView{Base: b, Status: 503}, ErrorView{Base: b},
			},
		}
		for page, vs := range variants {
			for i, v := range vs {
				t.Run(fmt.Sprintf("%s/%s/%d", lang, page, i), func(t *testing.T) {
					checkPage(t, lang, render(t, r, page, v), v.(baser).base())
				})
			}
		}
	}
}

func TestLoginPage(t *testing.T) {
	r := newRenderer(t)
	on := render(t, r, "login", LoginView{Base: Base{Lang: "ja", Path: "/login"}, PasskeyAvailable: true})
	off := render(t, r, "login", LoginView{Base: Base{Lang: "ja", Path: "/login"}})
	for _, want := range []string{
		`<form method="post" action="/login"`,
		`name="customer_code"`, `autocomplete="username webauthn"`, `inputmode="numeric"`,
		`name="password"`, `autocomplete="current-password"`,
		`id="passkey-login"`, `type="button"`, "パスキーでログイン",
		`href="/guide/start"`,
	} {
		if !strings.Contains(on, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	btn := regexp.MustCompile(`<button type="button" id="passkey-login"[^>]*>`)
	if tag := btn.FindString(on); strings.Contains(tag, "disabled") {
		t.Errorf("passkey button disabled while available: %s", tag)
	}
	if tag := btn.FindString(off); !strings.Contains(tag, "disabled") || !strings.Contains(off, `id="passkey-soon"`) {
		t.Errorf("passkey button not disabled with a note while unavailable: %s", tag)
	}
	withErr := render(t, r, "login", LoginView{Base: Base{Lang: "ja", Error: "x"}})
	if !strings.Contains(withErr, `aria-describedby="page-error"`) {
		t.Error("login fields are not described by the error banner")
	}
}

func TestSecondFactorPage(t *testing.T) {
	r := newRenderer(t)
	email := render(t, r, "second_factor", SecondFactorView{Base: Base{Lang: "ja"}, Method: "email", MaskedEmail: "a***@b.jp"})
	totp := render(t, r, "second_factor", SecondFactorView{Base: Base{Lang: "ja"}, Method: "totp"})
	for _, body := range []string{email, totp} {
		for _, want := range []string{`action="/login/second-factor"`, `name="code"`, `autocomplete="one-time-code"`, `maxlength="6"`, `inputmode="numeric"`, `action="/logout"`} {
			if !strings.Contains(body, want) {
				t.Errorf("second factor page lacks %q", want)
			}
		}
	}
	if !strings.Contains(email, `action="/login/second-factor/resend"`) || !strings.Contains(email, "a***@b.jp") {
		t.Error("e-mail page lacks the resend form or the masked address")
	}
	if strings.Contains(totp, "/resend") {
		t.Error("TOTP page has a resend form")
	}
}

func TestAccountMethodsLocalized(t *testing.T) {
	r := newRenderer(t)
	cases := []struct{ sf, sm, want1, want2 string }{
		{"totp", "password_totp", "認証アプリ", "パスワード＋認証アプリ"},
		{"email", "password_email", "メール", "パスワード＋メール認証"},
		{"email", "passkey", "メール", "パスキー"},
	}
	for _, c := range cases {
		body := render(t, r, "account", AccountView{Base: Base{Lang: "ja", LoggedIn: true}, SecondFactor: c.sf, SessionMethod: c.sm})
		for _, want := range []string{"<dd>" + c.want1 + "</dd>", "<dd>" + c.want2 + "</dd>", `action="/logout/all"`, "口座情報", "お客様情報", `aria-current="page">登録情報照会`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s/%s: account page lacks %q", c.sf, c.sm, want)
			}
		}
		if strings.Contains(body, `href="/account/passkeys"`) {
			t.Error("passkey link shown while passkeys are unavailable")
		}
	}
	body := render(t, r, "account", AccountView{Base: Base{Lang: "ja", LoggedIn: true}, PasskeysAvailable: true, PasskeyCount: 2})
	if !strings.Contains(body, `href="/account/passkeys"`) || !strings.Contains(body, "2件") {
		t.Error("passkey section lacks the link or count")
	}
}

func TestLanguageSwitch(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, "guide_start", GuideView{Base: Base{Lang: "en", Path: "/guide/start?x=1"}})
	if !strings.Contains(body, `href="/guide/start?lang=ja&amp;x=1" lang="ja" hreflang="ja">`) {
		t.Error("no link to the Japanese page")
	}
	if !strings.Contains(body, `href="/guide/start?lang=en&amp;x=1" lang="en" hreflang="en" aria-current="true">`) {
		t.Error("English link is not marked current")
	}
	// An unsupported language renders in Japanese.
	if body := render(t, r, "guide_start", GuideView{Base: Base{Lang: "fr"}}); !strings.Contains(body, `<html lang="ja">`) {
		t.Error("unsupported Lang did not fall back to ja")
	}
}

func TestLangURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/?lang=en",
		"/login":               "/login?lang=en",
		"/login?lang=ja&a=b":   "/login?a=b&lang=en",
		"/a#frag":              "/a?lang=en",
		"//evil.example/x":     "/?lang=en",
		"https://evil.example": "/?lang=en",
		"javascript:alert(1)":  "/?lang=en",
		`/\evil.example`:       "/?lang=en",
		"relative":             "/?lang=en",
	} {
		if got := langURL(in, "en"); got != want {
			t.Errorf("langURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTelURL(t *testing.T) {
	for in, want := range map[string]template.URL{
		"0120-99-1234":    "tel:0120991234",
		"+81 3-1234-5678": "tel:+81312345678",
		"０１２０−９９":         "tel:012099",
		"":                "",
		"call us":         "",
	} {
		if got := telURL(in); got != want {
			t.Errorf("telURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	if err := r.Render(rec, 200, "nope", LoginView{}); err == nil {
		t.Error("unknown page: no error")
	}
	if err := r.Render(rec, 200, "login", struct{}{}); err == nil {
		t.Error("view without Base: no error")
	}
	if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Error("a failed render wrote to the response")
	}
	// A plain Base renders too.
	if err := r.Render(httptest.NewRecorder(), 200, "locked", Base{Lang: "en"}); err != nil {
		t.Errorf("Base as view: %v", err)
	}
}

// TestTemplateKeysExist: every literal catalog key in the templates exists
// in every catalog.
func TestTemplateKeysExist(t *testing.T) {
	r := newRenderer(t)
	reAction := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	reKey := regexp.MustCompile(`"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, action := range reAction.FindAllString(string(data), -1) {
			for _, m := range reKey.FindAllStringSubmatch(action, -1) {
				key := m[1]
				if _, isAsset := r.assets.byName[key]; isAsset {
					continue
				}
				for _, lang := range locale.Supported {
					if !locale.Printer(lang).Has(key) {
						t.Errorf("%s: key %q missing from %s.json", p, key, lang)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStaticHandler(t *testing.T) {
	r := newRenderer(t)
	h := r.StaticHandler()
	get := func(method, target string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	u := r.AssetURL("app.css")
	if !regexp.MustCompile(`^/static/app\.css\?v=[0-9a-f]{16}$`).MatchString(u) {
		t.Fatalf("AssetURL = %q", u)
	}
	rec := get("GET", u)
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d", u, rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", cc)
	}
	if !strings.Contains(rec.Body.String(), "--navy-900") {
		t.Error("body is not app.css")
	}
	etag := rec.Header().Get("ETag")

	if rec := get("GET", "/static/app.css"); rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if rec := get("GET", "/static/app.css?v=0000000000000000"); rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("stale version cached as immutable")
	}
	if rec := get("GET", "/static/app.css", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
	if rec := get("HEAD", u); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if rec := get("GET", r.AssetURL("favicon.svg")); rec.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon Content-Type %q", rec.Header().Get("Content-Type"))
	}
	for _, p := range []string{"/static/nope.css", "/static/", "/static/../render.go", "/static/./app.css", "/static/templates/layout.html", "/static//app.css"} {
		if rec := get("GET", p); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := get("POST", u); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
	if got := r.AssetURL("js/none.js"); got != "/static/js/none.js" {
		t.Errorf("unknown AssetURL = %q", got)
	}
}

// TestPagesUseVersionedAssets: the layout links the stylesheet by its
// versioned URL, which the static handler serves.
func TestPagesUseVersionedAssets(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, "login", LoginView{Base: Base{Lang: "ja"}})
	want := `<link rel="stylesheet" href="` + template.HTMLEscapeString(r.AssetURL("app.css")) + `">`
	if !strings.Contains(body, want) {
		t.Errorf("stylesheet link missing: want %s", want)
	}
}

var reVersion = regexp.MustCompile(`\?v=[0-9a-f]{16}`)

// checkGolden compares body with testdata/<name>.html (asset hashes masked);
// go test -update rewrites the files.
func checkGolden(t *testing.T, name, body string) {
	t.Helper()
	body = reVersion.ReplaceAllString(body, "?v=HASH")
	path := filepath.Join("testdata", name+".html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != body {
		t.Errorf("%s differs from the golden file; review and run go test ./internal/web/ui -update", path)
	}
}

var preview = flag.String("preview", "", "write every page as static HTML (with app.css) into this directory, to look at in a browser")

// TestPreview writes the sample pages for eyeballing:
//
//	go test ./internal/web/ui -run TestPreview -preview /tmp/ui-preview
func TestPreview(t *testing.T) {
	if *preview == "" {
		t.Skip("no -preview directory")
	}
	r := newRenderer(t)
	if err := os.MkdirAll(*preview, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, a := range r.assets.byName {
		p := filepath.Join(*preview, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, a.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, page string, v any) {
		body := render(t, r, page, v)
		body = reVersion.ReplaceAllString(body, "")
		body = strings.ReplaceAll(body, `"/static/`, `"`)
		if err := os.WriteFile(filepath.Join(*preview, name+".html"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range locale.Supported {
		for page, v := range samples(lang) {
			write(lang+"_"+page, page, v)
		}
		b := sampleBase(lang, "/login", false)
		b.Error, b.Notice = "", ""
		write(lang+"_login_plain", "login", LoginView{Base: b})
		write(lang+"_second_factor_totp", "second_factor", SecondFactorView{Base: b, Method: "totp"})
		b.LoggedIn = true
		write(lang+"_account_offer", "account", AccountView{Base: b, Email: "taro@example.jp", SecondFactor: "email", SessionMethod: "password_email", AuthenticatedAt: "2026年2月9日 9:30", PasskeysAvailable: true, PasskeyOffer: true})
		write(lang+"_passkeys_empty", "passkeys", PasskeysView{Base: b, Limit: 5, EmailVerified: true, StepUpValid: true})
		write(lang+"_passkeys_totp", "passkeys", PasskeysView{Base: b, Limit: 5, EmailVerified: true, SecondFactor: "totp", Passkeys: samplePasskeys(lang)[:1]})
		write(lang+"_passkeys_email", "passkeys", PasskeysView{Base: b, Limit: 5, EmailVerified: true, SecondFactor: "email", MaskedEmail: "ta***@example.jp"})
		write(lang+"_passkeys_limit", "passkeys", PasskeysView{Base: b, Limit: 3, EmailVerified: true, StepUpValid: true, LimitReached: true, Passkeys: samplePasskeys(lang)})
		write(lang+"_passkeys_noemail", "passkeys", PasskeysView{Base: b, Limit: 5})
		write(lang+"_account_soon", "account", AccountView{Base: b, Email: "taro.yamada.longaddress@example-securities.co.jp", SecondFactor: "email", SessionMethod: "password_email", AuthenticatedAt: "2026年2月9日 9:30"})
	}
}
