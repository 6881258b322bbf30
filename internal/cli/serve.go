package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/web"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

func runServe(ctx context.Context, args []string, env Env) error {
	var pprofAddr string
	cfg, fs, opts, err := parse("serve", args, env, func(fs *flag.FlagSet) { fs.StringVar(&pprofAddr, "pprof", "", pprofUsage) })
	if err != nil {
		return err
	}
	if !cfg.Dev && cfg.SMTPHost == "" {
		return &UsageError{"serve: mail needs --smtp-host, or --dev for the development mailbox"}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := newLogger(cfg, env.Stderr)
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	tuneGC(env.Getenv, cfg.HashConcurrency, log)

	var worker *mail.Worker
	a, err := openApp(ctx, cfg, log, func() {
		if worker != nil {
			worker.Nudge()
		}
	})
	if err != nil {
		return err
	}
	defer a.st.Close()

	var sender mail.Sender = mail.DevSender{}
	if cfg.SMTPHost != "" {
		sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS})
		if err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
	}
	worker = mail.NewWorker(a.st, sender, log)

	renderer, err := ui.New()
	if err != nil {
		return err
	}
	handler := web.NewServer(web.Deps{Config: *cfg, Auth: a.auth, Store: a.st, UI: renderer, Logger: log})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("kagi starting", "addr", ln.Addr().String(), "origin", cfg.Origin, "rp_id", cfg.RPID(),
		"data", cfg.Data, "dev", cfg.Dev, "options", config.Redacted(fs, opts))

	// The operator console (issue 7) on a listener of its own; --console-addr "" runs none.
	var con *consoleServer
	if cfg.ConsoleAddr != "" {
		if con, err = startConsole(a, log); err != nil {
			ln.Close()
			return err
		}
	}

	if cfg.Demo {
		if err := seedDemo(ctx, a, env.Stdout); err != nil {
			ln.Close()
			con.close()
			return fmt.Errorf("demo: %w", err)
		}
		if con != nil {
			if err := seedDemoOperators(ctx, con.con, cfg.ConsoleOrigin, env.Stdout); err != nil {
				ln.Close()
				con.close()
				return fmt.Errorf("demo operators: %w", err)
			}
		}
	}
	fmt.Fprintf(env.Stdout, "kagi is serving %s (listening on %s)\n", cfg.Origin, ln.Addr())
	if cfg.Dev {
		fmt.Fprintf(env.Stdout, "development mailbox: %s/dev/mail\n", cfg.Origin)
	}
	if con != nil {
		fmt.Fprintf(env.Stdout, "operator console: %s (listening on %s; add an operator with `kagi operator add`)\n", cfg.ConsoleOrigin, con.ln.Addr())
	}

	if pprofAddr != "" {
		ps, err := startPprof(pprofAddr, log)
		if err != nil {
			ln.Close()
			con.close()
			return err
		}
		defer ps.Close()
	}

	bg, cancelBG := context.WithCancel(context.Background())
	defer cancelBG()
	go func() { _ = worker.Run(bg) }()
	go sweep(bg, a, log)

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if con != nil {
		go con.run(bg, errc)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("kagi shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if con != nil {
		err = errors.Join(err, con.shutdown(shutdownCtx))
	}
	cancelBG()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func sweep(ctx context.Context, a *app, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.auth.Sweep(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweep failed", "err", err.Error())
			}
			// Cheap outside the lead time before the mandatory date; inside it,
			// each customer without a passkey is mailed once (P1, P4).
			if n, err := a.auth.SendPhaseReminders(ctx); err != nil && ctx.Err() == nil {
				log.Warn("passkey reminders failed", "err", err.Error())
			} else if n > 0 {
				log.Info("passkey reminders sent", "count", n)
			}
		}
	}
}

// demoCustomers cover the three situations a newcomer should try (issue 2).
var demoCustomers = []struct {
	code, email, factor, note string
}{
	{"10000001", "taro@example.jp", store.FactorTOTP, "authenticator app (TOTP)"},
	{"10000002", "hanako@example.jp", store.FactorEmail, "e-mail code (read it at /dev/mail)"},
	{"10000003", "", "", "initial setup not done yet (no e-mail registered)"},
}

// seedDemo creates the demo customers once and gives them fresh passwords at
// every start, so no password lives in the repository.
func seedDemo(ctx context.Context, a *app, w io.Writer) error {
	fmt.Fprintln(w, "\nDemo customers (passwords are new at every start):")
	for _, d := range demoCustomers {
		password := demoPassword()
		c, err := a.st.CustomerByCode(ctx, d.code)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c, _, err = a.auth.CreateCustomer(ctx, auth.NewCustomer{Code: d.code, Password: password, Email: d.email, SecondFactor: d.factor}, "demo")
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := a.auth.SetPassword(ctx, c, password, "demo"); err != nil {
				return err
			}
			if !c.LockedAt.IsZero() {
				if err := a.auth.Unlock(ctx, c.Code, "demo"); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(w, "  お客様コード %s  パスワード %s  — %s\n", d.code, password, d.note)
		if c.SecondFactor == store.FactorTOTP {
			secret, err := a.auth.TOTPSecret(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "      TOTP secret %s (add it to an authenticator app; current code %s)\n", secret, auth.TOTPCode(secret, time.Now()))
		}
	}
	fmt.Fprintln(w)
	return nil
}

func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // no look-alikes
	b := make([]byte, 12)
	rand.Read(b)
	out := make([]byte, 0, 14)
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}
