package mail

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// devOutbox holds three sent mails and one unsent.
func devOutbox(t *testing.T) *fakeOutbox {
	t.Helper()
	st := &fakeOutbox{}
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	add := func(to, subject, body string, sentAfter time.Duration, sent bool) {
		m := &store.Mail{To: to, Subject: subject, Body: body, CreatedAt: base}
		if err := st.EnqueueMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if sent {
			if err := st.MarkMailSent(context.Background(), m.ID, base.Add(sentAfter)); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("taro@example.jp", "【ホームトレード】ログイン用認証コードのお知らせ", "認証コード：111111\n", time.Minute, true)
	add("hanako@example.jp", "<script>alert(1)</script>", "<b>本文</b>\n", 2*time.Minute, true)
	add("taro@example.jp", "【ホームトレード】ログインのお知らせ", "ログインがありました。\n", 3*time.Minute, true)
	add("taro@example.jp", "unsent", "not yet\n", 0, false)
	return st
}

type devItem struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	SentAt  string `json:"sent_at"`
}

func getJSON(t *testing.T, h http.Handler, target string) []devItem {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", target, rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var items []devItem
	if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	if items == nil {
		t.Fatalf("body %q: want an array, not null", rec.Body)
	}
	return items
}

// TestDevMailboxJSON (SPEC R1): sent mail, newest first, filterable by recipient.
func TestDevMailboxJSON(t *testing.T) {
	st := devOutbox(t)
	h := DevMailboxJSON(st)

	all := getJSON(t, h, "/dev/mail.json")
	if len(all) != 3 {
		t.Fatalf("got %d mails, want the 3 sent ones", len(all))
	}
	if st.lastLimit != 200 {
		t.Errorf("limit %d, want 200", st.lastLimit)
	}
	if all[0].Subject != "【ホームトレード】ログインのお知らせ" || all[2].Body != "認証コード：111111\n" {
		t.Errorf("not newest first: %+v", all)
	}
	sent, err := time.Parse(time.RFC3339, all[0].SentAt)
	if err != nil || !sent.Equal(time.Date(2026, 11, 25, 0, 3, 0, 0, time.UTC)) {
		t.Errorf("sent_at %q (%v)", all[0].SentAt, err)
	}

	taro := getJSON(t, h, "/dev/mail.json?to=taro@example.jp")
	if len(taro) != 2 {
		t.Fatalf("filtered: %+v", taro)
	}
	for _, m := range taro {
		if m.To != "taro@example.jp" {
			t.Errorf("filter leaked %q", m.To)
		}
	}
	if got := getJSON(t, h, "/dev/mail.json?to=nobody@example.jp"); len(got) != 0 {
		t.Errorf("unknown recipient: %+v", got)
	}
	// A browser test can read the code straight from the body.
	if code := regexp.MustCompile(`認証コード：(\d{6})`).FindStringSubmatch(taro[1].Body); code == nil || code[1] != "111111" {
		t.Errorf("code not readable from %q", taro[1].Body)
	}
}

func TestDevMailboxHTML(t *testing.T) {
	h := DevMailboxHTML(devOutbox(t))

	get := func(target string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q: the page shows live codes", cc)
		}
		return rec.Body.String()
	}

	page := get("/dev/mail")
	for _, want := range []string{
		"【ホームトレード】ログインのお知らせ",
		"<pre>認証コード：111111\n</pre>",
		"2026年11月25日 09:03 (日本時間)",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&lt;b&gt;本文&lt;/b&gt;",
		`name="to"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(html.UnescapeString(page), `datetime="2026-11-25T09:03:00+09:00"`) {
		t.Error("machine-readable sent time missing")
	}
	// Strict CSP: no script, no inline style, no inline event handlers.
	for _, bad := range []string{"<script", "style=", "<style", "onclick", "onload", "javascript:", "unsent"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	newest := strings.Index(page, "ログインのお知らせ")
	oldest := strings.Index(page, "ログイン用認証コード")
	if newest < 0 || oldest < 0 || newest > oldest {
		t.Error("not newest first")
	}

	filtered := get("/dev/mail?to=hanako%40example.jp")
	if strings.Contains(filtered, "taro@example.jp") || !strings.Contains(filtered, `value="hanako@example.jp"`) {
		t.Errorf("filter not applied:\n%s", filtered)
	}
	empty := get("/dev/mail?to=nobody@example.jp")
	if !strings.Contains(empty, "メールはまだありません") {
		t.Errorf("empty mailbox message missing")
	}
}

func TestDevSender(t *testing.T) {
	if err := (DevSender{}).Send(context.Background(), &store.Mail{}); err != nil {
		t.Fatal(err)
	}
}
