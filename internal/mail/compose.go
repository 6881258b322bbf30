package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // Asia/Tokyo must resolve on hosts without a zoneinfo database
	"unicode"
	"unicode/utf8"
)

// Kind names one message. Its value is the template's file name.
type Kind string

// The messages kagi sends. Codes are one-time codes; notices report an event
// that already happened (SPEC P4).
const (
	KindLoginCode         Kind = "login_code"         // second-factor code at login (A2)
	KindSetupEmailCode    Kind = "setup_email_code"   // verifies an address in initial setup (A3)
	KindStepUpCode        Kind = "step_up_code"       // re-verification before registering a passkey (K2)
	KindLoginNotice       Kind = "login_notice"       // a login happened (P4)
	KindLockNotice        Kind = "lock_notice"        // the account was locked (A4)
	KindSetupDone         Kind = "setup_done"         // initial setup finished (A3)
	KindPasskeyRegistered Kind = "passkey_registered" // a passkey was registered (P4)
	KindPasskeyDeleted    Kind = "passkey_deleted"    // a passkey was deleted (P4, K13)
	KindPasskeySuspended  Kind = "passkey_suspended"  // suspended as possibly cloned (K10)

	// Issue 6: important operations and the mandatory phase.
	KindOperationNotice Kind = "operation_notice"  // an important operation was requested (P4)
	KindPasskeyReminder Kind = "passkey_reminder"  // passkeys become mandatory on Deadline (P1, P4)
	KindEmailChangeCode Kind = "email_change_code" // verifies a new address the customer asked for (P2)
	KindEmailChanged    Kind = "email_changed"     // the address changed; sent to the old and the new one (P4, P6)
)

// AllKinds lists every Kind, for tests and tools that must cover them all.
func AllKinds() []Kind {
	return []Kind{
		KindLoginCode, KindSetupEmailCode, KindStepUpCode,
		KindLoginNotice, KindLockNotice, KindSetupDone,
		KindPasskeyRegistered, KindPasskeyDeleted, KindPasskeySuspended,
		KindOperationNotice, KindPasskeyReminder, KindEmailChangeCode, KindEmailChanged,
		// Issue 7: the call center's procedures (operator_kinds.go).
		KindOperatorSecondFactor, KindOperatorEmailCode, KindOperatorEmailChanged,
		KindOperatorUnlocked, KindOperatorFrozen, KindOperatorUnfrozen,
		KindOperatorPasskeysRevoked, KindOperatorPasskeyRestored, KindOperatorSetupGuide,
	}
}

// Languages of mails. Anything other than LangEN is Japanese.
const (
	LangJA = "ja"
	LangEN = "en"
)

// Data is what a message may show. Each Kind uses some of the fields; Compose
// reports the required ones that are missing. Free text (IP, Browser,
// Authenticator, PasskeyName, Reason) is cleaned before it reaches a mail,
// because an attacker can choose a passkey name or a User-Agent.
type Data struct {
	CustomerCode   string    // full code; mails show only its last 4 digits
	Code           string    // the one-time code
	Email          string    // the address being verified or registered
	At             time.Time // when it happened or was issued; shown in JST
	Method         string    // store.Method* key (or store.Factor* for KindSetupDone)
	IP             string    // client IP
	Browser        string    // useragent.Describe output; "" shows as unknown
	Authenticator  string    // authenticator name from the AAGUID, e.g. "iCloud キーチェーン"
	PasskeyName    string    // the passkey's name as the customer sees it
	ExpiresMinutes int       // validity of Code
	Reason         string    // optional explanation, already in the mail's language
	Operation      string    // policy.Operation key of KindOperationNotice
	Detail         string    // one-line summary of the operation, in the mail's language
	Deadline       time.Time // the mandatory date of KindPasskeyReminder
	OldEmail       string    // the previous address of KindEmailChanged
	CoolingHours   int       // the cooling-off money operations now wait, in hours (0: none)
}

//go:embed templates
var templateFS embed.FS

// templates holds one parsed set per language, built at start-up so that a
// broken template fails the tests and the process, never a single mail.
var templates = map[string]*template.Template{
	LangJA: mustParse(LangJA),
	LangEN: mustParse(LangEN),
}

func mustParse(lang string) *template.Template {
	t := template.New(lang).Option("missingkey=error")
	return template.Must(t.ParseFS(templateFS, "templates/"+lang+"/*.tmpl", "templates/"+lang+"/*.txt"))
}

