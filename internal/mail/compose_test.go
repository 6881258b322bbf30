package mail

import (
	"errors"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// at is 25 Nov 2026 09:05 in Japan, given in UTC to prove the zone conversion.
var at = time.Date(2026, 11, 25, 0, 5, 0, 0, time.UTC)

// fullData fills every field a kind may use.
func fullData(kind Kind) Data {
	d := Data{
		CustomerCode:   "12345678",
		Code:           "482913",
		Email:          "taro@example.jp",
		At:             at,
		Method:         "password_totp",
		IP:             "203.0.113.5",
		Browser:        "Chrome (Windows)",
		Authenticator:  "iCloud キーチェーン",
		PasskeyName:    "Taroの iPhone",
		ExpiresMinutes: 10,
		Operation:      "withdraw",
		Detail:         "出金額 100,000円 → 〇〇銀行 本店 普通 ****567",
		Deadline:       time.Date(2026, 5, 17, 15, 0, 0, 0, time.UTC), // 18 May 2026 00:00 in Japan
		OldEmail:       "old.taro@example.jp",
		CoolingHours:   24,
	}
	if kind == KindLoginNotice {
		d.Method = "passkey"
	}
	return d
}

var codeKinds = []Kind{KindLoginCode, KindSetupEmailCode, KindStepUpCode, KindEmailChangeCode}

// TestComposeEveryKind checks the rules every mail obeys (SPEC P4): no links,
// the call center's number, times in JST, a send-only note, no template holes.
func TestComposeEveryKind(t *testing.T) {
	b := DefaultBrand()
	for _, lang := range []string{LangJA, LangEN} {
		for _, kind := range AllKinds() {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				subject, body, err := Compose(b, lang, kind, fullData(kind))
				if err != nil {
					t.Fatalf("Compose: %v", err)
				}
				all := subject + "\n" + body
				for _, bad := range []string{"http", "www.", "://", "<no value>", "{{", "}}", "%!"} {
					if strings.Contains(strings.ToLower(all), bad) {
						t.Errorf("mail contains %q:\n%s", bad, all)
					}
				}
				if subject == "" || strings.ContainsAny(subject, "\r\n") {
					t.Errorf("bad subject %q", subject)
				}
				if !strings.Contains(body, b.Phone) {
					t.Errorf("body lacks the call-center phone %s", b.Phone)
				}
				jst, hours, sendOnly, site := "2026年11月25日 09:05 (日本時間)", b.Hours, "送信専用", b.Site
				if lang == LangEN {
					jst, hours, sendOnly, site = "25 Nov 2026 09:05 JST", b.HoursEN, "send-only", b.SiteEN
				}
				if !strings.Contains(body, jst) {
					t.Errorf("body lacks the JST time %q", jst)
				}
				if strings.Contains(body, "00:05") {
					t.Errorf("body shows UTC time")
				}
				for _, want := range []string{hours, sendOnly, site} {
					if !strings.Contains(all, want) {
						t.Errorf("mail lacks %q", want)
					}
				}
				// Customer data may be Japanese; the English wording may not.
				wording := strings.NewReplacer(fullData(kind).PasskeyName, "", fullData(kind).Authenticator, "", fullData(kind).Detail, "").Replace(all)
				if lang == LangEN && regexp.MustCompile(`\p{Hiragana}|\p{Katakana}|\p{Han}`).MatchString(wording) {
					t.Errorf("English mail contains Japanese:\n%s", all)
				}
				if strings.Contains(all, "12345678") {
					t.Errorf("full customer code shown")
				}
				if kind != KindSetupEmailCode && !strings.Contains(body, "****5678") {
					t.Errorf("masked customer code missing")
				}
				if !strings.HasSuffix(body, "\n") || strings.Contains(body, "\n\n\n") || strings.HasPrefix(body, "\n") {
					t.Errorf("body layout not tidy: %q", body)
				}
			})
		}
	}
}

