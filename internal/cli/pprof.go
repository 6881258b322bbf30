package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// pprofUsage documents serve's --pprof flag, a diagnostics switch of serve
// alone (like every flag, KAGI_PPROF sets it too) kept out of the option table.
const pprofUsage = "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060) for profiling; off unless given"

// startPprof mounts the profiler on a listener of its own, never on the
// customer site's, and only on a loopback address: profiles reveal memory.
func startPprof(addr string, log *slog.Logger) (*http.Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &UsageError{fmt.Sprintf("serve: --pprof %q: %v", addr, err)}
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
		return nil, &UsageError{fmt.Sprintf("serve: --pprof must be a loopback address such as 127.0.0.1:6060, got %q", addr)}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof listener stopped", "err", err.Error())
		}
	}()
	log.Warn("profiling endpoint enabled", "addr", ln.Addr().String())
	return srv, nil
}
