package console

import (
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/audit"
	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
)

var (
	t0  = time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	sup = &store.Operator{ID: 1, Name: "sato", Role: store.RoleSupervisor}
)

func sampleBase(title string) Base {
	return Base{Title: title, Nav: "home", Operator: sup, Notice: "NOTICE", Error: "ERROR", NavPending: 2, NavOpen: 3}
}

func sampleCustomer() CustomerView {
	c := &store.Customer{ID: 7, Code: "10000001", Email: "taro@example.jp", EmailVerifiedAt: t0, SecondFactor: store.FactorTOTP,
		Lang: "ja", FailedAttempts: 5, LockedAt: t0, FrozenAt: t0, CreatedAt: t0}
	pk := func(id int64, name string, revoked, suspended bool) *store.Passkey {
		p := &store.Passkey{ID: id, CustomerID: 7, Name: name, Transports: []string{"internal", "hybrid"}, BackupEligible: true,
			BackupState: id%2 == 0, CreatedAt: t0, CreatedIP: "203.0.113.5", CreatedUserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1", LastUsedAt: t0}
		if revoked {
			p.RevokedAt, p.RevokedBy = t0, "operator:sato"
		}
		if suspended {
			p.SuspendedAt, p.SuspendReason = t0, "signature counter 3 after 9"
		}
		return p
	}
	q := &store.Inquiry{ID: 3, CustomerCode: "10000001", CustomerID: 7, Name: "山田 太郎", Email: "new@example.jp", Topic: store.TopicEmailChange, CreatedAt: t0}
	r := &store.ApprovalRequest{ID: 4, Kind: store.RequestEmailChange, CustomerID: 7, Payload: `{"email":"new@example.jp"}`, Reason: "依頼",
		RequestedBy: "suzuki", RequestedAt: t0, Status: store.RequestApproved, DecidedBy: "sato", DecidedAt: t0}
	f := &auth.CustomerFile{Customer: c, Passkeys: []*store.Passkey{pk(1, "iPhone", false, false), pk(2, "PC", false, true), pk(3, "古い端末", true, false)},
		Logins:    []*store.AuditEntry{{Seq: 9, At: t0, Actor: "customer", CustomerID: 7, Event: "login.success", IP: "203.0.113.5", Detail: `{"method":"passkey","passkey_id":1}`}},
		Trail:     []*store.AuditEntry{{Seq: 10, At: t0, Actor: "operator:sato", CustomerID: 7, Event: "account.frozen", Detail: `{"reason":"x","via":"console"}`}},
		Inquiries: []*store.Inquiry{q}, Requests: []*store.ApprovalRequest{r}, PendingEmail: "new@example.jp", PendingEmailExpires: t0}
	v := CustomerView{Base: sampleBase("お客さま"), F: f, C: c, Bound: 2, OpenInquiries: []*store.Inquiry{q}, CanSwitchToEmail: true,
		Requests: []RequestRow{{R: r, Code: "10000001", Payload: auth.RequestPayload{Email: "new@example.jp"}}}}
	for _, p := range f.Passkeys {
		v.Passkeys = append(v.Passkeys, PasskeyRow{P: p, Status: "有効"})
	}
	return v
}

func sampleRequests() RequestsView {
	mk := func(id int64, kind, status, by string) RequestRow {
		return RequestRow{R: &store.ApprovalRequest{ID: id, Kind: kind, CustomerID: 7, Reason: "理由", RequestedBy: by, RequestedAt: t0, Status: status},
			Code: "10000001", Payload: auth.RequestPayload{IDCheck: "運転免許証", IDNote: "照合済み"}, Own: by == "sato", CanApprove: by != "sato", Inquiry: 3}
	}
	return RequestsView{Base: sampleBase("承認待ち"), Supervisor: true,
		Pending: []RequestRow{mk(1, store.RequestUnfreeze, store.RequestPending, "suzuki"), mk(2, store.RequestSecondFactorEmail, store.RequestPending, "sato")},
		Recent:  []RequestRow{mk(3, store.RequestEmailChange, store.RequestRejected, "suzuki")}}
}

func sampleDashboard() DashboardView {
	d := &auth.Dashboard{At: t0, Synced: 3, DeviceBound: 1, Restricted: 1,
		Authenticators:   []auth.NameCount{{Name: "iCloud Keychain", Count: 3}, {Name: "セキュリティキー <&>", Count: 1}},
		RestrictedSample: []store.ActiveCustomer{{ID: 2, Code: "10000002", LastLogin: t0}}}
	for i := range 13 {
		d.Weekly = append(d.Weekly, auth.AdoptionPoint{At: t0.AddDate(0, 0, 7*(i-12)), Active: 10 + i, WithPasskey: i})
	}
	d.Now = d.Weekly[12]
	for i := range 14 {
		d.Days = append(d.Days, auth.DayLogins{Day: t0.AddDate(0, 0, i-13), Passkey: i, PasswordTOTP: 3, PasswordEmail: i % 4})
	}
	return DashboardView{Base: sampleBase("普及状況"), D: d, Share: shareChart(d.Weekly), Logins: loginsChart(d.Days),
		Authenticators: authenticatorsChart(d.Authenticators), Mix: syncedChart(d.Synced, d.DeviceBound)}
}

func samples() map[string][]any {
	q := &store.Inquiry{ID: 3, CustomerCode: "10000001", CustomerID: 7, Name: "山田 太郎", Email: "new@example.jp",
		Topic: store.TopicEmailChange, Message: "一行目\n二行目", IP: "203.0.113.5", CreatedAt: t0}
	closed := *q
	closed.ClosedAt, closed.ClosedBy, closed.CloseNote = t0, "operator:sato", "対応済み"
	anon := Base{Title: "ログイン"}
	return map[string][]any{
		"login":  {LoginView{Base: anon}},
		"enroll": {EnrollView{Base: anon}},
		"home": {HomeView{Base: sampleBase("ホーム"), Query: "1234", Requests: sampleRequests().Pending, Inquiries: []*store.Inquiry{q},
			Alerts: []AlertRow{{E: &store.AuditEntry{Seq: 5, At: t0, Event: "alert.passkey_clone", Detail: `{"passkey_id":2}`}, Code: "10000001"}}},
			HomeView{Base: sampleBase("ホーム")}},
		"customer":  {sampleCustomer(), CustomerView{Base: sampleBase("お客さま"), F: &auth.CustomerFile{Customer: &store.Customer{Code: "10000003"}}, C: &store.Customer{Code: "10000003"}}},
		"requests":  {sampleRequests(), RequestsView{Base: sampleBase("承認待ち")}},
		"inquiries": {InquiriesView{Base: sampleBase("お問い合わせ"), Open: []InquiryRow{{Q: q, Known: true}, {Q: q}}}, InquiriesView{Base: sampleBase("お問い合わせ")}},
		"inquiry":   {InquiryView{Base: sampleBase("お問い合わせ"), Q: q, Known: true}, InquiryView{Base: sampleBase("お問い合わせ"), Q: &closed}},
		"dashboard": {sampleDashboard()},
		"audit": {AuditView{Base: sampleBase("監査ログ")}, AuditView{Base: sampleBase("監査ログ"), Ran: true, Result: audit.Result{Entries: 10, LastSeq: 10}},
			AuditView{Base: sampleBase("監査ログ"), Ran: true, Result: audit.Result{Entries: 4, Broken: &audit.Break{Seq: 4, Reason: "changed"}}}},
		"error": {ErrorView{Base: anon, Status: 404, Message: "ページが見つかりません。"}, ErrorView{Base: sampleBase("エラー"), Status: 500, Message: "x"}},
	}
}

var (
	reScript  = regexp.MustCompile(`<script\b[^>]*>`)
	reInputID = regexp.MustCompile(`<(?:input|textarea|select)\b[^>]*\bid="([^"]+)"`)
	reIDs     = regexp.MustCompile(`\bid="([^"]+)"`)
)

// Every console page renders with every kind of data, in Japanese, with no
// template holes, no inline script or style (CSP), one h1, a label for every
// field and unique ids.
func TestRenderEveryPage(t *testing.T) {
	r, err := newRenderer()
	if err != nil {
		t.Fatal(err)
	}
	all := samples()
	for _, page := range pageNames {
		vs, ok := all[page]
		if !ok {
			t.Fatalf("no sample for page %s", page)
		}
		for i, v := range vs {
			rec := httptest.NewRecorder()
			if err := r.render(rec, 200, page, v); err != nil {
				t.Fatalf("%s/%d: %v", page, i, err)
			}
			body := rec.Body.String()
			for _, bad := range []string{"<no value>", "%!", "ZgotmplZ", "style=", "javascript:", "onclick", "[{", "0x", "map["} {
				if strings.Contains(body, bad) {
					t.Errorf("%s/%d contains %q", page, i, bad)
				}
			}
			if !strings.Contains(body, `<html lang="ja">`) || strings.Count(body, "<h1") != 1 {
				t.Errorf("%s/%d: no lang=ja or not exactly one h1", page, i)
			}
			for _, tag := range reScript.FindAllString(body, -1) {
				if !strings.Contains(tag, ` src="/static/`) {
					t.Errorf("%s/%d: inline script %s", page, i, tag)
				}
			}
			for _, m := range reInputID.FindAllStringSubmatch(body, -1) {
				if !strings.Contains(body, `for="`+m[1]+`"`) {
					t.Errorf("%s/%d: field #%s has no label", page, i, m[1])
				}
			}
			seen := map[string]bool{}
			for _, m := range reIDs.FindAllStringSubmatch(body, -1) {
				if seen[m[1]] {
					t.Errorf("%s/%d: id %q twice", page, i, m[1])
				}
				seen[m[1]] = true
			}
		}
	}
	if _, ok := r.assets["console.css"]; !ok {
		t.Fatal("no stylesheet")
	}
}

// The console's script parses as an ES module (node, where installed; CI has it).
func TestJavaScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal("node is not installed; CI needs it to check the JavaScript")
		}
		t.Skip("node is not installed; skipping the JavaScript check")
	}
	src, err := files.ReadFile("static/console.js")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--input-type=module", "--check")
	cmd.Stdin = bytes.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("console.js: %v\n%s", err, out)
	}
}

// O6: the charts escape what they draw and label themselves.
func TestChartsEscapeAndLabel_O6(t *testing.T) {
	svg := string(authenticatorsChart([]auth.NameCount{{Name: `<script>alert("x")</script>`, Count: 2}}))
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Fatalf("unescaped: %s", svg)
	}
	for _, s := range []string{string(shareChart(nil)), string(loginsChart(nil)), string(syncedChart(0, 0)), string(authenticatorsChart(nil))} {
		if !strings.Contains(s, "<title id=") || !strings.Contains(s, `role="img"`) || !strings.HasSuffix(s, "</svg>") {
			t.Errorf("chart without a title: %.200s", s)
		}
	}
	if got := niceMax(0); got != 1 {
		t.Errorf("niceMax(0) = %d", got)
	}
	for in, want := range map[int]int{1: 1, 3: 5, 7: 10, 12: 20, 20: 20, 99: 100, 101: 200, 4500: 5000} {
		if got := niceMax(in); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", in, got, want)
		}
	}
}