// TestComposeCodes: code mails give the code, its validity in minutes and the
// warning that staff never ask for it (SPEC A5).
func TestComposeCodes(t *testing.T) {
	for _, lang := range []string{LangJA, LangEN} {
		for _, kind := range codeKinds {
			_, body, err := Compose(DefaultBrand(), lang, kind, fullData(kind))
			if err != nil {
				t.Fatal(err)
			}
			wants := []string{"482913", "10分間", "09:15", "一切ありません"}
			if lang == LangEN {
				wants = []string{"482913", "10 minutes", "09:15", "never ask"}
			}
			for _, w := range wants {
				if !strings.Contains(body, w) {
					t.Errorf("%s/%s lacks %q", lang, kind, w)
				}
			}
		}
	}
	_, body, _ := Compose(DefaultBrand(), LangEN, KindLoginCode, Data{Code: "1", At: at, ExpiresMinutes: 1})
	if !strings.Contains(body, "(1 minute)") {
		t.Errorf("singular minute: %s", body)
	}
}

// TestComposeNotices: notices show what happened and where from (SPEC P4).
func TestComposeNotices(t *testing.T) {
	tests := []struct {
		lang  string
		kind  Kind
		d     Data
		wants []string
	}{
		{LangJA, KindLoginNotice, Data{At: at, Method: "password_totp", IP: "198.51.100.7", Browser: "Safari (iPhone)"},
			[]string{"ログイン方法：パスワード＋認証アプリ", "IPアドレス：198.51.100.7", "ブラウザ：Safari (iPhone)"}},
		{LangJA, KindLoginNotice, Data{At: at, Method: "password_email"},
			[]string{"パスワード＋メール認証", "IPアドレス：不明", "ブラウザ：不明"}},
		{LangJA, KindLoginNotice, Data{At: at, Method: "passkey"}, []string{"ログイン方法：パスキー"}},
		{LangEN, KindLoginNotice, Data{At: at, Method: "password_totp"},
			[]string{"Method: Password + authenticator app", "IP address: unknown", "Browser: unknown"}},
		{LangEN, KindLoginNotice, Data{At: at, Method: "passkey"}, []string{"Method: Passkey"}},
		{LangJA, KindSetupDone, Data{At: at, Email: "hanako@example.jp", Method: "email"},
			[]string{"hanako@example.jp", "二段階認証の方法：メール認証", "パスキー登録"}},
		{LangEN, KindSetupDone, Data{At: at, Email: "hanako@example.jp", Method: "totp"},
			[]string{"Second factor: authenticator app"}},
		{LangJA, KindPasskeyRegistered, Data{At: at, PasskeyName: "仕事用PC", Authenticator: "Windows Hello"},
			[]string{"パスキーの名前：仕事用PC", "保存先：Windows Hello", "登録日時："}},
		{LangJA, KindPasskeyDeleted, Data{At: at, Reason: "テレホントレードセンターでのお手続き"},
			[]string{"（名前なし）", "理由：テレホントレードセンターでのお手続き"}},
		{LangJA, KindLockNotice, Data{At: at}, []string{"ロックを解除するには、お電話"}},
		{LangEN, KindPasskeySuspended, Data{At: at, PasskeyName: "YubiKey"}, []string{"may have been copied", "YubiKey"}},
	}
	for _, tt := range tests {
		_, body, err := Compose(DefaultBrand(), tt.lang, tt.kind, tt.d)
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.lang, tt.kind, err)
		}
		for _, w := range tt.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s/%s lacks %q:\n%s", tt.lang, tt.kind, w, body)
			}
		}
	}
	// Optional lines are left out, not printed empty.
	_, body, _ := Compose(DefaultBrand(), LangJA, KindPasskeyDeleted, Data{At: at})
	for _, absent := range []string{"IPアドレス：", "ブラウザ：", "理由：", "保存先：", "お客様コード："} {
		if strings.Contains(body, absent) {
			t.Errorf("empty optional line %q printed", absent)
		}
	}
}

// TestComposeNoPromiseOfCoolingOff: P6 may come later; the mail must not promise it.
func TestComposeNoPromiseOfCoolingOff(t *testing.T) {
	for _, lang := range []string{LangJA, LangEN} {
		_, body, _ := Compose(DefaultBrand(), lang, KindPasskeyRegistered, fullData(KindPasskeyRegistered))
		for _, w := range []string{"24", "出金", "withdraw", "hour"} {
			if strings.Contains(body, w) {
				t.Errorf("%s passkey_registered mentions %q", lang, w)
			}
		}
	}
}

