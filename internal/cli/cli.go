// Package cli is kagi's command line: main calls Run and nothing else.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/policy"
	"github.com/kagi-auth/kagi/internal/secret"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
)

// UsageError marks a mistake in the command line (exit status 2).
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// ExitCode is the process exit status for err.
func ExitCode(err error) int {
	var u *UsageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// Env is what a command may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

const usage = `kagi — passkey-first login for a brokerage's trading site

usage:
  kagi serve [--demo] [options]     run the customer site
  kagi migrate                      apply database migrations
  kagi export > dump.jsonl          write every table as JSON lines (a move or a logical backup)
  kagi import < dump.jsonl          load a dump into a new, empty database
  kagi customer add --code C --password P [--email E] [--second-factor totp|email] [--totp-secret BASE32] [--json]
  kagi customer unlock --code C     lift a lock after failed attempts
  kagi config                       list every option (flags and KAGI_* variables)
  kagi operator add --name N --role agent|supervisor   an operator of the console; prints a one-time enrollment code
  kagi operator ...                 the console's procedures for scripts (kagi operator help)
  kagi audit verify                 walk the audit log's hash chain; exit 1 at the first broken link
  kagi loadtest [--seed N] [--url U --mode passkey|password]   seed load-test customers, drive logins

Every command works on the SQLite database in --data, or on PostgreSQL when
--database-url (KAGI_DATABASE_URL) is set.

Run "kagi COMMAND --help" for a command's options.`

// Run executes the command in args.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return &UsageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], env)
	case "migrate":
		return runMigrate(ctx, args[1:], env)
	case "customer":
		return runCustomer(ctx, args[1:], env)
	case "export":
		return runExport(ctx, args[1:], env)
	case "import":
		return runImport(ctx, args[1:], env)
	case "operator":
		return runOperator(ctx, args[1:], env)
	case "audit":
		return runAudit(ctx, args[1:], env)
	case "loadtest":
		return runLoadtest(ctx, args[1:], env)
	case "config":
		_, opts := config.Register(flag.NewFlagSet("config", flag.ContinueOnError))
		config.PrintOptions(stdout, opts)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return &UsageError{fmt.Sprintf("unknown command %q", args[0])}
}

// parse registers the common options plus extra on a new flag set and parses args.
func parse(name string, args []string, env Env, extra func(fs *flag.FlagSet)) (*config.Config, *flag.FlagSet, []config.Option, error) {
	fs := flag.NewFlagSet("kagi "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg, opts := config.Register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := config.Parse(fs, cfg, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, &UsageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, nil, nil, &UsageError{fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return cfg, fs, opts, nil
}

// app is the wiring every command shares.
type app struct {
	cfg  *config.Config
	st   store.Store
	auth *auth.Service
	log  *slog.Logger
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore opens (and migrates) PostgreSQL when --database-url is set, else
// the SQLite file in --data. where names it for messages, without a password.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (st *sqlstore.DB, where string, err error) {
	if cfg.DatabaseURL != "" {
		where = config.RedactURL(cfg.DatabaseURL)
		st, err = sqlstore.OpenPostgres(ctx, cfg.DatabaseURL, log)
	} else {
		where = cfg.Data
		st, err = sqlstore.OpenSQLite(ctx, cfg.Data, log)
	}
	if err != nil {
		return nil, where, fmt.Errorf("open store %s: %w", where, err)
	}
	return st, where, nil
}

func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, onMailed func()) (*app, error) {
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	var master []byte
	if cfg.SecretKey != "" {
		master, err = secret.ParseKey(cfg.SecretKey)
	} else {
		master, err = secret.LoadOrCreateKeyFile(cfg.KeyFile())
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	keys, err := secret.New(master)
	if err != nil {
		st.Close()
		return nil, err
	}
	svc := auth.New(AuthConfig(cfg), auth.Deps{
		Store: st, Keys: keys, Logger: log, OnMailed: onMailed,
		Hasher: auth.NewHasher(cfg.HashConcurrency, 3*time.Second),
	})
	if err := svc.EnablePasskeys(auth.RP{ID: cfg.RPID(), Origin: cfg.Origin, Name: cfg.SiteName}); err != nil {
		st.Close()
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &app{cfg: cfg, st: st, auth: svc, log: log}, nil
}

// AuthConfig maps the configuration onto the domain's; tests build their
// servers with it too.
func AuthConfig(cfg *config.Config) auth.Config {
	c := auth.Config{
		LockThreshold: cfg.LockThreshold, LockDuration: cfg.LockDuration,
		SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		StepUpWindow: cfg.StepUpWindow, PasskeyLimit: cfg.PasskeyLimit,
		Schedule: policy.Schedule{
			RecommendFrom: mustTokyo(cfg.PasskeyRecommendFrom), MandatoryFrom: mustTokyo(cfg.PasskeyMandatoryFrom),
			LegacyAfterMandatory: cfg.LegacyLoginAfterMandatory, StepUpWindow: cfg.StepUpWindow, CoolingOff: cfg.CoolingOff,
		},
		ReminderLead: cfg.PasskeyReminderLead, SentMailRetention: cfg.SentMailRetention,
	}
	c.Brand.Site = cfg.SiteName
	c.Brand.Brokerage = cfg.Brokerage
	c.Brand.CallCenter = cfg.CallCenter
	c.Brand.Phone = cfg.CallCenterPhone
	c.Brand.Hours = cfg.CallCenterHours
	return c
}

func runMigrate(ctx context.Context, args []string, env Env) error {
	cfg, _, _, err := parse("migrate", args, env, nil)
	if err != nil {
		return err
	}
	st, where, err := openStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(env.Stdout, "migrations applied to %s\n", where)
	return nil
}

// mustTokyo reads a schedule date that Validate has already checked.
func mustTokyo(s string) time.Time {
	t, _ := config.ParseTokyoTime(s)
	return t
}
