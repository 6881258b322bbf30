package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/useragent"
)

//go:embed templates static
var files embed.FS

// pageNames lists every page; each has templates/pages/<name>.html.
var pageNames = []string{
	"login", "enroll", "home", "customer", "requests", "inquiries", "inquiry", "dashboard", "audit", "error",
}

// renderer holds one parsed template set per page and the static files.
type renderer struct {
	sets   map[string]*template.Template
	assets map[string]*asset
}

type asset struct {
	data        []byte
	hash        string
	contentType string
}

func newRenderer() (*renderer, error) {
	r := &renderer{sets: map[string]*template.Template{}, assets: map[string]*asset{}}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		r.assets[strings.TrimPrefix(p, "static/")] = &asset{data: data, hash: hex.EncodeToString(sum[:8]), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: static files: %w", err)
	}
	entries, err := fs.ReadDir(files, "templates/pages")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".html"); !ok || !slices.Contains(pageNames, name) {
			return nil, fmt.Errorf("console: template %s has no entry in pageNames", e.Name())
		}
	}
	for _, page := range pageNames {
		t, err := template.New(page).Funcs(r.funcs(page)).
			ParseFS(files, "templates/layout.html", "templates/pages/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", page, err)
		}
		r.sets[page] = t
	}
	return r, nil
}

// render executes page into a buffer, then writes it with status.
func (r *renderer) render(w http.ResponseWriter, status int, page string, v any) error {
	t, ok := r.sets[page]
	if !ok {
		return fmt.Errorf("console: unknown page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("console: render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", "ja")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (r *renderer) assetURL(name string) string {
	if a, ok := r.assets[name]; ok {
		return "/static/" + name + "?v=" + a.hash
	}
	return "/static/" + name
}

// static serves the embedded static/ directory under /static/.
func (r *renderer) static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimPrefix(req.URL.Path, "/static/")
		a, ok := r.assets[name]
		if !ok || path.Clean(name) != name {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", `"`+a.hash+`"`)
		if req.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(a.data))
	})
}

// jst formats a time for operators, in Japan's time; the zero time is "—".
func jst(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(tokyo).Format("2006/01/02 15:04")
}

var tokyo = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*3600)
}()

// Japanese names of the values the console shows.
var (
	kindNames = map[string]string{
		store.RequestSecondFactorEmail: "二段階認証をメール認証に切替",
		store.RequestEmailChange:       "メールアドレス変更",
		store.RequestUnfreeze:          "口座凍結の解除",
	}
	statusNames = map[string]string{
		store.RequestPending:   "承認待ち",
		store.RequestApproved:  "承認済み",
		store.RequestRejected:  "却下",
		store.RequestCancelled: "取り下げ",
	}
	topicNames = map[string]string{
		store.TopicEmailChange:  "メールアドレス変更希望",
		store.TopicLoginTrouble: "ログインできない",
		store.TopicOther:        "その他",
	}
	roleNames   = map[string]string{store.RoleAgent: "エージェント", store.RoleSupervisor: "スーパーバイザー"}
	factorNames = map[string]string{store.FactorTOTP: "認証アプリ", store.FactorEmail: "メール認証", store.FactorNone: "未設定（初期設定前）"}
	methodNames = map[string]string{
		store.MethodPasskey: "パスキー", store.MethodPasswordTOTP: "パスワード＋認証アプリ", store.MethodPasswordEmail: "パスワード＋メール認証",
	}
	eventNames = map[string]string{
		"customer.created":           "口座登録",
		"login.success":              "ログイン成功",
		"login.password.ok":          "パスワード確認",
		"login.password.fail":        "パスワード誤り",
		"login.second_factor.fail":   "認証コード誤り",
		"login.passkey.fail":         "パスキー認証失敗",
		"login.passkey.suspended":    "停止中のパスキーでのログイン",
		"login.refused":              "ログイン拒否（ロック・凍結中）",
		"logout":                     "ログアウト",
		"logout.all":                 "全端末からログアウト",
		"account.locked":             "アカウントロック",
		"account.unlocked":           "ロック解除",
		"account.frozen":             "口座凍結",
		"account.unfrozen":           "凍結解除",
		"passkey.registered":         "パスキー登録",
		"passkey.deleted":            "パスキー削除（お客さま）",
		"passkey.revoked":            "パスキー削除（オペレーター）",
		"passkey.revoked_all":        "全パスキー削除",
		"passkey.suspended":          "パスキー利用停止",
		"passkey.unsuspended":        "パスキー利用停止の解除",
		"passkey.renamed":            "パスキー名変更",
		"alert.passkey_clone":        "アラート：パスキー複製の疑い",
		"setup.done":                 "初期設定完了",
		"setup.email.verified":       "メールアドレス確認",
		"code.sent":                  "認証コード送信",
		"step_up.ok":                 "再認証",
		"step_up.fail":               "再認証失敗",
		"second_factor.changed":      "二段階認証の変更",
		"email.change_code_sent":     "確認コード送信（新メールアドレス）",
		"email.change_code_resent":   "確認コード再送",
		"email.change.fail":          "確認コード誤り（メールアドレス変更）",
		"email.changed":              "メールアドレス変更",
		"setup_guide.sent":           "初期設定の案内送信",
		"request.created":            "申請",
		"request.approved":           "承認",
		"request.rejected":           "却下",
		"request.cancelled":          "申請取り下げ",
		"inquiry.received":           "お問い合わせ受付",
		"inquiry.closed":             "お問い合わせ対応完了",
		"operator.lookup":            "オペレーターによる照会",
		"login.password.unknown":     "存在しないお客様コードでのログイン",
		"login.passkey.unknown":      "未登録パスキーでのログイン",
		"setup.email.fail":           "初期設定の確認コード誤り",
		"setup.totp.fail":            "認証アプリのコード誤り",
		"setup.totp.started":         "認証アプリ登録開始",
		"customer.password_set":      "パスワード設定",
		"operator.login":             "オペレーターログイン",
		"operator.logout":            "オペレーターログアウト",
		"operator.enrolled":          "オペレーターのパスキー登録",
		"operator.created":           "オペレーター登録",
		"operator.disabled":          "オペレーター無効化",
		"operator.enrollment_issued": "登録コード発行",
	}
)

func nameOr(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// actorName shows who acted: the customer, the system or an operator.
func actorName(a string) string {
	switch {
	case a == "customer":
		return "お客さま"
	case a == "system":
		return "システム"
	case a == "cli" || a == "demo":
		return "管理コマンド"
	case strings.HasPrefix(a, "operator:"):
		return "オペレーター " + strings.TrimPrefix(a, "operator:")
	}
	return a
}

// detailText renders an audit detail as "key: value" pairs, sorted.
func detailText(detail string) string {
	var m map[string]any
	if json.Unmarshal([]byte(detail), &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			v = int64(f)
		}
		parts = append(parts, fmt.Sprintf("%s: %v", k, v))
	}
	return strings.Join(parts, " / ")
}

func (r *renderer) funcs(page string) template.FuncMap {
	return template.FuncMap{
		"jst":        jst,
		"kindName":   func(k string) string { return nameOr(kindNames, k) },
		"statusName": func(k string) string { return nameOr(statusNames, k) },
		"topicName":  func(k string) string { return nameOr(topicNames, k) },
		"roleName":   func(k string) string { return nameOr(roleNames, k) },
		"factorName": func(k string) string { return nameOr(factorNames, k) },
		"methodName": func(k string) string { return nameOr(methodNames, k) },
		"eventName":  func(k string) string { return nameOr(eventNames, k) },
		"actorName":  actorName,
		"detail":     detailText,
		"browser":    useragent.Describe,
		"authName":   func(p *store.Passkey) string { return auth.AuthenticatorName(p, "ja") },
		"pct": func(p auth.AdoptionPoint) string {
			return fmt.Sprintf("%.1f%%", p.Share()*100)
		},
		"asset": r.assetURL,
		"page":  func() string { return page },
	}
}

// Base is embedded in every view.
type Base struct {
	Title      string
	Nav        string // the highlighted menu entry
	Operator   *store.Operator
	Notice     string // already Japanese
	Error      string // already Japanese
	NavPending int    // requests waiting for approval (the menu's badge)
	NavOpen    int    // open inquiries (the menu's badge)
}
