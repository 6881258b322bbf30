package console_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

func fakePasskey(t *testing.T, e *env, c *store.Customer, name string) *store.Passkey {
	t.Helper()
	p := &store.Passkey{CustomerID: c.ID, CredentialID: []byte(name + "-cred-" + c.Code), PublicKey: []byte("key"),
		Transports: []string{"internal"}, BackupEligible: true, BackupState: true, Name: name, CreatedAt: e.Clock.Now()}
	if err := e.Store.AddPasskey(context.Background(), p, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

var requestID = regexp.MustCompile(`id="request-(\d+)"`)

// pendingRequest returns the number of the newest pending request on the
// requests page.
func pendingRequest(t *testing.T, o *op) string {
	t.Helper()
	r := o.get("/requests")
	want(t, r, 200)
	m := requestID.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no pending request:\n%s", snippet(r.Body))
	}
	return string(m[1])
}

// O3, O4: the procedures that take effect at once: each needs a reason, is
// audited as the operator and mails the customer; refused ones change nothing.
func TestDirectProcedures_O3(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	agent := e.operator(t, "suzuki", store.RoleAgent)
	c := e.customer(t, "51000001", "hanako@example.jp", store.FactorEmail)
	noMail := e.customer(t, "51000002", "", "")

	// Lookup by code, recorded in the audit log.
	wantSee(t, agent.get("/customers?code=51000001"), "/customers/51000001")
	if ev := e.events(t, c.ID)["operator.lookup"]; ev == nil || ev.Actor != "operator:suzuki" {
		t.Fatalf("lookup not audited: %+v", ev)
	}
	want(t, agent.get("/customers?code=59999999"), 404, "見つかりません")
	want(t, agent.get("/customers?code=abc"), 404)
	want(t, agent.get("/customers/59999999"), 404)
	lookups := func(c *store.Customer) int {
		es, _ := e.Store.AuditByCustomer(ctx, c.ID, 0)
		n := 0
		for _, x := range es {
			if x.Event == "operator.lookup" {
				n++
			}
		}
		return n
	}
	want(t, agent.get("/customers/51000002"), 200) // by URL: audited too
	want(t, agent.get("/customers/51000002"), 200) // again soon: once
	if lookups(c) != 1 || lookups(noMail) != 1 {
		t.Fatalf("lookups %d and %d, want 1 each", lookups(c), lookups(noMail))
	}
	page := agent.get("/customers/51000001")
	want(t, page, 200, "hanako@example.jp", "メール認証", "監査ログ", "オペレーターによる照会")

	// Unlock (A4): refused while not locked, and without a reason.
	want(t, agent.post("/customers/51000001/unlock", "reason", "電話で本人確認済み"), 409, "この手続きは行えません")
	for range 5 {
		if _, _, err := e.Store.RecordFailure(ctx, c.ID, 5, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	want(t, agent.post("/customers/51000001/unlock", "reason", "  "), 400, "理由を入力してください")
	if e.reload(t, c.ID).LockedAt.IsZero() {
		t.Fatal("unlocked without a reason")
	}
	before := len(e.Mails(c.Email))
	wantSee(t, agent.post("/customers/51000001/unlock", "reason", "電話で本人確認済み"), "/customers/51000001?m=unlocked")
	if got := e.reload(t, c.ID); !got.LockedAt.IsZero() || got.FailedAttempts != 0 {
		t.Fatalf("still locked: %+v", got)
	}
	ev := e.events(t, c.ID)["account.unlocked"]
	if ev == nil || ev.Actor != "operator:suzuki" || !strings.Contains(ev.Detail, "電話で本人確認済み") || !strings.Contains(ev.Detail, `"via":"console"`) || ev.IP == "" {
		t.Fatalf("unlock audit: %+v", ev)
	}
	e.mailTo(t, c.Email, before, "ロック解除")

	// Revoke one passkey (K13: revoked by the operator, the record kept), lift a suspension.
	p1, p2, p3 := fakePasskey(t, e, c, "iPhone"), fakePasskey(t, e, c, "PC"), fakePasskey(t, e, c, "Key")
	before = len(e.Mails(c.Email))
	wantSee(t, agent.post(fmt.Sprintf("/customers/51000001/passkeys/%d/revoke", p1.ID), "reason", "端末紛失のお申し出"), "/customers/51000001?m=revoked")
	got, _ := e.Store.PasskeyByID(ctx, p1.ID)
	if got.RevokedAt.IsZero() || got.RevokedBy != "operator:suzuki" {
		t.Fatalf("revoked passkey: %+v", got)
	}
	m := e.mailTo(t, c.Email, before, "パスキー削除")
	if !strings.Contains(m.Body, "iPhone") || !strings.Contains(m.Body, "お手続き") {
		t.Fatalf("revoke mail: %s", m.Body)
	}
	want(t, agent.post(fmt.Sprintf("/customers/51000001/passkeys/%d/revoke", p1.ID), "reason", "again"), 404)
	want(t, agent.post(fmt.Sprintf("/customers/51000002/passkeys/%d/revoke", p2.ID), "reason", "not hers"), 404)
	want(t, agent.post("/customers/51000001/passkeys/abc/revoke", "reason", "x"), 404)
	if err := e.Store.SuspendPasskey(ctx, p2.ID, "signature counter 3 after 9", e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	want(t, agent.post(fmt.Sprintf("/customers/51000001/passkeys/%d/unsuspend", p3.ID), "reason", "not suspended"), 409)
	wantSee(t, agent.post(fmt.Sprintf("/customers/51000001/passkeys/%d/unsuspend", p2.ID), "reason", "お客さまの端末を確認"), "/customers/51000001?m=unsuspended")
	if got, _ := e.Store.PasskeyByID(ctx, p2.ID); !got.Active() {
		t.Fatalf("still suspended: %+v", got)
	}

	// Revoke all (lost phone): the customer's sessions end too.
	sess := &store.Session{IDHash: []byte("session-of-51000001-xxxxxxxxxxxx"), CustomerID: c.ID, Stage: store.StageFull,
		CreatedAt: e.Clock.Now(), LastSeenAt: e.Clock.Now(), ExpiresAt: e.Clock.Now().Add(time.Hour)}
	if err := e.Store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	before = len(e.Mails(c.Email))
	wantSee(t, agent.post("/customers/51000001/passkeys/revoke-all", "reason", "スマートフォン紛失"), "/customers/51000001?m=revoked_all")
	if n, _ := e.Store.CountActivePasskeys(ctx, c.ID); n != 0 {
		t.Fatalf("%d active passkeys left", n)
	}
	if _, _, err := e.Store.SessionWithCustomer(ctx, sess.IDHash); err == nil {
		t.Fatal("the customer's session survived")
	}
	e.mailTo(t, c.Email, before, "すべてのパスキー")
	want(t, agent.post("/customers/51000001/passkeys/revoke-all", "reason", "nothing left"), 409)
	page = agent.get("/customers/51000001")
	want(t, page, 200, "削除済み", "オペレーター suzuki", "パスキー削除（オペレーター）")

	// Initial-setup guidance: mailed to a registered address; without one, refused.
	before = len(e.Mails(c.Email))
	wantSee(t, agent.post("/customers/51000001/setup-guide", "reason", "案内の再送をご希望"), "/customers/51000001?m=guide_sent")
	e.mailTo(t, c.Email, before, "初期設定のご案内")
	want(t, agent.post("/customers/51000002/setup-guide", "reason", "no address"), 409)
	if ev := e.events(t, noMail.ID)["setup_guide.sent"]; ev != nil {
		t.Fatal("a refused procedure was audited")
	}

	// Freeze: at once, sessions end, the customer cannot log in.
	before = len(e.Mails(c.Email))
	wantSee(t, agent.post("/customers/51000001/freeze", "reason", "不正ログインの疑い"), "/customers/51000001?m=frozen")
	if e.reload(t, c.ID).FrozenAt.IsZero() {
		t.Fatal("not frozen")
	}
	e.mailTo(t, c.Email, before, "口座凍結")
	if r := e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": c.Code, "password": pw}); r.StatusCode != 423 || r.Str("code") != auth.CodeAccountFrozen {
		t.Fatalf("frozen login: %d %s", r.StatusCode, r.Body)
	}
	want(t, agent.post("/customers/51000001/freeze", "reason", "twice"), 409)
	want(t, agent.get("/customers/51000001"), 200, `id="state-frozen"`, "口座凍結の解除")
}

// O1, O3, O4: four eyes. One operator requests; only another one, a
// supervisor, approves; the change happens at approval, audited and mailed.
func TestFourEyes_O1_O3_O4(t *testing.T) {
	e := newEnv(t)
	sato := e.operator(t, "sato", store.RoleSupervisor)
	suzuki := e.operator(t, "suzuki", store.RoleAgent)
	tanaka := e.operator(t, "tanaka", store.RoleSupervisor)
	c := e.customer(t, "52000001", "taro@example.jp", store.FactorTOTP)

	// O1: switch the app second factor to e-mail.
	want(t, suzuki.post("/customers/52000001/requests", "kind", "second_factor_email"), 400, "理由を入力")
	want(t, suzuki.post("/customers/52000001/requests", "kind", "teleport", "reason", "x"), 400)
	wantSee(t, suzuki.post("/customers/52000001/requests", "kind", "second_factor_email", "reason", "認証アプリの端末を紛失、本人確認済み"), "/customers/52000001?m=requested")
	want(t, sato.post("/customers/52000001/requests", "kind", "second_factor_email", "reason", "again"), 409, "承認待ちの申請がすでに")
	id := pendingRequest(t, sato)
	if e.reload(t, c.ID).SecondFactor != store.FactorTOTP {
		t.Fatal("changed before approval")
	}
	// The requester cannot approve; an agent cannot approve; nobody without a reason.
	want(t, suzuki.post("/requests/"+id+"/approve", "note", "ok"), 403, "ご自身の申請")
	want(t, suzuki.get("/requests"), 200, "ご自身の申請です")
	agent2 := e.operator(t, "ito", store.RoleAgent)
	want(t, agent2.post("/requests/"+id+"/approve", "note", "ok"), 403, "スーパーバイザーのみ")
	want(t, agent2.post("/requests/"+id+"/reject", "note", "no"), 403)
	want(t, sato.post("/requests/"+id+"/approve"), 400, "理由を入力")
	want(t, sato.get("/requests"), 200, "承認して実行する", "認証アプリの端末を紛失")
	if e.reload(t, c.ID).SecondFactor != store.FactorTOTP {
		t.Fatal("changed by a refused approval")
	}
	before := len(e.Mails(c.Email))
	wantSee(t, sato.post("/requests/"+id+"/approve", "note", "申請内容と本人確認の記録を確認"), "/requests?m=approved")
	if got := e.reload(t, c.ID); got.SecondFactor != store.FactorEmail || got.SensitiveChangedAt.IsZero() {
		t.Fatalf("after approval: %q, sensitive change %v", got.SecondFactor, got.SensitiveChangedAt)
	}
	evs := e.events(t, c.ID)
	if ev := evs["second_factor.changed"]; ev == nil || ev.Actor != "operator:sato" || !strings.Contains(ev.Detail, `"requested_by":"suzuki"`) {
		t.Fatalf("change audit: %+v", ev)
	}
	if ev := evs["request.created"]; ev == nil || ev.Actor != "operator:suzuki" {
		t.Fatalf("request audit: %+v", ev)
	}
	e.mailTo(t, c.Email, before, "二段階認証の方法を変更")
	want(t, tanaka.post("/requests/"+id+"/approve", "note", "twice"), 409, "すでに処理")
	// The customer now logs in with an e-mailed code.
	before = len(e.Mails(c.Email))
	if r := e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": c.Code, "password": pw}); r.StatusCode != 200 || r.Str("method") != "email" {
		t.Fatalf("login after the switch: %d %s", r.StatusCode, r.Body)
	}
	e.mailTo(t, c.Email, before, "コード")
	// Not applicable any more.
	want(t, suzuki.post("/customers/52000001/requests", "kind", "second_factor_email", "reason", "again"), 409)

	// O3: unfreeze needs the identity check recorded, then four eyes.
	wantSee(t, suzuki.post("/customers/52000001/freeze", "reason", "不審な出金依頼"), "/customers/52000001?m=frozen")
	want(t, sato.post("/customers/52000001/requests", "kind", "unfreeze", "reason", "本人確認済み"), 400, "本人確認の方法")
	wantSee(t, sato.post("/customers/52000001/requests", "kind", "unfreeze", "reason", "本人確認済み",
		"id_check", "運転免許証", "id_note", "氏名・生年月日・住所を照合"), "/customers/52000001?m=requested")
	id = pendingRequest(t, tanaka)
	want(t, sato.post("/requests/"+id+"/approve", "note", "ok"), 403, "ご自身の申請")
	// A rejected request changes nothing; the requester may not reject, only withdraw.
	want(t, sato.post("/requests/"+id+"/reject", "note", "no"), 403)
	want(t, tanaka.post("/requests/"+id+"/cancel", "note", "not yours"), 403)
	wantSee(t, tanaka.post("/requests/"+id+"/reject", "note", "確認書類の写しが不鮮明"), "/requests?m=rejected")
	if e.reload(t, c.ID).FrozenAt.IsZero() {
		t.Fatal("a rejected request unfroze")
	}
	wantSee(t, sato.post("/customers/52000001/requests", "kind", "unfreeze", "reason", "再度本人確認",
		"id_check", "マイナンバーカード"), "/customers/52000001?m=requested")
	id = pendingRequest(t, tanaka)
	wantSee(t, sato.post("/requests/"+id+"/cancel", "note", "書類の再確認のため取り下げ"), "/requests?m=cancelled")
	wantSee(t, sato.post("/customers/52000001/requests", "kind", "unfreeze", "reason", "再度本人確認",
		"id_check", "マイナンバーカード"), "/customers/52000001?m=requested")
	id = pendingRequest(t, tanaka)
	before = len(e.Mails(c.Email))
	wantSee(t, tanaka.post("/requests/"+id+"/approve", "note", "マイナンバーカードの記録を確認"), "/requests?m=approved")
	if !e.reload(t, c.ID).FrozenAt.IsZero() {
		t.Fatal("still frozen")
	}
	if ev := e.events(t, c.ID)["account.unfrozen"]; ev == nil || ev.Actor != "operator:tanaka" || !strings.Contains(ev.Detail, "マイナンバーカード") {
		t.Fatalf("unfreeze audit: %+v", ev)
	}
	e.mailTo(t, c.Email, before, "凍結）解除")
	want(t, tanaka.get("/requests"), 200, "却下", "取り下げ", "承認済み")

	// Expired requests cannot be approved.
	wantSee(t, suzuki.post("/customers/52000001/freeze", "reason", "again"), "/customers/52000001?m=frozen")
	wantSee(t, suzuki.post("/customers/52000001/requests", "kind", "unfreeze", "reason", "r", "id_check", "来店による確認"), "/customers/52000001?m=requested")
	id = pendingRequest(t, tanaka)
	e.Clock.Advance(8 * 24 * time.Hour)
	tanaka.login()
	want(t, tanaka.post("/requests/"+id+"/approve", "note", "late"), 410, "有効期限")
	want(t, tanaka.post("/requests/999999/approve", "note", "x"), 404)
	want(t, tanaka.post("/requests/abc/approve", "note", "x"), 404)
}

// B1: malformed requests get a 4xx, never a 500, and change nothing.
func TestConsoleBadInput_B1(t *testing.T) {
	e := newEnv(t)
	sato := e.operator(t, "sato", store.RoleSupervisor)
	e.customer(t, "53000001", "x@example.jp", store.FactorEmail)
	anon := e.browser(t)
	for _, tc := range []struct {
		o      *op
		method string
		path   string
		ct     string
		body   string
		status int
	}{
		{anon, "POST", "/api/enroll/options", "application/json", `{"name":`, 400},
		{anon, "POST", "/api/enroll/options", "text/plain", `{}`, 415},
		{anon, "POST", "/api/enroll/options", "application/json", `{"name":1}`, 400},
		{anon, "POST", "/api/enroll/options", "application/json", `{"name":"a","code":"b"} {}`, 400},
		{anon, "POST", "/api/enroll/options", "application/json", `{"name":"` + strings.Repeat("a", 70000) + `"}`, 413},
		{anon, "POST", "/api/enroll", "application/json", `{"id":"x","response":{}}`, 400},
		{anon, "POST", "/api/enroll", "application/json", `not json`, 400},
		{anon, "POST", "/api/login", "application/json", `{"id":"x","rawId":"x","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`, 400},
		{anon, "POST", "/api/login", "application/json", `[]`, 400},
		{anon, "GET", "/api/nothing", "", ``, 404},
		{anon, "GET", "/nothing", "", ``, 404},
		{anon, "DELETE", "/login", "", ``, 404},
		{sato, "POST", "/customers/53000001/unlock", "application/x-www-form-urlencoded", "reason=%zz", 400},
		{sato, "POST", "/customers/53000001/freeze", "application/x-www-form-urlencoded", "reason=" + strings.Repeat("あ", 600), 400},
		{sato, "POST", "/customers/53000001/requests", "application/x-www-form-urlencoded", "kind=email_change&reason=x&email=not-an-address", 400},
		{sato, "POST", "/customers/53000001/requests", "application/x-www-form-urlencoded", "kind=email_change&reason=x&inquiry_id=-3", 400},
		{sato, "POST", "/customers/53000001/requests", "application/x-www-form-urlencoded", "kind=email_change&reason=x&inquiry_id=77", 404},
		{sato, "POST", "/customers/53000001/requests", "application/x-www-form-urlencoded", "kind=unfreeze&reason=x&id_check=x", 409},
		{sato, "POST", "/customers/53000001/unlock", "application/x-www-form-urlencoded", "reason=" + strings.Repeat("x", 40000), 400},
		{sato, "POST", "/inquiries/abc/close", "application/x-www-form-urlencoded", "note=x", 404},
		{sato, "POST", "/inquiries/99/close", "application/x-www-form-urlencoded", "note=x", 404},
		{sato, "GET", "/inquiries/99", "", ``, 404},
		{sato, "GET", "/customers/%00", "", ``, 404},
		{sato, "POST", "/requests/1/resend-code", "application/x-www-form-urlencoded", "note=x", 404},
	} {
		hdr := []string{"Origin", e.ConsoleURL, "Sec-Fetch-Site", "same-origin"}
		r := tc.o.do(tc.method, tc.path, tc.ct, []byte(tc.body), hdr...)
		if r.StatusCode != tc.status {
			t.Errorf("%s %s %.40q: %d, want %d\n%s", tc.method, tc.path, tc.body, r.StatusCode, tc.status, snippet(r.Body))
		}
	}
	if got, _ := e.Store.CustomerByCode(context.Background(), "53000001"); !got.FrozenAt.IsZero() || !got.LockedAt.IsZero() {
		t.Fatal("a bad request changed the customer")
	}
}
