package locale

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func catalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	data, err := files.ReadFile(lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// TestMissingTranslations: every catalog has exactly the keys of the
// reference catalog (ja.json).
func TestMissingTranslations(t *testing.T) {
	ref := catalog(t, Default)
	for _, lang := range Supported {
		m := catalog(t, lang)
		for k := range ref {
			if _, ok := m[k]; !ok {
				t.Errorf("%s.json: missing key %q", lang, k)
			}
		}
		for k := range m {
			if _, ok := ref[k]; !ok {
				t.Errorf("%s.json: key %q is not in %s.json", lang, k, Default)
			}
		}
	}
}

func TestNoEmptyMessages(t *testing.T) {
	for _, lang := range Supported {
		for k, v := range catalog(t, lang) {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
			if k != strings.TrimSpace(k) || k == "" || strings.ContainsAny(k, " \t\n") {
				t.Errorf("%s.json: bad key %q", lang, k)
			}
		}
	}
}

// verbs returns the fmt verbs of a format string in order ("%s", "%d"),
// ignoring "%%".
func verbs(format string) []string {
	var out []string
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0123456789.[]", format[i]) >= 0 {
			i++
		}
		if i < len(format) {
			out = append(out, "%"+string(format[i]))
		} else {
			out = append(out, "%!(NOVERB)")
		}
	}
	return out
}

func TestVerbs(t *testing.T) {
	cases := map[string][]string{
		"abc":              nil,
		"100%%":            nil,
		"%s and %d":        {"%s", "%d"},
		"最大%d件":            {"%d"},
		"%-5s|%05.2f|%%%v": {"%s", "%f", "%v"},
	}
	for in, want := range cases {
		if got := verbs(in); !slices.Equal(got, want) {
			t.Errorf("verbs(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestFormatVerbsMatch: a message takes the same Sprintf arguments in every
// language, and a message without arguments has no stray '%'.
func TestFormatVerbsMatch(t *testing.T) {
	ref := catalog(t, Default)
	for _, lang := range Supported {
		m := catalog(t, lang)
		for k, v := range m {
			got := verbs(v)
			if want := verbs(ref[k]); !slices.Equal(got, want) {
				t.Errorf("%s.json %q: verbs %v, %s.json has %v", lang, k, got, Default, want)
			}
			for _, vb := range got {
				if !strings.Contains("%s%d%v", vb) {
					t.Errorf("%s.json %q: unexpected verb %s", lang, k, vb)
				}
			}
		}
	}
}

// errorCodes are the problem codes of the JSON API and the HTML banners;
// each needs an "error.<code>" message taking these arguments.
var errorCodes = map[string][]string{
	"invalid_json":              nil,
	"invalid_request":           nil,
	"body_too_large":            nil,
	"unsupported_media_type":    nil,
	"invalid_credentials":       nil,
	"account_locked":            {"%s"}, // call-center phone
	"account_frozen":            {"%s"}, // call-center phone
	"invalid_code":              nil,
	"code_expired":              nil,
	"too_many_attempts":         nil,
	"code_resend_wait":          nil,
	"not_authenticated":         nil,
	"session_expired":           nil,
	"forbidden":                 nil,
	"not_found":                 nil,
	"rate_limited":              nil,
	"setup_required":            nil,
	"already_set_up":            nil,
	"invalid_email":             nil,
	"email_not_verified":        nil,
	"step_up_required":          nil,
	"passkey_limit_reached":     {"%d"}, // the limit
	"passkey_failed":            nil,
	"passkey_user_verification": nil,
	"passkey_cancelled":         nil,
	"passkey_unknown":           nil,
	"passkey_suspended":         nil,
	"csrf":                      nil,
	"server_busy":               nil,
	"internal":                  nil,
}

func TestErrorCodes(t *testing.T) {
	for _, lang := range Supported {
		m := catalog(t, lang)
		for code, want := range errorCodes {
			v, ok := m["error."+code]
			if !ok {
				t.Errorf("%s.json: missing error.%s", lang, code)
				continue
			}
			if got := verbs(v); !slices.Equal(got, want) {
				t.Errorf("%s.json error.%s: verbs %v, want %v", lang, code, got, want)
			}
		}
	}
	p := Printer("ja")
	if got := p.T("error.account_locked", "0120-99-1234"); !strings.Contains(got, "0120-99-1234") || strings.Contains(got, "%!") {
		t.Errorf("account_locked = %q", got)
	}
	if got := Printer("en").T("error.passkey_limit_reached", 5); !strings.Contains(got, "5 passkeys") {
		t.Errorf("passkey_limit_reached = %q", got)
	}
}

// TestJapaneseIsJapanese catches an English sentence pasted into ja.json.
func TestJapaneseIsJapanese(t *testing.T) {
	for k, v := range catalog(t, "ja") {
		if !strings.ContainsFunc(v, func(r rune) bool { return r >= 0x3000 }) && len(v) > 12 {
			t.Errorf("ja.json %q has no Japanese: %q", k, v)
		}
	}
}
