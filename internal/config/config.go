// Package config is kagi's one list of options: each is a flag and a KAGI_*
// environment variable (the flag wins), with a default and a validator.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is the parsed configuration, passed down by value.
type Config struct {
	Addr        string
	Origin      string
	Data        string
	DatabaseURL string // postgres://...; empty: the SQLite file in Data
	Demo        bool
	Dev         bool

	// The operator console (issue 7): its own listener and origin, never the
	// customer site's; an empty ConsoleAddr runs no console.
	ConsoleAddr   string
	ConsoleOrigin string

	SecretKey string // base64 master key; empty: a key file in Data (single-host only)

	LockThreshold int
	LockDuration  time.Duration
	SessionIdle   time.Duration
	SessionMax    time.Duration
	StepUpWindow  time.Duration

	// The passkey-mandatory schedule (P1): ISO 8601 dates or times, Asia/Tokyo
	// when they carry no offset; empty means not scheduled.
	PasskeyRecommendFrom      string
	PasskeyMandatoryFrom      string
	LegacyLoginAfterMandatory bool
	CoolingOff                time.Duration
	PasskeyReminderLead       time.Duration
	PasskeyLimit              int

	SentMailRetention time.Duration // how long sent mails stay in the outbox; 0 keeps them

	RateLimitIP      int // unauthenticated requests per IP per minute
	RateLimitAccount int // login attempts per customer code per minute
	TrustedProxies   string
	HashConcurrency  int

	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string

	SiteName        string
	Brokerage       string
	CallCenter      string
	CallCenterPhone string
	CallCenterHours string

	LogLevel  string
	LogFormat string

	devSet bool // --dev given explicitly
}

// Option describes one setting for the README and --help.
type Option struct {
	Flag, Env, Default, Usage string
	Secret                    bool
}

type binder struct {
	fs      *flag.FlagSet
	options []Option
}

func (b *binder) add(name, def, usage string, secret bool) {
	b.options = append(b.options, Option{Flag: "--" + name, Env: EnvName(name), Default: def, Usage: usage, Secret: secret})
}

func (b *binder) str(p *string, name, def, usage string) {
	b.fs.StringVar(p, name, def, usage)
	b.add(name, def, usage, false)
}

func (b *binder) secret(p *string, name, usage string) {
	b.fs.StringVar(p, name, "", usage)
	b.add(name, "", usage, true)
}

func (b *binder) int(p *int, name string, def int, usage string) {
	b.fs.IntVar(p, name, def, usage)
	b.add(name, fmt.Sprint(def), usage, false)
}

func (b *binder) dur(p *time.Duration, name string, def time.Duration, usage string) {
	b.fs.DurationVar(p, name, def, usage)
	b.add(name, def.String(), usage, false)
}

func (b *binder) bool(p *bool, name string, def bool, usage string) {
	b.fs.BoolVar(p, name, def, usage)
	b.add(name, fmt.Sprint(def), usage, false)
}

