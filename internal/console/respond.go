package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/kagi-auth/kagi/internal/auth"
)

// Codes the console raises itself, besides the domain's.
const (
	codeInvalidJSON      = "invalid_json"
	codeBodyTooLarge     = "body_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeCSRF             = "csrf"
	codeInternal         = "internal"
	codePageNotFound     = "page_not_found"
)

// statusOf maps every code to its HTTP status, in one place.
var statusOf = map[string]int{
	codeInvalidJSON:             http.StatusBadRequest,
	codeBodyTooLarge:            http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:        http.StatusUnsupportedMediaType,
	codeCSRF:                    http.StatusForbidden,
	codeInternal:                http.StatusInternalServerError,
	codePageNotFound:            http.StatusNotFound,
	auth.CodeInvalidRequest:     http.StatusBadRequest,
	auth.CodeInvalidEmail:       http.StatusBadRequest,
	auth.CodeReasonRequired:     http.StatusBadRequest,
	auth.CodeIDCheckRequired:    http.StatusBadRequest,
	auth.CodeNotAuthenticated:   http.StatusUnauthorized,
	auth.CodeSessionExpired:     http.StatusUnauthorized,
	auth.CodeEnrollmentInvalid:  http.StatusUnauthorized,
	auth.CodePasskeyUnknown:     http.StatusUnauthorized,
	auth.CodeOperatorForbidden:  http.StatusForbidden,
	auth.CodeOwnRequest:         http.StatusForbidden,
	auth.CodeNotFound:           http.StatusNotFound,
	auth.CodeRequestClosed:      http.StatusConflict,
	auth.CodeRequestDuplicate:   http.StatusConflict,
	auth.CodeNotApplicable:      http.StatusConflict,
	auth.CodePasskeyRegistered:  http.StatusConflict,
	auth.CodePasskeyLimit:       http.StatusConflict,
	auth.CodeRequestExpired:     http.StatusGone,
	auth.CodePasskeyFailed:      http.StatusBadRequest,
	auth.CodePasskeyUV:          http.StatusBadRequest,
	auth.CodeCeremonyExpired:    http.StatusBadRequest,
	auth.CodeRateLimited:        http.StatusTooManyRequests,
	auth.CodeResendWait:         http.StatusTooManyRequests,
	auth.CodeServerBusy:         http.StatusServiceUnavailable,
	auth.CodeInvalidOperator:    http.StatusBadRequest,
	auth.CodeOperatorExists:     http.StatusConflict,
	auth.CodeEmailChangeInvalid: http.StatusBadRequest,
	auth.CodeAccountLocked:      http.StatusLocked,
	auth.CodeAccountFrozen:      http.StatusLocked,
	auth.CodeInvalidCode:        http.StatusBadRequest,
	auth.CodeTooManyAttempts:    http.StatusTooManyRequests,
	auth.CodeStepUpRequired:     http.StatusForbidden,
	auth.CodeSetupRequired:      http.StatusForbidden,
	auth.CodeEmailNotVerified:   http.StatusPreconditionFailed,
	auth.CodeAlreadySetUp:       http.StatusConflict,
	auth.CodeCodeExpired:        http.StatusBadRequest,
	auth.CodeInvalidCredentials: http.StatusUnauthorized,
}

