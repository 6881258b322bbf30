package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
)

// runIn runs a command with stdin.
func runIn(t *testing.T, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, noEnv, stdin, &out, &errb)
	return out.String(), errb.String(), err
}

func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// dumpBody is a dump without its first line, which names the source and time.
func dumpBody(d string) string {
	_, rest, _ := strings.Cut(d, "\n")
	return rest
}

// R2: moving a SQLite deployment to PostgreSQL is `kagi export | kagi import`.
// Every row arrives (revoked passkeys and the audit chain included), and the
// PostgreSQL-backed server lets the customers in with the same password and
// TOTP secret, keeps the lock, and the CLI's other commands work on it.
func TestMoveSQLiteToPostgres_R2(t *testing.T) {
	pgURL := pgtest.URL(t)
	ctx := t.Context()
	dir, key := t.TempDir(), newKey()

	// A SQLite deployment with customers made the usual way.
	out, _, err := run(t, "customer", "add", "--data", dir, "--secret-key", key, "--code", "10000001", "--password", "a long password",
		"--email", "taro@example.jp", "--second-factor", "totp", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var taro customerJSON
	if err := json.Unmarshal([]byte(out), &taro); err != nil || taro.TOTPSecret == "" {
		t.Fatalf("customer add: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"--code", "10000002", "--password", "another long password", "--email", "hanako@example.jp"},
		{"--code", "10000003", "--password", "a third long password"},
	} {
		if _, _, err := run(t, append([]string{"customer", "add", "--data", dir, "--secret-key", key}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	// Through the domain: five wrong passwords lock hanako (audit entries and
	// a lock mail); through the store: taro has a passkey and a revoked one.
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, _ := config.Register(fs)
	if err := config.Parse(fs, cfg, []string{"--data", dir, "--secret-key", key}, noEnv); err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := a.auth.PasswordLogin(ctx, "10000002", "wrong password", auth.Meta{IP: "203.0.113.9", UserAgent: "test"}); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	c1, err := a.st.CustomerByCode(ctx, "10000001")
	if err != nil {
		t.Fatal(err)
	}
	var keys []*store.Passkey
	for i := range 2 {
		p := &store.Passkey{CustomerID: c1.ID, CredentialID: []byte("credential-" + strconv.Itoa(i)), PublicKey: []byte("cose"),
			Name: "パスキー " + strconv.Itoa(i), BackupEligible: true, BackupState: true, Transports: []string{"hybrid", "internal"}, CreatedAt: time.Now()}
		if err := a.st.AddPasskey(ctx, p, 5); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p)
	}
	if err := a.st.RevokePasskey(ctx, keys[1].ID, "customer", time.Now()); err != nil {
		t.Fatal(err)
	}
	a.st.Close()

	// Export from SQLite, import into PostgreSQL.
	dump, msg, err := run(t, "export", "--data", dir, "--secret-key", key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "customers 3") || !strings.Contains(msg, "passkeys 2") || !strings.Contains(msg, "--secret-key") {
		t.Errorf("export summary: %s", msg)
	}
	out, _, err = runIn(t, strings.NewReader(dump), "import", "--database-url", pgURL, "--secret-key", key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "imported into postgres://") || !strings.Contains(out, "customers 3") {
		t.Errorf("import summary: %s", out)
	}
	if _, _, err := runIn(t, strings.NewReader(dump), "import", "--database-url", pgURL, "--secret-key", key); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second import: %v", err)
	}

	// Row by row: PostgreSQL's dump is SQLite's.
	again, _, err := run(t, "export", "--database-url", pgURL, "--secret-key", key)
	if err != nil {
		t.Fatal(err)
	}
	if dumpBody(again) != dumpBody(dump) {
		t.Fatalf("rows differ after the move:\nsqlite:\n%s\npostgres:\n%s", dumpBody(dump), dumpBody(again))
	}
	// The audit chain verifies where it now lives (O5).
	pg := pgtest.OpenURL(t, pgURL)
	es, err := pg.AuditRange(ctx, 0, 0)
	if err != nil || len(es) < 8 || strings.Count(dump, `"table":"audit_log"`) != len(es) {
		t.Fatalf("%d audit entries after the move (%v)", len(es), err)
	}
	var prev []byte
	for i, e := range es {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, store.AuditHash(prev, e)) {
			t.Fatalf("audit chain broken at seq %d", e.Seq)
		}
		prev = e.Hash
	}
	ps, err := pg.PasskeysByCustomer(ctx, c1.ID, true)
	if err != nil || len(ps) != 2 || ps[1].RevokedAt.IsZero() || !ps[0].RevokedAt.IsZero() || !ps[0].BackupEligible {
		t.Fatalf("passkeys after the move: %v %+v", err, ps)
	}

	// Serve from PostgreSQL with the same key, and an empty --data: nothing
	// comes from the old directory any more.
	empty := t.TempDir()
	origin, stop := servePG(t, pgURL, key, empty)
	c := newClient()
	post(t, c, origin+"/api/login/password", `{"customer_code":"10000001","password":"a long password"}`, 200)
	post(t, c, origin+"/api/login/second-factor", `{"code":"`+auth.TOTPCode(taro.TOTPSecret, time.Now())+`"}`, 200)
	if b := post(t, newClient(), origin+"/api/login/password", `{"customer_code":"10000002","password":"another long password"}`, http.StatusLocked); !strings.Contains(b, "account_locked") {
		t.Errorf("hanako's lock did not move: %s", b)
	}
	// The CLI works on the same database while it serves.
	if out, _, err := run(t, "customer", "unlock", "--database-url", pgURL, "--secret-key", key, "--code", "10000002"); err != nil || !strings.Contains(out, "unlocked") {
		t.Fatalf("unlock on PostgreSQL: %q %v", out, err)
	}
	post(t, newClient(), origin+"/api/login/password", `{"customer_code":"10000002","password":"another long password"}`, 200)
	if _, _, err := run(t, "customer", "add", "--database-url", pgURL, "--secret-key", key, "--code", "10000004", "--password", "a fourth long password"); err != nil {
		t.Fatal(err)
	}
	if b := post(t, newClient(), origin+"/api/login/password", `{"customer_code":"10000004","password":"a fourth long password"}`, 200); !strings.Contains(b, "setup") {
		t.Errorf("new customer on PostgreSQL: %s", b)
	}
	out, _, err = run(t, "migrate", "--database-url", pgURL, "--secret-key", key)
	if err != nil || !strings.Contains(out, "migrations applied to postgres://") {
		t.Errorf("migrate: %q %v", out, err)
	}
	stop()
	if _, err := os.Stat(filepath.Join(empty, sqlstore.SQLiteFile)); err == nil {
		t.Error("serving from PostgreSQL created a SQLite file")
	}
}

// servePG runs `kagi serve` on PostgreSQL until stop is called.
func servePG(t *testing.T, pgURL, key, dir string) (origin string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	origin = "http://localhost:" + port
	env := map[string]string{"KAGI_DATABASE_URL": pgURL, "KAGI_SECRET_KEY": key, "KAGI_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:" + port, "--origin", origin, "--data", dir, "--console-addr", ""},
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	}()
	waitHealthy(t, origin, done)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v; stderr %s", err, errb.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("no graceful shutdown")
		}
	}
	t.Cleanup(stop)
	return origin, stop
}

