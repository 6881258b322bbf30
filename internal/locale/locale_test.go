package locale

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		cookie string
		accept string
		want   string
	}{
		{"default", "", "", "", "ja"},
		{"query en", "lang=en", "", "", "en"},
		{"query beats cookie", "lang=ja", "en", "en", "ja"},
		{"query region tag", "lang=en-US", "", "", "en"},
		{"unknown query falls through to cookie", "lang=fr", "en", "", "en"},
		{"cookie beats header", "", "en", "ja", "en"},
		{"bad cookie falls through", "", "xx", "en", "en"},
		{"header first supported", "", "", "fr-FR, en-US;q=0.8, ja;q=0.5", "en"},
		{"header q order", "", "", "en;q=0.3, ja;q=0.9", "ja"},
		{"header ties keep order", "", "", "en, ja", "en"},
		{"header q=0 excluded", "", "", "en;q=0, fr", "ja"},
		{"header ja-JP", "", "", "ja-JP,ja;q=0.9", "ja"},
		{"header bad q", "", "", "en;q=abc, ja;q=0.1", "ja"},
		{"header only unsupported", "", "", "de, fr;q=0.5", "ja"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/login?"+tt.query, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := Negotiate(r); got != tt.want {
				t.Errorf("Negotiate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	ja := Printer("ja")
	if got := ja.T("login.submit"); got != "ログイン" {
		t.Errorf("ja login.submit = %q", got)
	}
	if got := Printer("en").T("login.submit"); got != "Log in" {
		t.Errorf("en login.submit = %q", got)
	}
	if got := Printer("fr").Lang(); got != "ja" {
		t.Errorf("unsupported language printer = %q, want ja", got)
	}
	if got := ja.T("no.such.key", 1, "x"); got != "no.such.key" {
		t.Errorf("missing key = %q, want the key", got)
	}
	if got := ja.T("account.passkey.count", 3); got != "登録済みのパスキー：3件" {
		t.Errorf("with args = %q", got)
	}
	if !ja.Has("login.title") || ja.Has("nope") {
		t.Error("Has is wrong")
	}
}

func TestKeys(t *testing.T) {
	ja, en := Keys("ja"), Keys("en")
	if len(ja) == 0 || !slices.Equal(ja, en) {
		t.Fatalf("Keys differ: %d ja, %d en", len(ja), len(en))
	}
	if !slices.IsSorted(ja) {
		t.Error("Keys not sorted")
	}
	if Keys("fr") != nil {
		t.Error("Keys(fr) should be nil")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"ja": "ja", "JA-jp": "ja", "en_GB": "en", " en ": "en", "fr": "", "": "", "japanese": ""} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
