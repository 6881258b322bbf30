// Package console serves the call center's operator console (issue 7, SPEC
// O1–O6) on a listener of its own, never on the customer origin: operators
// log in with their own passkeys, look customers up, carry out procedures
// (four-eyes ones through requests another operator approves), work the
// inquiry queue, verify the audit chain and read the adoption dashboard.
//
// It has its own mux, middleware, templates and static files, with the
// customer site's security headers and cross-origin protection, and its own
// session cookie and table: a customer's session is nothing here. The UI is
// Japanese. Handlers are thin; the rules live in auth.Console.
package console

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/ratelimit"
	"github.com/kagi-auth/kagi/internal/store"
)

// Deps are what the console needs.
type Deps struct {
	// Origin is the console's public origin, e.g. http://localhost:8081 or
	// https://console.internal.example.jp; its host is the operators' RP ID.
	Origin  string
	Console *auth.Console
	Store   store.Store
	Logger  *slog.Logger
	Now     func() time.Time
	// TrustedProxies may set X-Forwarded-For; RateLimitIP bounds the
	// unauthenticated requests (login, enrollment) per client IP and minute
	// (0 disables).
	TrustedProxies []netip.Prefix
	RateLimitIP    int
}

type server struct {
	origin  string
	host    string // the origin's host:port, as browsers send it
	secure  bool
	con     *auth.Console
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	limiter *ratelimit.Limiter
	rateIP  int
	proxies []netip.Prefix
	cookie  string
	pages   *renderer
}

// NewServer builds the console's handler.
func NewServer(d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(d.Origin)
	if err != nil {
		return nil, err
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	s := &server{
		origin: strings.TrimSuffix(d.Origin, "/"), host: u.Host, secure: u.Scheme == "https",
		con: d.Console, st: d.Store, log: d.Logger, now: d.Now,
		limiter: ratelimit.New(d.Store, d.Now), rateIP: d.RateLimitIP, proxies: d.TrustedProxies,
		cookie: "kagi_console", pages: pages,
	}
	if s.secure {
		s.cookie = "__Host-kagi_console" // bound to this host, Secure, Path=/
	}
	return s.routes(), nil
}