// R2, R3: a deployment on PostgreSQL refuses to start without --secret-key
// (each host would otherwise generate a key of its own), and a wrong URL is
// a usage error that never repeats the password.
func TestDatabaseURLRefusals_R2(t *testing.T) {
	_, _, err := run(t, "serve", "--origin", "https://trade.example.jp", "--smtp-host", "smtp.example.jp",
		"--database-url", "postgres://kagi:pw-123456@db.internal/kagi", "--data", t.TempDir())
	if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "--secret-key") || strings.Contains(err.Error(), "pw-123456") {
		t.Fatalf("without --secret-key: %v", err)
	}
	_, _, err = run(t, "migrate", "--database-url", "mysql://kagi:pw-123456@db.internal/kagi", "--data", t.TempDir())
	if err == nil || ExitCode(err) != 2 || strings.Contains(err.Error(), "pw-123456") {
		t.Fatalf("mysql URL: %v", err)
	}
	// Nobody listens: a plain error that names the place without the password.
	_, _, err = run(t, "migrate", "--database-url", "postgres://kagi:pw-123456@127.0.0.1:1/kagi?connect_timeout=2", "--data", t.TempDir())
	if err == nil || ExitCode(err) != 1 || strings.Contains(err.Error(), "pw-123456") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("unreachable: %v", err)
	}
	// Export refuses a directory without a database instead of exporting nothing.
	if _, _, err := run(t, "export", "--data", filepath.Join(t.TempDir(), "nothing")); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("export of nothing: %v", err)
	}
}
