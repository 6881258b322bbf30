package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/ratelimit"
)

// The console's middleware: the customer site's headers, host check,
// cross-origin protection and panic handling, plus its own operator session.

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// secureHeaders sets the headers every answer carries.
func (s *server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), microphone=(), geolocation=()")
		h.Set("X-Robots-Tag", "noindex, nofollow")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalHost sends browsers that reached the console by another name to
// its origin: operators' passkeys only work on its host. Health checks answer
// on any host.
func (s *server) canonicalHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == s.host || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, s.origin+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// crossOrigin refuses state-changing requests from any other origin — the
// customer site on the same host included — using Sec-Fetch-Site and Origin;
// the SameSite=Strict cookie backs it up.
func (s *server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("console: cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "ip", s.clientIP(r))
		s.failCode(w, r, codeCSRF)
	}))
	return cop.Handler(next)
}

// recoverer turns a panic into a generic 500 and a log line.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("console: panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				s.failCode(w, r, codeInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one structured line per request.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("console http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"ms", float64(time.Since(start).Microseconds())/1000, "ip", s.clientIP(r))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// limitIP applies the per-IP budget to the unauthenticated endpoints (B3).
func (s *server) limitIP(next http.Handler) http.Handler {
	rule := ratelimit.Rule{Limit: s.rateIP, Window: time.Minute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := s.limiter.Allow(r.Context(), "console-ip:"+s.clientIP(r), rule)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			secs := int(wait.Round(time.Second) / time.Second)
			w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
			s.failCode(w, r, auth.CodeRateLimited)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the peer address, or, behind a trusted proxy, the rightmost
// X-Forwarded-For hop that is not itself a trusted proxy.
func (s *server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *server) meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: s.clientIP(r), UserAgent: r.UserAgent(), Lang: "ja"}
}

type ctxKey int

const currentKey ctxKey = 0

// withSession resolves the console cookie once per request. An invalid or
// expired one is cleared; what a missing session means is the route's call.
func (s *server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		cur, err := s.con.Authenticate(r.Context(), c.Value)
		if err != nil {
			s.clearCookie(w)
			if auth.ErrorCode(err) == "" {
				s.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), currentKey, err)))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), currentKey, cur)))
	})
}

// current returns the request's operator session, or nil and why there is none.
func current(r *http.Request) (*auth.OperatorCurrent, error) {
	switch v := r.Context().Value(currentKey).(type) {
	case *auth.OperatorCurrent:
		return v, nil
	case error:
		return nil, v
	}
	return nil, &auth.Error{Code: auth.CodeNotAuthenticated}
}

// operator guards every route but login, enrollment, static files and health:
// without a console session a page (GET) goes to the login page, anything
// else is answered 401.
func (s *server) operator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := current(r)
		if cur == nil {
			if r.Method == http.MethodGet && !isAPI(r) {
				target := "/login"
				if auth.ErrorCode(err) == auth.CodeSessionExpired {
					target += "?m=expired"
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: token, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (s *server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// bindingCookie ties a begun WebAuthn ceremony to the browser that began it
// (a name of its own: on localhost the customer site's cookies reach here too).
const bindingCookie = "kagi_console_wa"

func (s *server) binding(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(bindingCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: v, Path: "/api/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	return v
}

func existingBinding(r *http.Request) string {
	if c, err := r.Cookie(bindingCookie); err == nil {
		return c.Value
	}
	return ""
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }
