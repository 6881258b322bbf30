package config

import (
	"flag"
	"strings"
	"testing"
)

func parseArgs(t *testing.T, args ...string) (*Config, *flag.FlagSet, []Option, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	c, opts := Register(fs)
	err := Parse(fs, c, args, func(k string) string {
		if k == "KAGI_DATABASE_URL" {
			return "postgres://env:envpassword@db.internal:5432/kagi"
		}
		return ""
	})
	return c, fs, opts, err
}

const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// R2, R3: --database-url (or KAGI_DATABASE_URL) selects PostgreSQL; it must
// be a postgres URL, never appears in an error or a log line with its
// password, and several instances need one --secret-key.
func TestDatabaseURL_R2_R3(t *testing.T) {
	c, fs, opts, err := parseArgs(t, "--database-url", "postgresql://kagi:s3cret-pw@db:5432/kagi?sslmode=verify-full&sslpassword=also-secret")
	if err != nil || !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		t.Fatalf("flag: %v %q", err, c.DatabaseURL)
	}
	logged := Redacted(fs, opts)["database-url"]
	if strings.Contains(logged, "s3cret") || strings.Contains(logged, "also-secret") || !strings.Contains(logged, "db:5432/kagi") {
		t.Errorf("logged as %q", logged)
	}
	var secret bool
	for _, o := range opts {
		if o.Flag == "--database-url" {
			secret = o.Secret && o.Env == "KAGI_DATABASE_URL"
		}
	}
	if !secret {
		t.Error("--database-url is not a secret option named KAGI_DATABASE_URL")
	}

	// From the environment.
	c, _, _, err = parseArgs(t)
	if err != nil || c.DatabaseURL != "postgres://env:envpassword@db.internal:5432/kagi" {
		t.Fatalf("environment: %v %q", err, c.DatabaseURL)
	}

	for _, u := range []string{"mysql://kagi:s3cret-pw@db/kagi", "kagi:s3cret-pw@db/kagi", "host=db password=s3cret-pw", "postgres://kagi:s3cret-pw@[::1%zz/kagi"} {
		_, _, _, err := parseArgs(t, "--database-url", u)
		if err == nil || !strings.Contains(err.Error(), "--database-url") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: %v", u, err)
		}
	}

	// A deployment (not --dev) on PostgreSQL: one key for every instance.
	prod := []string{"--origin", "https://trade.example.jp", "--smtp-host", "smtp.example.jp", "--database-url", "postgres://db/kagi"}
	if _, _, _, err := parseArgs(t, prod...); err == nil || !strings.Contains(err.Error(), "--secret-key") {
		t.Errorf("PostgreSQL without --secret-key: %v", err)
	}
	if _, _, _, err := parseArgs(t, append(prod, "--secret-key", key)...); err != nil {
		t.Errorf("with --secret-key: %v", err)
	}
	if _, _, _, err := parseArgs(t, append(prod, "--dev")...); err != nil {
		t.Errorf("with --dev: %v", err)
	}
	// SQLite keeps its key file.
	if _, _, _, err := parseArgs(t, "--origin", "https://trade.example.jp", "--smtp-host", "smtp.example.jp", "--database-url", ""); err != nil {
		t.Errorf("SQLite deployment: %v", err)
	}
}