// EnvName maps a flag name to its environment variable.
func EnvName(flagName string) string {
	return "KAGI_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register defines every option on fs and returns the Config they fill and
// the list of options. Store-only commands (migrate, customer) use StoreOnly.
func Register(fs *flag.FlagSet) (*Config, []Option) {
	c := &Config{}
	b := &binder{fs: fs}
	b.str(&c.Addr, "addr", "127.0.0.1:8080", "address the customer site listens on")
	b.str(&c.Origin, "origin", "http://localhost:8080", "public origin of the customer site; its host is the WebAuthn RP ID")
	b.str(&c.ConsoleAddr, "console-addr", "127.0.0.1:8081", "address the operator console listens on (internal network only); empty runs no console")
	b.str(&c.ConsoleOrigin, "console-origin", "http://localhost:8081", "origin of the operator console; its host is the RP ID of operators' passkeys")
	b.str(&c.Data, "data", "./kagi-data", "directory of the embedded SQLite database (and of the generated key file)")
	b.secret(&c.DatabaseURL, "database-url", "PostgreSQL instead of SQLite, for several instances: postgres://user:password@host:5432/db?sslmode=verify-full")
	b.bool(&c.Demo, "demo", false, "seed demo customers and print how to log in as them")
	b.bool(&c.Dev, "dev", false, "development mailbox at /dev/mail (default: on only when the origin is localhost)")
	b.secret(&c.SecretKey, "secret-key", "base64 32-byte key that encrypts TOTP secrets and keys code hashes (default: generated into <data>/secret.key)")
	b.int(&c.LockThreshold, "lock-threshold", 5, "consecutive failed authentications that lock an account")
	b.dur(&c.LockDuration, "lock-duration", 0, "how long a lock lasts; 0 keeps it until an operator unlocks")
	b.dur(&c.SessionIdle, "session-idle", 30*time.Minute, "idle timeout of a session")
	b.dur(&c.SessionMax, "session-max", 12*time.Hour, "absolute lifetime of a session")
	b.dur(&c.StepUpWindow, "step-up-window", 5*time.Minute, "how long a re-verification covers sensitive actions")
	b.str(&c.PasskeyRecommendFrom, "passkey-recommend-from", "", "from this date or time (ISO 8601; Asia/Tokyo without an offset) every legacy login is urged to register a passkey")
	b.str(&c.PasskeyMandatoryFrom, "passkey-mandatory-from", "", "from this date or time important operations need a passkey and legacy logins without one may only register one")
	b.bool(&c.LegacyLoginAfterMandatory, "legacy-login-after-mandatory", false, "after the mandatory date, let customers who have a passkey still log in with password + code (their sessions then need a passkey step-up)")
	b.dur(&c.CoolingOff, "cooling-off", 24*time.Hour, "after a passkey registration or an e-mail or second-factor change, withdrawals and bank-account changes wait this long; 0 disables")
	b.dur(&c.PasskeyReminderLead, "passkey-reminder-lead", 14*24*time.Hour, "how long before the mandatory date customers without a passkey are mailed a reminder (once)")
	b.int(&c.PasskeyLimit, "passkey-limit", 5, "passkeys a customer may register")
	b.int(&c.RateLimitIP, "rate-limit-ip", 600, "unauthenticated requests per client IP per minute (generous: carrier-grade NAT); 0 disables")
	b.int(&c.RateLimitAccount, "rate-limit-account", 10, "login attempts per customer code per minute; 0 disables")
	b.str(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	b.int(&c.HashConcurrency, "hash-concurrency", 0, "concurrent password hashes (0: one fewer than the CPUs, at least 1)")
	b.dur(&c.SentMailRetention, "sent-mail-retention", 365*24*time.Hour, "how long a sent notification mail stays in the outbox (each login leaves one of about 2 KB); 0 keeps them all")
	b.str(&c.SMTPHost, "smtp-host", "", "SMTP server; empty keeps mail in the development mailbox")
	b.int(&c.SMTPPort, "smtp-port", 587, "SMTP port")
	b.str(&c.SMTPUsername, "smtp-username", "", "SMTP user name")
	b.secret(&c.SMTPPassword, "smtp-password", "SMTP password")
	b.str(&c.SMTPFrom, "smtp-from", "no-reply@localhost", "sender address of notification mails")
	b.str(&c.SMTPTLS, "smtp-tls", "starttls", "starttls, tls or none")
	b.str(&c.SiteName, "site-name", "ホームトレード", "name of the trading site shown to customers")
	b.str(&c.Brokerage, "brokerage", "ホームトレード証券", "name of the brokerage")
	b.str(&c.CallCenter, "call-center", "テレホントレードセンター", "name of the call center customers are sent to")
	b.str(&c.CallCenterPhone, "call-center-phone", "0120-99-1234", "call center telephone number")
	b.str(&c.CallCenterHours, "call-center-hours", "平日 8:45～16:00", "call center opening hours")
	b.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	b.str(&c.LogFormat, "log-format", "json", "json or text")
	return c, b.options
}

// Parse parses args, then fills every option not given as a flag from its
// environment variable, then validates. Every problem is reported at once.
func Parse(fs *flag.FlagSet, c *Config, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvName(f.Name), err))
			} else {
				given[f.Name] = true
			}
		}
	})
	c.devSet = given["dev"]
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.Validate()
}

