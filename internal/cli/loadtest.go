package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/loadtest"
	"github.com/kagi-auth/kagi/internal/secret"
)

// runLoadtest seeds load-test customers (--seed) and/or drives logins against
// a server (--url); see internal/loadtest and docs/PERFORMANCE.md.
func runLoadtest(ctx context.Context, args []string, env Env) error {
	var (
		seed     int
		keysPath string
		first    int64
		o        loadtest.Options
		asJSON   bool
		cpuProf  string
	)
	cfg, _, _, err := parse("loadtest", args, env, func(fs *flag.FlagSet) {
		fs.IntVar(&seed, "seed", 0, "create load-test customers with a passkey each until there are this many (bulk insert into --data or --database-url)")
		fs.StringVar(&keysPath, "keys", "", "the driver's keys file (default: <data>/"+loadtest.KeysFile+")")
		fs.Int64Var(&first, "first-code", loadtest.DefaultFirstCode, "customer code of the first seeded customer")
		fs.StringVar(&o.URL, "url", "", "drive logins against this kagi origin, e.g. http://localhost:8080 (run it with --rate-limit-ip 0 --rate-limit-account 0)")
		fs.StringVar(&o.Mode, "mode", loadtest.ModePasskey, "passkey (options, assertion, session) or password (password, TOTP code, session)")
		fs.IntVar(&o.Concurrency, "concurrency", 32, "concurrent clients, each a browser with its own cookie jar")
		fs.DurationVar(&o.Duration, "duration", 20*time.Second, "measured time (at most 1h with the warm-up)")
		fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "logins before the measurement starts, not counted")
		fs.Int64Var(&o.MaxRequests, "max-requests", 10_000_000, "stop after this many HTTP requests in all")
		fs.IntVar(&o.PID, "pid", 0, "process ID of the server on this machine: report its CPU time and peak RSS")
		fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a --url that is not this machine")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProf, "cpuprofile", "", "write the driver's own CPU profile to this file (the server's is served by serve --pprof)")
	})
	if err != nil {
		return err
	}
	if seed <= 0 && o.URL == "" {
		return &UsageError{"loadtest: give --seed N to create customers, --url to drive logins, or both"}
	}
	if keysPath == "" {
		keysPath = filepath.Join(cfg.Data, loadtest.KeysFile)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var ks *loadtest.KeySet
	if seed > 0 {
		if ks, err = seedLoadtest(ctx, cfg, env, seed, keysPath, first); err != nil {
			return fmt.Errorf("loadtest: seed: %w", err)
		}
	}
	if o.URL == "" {
		return nil
	}
	if ks == nil {
		if ks, err = loadtest.LoadKeys(keysPath); err != nil {
			return fmt.Errorf("loadtest: %w (seed first with --seed N)", err)
		}
	}
	o.Keys = ks
	o.Progress = env.Stderr
	// The driver shares the machine with the server: its collections take CPU
	// from the logins it measures (0.26 instead of 0.32 ms per login at 400).
	if env.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if cpuProf != "" {
		f, err := os.Create(cpuProf)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := loadtest.Run(ctx, o)
	if rep != nil {
		if asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			rep.Print(env.Stdout)
		}
	}
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	return nil
}

func seedLoadtest(ctx context.Context, cfg *config.Config, env Env, n int, keysPath string, first int64) (*loadtest.KeySet, error) {
	log := newLogger(cfg, env.Stderr)
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var master []byte
	if cfg.SecretKey != "" {
		master, err = secret.ParseKey(cfg.SecretKey)
	} else {
		master, err = secret.LoadOrCreateKeyFile(cfg.KeyFile())
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	keys, err := secret.New(master)
	if err != nil {
		return nil, err
	}
	hasher := auth.NewHasher(1, time.Minute)
	return loadtest.Seed(ctx, st, loadtest.SeedOptions{
		N: n, KeysPath: keysPath, RPID: cfg.RPID(), FirstCode: first, Sealer: keys,
		HashPassword: func(pw string) (string, error) { return hasher.Hash(ctx, pw) },
		Progress:     env.Stderr,
	})
}
