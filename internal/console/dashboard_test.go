package console_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// O6: the dashboard's figures on seeded data, exactly; the page draws them
// as SVG charts of its own, labelled in Japanese.
func TestDashboardNumbers_O6(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.Clock.Now() // 25 Nov 2026, 09:30 in Tokyo
	day := 24 * time.Hour
	gpm, _ := hex.DecodeString("ea9b8d664d011d213ce4b6b48cb575d4") // Google Password Manager

	login := func(c *store.Customer, method string, at time.Time) {
		t.Helper()
		d, _ := json.Marshal(map[string]any{"method": method, "passkey_id": 0})
		if err := e.Store.AppendAudit(ctx, &store.AuditEntry{At: at, Actor: "customer", CustomerID: c.ID, Event: "login.success", Detail: string(d)}); err != nil {
			t.Fatal(err)
		}
	}
	passkey := func(c *store.Customer, created time.Time, aaguid []byte, transports []string, synced bool) *store.Passkey {
		t.Helper()
		p := &store.Passkey{CustomerID: c.ID, CredentialID: []byte(c.Code + created.String()), PublicKey: []byte("k"), AAGUID: aaguid,
			Transports: transports, BackupEligible: synced, BackupState: synced, CreatedAt: created, Name: "p"}
		if err := e.Store.AddPasskey(ctx, p, 0); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := e.customer(t, "56000001", "a@example.jp", store.FactorEmail)
	b := e.customer(t, "56000002", "b@example.jp", store.FactorTOTP)
	c := e.customer(t, "56000003", "c@example.jp", store.FactorEmail)
	d := e.customer(t, "56000004", "d@example.jp", store.FactorEmail)
	x := e.customer(t, "56000005", "x@example.jp", store.FactorTOTP)

	passkey(a, now.Add(-60*day), gpm, []string{"hybrid", "internal"}, true)
	login(a, store.MethodPasskey, now.Add(-time.Hour))
	login(a, store.MethodPasskey, now.Add(-day))
	passkey(b, now.Add(-10*day), nil, []string{"usb"}, false)
	login(b, store.MethodPasswordTOTP, now.Add(-12*day))
	login(b, store.MethodPasskey, now.Add(-2*day))
	login(c, store.MethodPasswordEmail, now.Add(-3*day))
	login(d, store.MethodPasswordEmail, now.Add(-40*day)) // not active any more
	px := passkey(x, now.Add(-20*day), gpm, []string{"internal"}, true)
	if err := e.Store.RevokePasskey(ctx, px.ID, "customer", now.Add(-5*day)); err != nil {
		t.Fatal(err)
	}
	login(x, store.MethodPasswordTOTP, now.Add(-2*time.Hour))

	sato := e.operator(t, "sato", store.RoleAgent)
	r := sato.get("/api/dashboard")
	want(t, r, 200)
	var got struct {
		Now struct {
			Active      int `json:"active"`
			WithPasskey int `json:"with_passkey"`
		} `json:"now"`
		Weekly []struct {
			At          time.Time `json:"at"`
			Active      int       `json:"active"`
			WithPasskey int       `json:"with_passkey"`
		} `json:"weekly"`
		Synced         int `json:"synced"`
		DeviceBound    int `json:"device_bound"`
		Authenticators []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"authenticators"`
		Days []struct {
			Day           time.Time `json:"day"`
			Passkey       int       `json:"passkey"`
			PasswordTOTP  int       `json:"password_totp"`
			PasswordEmail int       `json:"password_email"`
		} `json:"days"`
		Restricted       int `json:"restricted"`
		RestrictedSample []struct {
			Code string `json:"customer_code"`
		} `json:"restricted_sample"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	// Active now: a, b, c, x (d last logged in 40 days ago); with a passkey: a, b.
	if got.Now.Active != 4 || got.Now.WithPasskey != 2 {
		t.Errorf("now: %+v, want 4 active, 2 with a passkey", got.Now)
	}
	if n := len(got.Weekly); n != 13 || got.Weekly[12].Active != 4 {
		t.Fatalf("weekly points: %d", n)
	}
	// A week ago only b was active (12 days before now), with the passkey it registered 10 days ago;
	// two weeks ago only d (40 days before now), without one.
	if w := got.Weekly[11]; w.Active != 1 || w.WithPasskey != 1 {
		t.Errorf("a week ago: %+v", w)
	}
	if w := got.Weekly[10]; w.Active != 1 || w.WithPasskey != 0 {
		t.Errorf("two weeks ago: %+v", w)
	}
	if got.Synced != 1 || got.DeviceBound != 1 {
		t.Errorf("synced %d, device-bound %d; want 1 and 1 (x's was revoked)", got.Synced, got.DeviceBound)
	}
	names := map[string]int{}
	for _, a := range got.Authenticators {
		names[a.Name] = a.Count
	}
	if len(names) != 2 || names["Google Password Manager"] != 1 || names["セキュリティキー"] != 1 {
		t.Errorf("authenticators %v", names)
	}
	if len(got.Days) != 14 {
		t.Fatalf("%d days", len(got.Days))
	}
	tokyo := time.FixedZone("JST", 9*3600)
	byDay := map[string][3]int{}
	for _, d := range got.Days {
		if h, m, _ := d.Day.In(tokyo).Clock(); h != 0 || m != 0 {
			t.Errorf("day %v is not midnight in Tokyo", d.Day)
		}
		byDay[d.Day.In(tokyo).Format("01-02")] = [3]int{d.Passkey, d.PasswordTOTP, d.PasswordEmail}
	}
	for date, want := range map[string][3]int{
		"11-25": {1, 1, 0}, "11-24": {1, 0, 0}, "11-23": {1, 0, 0}, "11-22": {0, 0, 1}, "11-13": {0, 1, 0}, "11-12": {0, 0, 0},
	} {
		if byDay[date] != want {
			t.Errorf("%s: %v, want %v", date, byDay[date], want)
		}
	}
	if got.Days[0].Day.In(tokyo).Format("01-02") != "11-12" || got.Days[13].Day.In(tokyo).Format("01-02") != "11-25" {
		t.Errorf("days from %v to %v", got.Days[0].Day, got.Days[13].Day)
	}
	// Restricted if passkeys were mandatory tomorrow: c and x, x logged in last.
	if got.Restricted != 2 || len(got.RestrictedSample) != 2 || got.RestrictedSample[0].Code != x.Code || got.RestrictedSample[1].Code != c.Code {
		t.Errorf("restricted %d %+v", got.Restricted, got.RestrictedSample)
	}

	page := sato.get("/dashboard")
	want(t, page, 200, `id="kpi-active">4<`, `id="kpi-with">2<`, `id="kpi-share">50.0%<`, `id="kpi-restricted">2<`,
		"<svg", `role="img"`, "アクティブ顧客のパスキー保有率", "ログイン方法別", "パスワード＋認証アプリ", "Google Password Manager",
		"同期（クラウド） 1件", "/customers/56000005")
	body := string(page.Body)
	for _, bad := range []string{"<script>", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("dashboard contains %q: charts must be self-contained", bad)
		}
	}
	if strings.Count(body, "<svg") != 4 {
		t.Errorf("%d charts, want 4", strings.Count(body, "<svg"))
	}
}

// O5: the console verifies the chain and shows the trail per customer.
func TestAuditPage_O5(t *testing.T) {
	e := newEnv(t)
	sato := e.operator(t, "sato", store.RoleAgent)
	e.customer(t, "57000001", "y@example.jp", store.FactorEmail)
	wantSee(t, sato.post("/customers/57000001/freeze", "reason", "テスト"), "/customers/57000001?m=frozen")
	want(t, sato.get("/audit"), 200, "kagi audit verify")
	want(t, sato.post("/audit/verify"), 200, `id="audit-result"`, "改ざんは見つかりませんでした")
	want(t, sato.get("/customers/57000001"), 200, `id="trail"`, "口座凍結", "オペレーター sato", "口座登録")
}