// Validate checks each option and the combinations, collecting every error.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	u, err := url.Parse(c.Origin)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		bad("--origin must be a scheme and host such as https://trade.example.jp, got %q", c.Origin)
	case u.Scheme == "http" && !isLocalhost(u.Hostname()):
		bad("--origin must be https unless its host is localhost (WebAuthn requires a secure context)")
	default:
		if _, err := netip.ParseAddr(u.Hostname()); err == nil {
			bad("--origin must use a host name, not an IP address: an IP cannot be a WebAuthn RP ID")
		}
	}
	if c.Addr == "" {
		bad("--addr is required")
	}
	if c.ConsoleAddr != "" {
		cu, cerr := url.Parse(c.ConsoleOrigin)
		switch {
		case cerr != nil || (cu.Scheme != "http" && cu.Scheme != "https") || cu.Host == "" || (cu.Path != "" && cu.Path != "/") || cu.RawQuery != "":
			bad("--console-origin must be a scheme and host such as https://console.internal.example.jp, got %q", c.ConsoleOrigin)
		case cu.Scheme == "http" && !isLocalhost(cu.Hostname()):
			bad("--console-origin must be https unless its host is localhost (WebAuthn requires a secure context)")
		case strings.TrimSuffix(c.ConsoleOrigin, "/") == strings.TrimSuffix(c.Origin, "/"):
			bad("--console-origin must differ from --origin: the console never runs on the customer origin")
		case c.ConsoleAddr == c.Addr:
			bad("--console-addr must differ from --addr")
		default:
			if _, err := netip.ParseAddr(cu.Hostname()); err == nil {
				bad("--console-origin must use a host name, not an IP address: an IP cannot be a WebAuthn RP ID")
			}
		}
	}
	if !c.devSet && err == nil && u != nil {
		c.Dev = isLocalhost(u.Hostname())
	}
	if c.DatabaseURL != "" {
		if du, err := url.Parse(c.DatabaseURL); err != nil || (du.Scheme != "postgres" && du.Scheme != "postgresql") {
			// Never echo the value: it may hold a password.
			bad("--database-url must be a postgres:// or postgresql:// URL")
		} else if c.SecretKey == "" && !c.Dev {
			// Each host would generate a key file of its own, and no instance
			// could read the TOTP secrets another one sealed.
			bad("--database-url needs --secret-key: every instance must use the same key (a key file in --data is per host)")
		}
	}
	if c.LockThreshold < 1 {
		bad("--lock-threshold must be at least 1")
	}
	if c.LockDuration < 0 {
		bad("--lock-duration must not be negative")
	}
	if c.SessionIdle <= 0 || c.SessionMax <= 0 || c.SessionIdle > c.SessionMax {
		bad("--session-idle and --session-max must be positive, idle not above max")
	}
	rec, rerr := ParseTokyoTime(c.PasskeyRecommendFrom)
	if rerr != nil {
		bad("--passkey-recommend-from: %v", rerr)
	}
	man, merr := ParseTokyoTime(c.PasskeyMandatoryFrom)
	if merr != nil {
		bad("--passkey-mandatory-from: %v", merr)
	}
	if rerr == nil && merr == nil && !rec.IsZero() && !man.IsZero() && man.Before(rec) {
		bad("--passkey-mandatory-from must not come before --passkey-recommend-from")
	}
	if c.CoolingOff < 0 || c.PasskeyReminderLead < 0 || c.SentMailRetention < 0 {
		bad("--cooling-off, --passkey-reminder-lead and --sent-mail-retention must not be negative")
	}
	if c.StepUpWindow <= 0 {
		bad("--step-up-window must be positive")
	}
	if c.PasskeyLimit < 1 || c.PasskeyLimit > 100 {
		bad("--passkey-limit must be between 1 and 100")
	}
	if c.RateLimitIP < 0 || c.RateLimitAccount < 0 {
		bad("rate limits must not be negative")
	}
	if _, err := c.Proxies(); err != nil {
		bad("--trusted-proxies: %v", err)
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		bad("--smtp-tls must be starttls, tls or none")
	}
	if c.SMTPHost != "" && (c.SMTPPort <= 0 || c.SMTPPort > 65535) {
		bad("--smtp-port must be a TCP port")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level must be debug, info, warn or error")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("--log-format must be json or text")
	}
	return errors.Join(errs...)
}

