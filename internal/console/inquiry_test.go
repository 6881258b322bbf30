package console_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/testenv"
)

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// O2 end to end: a customer sends the inquiry form with a new address;
// nothing is mailed to it; an operator requests the change from the inquiry,
// a supervisor approves; a code goes to the new address only; the customer
// enters it on the inquiry page; only then is the address registered, both
// addresses told, and the inquiry closed.
func TestEmailChangeFromInquiry_O2_O4(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.customer(t, "54000001", "old@example.jp", store.FactorEmail)
	const newAddr = "new.address@example.jp"
	site := e.Client()

	// The form: shown, validated field by field, stored, acknowledged.
	page := site.Get("/inquiry")
	if page.StatusCode != 200 || !page.Contains("お問い合わせフォーム") || !page.Contains("メールアドレス変更希望") {
		t.Fatalf("GET /inquiry: %d", page.StatusCode)
	}
	bad := site.PostForm("/inquiry", "form", "inquiry", "customer_code", "54-01", "name", "", "email", "nope", "topic", "other", "message", "")
	if bad.StatusCode != 400 || strings.Count(string(bad.Body), `aria-invalid="true"`) != 4 {
		t.Fatalf("invalid form: %d, %d fields marked", bad.StatusCode, strings.Count(string(bad.Body), `aria-invalid="true"`))
	}
	if r := site.PostForm("/inquiry", "form", "elsewhere"); r.StatusCode != 400 {
		t.Fatalf("unknown form: %d", r.StatusCode)
	}
	long := site.PostForm("/inquiry", "form", "inquiry", "customer_code", c.Code, "name", "x", "email", "x@example.jp", "topic", "other", "message", strings.Repeat("長", 1001))
	if long.StatusCode != 400 || !long.Contains(`id="inquiry-message" name="message" class="input" rows="5" maxlength="1000" aria-describedby="inquiry-message-hint" aria-invalid="true"`) {
		t.Fatalf("long message: %d", long.StatusCode)
	}
	if r := site.PostForm("/inquiry", "form", "inquiry", "message", strings.Repeat("x", 20000)); r.StatusCode != 400 {
		t.Fatalf("oversized form: %d", r.StatusCode)
	}
	ok := site.PostForm("/inquiry", "form", "inquiry", "customer_code", c.Code, "name", "山田 花子", "email", newAddr,
		"topic", "email_change", "message", "旧アドレスが使えなくなりました。\n変更をお願いします。")
	if ok.StatusCode != 200 || !ok.Contains(`id="inquiry-done"`) || !ok.Contains("受付番号") {
		t.Fatalf("inquiry: %d\n%s", ok.StatusCode, ok.Body)
	}
	// Same answer for a code nobody has (no enumeration), stored unmatched.
	stranger := site.PostForm("/inquiry", "form", "inquiry", "customer_code", "59999999", "name", "x", "email", "x@example.jp", "topic", "login_trouble")
	if stranger.StatusCode != 200 || !stranger.Contains(`id="inquiry-done"`) {
		t.Fatalf("unknown customer's inquiry: %d", stranger.StatusCode)
	}
	if n := e.Settled(newAddr); n != 0 {
		t.Fatalf("%d mails to the unverified address", n)
	}

	sato := e.operator(t, "sato", store.RoleSupervisor)
	suzuki := e.operator(t, "suzuki", store.RoleAgent)
	q := sato.get("/inquiries")
	want(t, q, 200, newAddr, "メールアドレス変更希望", "59999999", "該当なし")
	qs, err := e.Store.OpenInquiries(ctx, 0)
	if err != nil || len(qs) != 2 || qs[0].CustomerID != c.ID || qs[1].CustomerID != 0 {
		t.Fatalf("stored inquiries: %+v %v", qs, err)
	}
	inq := qs[0]
	want(t, sato.get(fmt.Sprintf("/inquiries/%d", inq.ID)), 200, "旧アドレスが使えなくなりました", "未確認")
	want(t, suzuki.get("/customers/54000001"), 200, `id="form-request-email-change"`, newAddr)

	// Request from the inquiry (agent), approve (another operator, supervisor).
	wantSee(t, suzuki.post("/customers/54000001/requests", "kind", "email_change", "inquiry_id", fmt.Sprint(inq.ID),
		"reason", "お問い合わせフォームによる依頼、登録電話番号への折り返しで本人確認"), "/customers/54000001?m=requested")
	id := pendingRequest(t, sato)
	want(t, sato.get("/requests"), 200, newAddr)
	oldBefore := len(e.Mails(c.Email))
	wantSee(t, sato.post("/requests/"+id+"/approve", "note", "本人確認の記録を確認"), "/requests?m=approved")
	if got := e.reload(t, c.ID); got.Email != c.Email {
		t.Fatalf("address changed before verification: %q", got.Email)
	}
	code := e.mailTo(t, newAddr, 0, "確認コード")
	if !strings.Contains(code.Body, "お問い合わせフォーム") || !strings.Contains(code.Body, "****0001") {
		t.Fatalf("code mail: %s", code.Body)
	}
	otp := sixDigits.FindStringSubmatch(code.Body)[1]
	if n := e.Settled(c.Email); n != oldBefore {
		t.Fatalf("the old address got %d mails at approval", n-oldBefore)
	}
	want(t, suzuki.get("/customers/54000001"), 200, `id="info-pending-email"`, "確認コードを再送")

	// Wrong code, unknown customer: the same refusal; nothing changes.
	wrong := fmt.Sprintf("%06d", (atoi(otp)+1)%1000000)
	for _, cc := range []string{c.Code, "59999999", "abc"} {
		r := site.PostForm("/inquiry", "form", "verify", "customer_code", cc, "code", wrong)
		if r.StatusCode != 400 || !r.Contains("お客様コードまたは確認コードが正しくない") {
			t.Fatalf("verify %s: %d", cc, r.StatusCode)
		}
	}
	if got := e.reload(t, c.ID); got.Email != c.Email {
		t.Fatal("changed by a wrong code")
	}
	newBefore := len(e.Mails(newAddr))
	r := site.PostForm("/inquiry", "form", "verify", "customer_code", c.Code, "code", otp)
	if r.StatusCode != 200 || !r.Contains(`id="verify-done"`) {
		t.Fatalf("verify: %d\n%s", r.StatusCode, r.Body)
	}
	got := e.reload(t, c.ID)
	if got.Email != newAddr || !got.EmailVerified() || got.SensitiveChangedAt.IsZero() {
		t.Fatalf("after verification: %+v", got)
	}
	toNew := e.mailTo(t, newAddr, newBefore, "登録メールアドレス変更")
	toOld := e.mailTo(t, c.Email, oldBefore, "登録メールアドレス変更")
	if !strings.Contains(toNew.Body, newAddr) || strings.Contains(toOld.Body, newAddr) || !strings.Contains(toOld.Body, "ne***@example.jp") {
		t.Fatalf("notices:\nnew: %s\nold: %s", toNew.Body, toOld.Body)
	}
	if q, _ := e.Store.InquiryByID(ctx, inq.ID); q.Open() {
		t.Fatal("the inquiry is still open")
	}
	ev := e.events(t, c.ID)["email.changed"]
	if ev == nil || ev.Actor != "customer" || !strings.Contains(ev.Detail, `"approved_by":"sato"`) || !strings.Contains(ev.Detail, `"requested_by":"suzuki"`) {
		t.Fatalf("change audit: %+v", ev)
	}
	// Used once.
	if r := site.PostForm("/inquiry", "form", "verify", "customer_code", c.Code, "code", otp); r.StatusCode != 400 {
		t.Fatalf("code reused: %d", r.StatusCode)
	}
	// Login codes now go to the new address.
	before := len(e.Mails(newAddr))
	if r := e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": c.Code, "password": pw}); r.StatusCode != 200 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	e.mailTo(t, newAddr, before, "コード")

	// Closing the other inquiry needs a note.
	want(t, sato.post(fmt.Sprintf("/inquiries/%d/close", qs[1].ID)), 400, "理由を入力")
	wantSee(t, sato.post(fmt.Sprintf("/inquiries/%d/close", qs[1].ID), "note", "該当するお客さまなし、折り返し不要"), "/inquiries?m=closed")
	want(t, sato.post(fmt.Sprintf("/inquiries/%d/close", qs[1].ID), "note", "twice"), 409)
	want(t, sato.get("/inquiries"), 200, "未対応のお問い合わせはありません")
}

