package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/ratelimit"
)

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
		h.Set("Permissions-Policy", "publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), microphone=(), geolocation=()")
		if s.cfg.Secure() {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalHost sends browsers that reached us by another name (127.0.0.1, an
// IP behind the balancer) to the configured origin: passkeys only work on the
// RP ID. Health checks answer on any host.
func (s *server) canonicalHost(next http.Handler) http.Handler {
	want := s.cfg.OriginHost()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == want || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, s.cfg.Origin+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// crossOrigin rejects state-changing requests from other origins (A6), using
// the browser's Sec-Fetch-Site / Origin headers; SameSite cookies back it up.
func (s *server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "ip", s.clientIP(r))
		if isAPI(r) {
			s.problem(w, r, codeCSRF)
			return
		}
		s.errorPage(w, r, codeCSRF)
	}))
	return cop.Handler(next)
}

// recoverer turns a panic into a generic 500 and a log line, never a stack to the client.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				s.problem(w, r, codeInternal)
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
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
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

// limitIP applies the per-IP budget to unauthenticated endpoints (B3). It is
// generous on purpose: thousands of customers may share one carrier NAT
// address; per-account limits and the lock do the real work.
func (s *server) limitIP(next http.Handler) http.Handler {
	rule := ratelimit.Rule{Limit: s.cfg.RateLimitIP, Window: time.Minute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := s.limiter.Allow(r.Context(), "ip:"+ipBucket(s.clientIP(r)), rule)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			retryAfter(w, wait)
			s.rateLimited(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitAccount applies the per-customer-code budget of login attempts.
func (s *server) limitAccount(w http.ResponseWriter, r *http.Request, code string) bool {
	rule := ratelimit.Rule{Limit: s.cfg.RateLimitAccount, Window: time.Minute}
	ok, wait, err := s.limiter.Allow(r.Context(), "acct:"+truncate(code, 32), rule)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !ok {
		retryAfter(w, wait)
		s.rateLimited(w, r)
	}
	return ok
}

// limitCustomer applies the per-account budget to a session's code checks
// (second factor, setup, step-up, e-mail change): guesses cost the same
// whichever endpoint they come through.
func (s *server) limitCustomer(next http.Handler) http.Handler {
	rule := ratelimit.Rule{Limit: s.cfg.RateLimitAccount, Window: time.Minute}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cur, _ := current(r); cur != nil {
			ok, wait, err := s.limiter.Allow(r.Context(), "cust:"+strconv.FormatInt(cur.Customer.ID, 10), rule)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if !ok {
				retryAfter(w, wait)
				s.rateLimited(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ipBucket is the rate-limit key of an address: IPv6 clients are counted by
// their /64, which one subscriber usually holds whole.
func ipBucket(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func (s *server) rateLimited(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.problem(w, r, auth.CodeRateLimited)
		return
	}
	s.errorPage(w, r, auth.CodeRateLimited)
}

// rememberLang stores an explicit ?lang= choice in a cookie so later pages keep it.
func rememberLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
			http.SetCookie(w, &http.Cookie{Name: locale.CookieName, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
