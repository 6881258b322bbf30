package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kagi-auth/kagi/internal/auth"
)

// notices are the only messages a redirect may ask a page to show (?m=key).
var notices = map[string]string{
	"logged_out":  "ログアウトしました。",
	"expired":     "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
	"unlocked":    "ロックを解除しました。お客さまにお知らせのメールを送りました。",
	"frozen":      "口座を凍結しました。お客さまのログイン中のセッションは終了しました。",
	"revoked":     "パスキーを削除しました。お客さまにお知らせのメールを送りました。",
	"revoked_all": "すべてのパスキーを削除しました。お客さまのログイン中のセッションは終了しました。",
	"unsuspended": "パスキーの利用停止を解除しました。",
	"guide_sent":  "初期設定の案内をメールで送りました。",
	"requested":   "申請しました。別のスーパーバイザーが承認すると手続きが実行されます。",
	"approved":    "承認し、手続きを実行しました。お客さまにお知らせのメールを送りました。",
	"rejected":    "申請を却下しました。",
	"cancelled":   "申請を取り下げました。",
	"code_resent": "確認コードを新しいメールアドレスに再送しました。",
	"closed":      "お問い合わせを対応済みにしました。",
}

// base fills the parts of a view every page has.
func (s *server) base(r *http.Request, title, nav string) Base {
	b := Base{Title: title, Nav: nav}
	if msg, ok := notices[r.URL.Query().Get("m")]; ok {
		b.Notice = msg
	}
	if cur, _ := current(r); cur != nil {
		b.Operator = cur.Operator
		if rs, err := s.con.Requests(r.Context(), "pending", 100); err == nil {
			b.NavPending = len(rs)
		}
		if qs, err := s.con.OpenInquiries(r.Context(), 100); err == nil {
			b.NavOpen = len(qs)
		}
	}
	return b
}

func (s *server) render(w http.ResponseWriter, status int, page string, v any) {
	if err := s.pages.render(w, status, page, v); err != nil {
		s.log.Error("console: render failed", "page", page, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// ErrorView is a full error page.
type ErrorView struct {
	Base
	Status  int
	Message string
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, code string, args ...any) {
	st := status(code)
	if st == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "30")
	}
	b := s.base(r, "エラー", "")
	s.render(w, st, "error", ErrorView{Base: b, Status: st, Message: message(code, args...)})
}

func see(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// form reads a bounded url-encoded form; false (after answering) if it cannot.
func form(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		return false
	}
	return true
}

func field(r *http.Request, name string) string { return strings.TrimSpace(r.PostFormValue(name)) }

// pathID reads a positive integer path value.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// actor is the session's operator acting for this request.
func (s *server) actor(r *http.Request) auth.Actor {
	cur, _ := current(r)
	return cur.Actor(s.meta(r))
}