// Compose renders the subject and plain-text body of kind in lang ("en" gives
// English, anything else Japanese).
func Compose(b Brand, lang string, kind Kind, d Data) (subject, body string, err error) {
	if lang != LangEN {
		lang = LangJA
	}
	if err := validate(kind, d); err != nil {
		return "", "", err
	}
	t := templates[lang].Lookup(string(kind) + ".txt")
	if t == nil {
		return "", "", fmt.Errorf("mail: no %s template for kind %q", lang, kind)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, newView(b, lang, d)); err != nil {
		return "", "", fmt.Errorf("mail: render %s/%s: %w", lang, kind, err)
	}
	head, rest, ok := strings.Cut(buf.String(), "\n")
	subject, found := strings.CutPrefix(head, "Subject: ")
	if !ok || !found || strings.TrimSpace(subject) == "" {
		return "", "", fmt.Errorf("mail: template %s/%s must start with a \"Subject: \" line", lang, kind)
	}
	return strings.TrimSpace(subject), tidy(rest), nil
}

// ErrMissing is wrapped by Compose when a field the kind needs is empty.
var ErrMissing = errors.New("mail: required field missing")

func validate(kind Kind, d Data) error {
	var missing []string
	need := func(ok bool, field string) {
		if !ok {
			missing = append(missing, field)
		}
	}
	need(!d.At.IsZero(), "At")
	switch kind {
	case KindLoginCode, KindStepUpCode:
		need(d.Code != "", "Code")
		need(d.ExpiresMinutes > 0, "ExpiresMinutes")
	case KindSetupEmailCode:
		need(d.Code != "", "Code")
		need(d.ExpiresMinutes > 0, "ExpiresMinutes")
		need(d.Email != "", "Email")
	case KindLoginNotice:
		need(d.Method != "", "Method")
	case KindSetupDone:
		need(d.Email != "", "Email")
		need(d.Method != "", "Method")
	case KindLockNotice, KindPasskeyRegistered, KindPasskeyDeleted, KindPasskeySuspended:
	case KindOperationNotice:
		need(d.Operation != "", "Operation")
	case KindPasskeyReminder:
		need(!d.Deadline.IsZero(), "Deadline")
	case KindEmailChangeCode:
		need(d.Code != "", "Code")
		need(d.ExpiresMinutes > 0, "ExpiresMinutes")
		need(d.Email != "", "Email")
	case KindEmailChanged:
		need(d.Email != "", "Email")
		need(d.OldEmail != "", "OldEmail")
	default:
		if validateOperator(kind, d, need) { // issue 7
			break
		}
		return fmt.Errorf("mail: unknown kind %q", kind)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w for %s: %s", ErrMissing, kind, strings.Join(missing, ", "))
	}
	return nil
}

// view is what templates see: every value already formatted for the language.
type view struct {
	Brand          brandView
	CustomerCode   string // masked
	Code           string
	Email          string
	At             string
	ExpiresAt      string
	ExpiresFor     string // "10分間" / "10 minutes"
	Method         string // login method in words
	Factor         string // second factor in words (KindSetupDone)
	IP             string
	Browser        string
	Authenticator  string
	PasskeyName    string
	Reason         string
	ExpiresMinutes int
	Operation      string // the important operation in words (KindOperationNotice)
	Detail         string
	Deadline       string // JST date with weekday: "2026年5月18日（月）" / "Mon 18 May 2026"
	OldEmail       string
	CoolingFor     string // "24時間" / "24 hours"; "" when there is no cooling-off
	CoolingUntil   string // At + CoolingHours, in JST
}

func newView(b Brand, lang string, d Data) view {
	v := view{
		Brand:          b.forLang(lang),
		CustomerCode:   MaskCustomerCode(d.CustomerCode),
		Code:           clean(d.Code, 32),
		Email:          clean(d.Email, 254),
		At:             formatTime(lang, d.At),
		IP:             defang(d.IP, 64),
		Browser:        defang(d.Browser, 80),
		Authenticator:  defang(d.Authenticator, 64),
		PasskeyName:    defang(d.PasskeyName, 64),
		Reason:         defang(d.Reason, 200),
		ExpiresMinutes: d.ExpiresMinutes,
		Operation:      operationWords(lang, d.Operation),
		Detail:         defang(d.Detail, 200),
		OldEmail:       clean(d.OldEmail, 254),
	}
	if !d.Deadline.IsZero() {
		v.Deadline = formatDate(lang, d.Deadline)
	}
	if d.CoolingHours > 0 {
		v.CoolingUntil = formatTime(lang, d.At.Add(time.Duration(d.CoolingHours)*time.Hour))
		v.CoolingFor = strconv.Itoa(d.CoolingHours) + "時間"
		if lang == LangEN {
			v.CoolingFor = strconv.Itoa(d.CoolingHours) + " hours"
			if d.CoolingHours == 1 {
				v.CoolingFor = "1 hour"
			}
		}
	}
	v.Method, v.Factor = methodWords(lang, d.Method)
	if d.ExpiresMinutes > 0 {
		v.ExpiresAt = formatTime(lang, d.At.Add(time.Duration(d.ExpiresMinutes)*time.Minute))
		v.ExpiresFor = strconv.Itoa(d.ExpiresMinutes) + "分間"
		if lang == LangEN {
			v.ExpiresFor = strconv.Itoa(d.ExpiresMinutes) + " minutes"
			if d.ExpiresMinutes == 1 {
				v.ExpiresFor = "1 minute"
			}
		}
	}
	return v
}

