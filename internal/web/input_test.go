package web_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kagi-auth/kagi/internal/testenv"
)

// B1: every malformed request gets a clear 4xx problem, never a 500, and
// changes nothing (no session, no failure counted, no audit entry).
func TestBadInput_B1(t *testing.T) {
	e := testenv.New(t)
	cust, _ := totpCustomer(e, "70000001")
	c := e.Client()
	huge := append([]byte(`{"customer_code":"70000001","password":"`), bytes.Repeat([]byte("a"), 70<<10)...)
	huge = append(huge, `"}`...)
	cases := []struct {
		name, path, ctype string
		body              []byte
		status            int
		code              string
	}{
		{"not json", "/api/login/password", "application/json", []byte(`customer_code=1`), 400, "invalid_json"},
		{"truncated", "/api/login/password", "application/json", []byte(`{"customer_code":"7000`), 400, "invalid_json"},
		{"empty", "/api/login/password", "application/json", nil, 400, "invalid_json"},
		{"wrong type", "/api/login/password", "application/json", []byte(`{"customer_code":70000001,"password":"x"}`), 400, "invalid_request"},
		{"array", "/api/login/password", "application/json", []byte(`[1,2]`), 400, "invalid_request"},
		{"trailing data", "/api/login/password", "application/json", []byte(`{"customer_code":"70000001","password":"x"} {}`), 400, "invalid_json"},
		{"huge", "/api/login/password", "application/json", huge, 413, "body_too_large"},
		{"form to api", "/api/login/password", "application/x-www-form-urlencoded", []byte(`customer_code=70000001&password=x`), 415, "unsupported_media_type"},
		{"no content type", "/api/login/password", "", []byte(`{}`), 415, "unsupported_media_type"},
		{"code wrong type", "/api/login/second-factor", "application/json", []byte(`{"code":123456}`), 400, "invalid_request"},
		{"second factor without session", "/api/login/second-factor", "application/json", []byte(`{"code":"123456"}`), 401, "not_authenticated"},
		{"setup without session", "/api/setup/email", "application/json", []byte(`{"email":"a@example.jp"}`), 401, "not_authenticated"},
		{"unknown api", "/api/nothing", "application/json", []byte(`{}`), 404, "not_found"},
		{"raw control byte", "/api/login/password", "application/json", []byte("{\"customer_code\":\"7000\x00\",\"password\":\"x\"}"), 400, "invalid_json"},
		{"escaped nul", "/api/login/password", "application/json", []byte(`{"customer_code":"7000\u0000","password":"\u0000"}`), 401, "invalid_credentials"},
		{"invalid utf-8", "/api/login/password", "application/json", []byte("{\"customer_code\":\"\xff\xfe\",\"password\":\"x\"}"), 401, "invalid_credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do("POST", tc.path, tc.ctype, tc.body)
			wantStatus(t, r, tc.status, tc.code)
		})
	}
	if len(c.Jar.Cookies(mustURL(e.URL))) != 0 {
		t.Error("a malformed request created a session")
	}
	got, _ := e.Store.CustomerByID(t.Context(), cust.ID)
	if got.FailedAttempts != 0 {
		t.Errorf("malformed requests counted as failures: %d", got.FailedAttempts)
	}
	if ev := e.Audit(cust.ID); len(ev) != 1 {
		t.Errorf("malformed requests were audited against the customer: %v", ev)
	}
	// A wrong-type password with a huge header or an absurd cookie is still a 4xx.
	r := c.Do("GET", "/api/session", "", nil, "Cookie", "kagi_session="+strings.Repeat("x", 4000))
	wantStatus(t, r, 401, "not_authenticated")
}

// B1: the pages answer bad forms with a page, not a crash.
func TestBadForms_B1(t *testing.T) {
	e := testenv.New(t)
	c := e.Client()
	r := c.Do("POST", "/login", "application/x-www-form-urlencoded", bytes.Repeat([]byte("a=b&"), 10<<10), "Origin", e.URL)
	if r.StatusCode >= 500 {
		t.Fatalf("huge form: %d", r.StatusCode)
	}
	r = c.Do("POST", "/login", "multipart/form-data; boundary=x", []byte("garbage"), "Origin", e.URL)
	if r.StatusCode >= 500 {
		t.Fatalf("bad multipart: %d", r.StatusCode)
	}
	r = c.PostForm("/login/second-factor", "code", "123456")
	if r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
		t.Fatalf("second factor without session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.Get("/no/such/page"); r.StatusCode != 404 || !r.Contains("<html") {
		t.Fatalf("404 page: %d", r.StatusCode)
	}
}