// Tokyo is where the brokerage's dates are meant.
var Tokyo = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}()

// ParseTokyoTime reads an ISO 8601 date ("2026-05-18"), local time
// ("2026-05-18T09:00", seconds optional) or time with an offset; without an
// offset it is Asia/Tokyo. Empty gives the zero time.
func ParseTokyoTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, Tokyo); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date or time (e.g. 2026-05-18 or 2026-05-18T09:00)", s)
}

// RPID is the WebAuthn relying party ID: the origin's host.
func (c *Config) RPID() string {
	u, _ := url.Parse(c.Origin)
	return u.Hostname()
}

// OriginHost is the origin's host:port as browsers send it in Host.
func (c *Config) OriginHost() string {
	u, _ := url.Parse(c.Origin)
	return u.Host
}

// ConsoleRPID is the RP ID of operators' passkeys: the console origin's host.
func (c *Config) ConsoleRPID() string {
	u, _ := url.Parse(c.ConsoleOrigin)
	return u.Hostname()
}

// Secure reports whether cookies must carry the Secure attribute.
func (c *Config) Secure() bool { return strings.HasPrefix(c.Origin, "https://") }

// Warnings are settings that are allowed but dangerous, for the server to log
// at start.
func (c *Config) Warnings() []string {
	var w []string
	if c.Dev && !isLocalhost(c.RPID()) {
		w = append(w, "the development mailbox (--dev) is on for "+c.Origin+
			": anyone who can reach "+c.Origin+"/dev/mail reads every mail, one-time codes included; use it only on a test system")
	}
	return w
}

// Proxies parses --trusted-proxies.
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, err
			}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// KeyFile is where the generated master key lives when none is configured.
func (c *Config) KeyFile() string { return filepath.Join(c.Data, "secret.key") }

func isLocalhost(h string) bool { return h == "localhost" || strings.HasSuffix(h, ".localhost") }

// PrintOptions writes the option list as a Markdown table (README, --help).
func PrintOptions(w io.Writer, opts []Option) {
	fmt.Fprintln(w, "| flag | environment | default | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, o := range opts {
		def := o.Default
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s |\n", o.Flag, o.Env, def, o.Usage)
	}
}

// Redacted returns the option values for a startup log line, secrets masked:
// a URL keeps everything but its password, any other secret is withheld.
func Redacted(fs *flag.FlagSet, opts []Option) map[string]string {
	secret := map[string]bool{}
	for _, o := range opts {
		secret[strings.TrimPrefix(o.Flag, "--")] = o.Secret
	}
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if secret[f.Name] && v != "" {
			if strings.Contains(v, "://") {
				v = RedactURL(v)
			} else {
				v = "[redacted]"
			}
		}
		out[f.Name] = v
	})
	return out
}

// RedactURL returns a URL fit for a log line: a password, in the user part or
// in a parameter (postgres://...?password=), becomes "xxxxx". A value that
// does not parse as a URL is withheld entirely.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[redacted]"
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
