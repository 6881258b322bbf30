package web_test

// Passkeys through the JSON API (issue 3, SPEC section 2, K1–K14), driven with
// the software authenticator of internal/testenv.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// ---- helpers

// pkJSON is one passkey of GET /api/passkeys and of POST /api/passkeys.
type pkJSON struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Authenticator string     `json:"authenticator"`
	Synced        bool       `json:"synced"`
	Shared        bool       `json:"shared"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	CredentialID  string     `json:"credential_id"`
}

type pkList struct {
	Passkeys []pkJSON `json:"passkeys"`
	Limit    int      `json:"limit"`
}

// wantResp is wantStatus for testing.TB (helpers shared with the benchmark),
// and it also requires a localized detail, not a bare catalog key.
func wantResp(tb testing.TB, r *testenv.Response, status int, code string) {
	tb.Helper()
	if r.StatusCode != status {
		tb.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	if code != "" {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			tb.Fatalf("%s: content type %q, want problem+json", r.Request.URL.Path, ct)
		}
		if got := r.Str("code"); got != code {
			tb.Fatalf("%s: code %q, want %q; body %s", r.Request.URL.Path, got, code, r.Body)
		}
		if d := r.Str("detail"); d == "" || strings.HasPrefix(d, "error.") {
			tb.Fatalf("%s: problem without a localized detail: %s", r.Request.URL.Path, r.Body)
		}
	}
}

// wantProblem checks a 4xx problem whose code is one of codes.
func wantProblem(tb testing.TB, r *testenv.Response, status int, codes ...string) {
	tb.Helper()
	if r.StatusCode != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") ||
		!slices.Contains(codes, r.Str("code")) || r.Str("detail") == "" || strings.HasPrefix(r.Str("detail"), "error.") {
		tb.Fatalf("%s %s: %d %s %s, want %d problem with code in %v", r.Request.Method, r.Request.URL.Path,
			r.StatusCode, r.Header.Get("Content-Type"), r.Body, status, codes)
	}
}

func decodeJSON[T any](tb testing.TB, r *testenv.Response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("%s: %v: %s", r.Request.URL.Path, err, r.Body)
	}
	return v
}

// loggedInTOTP creates a TOTP customer and logs them in with password and
// code; the fresh login counts as re-verification for the step-up window.
func loggedInTOTP(tb testing.TB, e *testenv.Env, code string) (*store.Customer, string, *testenv.Client) {
	tb.Helper()
	cust, secret := e.Customer(auth.NewCustomer{Code: code, Password: pw, Email: code + "@example.jp", SecondFactor: "totp"})
	c := e.Client()
	wantResp(tb, c.PostJSON("/api/login/password", map[string]string{"customer_code": code, "password": pw}), 200, "")
	e.Clock.Advance(30 * time.Second)
	wantResp(tb, c.PostJSON("/api/login/second-factor", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
	return cust, secret, c
}

func stepUpTOTP(tb testing.TB, e *testenv.Env, c *testenv.Client, secret string) {
	tb.Helper()
	e.Clock.Advance(30 * time.Second) // a fresh TOTP step
	wantResp(tb, c.PostJSON("/api/step-up", map[string]string{"code": auth.TOTPCode(secret, e.Clock.Now())}), 200, "")
}

// regOptions begins a registration and returns {"publicKey":{...}}.
func regOptions(tb testing.TB, c *testenv.Client, body any) []byte {
	tb.Helper()
	r := c.PostJSON("/api/passkeys/options", body)
	wantResp(tb, r, 200, "")
	return r.Body
}

func finishReg(c *testenv.Client, resp []byte, query string) *testenv.Response {
	return c.Do("POST", "/api/passkeys"+query, "application/json", resp)
}

// registerPasskey registers a passkey on a; it fails the test unless 201.
func registerPasskey(tb testing.TB, c *testenv.Client, a *testenv.Authenticator, mods ...testenv.Mod) (pkJSON, *testenv.Credential) {
	tb.Helper()
	resp, cred := a.Register(regOptions(tb, c, map[string]any{}), mods...)
	r := finishReg(c, resp, "")
	wantResp(tb, r, 201, "")
	return decodeJSON[pkJSON](tb, r), cred
}

func loginOptions(tb testing.TB, c *testenv.Client) []byte {
	tb.Helper()
	r := c.PostJSON("/api/login/passkey/options", map[string]any{})
	wantResp(tb, r, 200, "")
	return r.Body
}

func postAssertion(c *testenv.Client, resp []byte) *testenv.Response {
	return c.Do("POST", "/api/login/passkey", "application/json", resp)
}

// passkeyLogin logs in with cred from a fresh browser and returns the answer.
func passkeyLogin(tb testing.TB, e *testenv.Env, a *testenv.Authenticator, cred *testenv.Credential, mods ...testenv.Mod) (*testenv.Client, *testenv.Response) {
	tb.Helper()
	c := e.Client()
	return c, postAssertion(c, a.Login(loginOptions(tb, c), cred, mods...))
}

// wantPasskeySession checks the browser is logged in as code with passkey id.
func wantPasskeySession(tb testing.TB, c *testenv.Client, code string, id int64) {
	tb.Helper()
	s := c.Get("/api/session")
	wantResp(tb, s, 200, "")
	var got struct {
		CustomerCode string `json:"customer_code"`
		Stage        string `json:"stage"`
		Method       string `json:"method"`
		PasskeyID    int64  `json:"passkey_id"`
	}
	_ = json.Unmarshal(s.Body, &got)
	if got.CustomerCode != code || got.Method != "passkey" || got.PasskeyID != id || got.Stage != "full" {
		tb.Fatalf("session %s, want %s by passkey %d", s.Body, code, id)
	}
}

// wantNoSession checks the browser is not logged in.
func wantNoSession(tb testing.TB, c *testenv.Client) {
	tb.Helper()
	if s := c.Get("/api/session"); s.StatusCode == 200 && s.Str("stage") == "full" {
		tb.Fatalf("logged in: %s", s.Body)
	}
}

func listPasskeys(tb testing.TB, c *testenv.Client) pkList {
	tb.Helper()
	r := c.Get("/api/passkeys")
	wantResp(tb, r, 200, "")
	return decodeJSON[pkList](tb, r)
}

func storedPasskeys(tb testing.TB, e *testenv.Env, customerID int64) []*store.Passkey {
	tb.Helper()
	ps, err := e.Store.PasskeysByCustomer(context.Background(), customerID, true)
	if err != nil {
		tb.Fatal(err)
	}
	return ps
}

func storedPasskey(tb testing.TB, e *testenv.Env, id int64) *store.Passkey {
	tb.Helper()
	p, err := e.Store.PasskeyByID(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// counts reads the number of passkeys, sessions and ceremonies straight from
// the database, to prove a refused request stored nothing.
type counts struct{ passkeys, sessions, ceremonies int }

func dbCounts(tb testing.TB, e *testenv.Env) counts {
	tb.Helper()
	// The export's row counts, so that the check works on either backend.
	db, ok := e.Store.(*sqlstore.DB)
	if !ok {
		tb.Fatalf("store is a %T", e.Store)
	}
	tables, err := db.Export(context.Background(), io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	var n counts
	for _, t := range tables {
		switch t.Table {
		case "passkeys":
			n.passkeys = t.Rows
		case "sessions":
			n.sessions = t.Rows
		case "ceremonies":
			n.ceremonies = t.Rows
		}
	}
	return n
}

// waitMail waits for a mail to addr whose subject contains part.
func waitMailSubject(tb testing.TB, e *testenv.Env, addr, part string) testenv.DevMail {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range e.Mails(addr) {
			if strings.Contains(m.Subject, part) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("no mail to %s with %q in the subject; mails: %+v", addr, part, e.Mails(addr))
	return testenv.DevMail{}
}

func mailsWith(e *testenv.Env, addr, part string) int {
	n := 0
	for _, m := range e.Mails(addr) {
		if strings.Contains(m.Subject, part) {
			n++
		}
	}
	return n
}

func parseAAGUID(s string) [16]byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("bad AAGUID " + s)
	}
	return [16]byte(b)
}

// AAGUIDs of ../shared/data/passkey-aaguids.json (internal/aaguid).
const (
	aaguidApple   = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd" // Apple Passwords
	aaguidGoogle  = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4" // Google Password Manager
	aaguidWindows = "08987058-cadc-4b81-b6e1-30de50dcbe96" // Windows Hello
)

// creationOptions is the part of PublicKeyCredentialCreationOptionsJSON the tests inspect.
type creationOptions struct {
	Mediation string `json:"mediation"`
	PublicKey struct {
		RP struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
		Challenge        string `json:"challenge"`
		PubKeyCredParams []struct {
			Type string `json:"type"`
			Alg  int64  `json:"alg"`
		} `json:"pubKeyCredParams"`
		Timeout                int64 `json:"timeout"`
		AuthenticatorSelection struct {
			ResidentKey        string `json:"residentKey"`
			RequireResidentKey bool   `json:"requireResidentKey"`
			UserVerification   string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		ExcludeCredentials []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

type requestOptions struct {
	Mediation string `json:"mediation"`
	PublicKey struct {
		Challenge        string            `json:"challenge"`
		Timeout          int64             `json:"timeout"`
		RPID             string            `json:"rpId"`
		AllowCredentials []json.RawMessage `json:"allowCredentials"`
		UserVerification string            `json:"userVerification"`
	} `json:"publicKey"`
}

func b64d(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func excluded(o creationOptions) []string {
	var ids []string
	for _, c := range o.PublicKey.ExcludeCredentials {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// ---- K5, K9: registration and discoverable login end to end

// K1, K2, K5, K6, K9: a logged-in customer registers a passkey (the fresh
// login is the re-verification); any browser then logs in with it, with no
// customer code, password or one-time code.
func TestPasskeyRegisterAndLogin_K5_K9(t *testing.T) {
	e := testenv.New(t)
	cust, _, c := loggedInTOTP(t, e, "60000001")
	addr := "60000001@example.jp"

	l := listPasskeys(t, c)
	if len(l.Passkeys) != 0 || l.Limit != 5 {
		t.Fatalf("list before: %+v", l)
	}

	// The creation options (K2, K4, K7).
	raw := regOptions(t, c, map[string]any{})
	var o creationOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	host := strings.TrimPrefix(e.URL, "http://")
	host = host[:strings.IndexByte(host, ':')]
	if pk.RP.ID != host || pk.RP.ID != "localhost" {
		t.Errorf("rp.id %q, want the origin's host", pk.RP.ID)
	}
	if uid := b64d(t, pk.User.ID); !bytes.Equal(uid, cust.UserHandle) || len(uid) < 32 || bytes.Contains(uid, []byte(cust.Code)) {
		t.Errorf("user.id %x: want the customer's random user handle", uid)
	}
	if len(b64d(t, pk.Challenge)) < 16 {
		t.Errorf("challenge %q too short", pk.Challenge)
	}
	if pk.AuthenticatorSelection.ResidentKey != "required" || pk.AuthenticatorSelection.UserVerification != "required" {
		t.Errorf("authenticatorSelection %+v", pk.AuthenticatorSelection)
	}
	var algs []int64
	for _, p := range pk.PubKeyCredParams {
		if p.Type == "public-key" {
			algs = append(algs, p.Alg)
		}
	}
	for _, a := range []int64{-7, -257, -8} {
		if !slices.Contains(algs, a) {
			t.Errorf("pubKeyCredParams %v lacks %d", algs, a)
		}
	}
	if len(pk.ExcludeCredentials) != 0 {
		t.Errorf("excludeCredentials of a customer without passkeys: %+v", pk.ExcludeCredentials)
	}
	if pk.Timeout <= 0 || pk.Timeout > int64(5*time.Minute/time.Millisecond) {
		t.Errorf("timeout %d ms", pk.Timeout)
	}

	a := e.Authenticator(testenv.AuthenticatorOptions{AAGUID: parseAAGUID(aaguidApple), BE: true, BS: true})
	resp, cred := a.Register(raw)
	r := finishReg(c, resp, "")
	wantResp(t, r, 201, "")
	p := decodeJSON[pkJSON](t, r)
	if p.ID == 0 || p.Name == "" || p.Authenticator != "Apple Passwords" || !p.Synced || p.CreatedAt.IsZero() || p.LastUsedAt != nil {
		t.Fatalf("new passkey: %s", r.Body)
	}
	if !p.CreatedAt.Equal(e.Clock.Now()) {
		t.Errorf("created_at %v, want %v", p.CreatedAt, e.Clock.Now())
	}
	l = listPasskeys(t, c)
	if len(l.Passkeys) != 1 || l.Passkeys[0].ID != p.ID || l.Passkeys[0].Name != p.Name {
		t.Fatalf("list after: %+v", l)
	}
	sp := storedPasskey(t, e, p.ID)
	if sp.CustomerID != cust.ID || !bytes.Equal(sp.CredentialID, cred.ID) || sp.SignCount != 1 || !sp.BackupEligible || !sp.BackupState {
		t.Fatalf("stored: %+v", sp)
	}
	if !slices.Contains(e.Audit(cust.ID), "passkey.registered") {
		t.Errorf("audit: %v", e.Audit(cust.ID))
	}
	// Issue 3 mails: which authenticator, when, from where; no links.
	m := waitMailSubject(t, e, addr, "パスキー登録のお知らせ")
	for _, s := range []string{"Apple Passwords", "127.0.0.1", "Chrome"} {
		if !strings.Contains(m.Body, s) {
			t.Errorf("registration mail lacks %q:\n%s", s, m.Body)
		}
	}
	if strings.Contains(m.Body, "http://") || strings.Contains(m.Body, "https://") {
		t.Errorf("registration mail has a link:\n%s", m.Body)
	}

	// K5: discoverable login from another browser.
	e.Clock.Advance(time.Minute)
	c2 := e.Client()
	ro := loginOptions(t, c2)
	var req requestOptions
	if err := json.Unmarshal(ro, &req); err != nil {
		t.Fatal(err)
	}
	if len(req.PublicKey.AllowCredentials) != 0 || req.PublicKey.UserVerification != "required" ||
		len(b64d(t, req.PublicKey.Challenge)) < 16 || (req.PublicKey.RPID != "" && req.PublicKey.RPID != "localhost") {
		t.Fatalf("request options: %s", ro)
	}
	// K9: challenges are random per ceremony.
	if again := loginOptions(t, e.Client()); bytes.Contains(again, []byte(req.PublicKey.Challenge)) {
		t.Fatal("the same challenge twice")
	}
	r = postAssertion(c2, a.Login(ro, cred))
	wantResp(t, r, 200, "")
	if r.Str("next") != "done" {
		t.Fatalf("passkey login: %s", r.Body)
	}
	wantPasskeySession(t, c2, "60000001", p.ID)
	l = listPasskeys(t, c2)
	if got := l.Passkeys[0].LastUsedAt; got == nil || !got.Equal(e.Clock.Now()) {
		t.Errorf("last_used_at %v, want %v", got, e.Clock.Now())
	}
	if sp := storedPasskey(t, e, p.ID); sp.SignCount != 2 {
		t.Errorf("stored counter %d, want 2", sp.SignCount)
	}
	// K5: the autofill (conditional mediation) ceremony works alike.
	c3 := e.Client()
	cr := c3.PostJSON("/api/login/passkey/options", map[string]string{"mediation": "conditional"})
	wantResp(t, cr, 200, "")
	if err := json.Unmarshal(cr.Body, &req); err != nil || req.PublicKey.Challenge == "" || len(req.PublicKey.AllowCredentials) != 0 {
		t.Fatalf("conditional options: %s", cr.Body)
	}
	wantResp(t, postAssertion(c3, a.Login(cr.Body, cred)), 200, "")
	wantPasskeySession(t, c3, "60000001", p.ID)
	wantProblem(t, c3.PostJSON("/api/login/passkey/options", map[string]string{"mediation": "silent"}), 400, "invalid_request")
}

// ---- K2: prerequisites of registration

// K2 (Check2): registration needs a re-verification with the current second
// factor within the window (default 5 minutes); a fresh login counts as one.
func TestPasskeyStepUpTOTP_K2(t *testing.T) {
	e := testenv.New(t)
	cust, secret, c := loggedInTOTP(t, e, "60000011")

	// Within 5 minutes of the login, registration may begin.
	e.Clock.Advance(4*time.Minute + 29*time.Second)
	regOptions(t, c, map[string]any{})
	e.Clock.Advance(time.Minute)
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
	wantResp(t, c.PostJSON("/api/step-up", map[string]string{"code": "000000"}), 401, "invalid_code")
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
	stepUpTOTP(t, e, c, secret)
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	registerPasskey(t, c, a)
	if ev := e.Audit(cust.ID); !slices.Contains(ev, "step_up.ok") || !slices.Contains(ev, "step_up.fail") {
		t.Errorf("audit: %v", ev)
	}
	// The window covers every registration begun within it.
	e.Clock.Advance(4 * time.Minute)
	registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	e.Clock.Advance(time.Minute)
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
	// The same TOTP code cannot re-verify twice (A5).
	e.Clock.Advance(30 * time.Second)
	code := auth.TOTPCode(secret, e.Clock.Now())
	wantResp(t, c.PostJSON("/api/step-up", map[string]string{"code": code}), 200, "")
	wantResp(t, c.PostJSON("/api/step-up", map[string]string{"code": code}), 401, "invalid_code")

	// Not logged in: no step-up, no registration.
	anon := e.Client()
	wantResp(t, anon.PostJSON("/api/step-up", map[string]string{"code": code}), 401, "not_authenticated")
	wantResp(t, anon.PostJSON("/api/passkeys/options", map[string]any{}), 401, "not_authenticated")
	wantResp(t, anon.Get("/api/passkeys"), 401, "not_authenticated")
	// A TOTP customer has no e-mailed step-up code.
	if r := c.PostJSON("/api/step-up/send-code", nil); r.StatusCode < 400 || r.StatusCode >= 500 {
		t.Errorf("send-code for a TOTP customer: %d %s", r.StatusCode, r.Body)
	}
}

// K2: the window is configurable (--step-up-window).
func TestPasskeyStepUpWindowConfigurable_K2(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.StepUpWindow = 10 * time.Minute })
	_, _, c := loggedInTOTP(t, e, "60000012")
	e.Clock.Advance(9 * time.Minute)
	regOptions(t, c, map[string]any{})
	e.Clock.Advance(time.Minute + time.Second)
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
}

// K2 (Check2) for an e-mail customer: the step-up code comes by mail.
func TestPasskeyStepUpEmail_K2(t *testing.T) {
	e := testenv.New(t)
	addr := "hanako6@example.jp"
	cust, _ := e.Customer(auth.NewCustomer{Code: "60000021", Password: pw, Email: addr})
	c := e.Client()
	wantResp(t, c.PostJSON("/api/login/password", map[string]string{"customer_code": "60000021", "password": pw}), 200, "")
	wantResp(t, c.PostJSON("/api/login/second-factor", map[string]string{"code": e.MailCode(addr, 0)}), 200, "")

	e.Clock.Advance(5*time.Minute + time.Second)
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
	wantResp(t, c.PostJSON("/api/step-up/send-code", nil), 202, "")
	m := waitMailSubject(t, e, addr, "本人確認コード")
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(m.Body)
	if code == "" {
		t.Fatalf("no code in %s", m.Body)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantResp(t, c.PostJSON("/api/step-up", map[string]string{"code": wrong}), 401, "invalid_code")
	wantResp(t, c.PostJSON("/api/step-up", map[string]string{"code": code}), 200, "")
	p, _ := registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	// A used code does not re-verify again.
	e.Clock.Advance(5*time.Minute + time.Second)
	wantProblem(t, c.PostJSON("/api/step-up", map[string]string{"code": code}), 401, "invalid_code", "code_expired")
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 403, "step_up_required")
	if ps := storedPasskeys(t, e, cust.ID); len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("stored: %+v", ps)
	}
}

// K2 (Check1): no verified e-mail → 412 email_not_verified, both for a
// customer still in initial setup and for a logged-in one whose address is
// not verified.
func TestPasskeyEmailNotVerified_K2(t *testing.T) {
	e := testenv.New(t)
	t.Run("initial setup", func(t *testing.T) {
		e.Customer(auth.NewCustomer{Code: "60000031", Password: pw})
		c := e.Client()
		r := c.PostJSON("/api/login/password", map[string]string{"customer_code": "60000031", "password": pw})
		wantResp(t, r, 200, "")
		if r.Str("next") != "setup" {
			t.Fatalf("next: %s", r.Body)
		}
		wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 412, "email_not_verified")
	})
	t.Run("unverified address", func(t *testing.T) {
		cust, _, c := loggedInTOTP(t, e, "60000032")
		if err := e.Store.SetEmail(context.Background(), cust.ID, cust.Email, time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 412, "email_not_verified")
		if n := dbCounts(t, e); n.passkeys != 0 {
			t.Fatalf("%d passkeys", n.passkeys)
		}
	})
}

// ---- K3: at most 5 passkeys

// K3: the 6th passkey is refused before the prompt and again at finish: two
// ceremonies begun at 4 passkeys cannot both finish.
func TestPasskeyLimit_K3(t *testing.T) {
	e := testenv.New(t)
	cust, secret, c := loggedInTOTP(t, e, "60000041")
	var ids []int64
	for range 4 {
		p, _ := registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
		ids = append(ids, p.ID)
	}
	if l := listPasskeys(t, c); len(l.Passkeys) != 4 || l.Limit != 5 {
		t.Fatalf("list: %+v", l)
	}
	// Two ceremonies at 4 passkeys (e.g. two tabs).
	o1, o2 := regOptions(t, c, map[string]any{}), regOptions(t, c, map[string]any{})
	r1, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(o1)
	r2, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(o2)
	wantResp(t, finishReg(c, r1, ""), 201, "")
	before := dbCounts(t, e)
	r := finishReg(c, r2, "")
	wantResp(t, r, 409, "passkey_limit_reached")
	if !strings.Contains(r.Str("detail"), "5") {
		t.Errorf("detail does not say the limit: %s", r.Body)
	}
	if after := dbCounts(t, e); after.passkeys != before.passkeys || after.passkeys != 5 {
		t.Fatalf("passkeys %d -> %d", before.passkeys, after.passkeys)
	}
	// Before the prompt.
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 409, "passkey_limit_reached")
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{"shared": true}), 409, "passkey_limit_reached")
	if n := len(storedPasskeys(t, e, cust.ID)); n != 5 {
		t.Fatalf("%d stored", n)
	}
	// Deleting one frees a place.
	wantResp(t, c.Do("DELETE", fmt.Sprintf("/api/passkeys/%d", ids[0]), "", nil), 204, "")
	e.Clock.Advance(5 * time.Minute)
	stepUpTOTP(t, e, c, secret)
	registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 409, "passkey_limit_reached")
}

// K3: the limit is configurable (--passkey-limit).
func TestPasskeyLimitConfigurable_K3(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.PasskeyLimit = 1 })
	_, _, c := loggedInTOTP(t, e, "60000042")
	registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	if l := listPasskeys(t, c); l.Limit != 1 {
		t.Fatalf("limit %d", l.Limit)
	}
	wantResp(t, c.PostJSON("/api/passkeys/options", map[string]any{}), 409, "passkey_limit_reached")
}

// ---- K4: shared PCs, user handles, exclusion, uniqueness

// K4: two customers register on one authenticator (a family PC); each login
// lands in its own account; user handles are random and never the customer
// code; excludeCredentials lists only the customer's own passkeys.
func TestPasskeySharedAuthenticator_K4(t *testing.T) {
	e := testenv.New(t)
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	custA, _, ca := loggedInTOTP(t, e, "60000051")
	custB, _, cb := loggedInTOTP(t, e, "60000052")

	var oa, ob creationOptions
	rawA := regOptions(t, ca, map[string]any{})
	rawB := regOptions(t, cb, map[string]any{})
	_ = json.Unmarshal(rawA, &oa)
	_ = json.Unmarshal(rawB, &ob)
	ha, hb := b64d(t, oa.PublicKey.User.ID), b64d(t, ob.PublicKey.User.ID)
	for _, h := range [][]byte{ha, hb} {
		if len(h) < 32 || bytes.Contains(h, []byte("6000005")) {
			t.Fatalf("user handle %x (%q)", h, h)
		}
	}
	if bytes.Equal(ha, hb) || !bytes.Equal(ha, custA.UserHandle) || !bytes.Equal(hb, custB.UserHandle) {
		t.Fatal("user handles not per customer")
	}
	// The handle stays the customer's for every ceremony.
	var again creationOptions
	_ = json.Unmarshal(regOptions(t, ca, map[string]any{}), &again)
	if again.PublicKey.User.ID != oa.PublicKey.User.ID {
		t.Fatal("user handle changed between ceremonies")
	}

	respA, credA := a.Register(rawA)
	wantResp(t, finishReg(ca, respA, ""), 201, "")
	respB, credB := a.Register(rawB) // A's credential is not excluded for B
	wantResp(t, finishReg(cb, respB, ""), 201, "")
	if len(a.Credentials()) != 2 {
		t.Fatalf("authenticator holds %d credentials", len(a.Credentials()))
	}
	pa, pb := listPasskeys(t, ca).Passkeys, listPasskeys(t, cb).Passkeys
	if len(pa) != 1 || len(pb) != 1 || pa[0].ID == pb[0].ID {
		t.Fatalf("lists %+v %+v", pa, pb)
	}

	// Each login lands in its own account (the browser's account chooser picks).
	c1, r := passkeyLogin(t, e, a, credA)
	wantResp(t, r, 200, "")
	wantPasskeySession(t, c1, "60000051", pa[0].ID)
	c2, r := passkeyLogin(t, e, a, credB)
	wantResp(t, r, 200, "")
	wantPasskeySession(t, c2, "60000052", pb[0].ID)

	// excludeCredentials: own passkeys only.
	_ = json.Unmarshal(regOptions(t, ca, map[string]any{}), &oa)
	_ = json.Unmarshal(regOptions(t, cb, map[string]any{}), &ob)
	if got := excluded(oa); !slices.Equal(got, []string{credA.IDString()}) {
		t.Errorf("A's excludeCredentials %v, want only %s", got, credA.IDString())
	}
	if got := excluded(ob); !slices.Equal(got, []string{credB.IDString()}) {
		t.Errorf("B's excludeCredentials %v, want only %s", got, credB.IDString())
	}
	// The browser refuses to create a second passkey of A on this authenticator.
	if _, _, err := a.TryRegister(regOptions(t, ca, map[string]any{})); !errors.Is(err, testenv.ErrExcluded) {
		t.Errorf("excluded registration: %v", err)
	}
	// Two passkeys of A on two devices: both excluded.
	credA2 := func() *testenv.Credential {
		_, cr := registerPasskey(t, ca, e.Authenticator(testenv.AuthenticatorOptions{}))
		return cr
	}()
	_ = json.Unmarshal(regOptions(t, ca, map[string]any{}), &oa)
	wantIDs := []string{credA.IDString(), credA2.IDString()}
	slices.Sort(wantIDs)
	if got := excluded(oa); !slices.Equal(got, wantIDs) {
		t.Errorf("A's excludeCredentials %v, want %v", got, wantIDs)
	}
	// A deleted passkey is no longer excluded.
	wantResp(t, ca.Do("DELETE", fmt.Sprintf("/api/passkeys/%d", pa[0].ID), "", nil), 204, "")
	_ = json.Unmarshal(regOptions(t, ca, map[string]any{}), &oa)
	if got := excluded(oa); !slices.Equal(got, []string{credA2.IDString()}) {
		t.Errorf("A's excludeCredentials after delete %v, want %s", got, credA2.IDString())
	}
}

// K4: a credential ID is bound to one customer for ever: the same credential
// cannot be registered twice, nor by another customer.
func TestPasskeyCredentialUnique_K4(t *testing.T) {
	e := testenv.New(t)
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	custA, _, ca := loggedInTOTP(t, e, "60000061")
	custB, _, cb := loggedInTOTP(t, e, "60000062")
	pa, credA := registerPasskey(t, ca, a)

	// The implementation answers passkey_already_registered (400 or 409).
	duplicate := func(t *testing.T, r *testenv.Response) {
		t.Helper()
		if r.StatusCode != 409 {
			wantProblem(t, r, 400, "passkey_already_registered")
		} else {
			wantProblem(t, r, 409, "passkey_already_registered")
		}
	}
	before := dbCounts(t, e)
	t.Run("again by the same customer", func(t *testing.T) {
		// A client ignoring excludeCredentials.
		resp, _ := a.Register(regOptions(t, ca, map[string]any{}), testenv.ReuseCredential(credA))
		duplicate(t, finishReg(ca, resp, ""))
	})
	t.Run("by another customer", func(t *testing.T) {
		resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, cb, map[string]any{}), testenv.ReuseCredential(credA))
		duplicate(t, finishReg(cb, resp, ""))
	})
	t.Run("A's credential ID with another key", func(t *testing.T) {
		b := e.Authenticator(testenv.AuthenticatorOptions{})
		_, fresh := b.Register(regOptions(t, cb, map[string]any{})) // never sent
		forged := *fresh
		forged.ID = slices.Clone(credA.ID)
		resp, _ := b.Register(regOptions(t, cb, map[string]any{}), testenv.ReuseCredential(&forged))
		duplicate(t, finishReg(cb, resp, ""))
	})
	if after := dbCounts(t, e); after.passkeys != before.passkeys {
		t.Fatalf("passkeys %d -> %d", before.passkeys, after.passkeys)
	}
	if ps := storedPasskeys(t, e, custB.ID); len(ps) != 0 {
		t.Fatalf("B has %+v", ps)
	}
	if ps := storedPasskeys(t, e, custA.ID); len(ps) != 1 || ps[0].ID != pa.ID || !ps[0].RevokedAt.IsZero() {
		t.Fatalf("A has %+v", ps)
	}
	// A's passkey still logs A in.
	lc, r := passkeyLogin(t, e, a, credA)
	wantResp(t, r, 200, "")
	wantPasskeySession(t, lc, custA.Code, pa.ID)

	// A revoked credential stays bound to A (K13): B still cannot take it.
	wantResp(t, ca.Do("DELETE", fmt.Sprintf("/api/passkeys/%d", pa.ID), "", nil), 204, "")
	resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, cb, map[string]any{}), testenv.ReuseCredential(credA))
	duplicate(t, finishReg(cb, resp, ""))
	if ps := storedPasskeys(t, e, custB.ID); len(ps) != 0 {
		t.Fatalf("B has %+v", ps)
	}
}

// ---- K10: user verification, backup flags, counters

// K2 (Check3), K10: user verification is required at registration and at
// every login.
func TestPasskeyUserVerification_K10(t *testing.T) {
	e := testenv.New(t)
	cust, _, c := loggedInTOTP(t, e, "60000071")

	noUV := e.Authenticator(testenv.AuthenticatorOptions{NoUV: true})
	before := dbCounts(t, e)
	resp, _ := noUV.Register(regOptions(t, c, map[string]any{}))
	wantResp(t, finishReg(c, resp, ""), 400, "passkey_user_verification")
	if after := dbCounts(t, e); after.passkeys != before.passkeys {
		t.Fatal("a passkey without UV was stored")
	}

	a := e.Authenticator(testenv.AuthenticatorOptions{})
	p, cred := registerPasskey(t, c, a)
	before = dbCounts(t, e)
	lc, r := passkeyLogin(t, e, a, cred, testenv.UV(false))
	wantResp(t, r, 400, "passkey_user_verification")
	wantNoSession(t, lc)
	if after := dbCounts(t, e); after.sessions != before.sessions {
		t.Fatalf("sessions %d -> %d", before.sessions, after.sessions)
	}
	if sp := storedPasskey(t, e, p.ID); !sp.LastUsedAt.IsZero() || !sp.SuspendedAt.IsZero() {
		t.Fatalf("passkey changed: %+v", sp)
	}
	// With UV it works.
	lc, r = passkeyLogin(t, e, a, cred)
	wantResp(t, r, 200, "")
	wantPasskeySession(t, lc, cust.Code, p.ID)
}

// K10: BE must equal the stored value; BE=0 with BS=1 is invalid; BS is
// stored at every login and shown as "synced".
func TestPasskeyBackupFlags_K10(t *testing.T) {
	e := testenv.New(t)
	cust, _, c := loggedInTOTP(t, e, "60000081")

	// Registration with BE=0, BS=1 is refused.
	bad := e.Authenticator(testenv.AuthenticatorOptions{BS: true})
	before := dbCounts(t, e)
	resp, _ := bad.Register(regOptions(t, c, map[string]any{}))
	wantResp(t, finishReg(c, resp, ""), 400, "passkey_failed")
	if dbCounts(t, e).passkeys != before.passkeys {
		t.Fatal("BE=0 BS=1 stored")
	}

	// A synced-capable passkey registered before its first backup.
	syncable := e.Authenticator(testenv.AuthenticatorOptions{BE: true, AAGUID: parseAAGUID(aaguidGoogle)})
	ps, credS := registerPasskey(t, c, syncable)
	if ps.Synced {
		t.Fatalf("BS=0 shown as synced: %+v", ps)
	}
	// Device-bound.
	bound := e.Authenticator(testenv.AuthenticatorOptions{Attachment: "cross-platform"})
	pb, credB := registerPasskey(t, c, bound)
	if pb.Synced {
		t.Fatalf("device-bound shown as synced: %+v", pb)
	}
	synced := func(id int64) bool {
		for _, p := range listPasskeys(t, c).Passkeys {
			if p.ID == id {
				return p.Synced
			}
		}
		t.Fatalf("passkey %d not listed", id)
		return false
	}

	// BS 0 -> 1 is stored and shown.
	lc, r := passkeyLogin(t, e, syncable, credS, testenv.Flags(true, true))
	wantResp(t, r, 200, "")
	wantPasskeySession(t, lc, cust.Code, ps.ID)
	if sp := storedPasskey(t, e, ps.ID); !sp.BackupState || !sp.BackupEligible {
		t.Fatalf("BS not stored: %+v", sp)
	}
	if !synced(ps.ID) {
		t.Fatal("synced not shown after BS=1")
	}
	// And back to 0.
	_, r = passkeyLogin(t, e, syncable, credS, testenv.Flags(true, false))
	wantResp(t, r, 200, "")
	if storedPasskey(t, e, ps.ID).BackupState || synced(ps.ID) {
		t.Fatal("BS=0 not stored")
	}

	refuse := func(name string, a *testenv.Authenticator, cred *testenv.Credential, id int64, mods ...testenv.Mod) {
		t.Helper()
		old := storedPasskey(t, e, id)
		before := dbCounts(t, e)
		lc, r := passkeyLogin(t, e, a, cred, mods...)
		if r.StatusCode != 400 || r.Str("code") != "passkey_failed" {
			t.Errorf("%s: %d %s, want 400 passkey_failed", name, r.StatusCode, r.Body)
			return
		}
		wantNoSession(t, lc)
		now := storedPasskey(t, e, id)
		if dbCounts(t, e).sessions != before.sessions || now.SignCount != old.SignCount || now.BackupState != old.BackupState || !now.LastUsedAt.Equal(old.LastUsedAt) {
			t.Errorf("%s: something stored: %+v -> %+v", name, old, now)
		}
	}
	refuse("BE 1 -> 0", syncable, credS, ps.ID, testenv.Flags(false, false))
	refuse("BE 0 -> 1", bound, credB, pb.ID, testenv.Flags(true, false))
	refuse("BE 0 -> 1 with BS", bound, credB, pb.ID, testenv.Flags(true, true))
	refuse("BE=0 BS=1", bound, credB, pb.ID, testenv.Flags(false, true))

	// The passkeys still work with their proper flags.
	_, r = passkeyLogin(t, e, bound, credB)
	wantResp(t, r, 200, "")
	_, r = passkeyLogin(t, e, syncable, credS, testenv.Flags(true, true))
	wantResp(t, r, 200, "")
}

// K10: a non-zero counter that does not increase marks the passkey as
// possibly cloned: login refused, passkey suspended, customer mailed, audit
// event and operator alert; counters that stay 0 keep working.
func TestPasskeyCounter_K10(t *testing.T) {
	e := testenv.New(t)
	cust, _, c := loggedInTOTP(t, e, "60000091")
	addr := cust.Email

	t.Run("regression", func(t *testing.T) {
		a := e.Authenticator(testenv.AuthenticatorOptions{Attachment: "cross-platform"})
		p, cred := registerPasskey(t, c, a)     // counter 1
		first, r := passkeyLogin(t, e, a, cred) // counter 2
		wantResp(t, r, 200, "")
		if sp := storedPasskey(t, e, p.ID); sp.SignCount != 2 {
			t.Fatalf("stored counter %d", sp.SignCount)
		}
		// A forged assertion with a low counter does not suspend anything:
		// the counter is only trusted once the signature verified.
		_, r = passkeyLogin(t, e, a, cred, testenv.Counter(1), testenv.BadSignature())
		wantResp(t, r, 400, "passkey_failed")
		if sp := storedPasskey(t, e, p.ID); !sp.SuspendedAt.IsZero() || sp.SignCount != 2 {
			t.Fatalf("forged assertion changed the passkey: %+v", sp)
		}
		before := dbCounts(t, e)
		mailsBefore := mailsWith(e, addr, "パスキーの利用を停止")
		lc, r := passkeyLogin(t, e, a, cred, testenv.Counter(2)) // the same value again: a clone
		wantResp(t, r, 403, "passkey_suspended")
		wantNoSession(t, lc)
		if dbCounts(t, e).sessions >= before.sessions {
			t.Fatal("session stored, or the suspended passkey's session kept")
		}
		// The session the passkey opened earlier ends with the suspension.
		wantNoSession(t, first)
		sp := storedPasskey(t, e, p.ID)
		if sp.SuspendedAt.IsZero() || sp.SignCount != 2 || !sp.RevokedAt.IsZero() {
			t.Fatalf("not suspended: %+v", sp)
		}
		m := waitMailSubject(t, e, addr, "パスキーの利用を停止")
		if mailsWith(e, addr, "パスキーの利用を停止") != mailsBefore+1 || !strings.Contains(m.Subject, "パスキー") {
			t.Fatalf("suspension mail: %+v", m)
		}
		ev := e.Audit(cust.ID)
		if !slices.Contains(ev, "passkey.suspended") || !slices.Contains(ev, "alert.passkey_clone") {
			t.Errorf("audit: %v", ev)
		}
		for _, p := range listPasskeys(t, c).Passkeys {
			if p.ID == sp.ID && p.Status != "suspended" {
				t.Errorf("listed as %q", p.Status)
			}
		}
		// Later logins with it are refused, even with a higher counter.
		_, r = passkeyLogin(t, e, a, cred, testenv.Counter(100))
		wantResp(t, r, 403, "passkey_suspended")
		if mailsWith(e, addr, "パスキーの利用を停止") != mailsBefore+1 {
			t.Error("a second suspension mail")
		}
	})
	t.Run("lower counter", func(t *testing.T) {
		a := e.Authenticator(testenv.AuthenticatorOptions{})
		p, cred := registerPasskey(t, c, a)
		for range 3 {
			_, r := passkeyLogin(t, e, a, cred)
			wantResp(t, r, 200, "")
		}
		cred.Counter = 1 // the next login signs 2 < 4
		_, r := passkeyLogin(t, e, a, cred)
		wantResp(t, r, 403, "passkey_suspended")
		if storedPasskey(t, e, p.ID).SuspendedAt.IsZero() {
			t.Fatal("not suspended")
		}
	})
	t.Run("zero counter", func(t *testing.T) {
		a := e.Authenticator(testenv.AuthenticatorOptions{Counter: testenv.CounterZero, BE: true, BS: true, AAGUID: parseAAGUID(aaguidApple)})
		p, cred := registerPasskey(t, c, a)
		for i := range 3 {
			lc, r := passkeyLogin(t, e, a, cred)
			wantResp(t, r, 200, "")
			wantPasskeySession(t, lc, cust.Code, p.ID)
			if sp := storedPasskey(t, e, p.ID); sp.SignCount != 0 || !sp.SuspendedAt.IsZero() {
				t.Fatalf("login %d: %+v", i, sp)
			}
		}
	})
}

// ---- K7: algorithms

// K7: ES256, RS256 (Windows Hello) and EdDSA passkeys register and log in.
func TestPasskeyAlgorithms_K7(t *testing.T) {
	e := testenv.New(t)
	cust, _, c := loggedInTOTP(t, e, "60000101")
	for _, k := range []testenv.KeyType{testenv.ES256, testenv.RS256, testenv.EdDSA} {
		t.Run(string(k), func(t *testing.T) {
			opts := testenv.AuthenticatorOptions{Key: k}
			if k == testenv.RS256 {
				opts.AAGUID = parseAAGUID(aaguidWindows)
			}
			a := e.Authenticator(opts)
			p, cred := registerPasskey(t, c, a)
			if k == testenv.RS256 && p.Authenticator != "Windows Hello" {
				t.Errorf("authenticator %q", p.Authenticator)
			}
			for range 2 {
				lc, r := passkeyLogin(t, e, a, cred)
				wantResp(t, r, 200, "")
				wantPasskeySession(t, lc, cust.Code, p.ID)
			}
		})
	}
}

// ---- K6, K13, K14: the list, names, rename, delete

// K6: the authenticator's name from its AAGUID, else from the transports
// (usb → セキュリティキー), else a neutral default; a name chosen at
// registration; K14: the shared-PC answer is recorded in the name.
func TestPasskeyNames_K6_K14(t *testing.T) {
	e := testenv.New(t)
	_, _, c := loggedInTOTP(t, e, "60000111")
	cases := []struct {
		opts testenv.AuthenticatorOptions
		want string
	}{
		{testenv.AuthenticatorOptions{AAGUID: parseAAGUID(aaguidApple), BE: true, BS: true}, "Apple Passwords"},
		{testenv.AuthenticatorOptions{AAGUID: parseAAGUID(aaguidGoogle), BE: true, BS: true}, "Google Password Manager"},
		{testenv.AuthenticatorOptions{Attachment: "cross-platform", Transports: []string{"usb"}}, "セキュリティキー"},
		{testenv.AuthenticatorOptions{Attachment: "cross-platform", Transports: []string{"nfc", "usb"}}, "セキュリティキー"},
	}
	for _, tc := range cases {
		p, _ := registerPasskey(t, c, e.Authenticator(tc.opts))
		if p.Authenticator != tc.want || p.Name == "" {
			t.Errorf("%+v: authenticator %q name %q, want %q", tc.opts.Transports, p.Authenticator, p.Name, tc.want)
		}
	}
	// Unknown platform authenticator (all-zero AAGUID, transports hybrid and
	// internal as Chrome reports them): a neutral default.
	p, _ := registerPasskey(t, c, e.Authenticator(testenv.AuthenticatorOptions{}))
	if p.Authenticator == "" || p.Authenticator == "セキュリティキー" || p.Authenticator == "スマートフォン" {
		t.Errorf("unknown platform authenticator named %q", p.Authenticator)
	}
	if l := listPasskeys(t, c); len(l.Passkeys) != 5 || l.Passkeys[0].Authenticator != "Apple Passwords" || !l.Passkeys[0].Synced {
		t.Errorf("list: %+v", l)
	}
	// In English.
	c.Lang = "en"
	if l := listPasskeys(t, c); l.Passkeys[2].Authenticator != "Security key" || l.Passkeys[1].Authenticator != "Google Password Manager" {
		t.Errorf("English list: %+v", l)
	}
	c.Lang = ""

	// A name chosen at registration (?name=) and the shared-PC question (K14).
	e2 := testenv.New(t)
	_, _, c2 := loggedInTOTP(t, e2, "60000112")
	resp, _ := e2.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c2, map[string]any{}))
	r := finishReg(c2, resp, "?name="+url.QueryEscape("会社のPC"))
	wantResp(t, r, 201, "")
	if got := decodeJSON[pkJSON](t, r); got.Name != "会社のPC" {
		t.Errorf("name %q", got.Name)
	}
	resp, _ = e2.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c2, map[string]bool{"shared": true}))
	r = finishReg(c2, resp, "")
	wantResp(t, r, 201, "")
	if got := decodeJSON[pkJSON](t, r); !got.Shared || !strings.Contains(got.Name, "共用") {
		t.Errorf("shared passkey: %s", r.Body)
	}
}

// K6, K13: customers rename and delete their own passkeys only; a deleted
// passkey no longer logs in and stays in the store as revoked; mails.
func TestPasskeyRenameDelete_K6_K13(t *testing.T) {
	e := testenv.New(t)
	custA, _, ca := loggedInTOTP(t, e, "60000121")
	_, _, cb := loggedInTOTP(t, e, "60000122")
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	pa, credA := registerPasskey(t, ca, a)
	pb, _ := registerPasskey(t, cb, e.Authenticator(testenv.AuthenticatorOptions{}))
	path := func(id int64) string { return fmt.Sprintf("/api/passkeys/%d", id) }
	patch := func(c *testenv.Client, id int64, body string) *testenv.Response {
		return c.Do("PATCH", path(id), "application/json", []byte(body))
	}

	// Rename.
	r := patch(ca, pa.ID, `{"name":"  iPhone 15 \u0007 "}`)
	wantResp(t, r, 200, "")
	if got := decodeJSON[pkJSON](t, r); got.Name != "iPhone 15" {
		t.Errorf("renamed to %q", got.Name)
	}
	if l := listPasskeys(t, ca); l.Passkeys[0].Name != "iPhone 15" {
		t.Errorf("list: %+v", l)
	}
	wantResp(t, patch(ca, pa.ID, `{"name":"   "}`), 400, "invalid_request")
	wantProblem(t, patch(ca, pa.ID, `{"name":`), 400, "invalid_json", "invalid_request")
	if !slices.Contains(e.Audit(custA.ID), "passkey.renamed") {
		t.Errorf("audit: %v", e.Audit(custA.ID))
	}

	// Someone else's passkey: not found, and unchanged.
	wantResp(t, patch(ca, pb.ID, `{"name":"mine now"}`), 404, "not_found")
	wantResp(t, ca.Do("DELETE", path(pb.ID), "", nil), 404, "not_found")
	if sp := storedPasskey(t, e, pb.ID); sp.Name != pb.Name || !sp.RevokedAt.IsZero() {
		t.Fatalf("B's passkey changed: %+v", sp)
	}
	wantResp(t, ca.Do("DELETE", "/api/passkeys/999999", "", nil), 404, "not_found")
	wantResp(t, ca.Do("DELETE", "/api/passkeys/abc", "", nil), 404, "not_found")
	wantResp(t, e.Client().Do("DELETE", path(pa.ID), "", nil), 401, "not_authenticated")

	// Delete own.
	mails := mailsWith(e, custA.Email, "削除")
	wantResp(t, ca.Do("DELETE", path(pa.ID), "", nil), 204, "")
	if l := listPasskeys(t, ca); len(l.Passkeys) != 0 {
		t.Fatalf("list after delete: %+v", l)
	}
	m := waitMailSubject(t, e, custA.Email, "パスキー削除のお知らせ")
	if !strings.Contains(m.Body, "iPhone 15") || mailsWith(e, custA.Email, "削除") != mails+1 {
		t.Errorf("deletion mail: %+v", m)
	}
	if !slices.Contains(e.Audit(custA.ID), "passkey.deleted") {
		t.Errorf("audit: %v", e.Audit(custA.ID))
	}
	wantResp(t, ca.Do("DELETE", path(pa.ID), "", nil), 404, "not_found")
	wantResp(t, patch(ca, pa.ID, `{"name":"x"}`), 404, "not_found")

	// K13: revoked, not erased.
	all := storedPasskeys(t, e, custA.ID)
	if len(all) != 1 || all[0].RevokedAt.IsZero() || all[0].RevokedBy != "customer" || all[0].CreatedIP == "" {
		t.Fatalf("stored: %+v", all)
	}
	if active, _ := e.Store.PasskeysByCustomer(context.Background(), custA.ID, false); len(active) != 0 {
		t.Fatalf("still active: %+v", active)
	}
	// A deleted passkey no longer logs in.
	before := dbCounts(t, e)
	lc, r := passkeyLogin(t, e, a, credA)
	wantResp(t, r, 401, "passkey_unknown")
	wantNoSession(t, lc)
	if dbCounts(t, e).sessions != before.sessions {
		t.Fatal("session stored")
	}
}

// ---- K9 and the checks go-webauthn leaves to kagi: refusals

// refusalEnv is a customer with one passkey, ready for negative tests.
type refusalEnv struct {
	e      *testenv.Env
	cust   *store.Customer
	secret string
	c      *testenv.Client // the customer's logged-in browser
	a      *testenv.Authenticator
	cred   *testenv.Credential
	p      pkJSON
}

func newRefusalEnv(t *testing.T, code string) *refusalEnv {
	e := testenv.New(t)
	cust, secret, c := loggedInTOTP(t, e, code)
	a := e.Authenticator(testenv.AuthenticatorOptions{})
	p, cred := registerPasskey(t, c, a)
	return &refusalEnv{e: e, cust: cust, secret: secret, c: c, a: a, cred: cred, p: p}
}

// stepUp renews the customer's re-verification after the clock moved.
func (re *refusalEnv) stepUp(t *testing.T) { t.Helper(); stepUpTOTP(t, re.e, re.c, re.secret) }

// nothingStored runs f and checks no passkey, session or login was recorded
// and the passkey's counter and last use did not move.
func (re *refusalEnv) nothingStored(t *testing.T, f func()) {
	t.Helper()
	before, old := dbCounts(t, re.e), storedPasskey(t, re.e, re.p.ID)
	logins := strings.Count(strings.Join(re.e.Audit(re.cust.ID), " "), "login.success")
	f()
	after, now := dbCounts(t, re.e), storedPasskey(t, re.e, re.p.ID)
	if after.passkeys != before.passkeys || after.sessions != before.sessions {
		t.Errorf("stored: %+v -> %+v", before, after)
	}
	if now.SignCount != old.SignCount || !now.LastUsedAt.Equal(old.LastUsedAt) || !now.SuspendedAt.IsZero() {
		t.Errorf("passkey changed: %+v -> %+v", old, now)
	}
	if n := strings.Count(strings.Join(re.e.Audit(re.cust.ID), " "), "login.success"); n != logins {
		t.Errorf("login.success audited")
	}
}

// The code for a ceremony that is unknown, replayed, expired or not this
// browser's (the issue allowed passkey_failed or ceremony_expired; the
// implementation chose ceremony_expired).
var ceremonyCodes = []string{"ceremony_expired"}

// K9: wrong origin, wrong RP ID hash, a tampered signature, client data of
// the wrong type, a challenge of another ceremony, a replayed assertion, an
// expired ceremony, an unknown credential or user handle, malformed bodies:
// each a clear 4xx problem, nothing stored.
func TestPasskeyLoginRefused_K9(t *testing.T) {
	re := newRefusalEnv(t, "60000131")
	e, a, cred := re.e, re.a, re.cred

	// login runs one refused login from a fresh browser.
	login := func(t *testing.T, status int, codes []string, mods ...testenv.Mod) {
		t.Helper()
		re.nothingStored(t, func() {
			c := e.Client()
			r := postAssertion(c, a.Login(loginOptions(t, c), cred, mods...))
			wantProblem(t, r, status, codes...)
			wantNoSession(t, c)
		})
	}
	failed := []string{"passkey_failed"}
	t.Run("wrong origin", func(t *testing.T) { login(t, 400, failed, testenv.Origin("https://kagi-login.example")) })
	t.Run("origin on another port", func(t *testing.T) { login(t, 400, failed, testenv.Origin("http://localhost:1")) })
	t.Run("wrong RP ID hash", func(t *testing.T) { login(t, 400, failed, testenv.RPIDHash("example.com")) })
	t.Run("tampered signature", func(t *testing.T) { login(t, 400, failed, testenv.BadSignature()) })
	t.Run("webauthn.create type", func(t *testing.T) { login(t, 400, failed, testenv.ClientDataType("webauthn.create")) })
	t.Run("cross-origin iframe", func(t *testing.T) { login(t, 400, failed, testenv.CrossOrigin()) })
	t.Run("user not present", func(t *testing.T) {
		login(t, 400, []string{"passkey_failed", "passkey_user_verification"}, testenv.UP(false))
	})
	t.Run("tampered signature bytes", func(t *testing.T) {
		re.nothingStored(t, func() {
			c := e.Client()
			r := postAssertion(c, testenv.TamperSignature(a.Login(loginOptions(t, c), cred)))
			wantProblem(t, r, 400, failed...)
		})
	})
	t.Run("random challenge", func(t *testing.T) {
		login(t, 400, ceremonyCodes, testenv.Challenge([]byte("0123456789abcdef0123456789abcdef")))
	})
	t.Run("challenge of another browser's ceremony", func(t *testing.T) {
		re.nothingStored(t, func() {
			victim, attacker := e.Client(), e.Client()
			loginOptions(t, attacker)
			r := postAssertion(attacker, a.Login(loginOptions(t, victim), cred))
			wantProblem(t, r, 400, ceremonyCodes...)
			wantNoSession(t, attacker)
			wantNoSession(t, victim)
		})
	})
	t.Run("challenge of a registration ceremony", func(t *testing.T) {
		re.nothingStored(t, func() {
			reg := regOptions(t, re.c, map[string]any{})
			var o creationOptions
			_ = json.Unmarshal(reg, &o)
			c := re.c // same browser, same binding cookie
			r := postAssertion(c, a.Login(loginOptions(t, c), cred, testenv.Challenge(b64d(t, o.PublicKey.Challenge))))
			wantProblem(t, r, 400, ceremonyCodes...)
		})
	})
	t.Run("replay", func(t *testing.T) {
		c := e.Client()
		resp := a.Login(loginOptions(t, c), cred)
		wantResp(t, postAssertion(c, resp), 200, "")
		re.nothingStored(t, func() {
			c2 := e.Client()
			loginOptions(t, c2)
			for _, cl := range []*testenv.Client{c, c2} { // the same browser, then another one
				wantProblem(t, postAssertion(cl, resp), 400, ceremonyCodes...)
			}
			wantNoSession(t, c2)
		})
	})
	t.Run("ceremony used up by a failed attempt", func(t *testing.T) {
		re.nothingStored(t, func() {
			c := e.Client()
			opts := loginOptions(t, c)
			wantProblem(t, postAssertion(c, testenv.TamperSignature(a.Login(opts, cred))), 400, failed...)
			wantProblem(t, postAssertion(c, a.Login(opts, cred)), 400, ceremonyCodes...)
			wantNoSession(t, c)
		})
	})
	t.Run("expired ceremony", func(t *testing.T) {
		re.nothingStored(t, func() {
			c := e.Client()
			opts := loginOptions(t, c)
			e.Clock.Advance(5*time.Minute + time.Second)
			wantProblem(t, postAssertion(c, a.Login(opts, cred)), 400, ceremonyCodes...)
			wantNoSession(t, c)
		})
	})
	t.Run("just before expiry", func(t *testing.T) {
		c := e.Client()
		opts := loginOptions(t, c)
		e.Clock.Advance(4*time.Minute + 50*time.Second)
		wantResp(t, postAssertion(c, a.Login(opts, cred)), 200, "")
	})

	// Unknown credentials and user handles: one generic answer (no enumeration).
	var details []string
	unknown := func(t *testing.T, a *testenv.Authenticator, cred *testenv.Credential, mods ...testenv.Mod) {
		t.Helper()
		re.nothingStored(t, func() {
			c := e.Client()
			r := postAssertion(c, a.Login(loginOptions(t, c), cred, mods...))
			wantResp(t, r, 401, "passkey_unknown")
			details = append(details, r.Str("detail"))
		})
	}
	t.Run("unknown credential", func(t *testing.T) {
		// A passkey whose registration never reached kagi.
		stranger := e.Authenticator(testenv.AuthenticatorOptions{})
		re.stepUp(t)
		_, sc := stranger.Register(regOptions(t, re.c, map[string]any{}))
		unknown(t, stranger, sc)
	})
	t.Run("user handle of another customer", func(t *testing.T) {
		other, _ := e.Customer(auth.NewCustomer{Code: "60000132", Password: pw, Email: "o@example.jp"})
		unknown(t, a, cred, testenv.UserHandle(other.UserHandle))
	})
	t.Run("random user handle", func(t *testing.T) { unknown(t, a, cred, testenv.UserHandle(bytes.Repeat([]byte{7}, 32))) })
	t.Run("no user handle", func(t *testing.T) {
		re.nothingStored(t, func() {
			c := e.Client()
			r := postAssertion(c, a.Login(loginOptions(t, c), cred, testenv.UserHandle(nil)))
			wantProblem(t, r, 401, "passkey_unknown")
		})
	})
	t.Run("one answer", func(t *testing.T) {
		for _, d := range details {
			if d != details[0] {
				t.Fatalf("different details: %q", details)
			}
		}
	})

	// Malformed bodies.
	var vt *testing.T // the running subtest
	valid := func() (*testenv.Client, map[string]any) {
		c := e.Client()
		var m map[string]any
		_ = json.Unmarshal(a.Login(loginOptions(vt, c), cred), &m)
		return c, m
	}
	resp := func(m map[string]any) map[string]any { return m["response"].(map[string]any) }
	enc := func(m map[string]any) []byte { b, _ := json.Marshal(m); return b }
	malformed := map[string]func() (*testenv.Client, []byte){
		"not JSON":            func() (*testenv.Client, []byte) { c, _ := valid(); return c, []byte("{not json") },
		"empty body":          func() (*testenv.Client, []byte) { c, _ := valid(); return c, nil },
		"JSON array":          func() (*testenv.Client, []byte) { c, _ := valid(); return c, []byte(`[]`) },
		"trailing data":       func() (*testenv.Client, []byte) { c, m := valid(); return c, append(enc(m), []byte(`{}`)...) },
		"no response":         func() (*testenv.Client, []byte) { c, m := valid(); delete(m, "response"); return c, enc(m) },
		"id is not rawId":     func() (*testenv.Client, []byte) { c, m := valid(); m["id"] = "AAAA"; return c, enc(m) },
		"type not public-key": func() (*testenv.Client, []byte) { c, m := valid(); m["type"] = "password"; return c, enc(m) },
		"bad base64": func() (*testenv.Client, []byte) {
			c, m := valid()
			resp(m)["signature"] = "!!!"
			return c, enc(m)
		},
		"truncated authenticator data": func() (*testenv.Client, []byte) {
			c, m := valid()
			resp(m)["authenticatorData"] = base64.RawURLEncoding.EncodeToString(make([]byte, 20))
			return c, enc(m)
		},
		"client data not JSON": func() (*testenv.Client, []byte) {
			c, m := valid()
			resp(m)["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte("\xff\xfe"))
			return c, enc(m)
		},
	}
	for name, f := range malformed {
		t.Run("malformed/"+name, func(t *testing.T) {
			vt = t
			re.nothingStored(t, func() {
				c, body := f()
				r := postAssertion(c, body)
				wantProblem(t, r, 400, "invalid_json", "invalid_request", "passkey_failed")
				wantNoSession(t, c)
			})
		})
	}
	t.Run("malformed/not application/json", func(t *testing.T) {
		vt = t
		c, m := valid()
		r := c.Do("POST", "/api/login/passkey", "text/plain", enc(m))
		wantProblem(t, r, 415, "unsupported_media_type")
	})
	t.Run("malformed/options body", func(t *testing.T) {
		wantProblem(t, e.Client().Do("POST", "/api/login/passkey/options", "application/json", []byte("{")), 400, "invalid_json", "invalid_request")
	})

	// After all that, the passkey still logs in.
	lc, r := passkeyLogin(t, e, a, cred)
	wantResp(t, r, 200, "")
	wantPasskeySession(t, lc, re.cust.Code, re.p.ID)
}

// K9 at registration: the same defects, nothing stored.
func TestPasskeyRegistrationRefused_K9(t *testing.T) {
	re := newRefusalEnv(t, "60000141")
	e, c := re.e, re.c

	register := func(t *testing.T, status int, codes []string, mods ...testenv.Mod) {
		t.Helper()
		re.nothingStored(t, func() {
			a := e.Authenticator(testenv.AuthenticatorOptions{})
			resp, _ := a.Register(regOptions(t, c, map[string]any{}), mods...)
			wantProblem(t, finishReg(c, resp, ""), status, codes...)
		})
	}
	failed := []string{"passkey_failed"}
	t.Run("wrong origin", func(t *testing.T) { register(t, 400, failed, testenv.Origin("https://kagi-login.example")) })
	t.Run("wrong RP ID hash", func(t *testing.T) { register(t, 400, failed, testenv.RPIDHash("example.com")) })
	t.Run("tampered signature", func(t *testing.T) { register(t, 400, failed, testenv.BadSignature()) })
	t.Run("webauthn.get type", func(t *testing.T) { register(t, 400, failed, testenv.ClientDataType("webauthn.get")) })
	t.Run("user not present", func(t *testing.T) {
		register(t, 400, []string{"passkey_failed", "passkey_user_verification"}, testenv.UP(false))
	})
	t.Run("random challenge", func(t *testing.T) {
		register(t, 400, ceremonyCodes, testenv.Challenge([]byte("0123456789abcdef0123456789abcdef")))
	})
	t.Run("challenge of a login ceremony", func(t *testing.T) {
		re.nothingStored(t, func() {
			var ro requestOptions
			_ = json.Unmarshal(loginOptions(t, c), &ro)
			resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c, map[string]any{}), testenv.Challenge(b64d(t, ro.PublicKey.Challenge)))
			wantProblem(t, finishReg(c, resp, ""), 400, ceremonyCodes...)
		})
	})
	t.Run("ceremony of another customer", func(t *testing.T) {
		_, _, other := loggedInTOTP(t, e, "60000142")
		re.nothingStored(t, func() {
			resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, other, map[string]any{}))
			wantProblem(t, finishReg(c, resp, ""), 400, ceremonyCodes...)
		})
	})
	t.Run("replay", func(t *testing.T) {
		resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c, map[string]any{}))
		wantResp(t, finishReg(c, resp, ""), 201, "")
		re.nothingStored(t, func() {
			r := finishReg(c, resp, "")
			if r.StatusCode != 400 && r.StatusCode != 409 {
				t.Fatalf("replayed registration: %d %s", r.StatusCode, r.Body)
			}
			wantProblem(t, r, r.StatusCode, append(slices.Clone(ceremonyCodes), "passkey_already_registered")...)
		})
	})
	t.Run("expired ceremony", func(t *testing.T) {
		defer re.stepUp(t) // the later subtests register again
		_, secret, c := loggedInTOTP(t, e, "60000143")
		re.nothingStored(t, func() {
			opts := regOptions(t, c, map[string]any{})
			e.Clock.Advance(5*time.Minute + time.Second)
			stepUpTOTP(t, e, c, secret) // the step-up is fresh: only the ceremony is stale
			resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(opts)
			wantProblem(t, finishReg(c, resp, ""), 400, ceremonyCodes...)
		})
	})
	t.Run("not logged in", func(t *testing.T) {
		re.nothingStored(t, func() {
			resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c, map[string]any{}))
			wantProblem(t, finishReg(e.Client(), resp, ""), 401, "not_authenticated")
		})
	})

	valid := func(t *testing.T) map[string]any {
		var m map[string]any
		resp, _ := e.Authenticator(testenv.AuthenticatorOptions{}).Register(regOptions(t, c, map[string]any{}))
		_ = json.Unmarshal(resp, &m)
		return m
	}
	resp := func(m map[string]any) map[string]any { return m["response"].(map[string]any) }
	enc := func(m map[string]any) []byte { b, _ := json.Marshal(m); return b }
	malformed := map[string]func(t *testing.T) []byte{
		"not JSON":   func(t *testing.T) []byte { valid(t); return []byte(`{"id":`) },
		"empty body": func(t *testing.T) []byte { valid(t); return nil },
		"attestation object not CBOR": func(t *testing.T) []byte {
			m := valid(t)
			resp(m)["attestationObject"] = base64.RawURLEncoding.EncodeToString([]byte{0xff, 0x00, 0x13})
			return enc(m)
		},
		"attestation object truncated": func(t *testing.T) []byte {
			m := valid(t)
			ao := b64d(t, resp(m)["attestationObject"].(string))
			resp(m)["attestationObject"] = base64.RawURLEncoding.EncodeToString(ao[:len(ao)/2])
			return enc(m)
		},
		"no attestation object": func(t *testing.T) []byte { m := valid(t); delete(resp(m), "attestationObject"); return enc(m) },
		"bad base64":            func(t *testing.T) []byte { m := valid(t); resp(m)["clientDataJSON"] = "%%%"; return enc(m) },
		"id is not rawId":       func(t *testing.T) []byte { m := valid(t); m["rawId"] = "AAAA"; return enc(m) },
	}
	for name, f := range malformed {
		t.Run("malformed/"+name, func(t *testing.T) {
			re.nothingStored(t, func() {
				wantProblem(t, finishReg(c, f(t), ""), 400, "invalid_json", "invalid_request", "passkey_failed")
			})
		})
	}
	t.Run("malformed/options body", func(t *testing.T) {
		wantProblem(t, c.Do("POST", "/api/passkeys/options", "application/json", []byte(`{"shared":`)), 400, "invalid_json", "invalid_request")
		wantProblem(t, c.Do("POST", "/api/passkeys/options", "application/json", []byte(`{"shared":"yes"}`)), 400, "invalid_json", "invalid_request")
	})
	if n := len(listPasskeys(t, c).Passkeys); n != 2 { // the first and the replay test's
		t.Errorf("%d passkeys listed", n)
	}
}
