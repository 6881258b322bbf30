// Package web serves the customer site: Japanese pages and the JSON API that
// the pages and other clients use. Handlers are thin: the rules live in auth.
package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/ratelimit"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

// Deps are what the customer site needs.
type Deps struct {
	Config config.Config
	Auth   *auth.Service
	Store  store.Store
	UI     *ui.Renderer
	Logger *slog.Logger
	Now    func() time.Time
}

type server struct {
	cfg     config.Config
	auth    *auth.Service
	st      store.Store
	ui      *ui.Renderer
	log     *slog.Logger
	limiter *ratelimit.Limiter
	proxies []netip.Prefix
	cookie  string
}

// NewServer builds the customer site's handler.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	proxies, _ := d.Config.Proxies() // validated with the config
	s := &server{
		cfg: d.Config, auth: d.Auth, st: d.Store, ui: d.UI, log: d.Logger,
		limiter: ratelimit.New(d.Store, d.Now), proxies: proxies,
		cookie: "kagi_session",
	}
	if d.Config.Secure() {
		s.cookie = "__Host-kagi_session" // bound to this host, Secure, Path=/
	}
	return s.routes()
}
