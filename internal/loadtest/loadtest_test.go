package loadtest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/loadtest"
	"github.com/kagi-auth/kagi/internal/secret"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/testenv"
)

// seed creates n load-test customers in e's store, as kagi loadtest --seed does.
func seed(t *testing.T, e *testenv.Env, n int, keysPath string) *loadtest.KeySet {
	t.Helper()
	db, ok := e.Store.(*sqlstore.DB)
	if !ok {
		t.Fatalf("store is %T", e.Store)
	}
	keys, err := secret.New(bytes.Repeat([]byte{42}, secret.KeySize)) // testenv's master key
	if err != nil {
		t.Fatal(err)
	}
	ks, err := loadtest.Seed(t.Context(), db, loadtest.SeedOptions{
		N: n, KeysPath: keysPath, RPID: e.Config.RPID(), Sealer: keys, Batch: 20, Now: e.Clock.Now,
		HashPassword: func(pw string) (string, error) { return e.Hasher.Hash(context.Background(), pw) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestPasskeyRun seeds 50 customers and runs passkey logins for 2 s with 4
// workers against a server on 127.0.0.1: no login may fail, and every
// passkey used must have its signature counter advanced, in the database and
// in the driver's state.
func TestPasskeyRun(t *testing.T) {
	e := testenv.New(t)
	keysPath := filepath.Join(t.TempDir(), loadtest.KeysFile)
	ks := seed(t, e, 50, keysPath)
	if len(ks.Keys) != 50 || ks.Keys[0].Code != "900000000" || ks.Keys[49].Code != "900000049" {
		t.Fatalf("seeded %d keys, first %s", len(ks.Keys), ks.Keys[0].Code)
	}
	// Seeding again changes nothing; a keys file is read back whole.
	if again := seed(t, e, 50, keysPath); len(again.Keys) != 50 {
		t.Fatalf("second seed: %d keys", len(again.Keys))
	}
	loaded, err := loadtest.LoadKeys(keysPath)
	if err != nil || len(loaded.Keys) != 50 || loaded.Password != ks.Password {
		t.Fatalf("LoadKeys: %v, %d keys", err, len(loaded.Keys))
	}

	var progress strings.Builder
	rep, err := loadtest.Run(t.Context(), loadtest.Options{
		URL: e.URL, Mode: loadtest.ModePasskey, Concurrency: 4, Duration: 2 * time.Second,
		Keys: loaded, PID: os.Getpid(), Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if rep.Failed != 0 || len(rep.Errors) != 0 || rep.Logins == 0 {
		t.Fatalf("%d logins, %d failed: %v", rep.Logins, rep.Failed, rep.Errors)
	}
	if l := rep.Steps["finish"]; l.N != int(rep.Logins) || l.P99 <= 0 || rep.Login.Max < l.Max {
		t.Fatalf("latency: login %+v, finish %+v", rep.Login, l)
	}
	if rep.Server == nil || rep.Server.CPUSeconds <= 0 || rep.Server.PeakRSS <= 0 {
		t.Fatalf("server usage: %+v", rep.Server)
	}

	// The counters advanced: in the store (each login stored the counter it
	// signed) and in the state the next run starts from.
	state, err := os.ReadFile(keysPath + ".passkey-state")
	if err != nil || len(state) != 4*50 {
		t.Fatalf("state file: %v, %d bytes", err, len(state))
	}
	used := 0
	for i, k := range loaded.Keys {
		p, err := e.Store.PasskeyByCredentialID(t.Context(), k.CredentialID)
		if err != nil {
			t.Fatal(err)
		}
		signed := uint32(state[4*i]) | uint32(state[4*i+1])<<8 | uint32(state[4*i+2])<<16 | uint32(state[4*i+3])<<24
		if p.SignCount == 0 {
			continue
		}
		used++
		if !p.SuspendedAt.IsZero() || p.SignCount != signed || p.LastUsedAt.IsZero() {
			t.Fatalf("passkey of %s: stored counter %d, signed %d, suspended %v", k.Code, p.SignCount, signed, p.SuspendedAt)
		}
	}
	if used == 0 {
		t.Fatal("no passkey's counter advanced")
	}
	entries, err := e.Store.AuditByCustomer(t.Context(), 0, 1)
	if err != nil || len(entries) != 1 || entries[0].Event != "loadtest.seeded" {
		t.Fatalf("seeding audit entry: %v %+v", err, entries)
	}

	// A second run continues from the saved counters without a failure.
	rep, err = loadtest.Run(t.Context(), loadtest.Options{
		URL: e.URL, Mode: loadtest.ModePasskey, Concurrency: 2, Duration: 300 * time.Millisecond, Keys: loaded,
	})
	if err != nil || rep.Failed != 0 || rep.Logins == 0 {
		t.Fatalf("second run: %v, %d ok, %d failed: %v", err, rep.Logins, rep.Failed, rep.Errors)
	}
}

// TestPasswordRun: password + TOTP logins, each customer's code used once per
// time step (the server's clock stands still in tests).
func TestPasswordRun(t *testing.T) {
	e := testenv.New(t)
	ks := seed(t, e, 20, filepath.Join(t.TempDir(), loadtest.KeysFile))
	rep, err := loadtest.Run(t.Context(), loadtest.Options{
		URL: e.URL, Mode: loadtest.ModePassword, Concurrency: 2, Duration: time.Second, MaxRequests: 60,
		Keys: ks, Now: e.Clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || len(rep.Errors) != 0 || rep.Logins == 0 || rep.Logins > 20 {
		t.Fatalf("%d logins, %d failed: %v", rep.Logins, rep.Failed, rep.Errors)
	}
	c, err := e.Store.CustomerByCode(t.Context(), ks.Keys[0].Code)
	if err != nil || c.SecondFactor != store.FactorTOTP || !c.EmailVerified() {
		t.Fatalf("seeded customer: %v %+v", err, c)
	}
}

// TestRunRefuses: other hosts need --allow-remote; the run is bounded.
func TestRunRefuses(t *testing.T) {
	ks := &loadtest.KeySet{Keys: []*loadtest.Key{{Code: "900000000"}}}
	for _, o := range []loadtest.Options{
		{URL: "http://example.com:8080", Mode: loadtest.ModePasskey, Concurrency: 1, Duration: time.Second, Keys: ks},
		{URL: "http://10.0.0.1:8080", Mode: loadtest.ModePasskey, Concurrency: 1, Duration: time.Second, Keys: ks},
		{URL: "http://localhost:8080", Mode: "sms", Concurrency: 1, Duration: time.Second, Keys: ks},
		{URL: "http://localhost:8080", Mode: loadtest.ModePasskey, Concurrency: 2, Duration: time.Second, Keys: ks},
		{URL: "http://localhost:8080", Mode: loadtest.ModePasskey, Concurrency: 1, Duration: 2 * time.Hour, Keys: ks},
		{URL: "http://localhost:8080", Mode: loadtest.ModePasskey, Concurrency: 1, Duration: time.Second},
	} {
		if _, err := loadtest.Run(t.Context(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