// O2: a code that ran out can be mailed again (after approval, without a new
// one); the older code stops working.
func TestEmailChangeResendCode_O2(t *testing.T) {
	e := newEnv(t)
	c := e.customer(t, "54000002", "old2@example.jp", store.FactorEmail)
	sato := e.operator(t, "sato", store.RoleSupervisor)
	tanaka := e.operator(t, "tanaka", store.RoleSupervisor)
	wantSee(t, sato.post("/customers/54000002/requests", "kind", "email_change", "email", "fresh@example.jp", "reason", "書面による届出"), "/customers/54000002?m=requested")
	want(t, sato.post("/customers/54000002/requests", "kind", "email_change", "email", "old2@example.jp", "reason", "same"), 409)
	id := pendingRequest(t, tanaka)
	wantSee(t, tanaka.post("/requests/"+id+"/approve", "note", "届出書を確認"), "/requests?m=approved")
	first := sixDigits.FindStringSubmatch(e.mailTo(t, "fresh@example.jp", 0, "確認コード").Body)[1]
	e.Clock.Advance(25 * time.Hour) // expired
	sato.login()
	r := e.Client().PostForm("/inquiry", "form", "verify", "customer_code", c.Code, "code", first)
	if r.StatusCode != 400 {
		t.Fatalf("expired code: %d", r.StatusCode)
	}
	wantSee(t, sato.post("/requests/"+id+"/resend-code", "note", "お客さまから再送のご依頼"), "/customers/54000002?m=code_resent")
	second := sixDigits.FindStringSubmatch(e.mailTo(t, "fresh@example.jp", 1, "確認コード").Body)[1]
	if r := e.Client().PostForm("/inquiry", "form", "verify", "customer_code", c.Code, "code", second); r.StatusCode != 200 {
		t.Fatalf("second code: %d", r.StatusCode)
	}
	if got := e.reload(t, c.ID); got.Email != "fresh@example.jp" {
		t.Fatalf("email %q", got.Email)
	}
	want(t, sato.post("/requests/"+id+"/resend-code", "note", "again"), 409)
}

// B3: the inquiry form has a budget per client IP.
func TestInquiryRateLimit_B3(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.RateLimitIP = 600 })
	site := e.Client()
	for i := range 11 {
		r := site.PostForm("/inquiry", "form", "inquiry", "customer_code", "55000001", "name", "x", "email", "x@example.jp", "topic", "other", "message", fmt.Sprint(i))
		if want := 200; i == 10 {
			if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("11th inquiry: %d", r.StatusCode)
			}
		} else if r.StatusCode != want {
			t.Fatalf("inquiry %d: %d", i, r.StatusCode)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