func TestComposeLanguageFallback(t *testing.T) {
	want, _, _ := Compose(DefaultBrand(), LangJA, KindLoginNotice, fullData(KindLoginNotice))
	for _, lang := range []string{"", "fr", "ja-JP", "EN-us"} {
		got, _, err := Compose(DefaultBrand(), lang, KindLoginNotice, fullData(KindLoginNotice))
		if err != nil || got != want {
			t.Errorf("lang %q: subject %q, err %v; want the Japanese %q", lang, got, err, want)
		}
	}
}

func TestComposeAnyZoneRendersJST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	d := fullData(KindLoginNotice)
	d.At = at.In(ny)
	_, body, _ := Compose(DefaultBrand(), LangJA, KindLoginNotice, d)
	if !strings.Contains(body, "ログイン日時：2026年11月25日 09:05 (日本時間)") {
		t.Errorf("not JST:\n%s", body)
	}
	// Single-digit month and day read naturally in Japanese.
	d.At = time.Date(2026, 3, 5, 14, 7, 0, 0, tokyo)
	_, body, _ = Compose(DefaultBrand(), LangJA, KindLoginNotice, d)
	if !strings.Contains(body, "2026年3月5日 14:07 (日本時間)") {
		t.Errorf("date format:\n%s", body)
	}
	_, body, _ = Compose(DefaultBrand(), LangEN, KindLoginNotice, d)
	if !strings.Contains(body, "5 Mar 2026 14:07 JST") {
		t.Errorf("date format:\n%s", body)
	}
}

