package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/locale"
)

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// rightmost X-Forwarded-For hop that is not itself a trusted proxy.
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
	return auth.Meta{IP: s.clientIP(r), UserAgent: r.UserAgent(), Lang: locale.Negotiate(r)}
}

type ctxKey int

const currentKey ctxKey = 0

// withSession resolves the session cookie once per request. An invalid or
// expired cookie is cleared; the handler decides what a missing session means.
func (s *server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		cur, err := s.auth.Authenticate(r.Context(), c.Value)
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

// current returns the request's session, or nil and why there is none.
func current(r *http.Request) (*auth.Current, error) {
	switch v := r.Context().Value(currentKey).(type) {
	case *auth.Current:
		return v, nil
	case error:
		return nil, v
	}
	return nil, &auth.Error{Code: auth.CodeNotAuthenticated}
}

func (s *server) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: token, Path: "/",
		HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	})
}
