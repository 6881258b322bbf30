package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
)

// Codes the web layer raises itself, besides the domain's.
const (
	codeInvalidJSON      = "invalid_json"
	codeBodyTooLarge     = "body_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeCSRF             = "csrf"
	codeForbidden        = "forbidden"
	codeInternal         = "internal"
	codeNotFound         = "not_found"
)

// statusOf maps every problem code to its HTTP status, in one place.
var statusOf = map[string]int{
	codeInvalidJSON:             http.StatusBadRequest,
	auth.CodeInvalidRequest:     http.StatusBadRequest,
	auth.CodeInvalidEmail:       http.StatusBadRequest,
	codeBodyTooLarge:            http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:        http.StatusUnsupportedMediaType,
	auth.CodeInvalidCredentials: http.StatusUnauthorized,
	auth.CodeInvalidCode:        http.StatusUnauthorized,
	auth.CodeCodeExpired:        http.StatusUnauthorized,
	auth.CodeNotAuthenticated:   http.StatusUnauthorized,
	auth.CodeSessionExpired:     http.StatusUnauthorized,
	auth.CodeAccountLocked:      http.StatusLocked,
	auth.CodeAccountFrozen:      http.StatusLocked,
	auth.CodeTooManyAttempts:    http.StatusTooManyRequests,
	auth.CodeResendWait:         http.StatusTooManyRequests,
	auth.CodeRateLimited:        http.StatusTooManyRequests,
	auth.CodeSetupRequired:      http.StatusForbidden,
	auth.CodeStepUpRequired:     http.StatusForbidden,
	codeForbidden:               http.StatusForbidden,
	codeCSRF:                    http.StatusForbidden,
	auth.CodeAlreadySetUp:       http.StatusConflict,
	auth.CodePasskeyLimit:       http.StatusConflict,
	auth.CodeEmailNotVerified:   http.StatusPreconditionFailed,
	auth.CodePasskeyFailed:      http.StatusBadRequest,
	auth.CodePasskeyUV:          http.StatusBadRequest,
	auth.CodePasskeyUnknown:     http.StatusUnauthorized,
	auth.CodePasskeySuspended:   http.StatusForbidden,
	auth.CodeNotFound:           http.StatusNotFound,
	auth.CodeServerBusy:         http.StatusServiceUnavailable,
	codeInternal:                http.StatusInternalServerError,
	auth.CodeCeremonyExpired:    http.StatusBadRequest,
	auth.CodePasskeyRequired:    http.StatusForbidden,
	auth.CodeCoolingOff:         http.StatusForbidden,
	auth.CodeRestricted:         http.StatusForbidden,
	auth.CodePasskeyLoginNeeded: http.StatusForbidden,
	auth.CodePasskeyRegistered:  http.StatusConflict,
}

// Problem is an RFC 9457 problem detail with kagi's stable code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	// Until is when a cooling-off ends (code cooling_off).
	Until *time.Time `json:"until,omitempty"`
}

// classify turns any error into a safe code and its message arguments;
// anything not a domain error is logged and shown as "internal".
func (s *server) classify(r *http.Request, err error) (string, []any) {
	var de *auth.Error
	if errors.As(err, &de) {
		if de.Err != nil {
			s.log.Info("request refused", "path", r.URL.Path, "code", de.Code, "cause", de.Err.Error())
		}
		return de.Code, de.Args
	}
	if errors.Is(err, auth.ErrBusy) {
		return auth.CodeServerBusy, nil
	}
	s.log.Error("request failed", "path", r.URL.Path, "err", err.Error())
	return codeInternal, nil
}

// message is the localized sentence for a problem code.
func message(lang, code string, args ...any) string {
	shown := make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			a = formatJST(t, lang) // customers read times in Japan time
		}
		shown[i] = a
	}
	return locale.Printer(lang).T("error."+code, shown...)
}

func status(code string) int {
	if st, ok := statusOf[code]; ok {
		return st
	}
	return http.StatusBadRequest
}

// problem writes an application/problem+json answer in the request's language.
func (s *server) problem(w http.ResponseWriter, r *http.Request, code string, args ...any) {
	st := status(code)
	if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "30")
		}
	}
	p := Problem{Type: "about:blank", Title: http.StatusText(st), Status: st, Code: code, Detail: message(locale.Negotiate(r), code, args...)}
	for _, a := range args {
		if t, ok := a.(time.Time); ok {
			p.Until = &t
		}
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	w.Write(b)
}

// fail answers err as a problem.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, args := s.classify(r, err)
	s.problem(w, r, code, args...)
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

// decode reads one JSON value of type T from the body. Wrong media type, bad
// syntax, wrong field types, trailing data and oversized bodies are each a
// distinct 4xx code.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, string) {
	var v T
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !(len(mt) > 5 && mt[len(mt)-5:] == "+json")) {
		return v, codeUnsupportedMedia
	}
	body := http.MaxBytesReader(w, r.Body, maxJSON)
	dec := json.NewDecoder(body)
	if err := dec.Decode(&v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return v, codeBodyTooLarge
		case errors.As(err, &te):
			return v, auth.CodeInvalidRequest
		default:
			return v, codeInvalidJSON
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return v, codeBodyTooLarge
		}
		return v, codeInvalidJSON
	}
	return v, ""
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