func TestComposeRequiredFields(t *testing.T) {
	tests := []struct {
		kind Kind
		d    Data
	}{
		{KindLoginCode, Data{At: at, ExpiresMinutes: 10}},
		{KindLoginCode, Data{At: at, Code: "1"}},
		{KindStepUpCode, Data{Code: "1", ExpiresMinutes: 10}},
		{KindSetupEmailCode, Data{At: at, Code: "1", ExpiresMinutes: 10}},
		{KindLoginNotice, Data{At: at}},
		{KindSetupDone, Data{At: at, Method: "totp"}},
		{KindPasskeyRegistered, Data{}},
		{KindOperationNotice, Data{At: at}},
		{KindPasskeyReminder, Data{At: at}},
		{KindEmailChangeCode, Data{At: at, Code: "1", ExpiresMinutes: 10}},
		{KindEmailChangeCode, Data{At: at, Email: "a@b.jp", ExpiresMinutes: 10}},
		{KindEmailChanged, Data{At: at, Email: "a@b.jp"}},
		{KindEmailChanged, Data{At: at, OldEmail: "a@b.jp"}},
	}
	for _, tt := range tests {
		if _, _, err := Compose(DefaultBrand(), LangJA, tt.kind, tt.d); !errors.Is(err, ErrMissing) {
			t.Errorf("%s %+v: err %v, want ErrMissing", tt.kind, tt.d, err)
		}
	}
	if _, _, err := Compose(DefaultBrand(), LangJA, Kind("nope"), Data{At: at}); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestComposeHostileInput: a passkey name or User-Agent is chosen by whoever
// registers or logs in, possibly an attacker writing to the real customer. It
// must not become a link or forge lines in the mail (SPEC P4).
func TestComposeHostileInput(t *testing.T) {
	d := fullData(KindPasskeyRegistered)
	d.PasskeyName = "至急 https://hometrade-login.example/verify\n認証コード：000000"
	d.Browser = "www.evil.example\r\nIPアドレス：1.2.3.4"
	d.Authenticator = "\u202eevil.example"
	d.Reason = "ftp://x.example"
	d.Detail = "出金先 https://evil.example/bank\n認証コード：000000"
	for _, lang := range []string{LangJA, LangEN} {
		for _, kind := range AllKinds() {
			_, body, err := Compose(DefaultBrand(), lang, kind, d)
			if err != nil {
				t.Fatal(err)
			}
			low := strings.ToLower(body)
			for _, bad := range []string{"http", "://", "www.", ".example", "\n認証コード：000000", "\nIPアドレス：1.2.3.4", "\r", "\u202e"} {
				if strings.Contains(low, bad) {
					t.Errorf("%s/%s contains %q:\n%s", lang, kind, bad, body)
				}
			}
		}
	}
}

func TestDefang(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Chrome (Windows)", "Chrome (Windows)"},
		{"MacBook Pro 14.2", "MacBook Pro 14.2"},
		{"203.0.113.5", "203.0.113.5"},
		{"2001:db8::1", "2001:db8::1"},
		{"evil.example", "evil．example"},
		{"a.b.c", "a．b．c"},
		{"https://x.example/p", "x．example/p"},
		{"  two\n\tlines  ", "two lines"},
		{strings.Repeat("あ", 70), strings.Repeat("あ", 63) + "…"},
	}
	for _, tt := range tests {
		if got := defang(tt.in, 64); got != tt.want {
			t.Errorf("defang(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskCustomerCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"12345678", "****5678"},
		{" 0012345 ", "****2345"},
		{"12345", "****2345"},
		{"1234", "****"},
		{"1", "****"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskCustomerCode(tt.in); got != tt.want {
			t.Errorf("MaskCustomerCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTemplatesMatchKinds: every template file is a kind and every kind has
// a template in each language, so nothing is left unreachable or missing.
func TestTemplatesMatchKinds(t *testing.T) {
	for _, lang := range []string{LangJA, LangEN} {
		files, err := fs.Glob(templateFS, "templates/"+lang+"/*.txt")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, strings.TrimSuffix(path.Base(f), ".txt"))
		}
		var want []string
		for _, k := range AllKinds() {
			want = append(want, string(k))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s templates %v, kinds %v", lang, got, want)
		}
	}
}

func TestBrandENFallsBackToJapanese(t *testing.T) {
	b := Brand{Site: "テスト", Brokerage: "テスト証券", CallCenter: "センター", Phone: "03-0000-0000", Hours: "平日"}
	subject, body, err := Compose(b, LangEN, KindLockNotice, Data{At: at})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "[テスト]") || !strings.Contains(body, "03-0000-0000") {
		t.Errorf("fallback brand not used: %s\n%s", subject, body)
	}
}

// TestComposeIssue6: the mails of important operations, the mandatory-phase
// reminder and the e-mail change (SPEC P1, P4, P6).
func TestComposeIssue6(t *testing.T) {
	deadline := time.Date(2026, 5, 18, 0, 0, 0, 0, tokyo)
	tests := []struct {
		lang   string
		kind   Kind
		d      Data
		wants  []string
		absent []string
	}{
		{LangJA, KindOperationNotice, Data{At: at, CustomerCode: "12345678", Operation: "trade", Detail: "トヨタ自動車(7203) 買 100株 成行", Method: "passkey", IP: "198.51.100.7", Browser: "Safari (iPhone)"},
			[]string{"（注文）", "お手続き：注文", "内容：トヨタ自動車(7203) 買 100株 成行", "ご本人確認の方法：パスキー", "IPアドレス：198.51.100.7", "ブラウザ：Safari (iPhone)", "至急", "****5678"}, nil},
		{LangJA, KindOperationNotice, Data{At: at, Operation: "withdraw", Detail: "出金額 100,000円 → 〇〇銀行 本店 普通 ****567", Method: "password_email"},
			[]string{"お手続き：出金", "出金額 100,000円", "パスワード＋メール認証", "IPアドレス：不明"}, nil},
		{LangJA, KindOperationNotice, Data{At: at, Operation: "change_bank_account"}, []string{"出金先口座の変更"}, []string{"内容：", "ご本人確認の方法："}},
		{LangJA, KindOperationNotice, Data{At: at, Operation: "change_email"}, []string{"メールアドレスの変更"}, nil},
		{LangJA, KindOperationNotice, Data{At: at, Operation: "change_second_factor"}, []string{"二段階認証の変更"}, nil},
		{LangEN, KindOperationNotice, Data{At: at, Operation: "withdraw", Detail: "Amount 100,000 yen", Method: "passkey"},
			[]string{"(Withdrawal)", "Transaction: Withdrawal", "Details: Amount 100,000 yen", "Verified by: Passkey", "immediately"}, nil},
		{LangEN, KindOperationNotice, Data{At: at, Operation: "change_bank_account"}, []string{"Change of withdrawal bank account"}, nil},
		{LangJA, KindPasskeyReminder, Data{At: at, CustomerCode: "12345678", Deadline: deadline},
			[]string{"2026年5月18日（月）からパスキー認証が必須", "まだパスキーが登録されていません", "パスキーの登録だけ", "出金", "「口座情報」→「お客様情報」→", "「登録情報照会」→「パスキー登録」", "インストールは不要"}, nil},
		{LangEN, KindPasskeyReminder, Data{At: at, Deadline: deadline},
			[]string{"from Mon 18 May 2026", "only be able to register a", "withdrawals", "Passkey Registration", "No app needs to be installed"}, nil},
		{LangJA, KindEmailChangeCode, Data{At: at, Code: "482913", ExpiresMinutes: 10, Email: "new@example.jp", CustomerCode: "12345678"},
			[]string{"認証コード：482913", "新しいメールアドレス：new@example.jp", "メールアドレスの変更", "破棄してください"}, nil},
		{LangEN, KindEmailChangeCode, Data{At: at, Code: "482913", ExpiresMinutes: 10, Email: "new@example.jp"},
			[]string{"Verification code: 482913", "New e-mail address: new@example.jp", "disregard"}, nil},
		{LangJA, KindEmailChanged, Data{At: at, Email: "new@example.jp", OldEmail: "old@example.jp", CoolingHours: 24},
			[]string{"変更前のメールアドレス：old@example.jp", "変更後のメールアドレス：new@example.jp", "両方", "24時間（2026年11月26日 09:05 (日本時間)まで）", "出金と", "至急"}, nil},
		{LangJA, KindEmailChanged, Data{At: at, Email: "new@example.jp", OldEmail: "old@example.jp"},
			[]string{"変更前のメールアドレス：old@example.jp"}, []string{"時間（", "出金"}},
		{LangEN, KindEmailChanged, Data{At: at, Email: "new@example.jp", OldEmail: "old@example.jp", CoolingHours: 1},
			[]string{"Previous address: old@example.jp", "New address: new@example.jp", "for 1 hour after", "25 Nov 2026 10:05 JST"}, nil},
		{LangEN, KindEmailChanged, Data{At: at, Email: "new@example.jp", OldEmail: "old@example.jp", CoolingHours: 48},
			[]string{"for 48 hours after"}, nil},
		{LangEN, KindEmailChanged, Data{At: at, Email: "new@example.jp", OldEmail: "old@example.jp"},
			nil, []string{"hour", "withdraw"}},
	}
	for _, tt := range tests {
		subject, body, err := Compose(DefaultBrand(), tt.lang, tt.kind, tt.d)
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.lang, tt.kind, err)
		}
		all := subject + "\n" + body
		for _, w := range tt.wants {
			if !strings.Contains(all, w) {
				t.Errorf("%s/%s lacks %q:\n%s", tt.lang, tt.kind, w, all)
			}
		}
		for _, w := range tt.absent {
			if strings.Contains(body, w) {
				t.Errorf("%s/%s contains %q:\n%s", tt.lang, tt.kind, w, body)
			}
		}
	}
}

func TestFormatDate(t *testing.T) {
	for _, tt := range []struct {
		t      time.Time
		ja, en string
	}{
		{time.Date(2026, 5, 18, 0, 0, 0, 0, tokyo), "2026年5月18日（月）", "Mon 18 May 2026"},
		{time.Date(2026, 5, 17, 15, 0, 0, 0, time.UTC), "2026年5月18日（月）", "Mon 18 May 2026"}, // midnight in Japan
		{time.Date(2026, 5, 17, 14, 59, 0, 0, time.UTC), "2026年5月17日（日）", "Sun 17 May 2026"},
		{time.Date(2026, 2, 14, 12, 0, 0, 0, tokyo), "2026年2月14日（土）", "Sat 14 Feb 2026"},
	} {
		if got := formatDate(LangJA, tt.t); got != tt.ja {
			t.Errorf("formatDate(ja, %v) = %q, want %q", tt.t, got, tt.ja)
		}
		if got := formatDate(LangEN, tt.t); got != tt.en {
			t.Errorf("formatDate(en, %v) = %q, want %q", tt.t, got, tt.en)
		}
	}
}