// messages are the operators' Japanese sentences for the codes.
var messages = map[string]string{
	codeInvalidJSON:             "送信された内容を読み取れませんでした。",
	codeBodyTooLarge:            "送信された内容が大きすぎます。",
	codeUnsupportedMedia:        "送信形式が正しくありません。",
	codeCSRF:                    "ほかのサイトからの操作は受け付けられません。コンソールの画面から操作してください。",
	codeInternal:                "システムエラーが発生しました。しばらくしてからもう一度お試しください。",
	codePageNotFound:            "ページが見つかりません。",
	auth.CodeInvalidRequest:     "入力内容に誤りがあります。",
	auth.CodeInvalidEmail:       "メールアドレスの形式が正しくありません。",
	auth.CodeReasonRequired:     "理由を入力してください。オペレーターの操作にはすべて理由の記録が必要です。",
	auth.CodeIDCheckRequired:    "凍結の解除には、本人確認の方法の記録が必要です。",
	auth.CodeNotAuthenticated:   "ログインしてください。",
	auth.CodeSessionExpired:     "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
	auth.CodeEnrollmentInvalid:  "オペレーター名または登録コードが正しくないか、有効期限が切れているか、すでに使われています。",
	auth.CodePasskeyUnknown:     "このパスキーはコンソールに登録されていません。",
	auth.CodeOperatorForbidden:  "この操作を行う権限がありません。申請の承認・却下はスーパーバイザーのみが行えます。",
	auth.CodeOwnRequest:         "ご自身の申請は承認・却下できません（ダブルチェック）。別のスーパーバイザーに依頼してください。",
	auth.CodeNotFound:           "該当するデータが見つかりません。",
	auth.CodeRequestClosed:      "この申請はすでに処理されています。",
	auth.CodeRequestDuplicate:   "このお客さまには、同じ内容の承認待ちの申請がすでにあります。",
	auth.CodeNotApplicable:      "お客さまの現在の状態では、この手続きは行えません。",
	auth.CodePasskeyRegistered:  "このパスキーはすでに登録されています。",
	auth.CodePasskeyLimit:       "登録できるパスキーの上限（%d件）に達しています。",
	auth.CodeRequestExpired:     "有効期限を過ぎた申請です。あらためて申請してください。",
	auth.CodePasskeyFailed:      "パスキーの確認に失敗しました。もう一度お試しください。",
	auth.CodePasskeyUV:          "端末の生体認証またはPINによる本人確認ができませんでした。",
	auth.CodeCeremonyExpired:    "操作の有効期限が切れました。もう一度お試しください。",
	auth.CodeRateLimited:        "操作の回数が多すぎます。しばらく待ってからお試しください。",
	auth.CodeResendWait:         "確認コードは少し時間をおいてから再送してください。",
	auth.CodeServerBusy:         "混み合っています。しばらくしてからもう一度お試しください。",
	auth.CodeInvalidOperator:    "オペレーター名または役割が正しくありません。",
	auth.CodeOperatorExists:     "そのオペレーター名はすでに使われています。",
	auth.CodeEmailChangeInvalid: "確認コードが正しくありません。",
	auth.CodeAccountLocked:      "アカウントがロックされています。",
	auth.CodeAccountFrozen:      "口座が凍結されています。",
	auth.CodeInvalidCode:        "コードが正しくありません。",
	auth.CodeTooManyAttempts:    "誤りの回数が上限に達しました。",
	auth.CodeStepUpRequired:     "再認証が必要です。",
	auth.CodeSetupRequired:      "初期設定が必要です。",
	auth.CodeEmailNotVerified:   "メールアドレスが確認されていません。",
	auth.CodeAlreadySetUp:       "初期設定は完了しています。",
	auth.CodeCodeExpired:        "コードの有効期限が切れています。",
	auth.CodeInvalidCredentials: "認証に失敗しました。",
}

func status(code string) int {
	if st, ok := statusOf[code]; ok {
		return st
	}
	return http.StatusBadRequest
}

func message(code string, args ...any) string {
	m, ok := messages[code]
	if !ok {
		return messages[auth.CodeInvalidRequest]
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// classify turns any error into a safe code and its arguments; anything not
// a domain error is logged and shown as "internal".
func (s *server) classify(r *http.Request, err error) (string, []any) {
	var de *auth.Error
	if errors.As(err, &de) {
		if de.Err != nil {
			s.log.Info("console: request refused", "path", r.URL.Path, "code", de.Code, "cause", de.Err.Error())
		}
		return de.Code, de.Args
	}
	if errors.Is(err, auth.ErrBusy) {
		return auth.CodeServerBusy, nil
	}
	s.log.Error("console: request failed", "path", r.URL.Path, "err", err.Error())
	return codeInternal, nil
}

// Problem is an RFC 9457 problem detail with a stable code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (s *server) problem(w http.ResponseWriter, code string, args ...any) {
	st := status(code)
	if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "30")
		}
	}
	b, _ := json.Marshal(Problem{Type: "about:blank", Title: http.StatusText(st), Status: st, Code: code, Detail: message(code, args...)})
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	w.Write(b)
}

// fail answers err: a problem for the API, an error page otherwise.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, args := s.classify(r, err)
	s.failCode(w, r, code, args...)
}

func (s *server) failCode(w http.ResponseWriter, r *http.Request, code string, args ...any) {
	if isAPI(r) {
		s.problem(w, code, args...)
		return
	}
	s.errorPage(w, r, code, args...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxJSON bounds every JSON body; WebAuthn responses are a few KiB.
const maxJSON = 64 << 10

// rawJSON reads a bounded JSON body as bytes.
func rawJSON(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, codeUnsupportedMedia
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSON))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, codeBodyTooLarge
		}
		return nil, codeInvalidJSON
	}
	return b, ""
}

// decode reads one JSON object of type T.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, string) {
	var v T
	b, bad := rawJSON(w, r)
	if bad != "" {
		return v, bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return v, auth.CodeInvalidRequest
		}
		return v, codeInvalidJSON
	}
	if dec.More() {
		return v, codeInvalidJSON
	}
	return v, ""
}