// tokyo is the zone of every time shown to customers (SPEC P1, P4), whatever
// the server's own zone.
var tokyo = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60)
}()

// formatTime renders t in Japan time: "2026年11月25日 09:05 (日本時間)" or
// "25 Nov 2026 09:05 JST". The zone is written out because a customer abroad
// must not read it as local time.
func formatTime(lang string, t time.Time) string {
	t = t.In(tokyo)
	if lang == LangEN {
		return t.Format("2 Jan 2006 15:04") + " JST"
	}
	return t.Format("2006年1月2日 15:04") + " (日本時間)"
}

// formatDate renders the JST date of t with its weekday, as the brokerage
// publishes its schedule: "2026年5月18日（月）" or "Mon 18 May 2026".
func formatDate(lang string, t time.Time) string {
	t = t.In(tokyo)
	if lang == LangEN {
		return t.Format("Mon 2 Jan 2006")
	}
	return t.Format("2006年1月2日") + "（" + [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()] + "）"
}

// operationWords renders a policy.Operation key. An unknown key is shown
// cleaned, as methodWords does.
func operationWords(lang, key string) string {
	ja := map[string]string{
		"trade":                "注文",
		"withdraw":             "出金",
		"change_bank_account":  "出金先口座の変更",
		"change_email":         "メールアドレスの変更",
		"change_second_factor": "二段階認証の変更",
	}
	en := map[string]string{
		"trade":                "Order",
		"withdraw":             "Withdrawal",
		"change_bank_account":  "Change of withdrawal bank account",
		"change_email":         "Change of e-mail address",
		"change_second_factor": "Change of second factor",
	}
	table := ja
	if lang == LangEN {
		table = en
	}
	if w, ok := table[key]; ok {
		return w
	}
	return defang(key, 40)
}

// MaskCustomerCode keeps only the last 4 characters, "****5678": enough for a
// family sharing one mailbox (K4) to tell accounts apart, too little to help
// someone who reads the mail log in. Codes of 4 or fewer characters are fully masked.
func MaskCustomerCode(code string) string {
	code = strings.TrimSpace(code)
	if code == "" {
		return ""
	}
	r := []rune(code)
	if len(r) <= 4 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// methodWords renders a login method key (store.Method*) and the second factor
// it implies. store.Factor* keys are accepted too, for KindSetupDone. An unknown
// key is shown cleaned rather than failing: a notice that names a new method
// oddly is better than a login whose outbox write fails.
func methodWords(lang, key string) (method, factor string) {
	type words struct{ method, factor string }
	ja := map[string]words{
		"password_totp":  {"パスワード＋認証アプリ", "認証アプリ"},
		"password_email": {"パスワード＋メール認証", "メール認証"},
		"passkey":        {"パスキー", "パスキー"},
	}
	en := map[string]words{
		"password_totp":  {"Password + authenticator app", "authenticator app"},
		"password_email": {"Password + e-mail code", "e-mail code"},
		"passkey":        {"Passkey", "passkey"},
	}
	switch key {
	case "totp":
		key = "password_totp"
	case "email":
		key = "password_email"
	}
	table := ja
	if lang == LangEN {
		table = en
	}
	if w, ok := table[key]; ok {
		return w.method, w.factor
	}
	s := defang(key, 40)
	return s, s
}

// clean removes control characters (which could forge extra lines in a
// plain-text mail), collapses white space and limits the length.
func clean(s string, maxRunes int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError ||
			unicode.In(r, unicode.Cf) // bidi overrides and zero-width characters
	}), " ")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes-1]) + "…"
	}
	return s
}

var (
	schemeRE = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*:/+`)
	domainRE = regexp.MustCompile(`([\p{L}\p{N}\-])\.([\p{L}])`)
)

// defang cleans text an attacker may choose (a passkey name, a User-Agent) so
// that no mail client turns it into a link: schemes are dropped and the dot of
// anything that looks like a host name becomes a full-width "．". The mails
// promise they contain no links (SPEC P4); this keeps the promise for input too.
func defang(s string, maxRunes int) string {
	s = clean(s, maxRunes)
	s = schemeRE.ReplaceAllString(s, "")
	for domainRE.MatchString(s) { // loop: matches overlap in "a.b.c"
		s = domainRE.ReplaceAllString(s, "$1．$2")
	}
	return s
}

// tidy normalises a rendered body: no trailing spaces, at most one blank line
// in a row (conditional lines leave gaps), CRLF-free, one final newline.
func tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u3000")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}
