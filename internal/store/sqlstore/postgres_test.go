package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
	"github.com/kagi-auth/kagi/internal/store/storetest"
)

// TestPostgres runs the conformance suite, unchanged, on PostgreSQL: each
// subtest in a schema of its own (R2).
func TestPostgres(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

// schemaOf is the schema a pgtest URL puts on the search_path, quoted.
func schemaOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return pgx.Identifier{u.Query().Get("search_path")}.Sanitize()
}

// TestPostgresMigrateOnce_R2: instances starting at the same moment on an
// empty database migrate it once; the advisory lock makes the others wait.
func TestPostgresMigrateOnce_R2(t *testing.T) {
	admin := pgtest.Require(t)
	u := pgtest.URL(t)
	const instances = 4
	errs := make(chan error, instances)
	var wg sync.WaitGroup
	for range instances {
		wg.Go(func() {
			db, err := sqlstore.OpenPostgres(t.Context(), u, nil)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var applied int
	if err := admin.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM `+schemaOf(t, u)+`.goose_db_version WHERE version_id = 1`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want once", applied)
	}
}

// TestPostgresAuditLogAppendOnly_O5: even SQL that bypasses the Store cannot
// rewrite history.
func TestPostgresAuditLogAppendOnly_O5(t *testing.T) {
	admin := pgtest.Require(t)
	u := pgtest.URL(t)
	db := pgtest.OpenURL(t, u)
	if err := db.AppendAudit(t.Context(), &store.AuditEntry{At: time.Now(), Actor: "cli", Event: "x"}); err != nil {
		t.Fatal(err)
	}
	schema := schemaOf(t, u)
	for _, q := range []string{`UPDATE %s.audit_log SET event = 'y'`, `DELETE FROM %s.audit_log`, `TRUNCATE %s.audit_log`} {
		q = fmt.Sprintf(q, schema)
		if _, err := admin.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only", q, err)
		}
	}
}

// TestPostgresURL_R2_R3: a wrong URL is refused with a message that never
// repeats the password.
func TestPostgresURL_R2_R3(t *testing.T) {
	ctx := t.Context()
	for _, u := range []string{
		"mysql://kagi:hunter2secret@db/kagi",
		"postgres://kagi:hunter2secret@127.0.0.1:1/kagi?pool_max_conns=0",
		"postgres://kagi:hunter2secret@127.0.0.1:1/kagi?sslmode=bogus",
		"postgres://kagi:hunter2secret@127.0.0.1:1/kagi?connect_timeout=2", // nobody listens on port 1
		"postgres://kagi@127.0.0.1:1/kagi?password=hunter2secret&connect_timeout=2",
		"postgres://kagi:hunter2secret@[::1%zz/kagi",
	} {
		_, err := sqlstore.OpenPostgres(ctx, u, nil)
		if err == nil {
			t.Errorf("%s: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// pair opens two instances (two pools, as two kagi processes would have) on
// one fresh schema.
func pair(t *testing.T) (a, b *sqlstore.DB) {
	t.Helper()
	u := pgtest.URL(t)
	return pgtest.OpenURL(t, u), pgtest.OpenURL(t, u)
}

// race runs fn(i, instance) n times at once, alternating the instances.
func race(n int, a, b *sqlstore.DB, fn func(i int, db *sqlstore.DB)) {
	var wg sync.WaitGroup
	for i := range n {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() { fn(i, db) })
	}
	wg.Wait()
}

func rnd(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

var customerSerial atomic.Int64

func customer(t *testing.T, db *sqlstore.DB) *store.Customer {
	t.Helper()
	c := &store.Customer{Code: fmt.Sprintf("%08d", 30000000+customerSerial.Add(1)), UserHandle: rnd(64), Lang: "ja", CreatedAt: time.Now()}
	if err := db.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPostgresTwoInstances_R2: two instances on one database hold the
// invariants that matter when requests race through a load balancer.
func TestPostgresTwoInstances_R2(t *testing.T) {
	pgtest.Require(t)
	const racers = 16 // goroutines per race, half on each instance

	t.Run("PasskeyLimit_K3", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		for range 3 { // three customers, each raced separately
			c := customer(t, a)
			var added, limited atomic.Int32
			race(racers, a, b, func(_ int, db *sqlstore.DB) {
				p := &store.Passkey{CustomerID: c.ID, CredentialID: rnd(32), PublicKey: rnd(77), CreatedAt: time.Now()}
				switch err := db.AddPasskey(ctx, p, 5); {
				case err == nil:
					added.Add(1)
				case errors.Is(err, store.ErrLimit):
					limited.Add(1)
				default:
					t.Errorf("AddPasskey: %v", err)
				}
			})
			n, err := b.CountActivePasskeys(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if added.Load() != 5 || limited.Load() != racers-5 || n != 5 {
				t.Errorf("added %d, refused %d, stored %d; want 5, %d, 5", added.Load(), limited.Load(), n, racers-5)
			}
		}
	})

	t.Run("CeremonySingleUse_K9", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		for i := range 10 {
			begun := a // begun on one instance, finished on either
			if i%2 == 1 {
				begun = b
			}
			cer := &store.Ceremony{ID: rnd(32), Kind: "login", Data: []byte(`{}`), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(5 * time.Minute)}
			if err := begun.CreateCeremony(ctx, cer); err != nil {
				t.Fatal(err)
			}
			var won atomic.Int32
			race(racers, a, b, func(_ int, db *sqlstore.DB) {
				switch got, err := db.ConsumeCeremony(ctx, cer.ID, "login", time.Now()); {
				case err == nil:
					won.Add(1)
					if !bytes.Equal(got.Data, cer.Data) {
						t.Errorf("ceremony data %q", got.Data)
					}
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("ConsumeCeremony: %v", err)
				}
			})
			if won.Load() != 1 {
				t.Errorf("ceremony %d finished %d times, want once", i, won.Load())
			}
		}
	})

	t.Run("EmailCodeSingleUse_A5", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		c := customer(t, a)
		for i := range 10 {
			code := &store.EmailCode{CustomerID: c.ID, Purpose: store.CodeLogin, CodeHash: rnd(32), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(10 * time.Minute)}
			if err := a.CreateEmailCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			var won atomic.Int32
			race(racers, a, b, func(_ int, db *sqlstore.DB) {
				if _, err := db.AddEmailCodeAttempt(ctx, code.ID); err != nil {
					t.Errorf("AddEmailCodeAttempt: %v", err)
				}
				ok, err := db.UseEmailCode(ctx, code.ID, time.Now())
				if err != nil {
					t.Errorf("UseEmailCode: %v", err)
				}
				if ok {
					won.Add(1)
				}
			})
			if won.Load() != 1 {
				t.Errorf("code %d used %d times, want once", i, won.Load())
			}
			if _, err := b.LatestEmailCode(ctx, c.ID, store.CodeLogin); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a used code is still offered: %v", err)
			}
		}
		// Attempts made on both instances at once are all counted.
		code := &store.EmailCode{CustomerID: c.ID, Purpose: store.CodeSetupEmail, CodeHash: rnd(32), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(10 * time.Minute)}
		if err := b.CreateEmailCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		race(racers, a, b, func(_ int, db *sqlstore.DB) {
			if _, err := db.AddEmailCodeAttempt(ctx, code.ID); err != nil {
				t.Errorf("AddEmailCodeAttempt: %v", err)
			}
		})
		got, err := a.LatestEmailCode(ctx, c.ID, store.CodeSetupEmail)
		if err != nil {
			t.Fatal(err)
		}
		if got.Attempts != racers {
			t.Errorf("attempts = %d, want %d", got.Attempts, racers)
		}
	})

	t.Run("TOTPStepOnce_A5", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		c := customer(t, a)
		// Every step is tried on both instances at once (a code replayed to
		// the other instance within its window): each is accepted at most once,
		// and the newest step is the one that stays.
		const steps = 20
		var accepted [steps + 1]atomic.Int32
		race(2*steps, a, b, func(i int, db *sqlstore.DB) {
			step := int64(i/2 + 1)
			ok, err := db.UseTOTPStep(ctx, c.ID, 1_000_000+step)
			if err != nil {
				t.Errorf("UseTOTPStep: %v", err)
			}
			if ok {
				accepted[step].Add(1)
			}
		})
		for step := range accepted {
			if n := accepted[step].Load(); n > 1 {
				t.Errorf("step %d accepted %d times", step, n)
			}
		}
		got, err := b.CustomerByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TOTPLastStep != 1_000_000+steps {
			t.Errorf("last step %d, want %d", got.TOTPLastStep, 1_000_000+steps)
		}
		if ok, err := a.UseTOTPStep(ctx, c.ID, 1_000_000+steps); ok || err != nil {
			t.Errorf("replay of the last step: %v %v", ok, err)
		}
	})

	t.Run("FailuresLock_A4", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		c := customer(t, a)
		const threshold, failures = 5, 3 * racers
		base := time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		seen := map[int]time.Time{} // count returned → the caller's time
		var lockedReports atomic.Int32
		race(failures, a, b, func(i int, db *sqlstore.DB) {
			now := base.Add(time.Duration(i) * time.Second)
			n, locked, err := db.RecordFailure(ctx, c.ID, threshold, now)
			if err != nil {
				t.Errorf("RecordFailure: %v", err)
				return
			}
			if locked != (n >= threshold) {
				t.Errorf("count %d reported locked=%v", n, locked)
			}
			if locked {
				lockedReports.Add(1)
			}
			mu.Lock()
			defer mu.Unlock()
			if _, dup := seen[n]; dup {
				t.Errorf("two failures both counted as %d", n)
			}
			seen[n] = now
		})
		got, err := b.CustomerByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FailedAttempts != failures || len(seen) != failures || lockedReports.Load() != failures-threshold+1 {
			t.Errorf("counter %d, distinct counts %d, locked reports %d; want %d, %d, %d",
				got.FailedAttempts, len(seen), lockedReports.Load(), failures, failures, failures-threshold+1)
		}
		if !got.LockedAt.Equal(seen[threshold]) {
			t.Errorf("locked at %v, want the time of the failure that reached the threshold, %v", got.LockedAt, seen[threshold])
		}
	})

	t.Run("AuditChain_O5", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		race(racers, a, b, func(i int, db *sqlstore.DB) {
			for j := range 5 {
				if err := db.AppendAudit(ctx, &store.AuditEntry{At: time.Now(), Actor: "system", Event: fmt.Sprintf("e%d.%d", i, j)}); err != nil {
					t.Errorf("AppendAudit: %v", err)
				}
			}
		})
		es, err := b.AuditRange(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 5*racers {
			t.Fatalf("%d entries, want %d", len(es), 5*racers)
		}
		var prev []byte
		for i, e := range es {
			if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, store.AuditHash(prev, e)) {
				t.Fatalf("audit chain broken at seq %d", e.Seq)
			}
			prev = e.Hash
		}
	})

	t.Run("RateLimit_B3", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		window := time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)
		race(racers, a, b, func(_ int, db *sqlstore.DB) {
			for range 5 {
				if _, err := db.Hit(ctx, "account:10000001", window); err != nil {
					t.Errorf("Hit: %v", err)
				}
			}
		})
		if n, err := a.Count(ctx, "account:10000001", window); err != nil || n != 5*racers {
			t.Errorf("count %d %v, want %d", n, err, 5*racers)
		}
	})

	t.Run("OutboxOnce_P4", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		ctx := t.Context()
		const mails = 150
		for i := range mails {
			db := a
			if i%2 == 1 {
				db = b
			}
			if err := db.EnqueueMail(ctx, &store.Mail{To: fmt.Sprintf("c%d@example.jp", i), Subject: "s", Body: "b", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		sent := &tally{sent: map[int64]int{}, by: map[string]int{}}
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for name, db := range map[string]*sqlstore.DB{"a": a, "b": b} {
			for range 2 { // two workers per instance
				w := mail.NewWorker(db, countingSender{sent, name}, nil, mail.WithBatchSize(3), mail.WithPollInterval(5*time.Millisecond))
				wg.Go(func() { _ = w.Run(wctx) })
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for sent.total() < mails && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // a duplicate would show up now
		stop()
		wg.Wait()
		sent.mu.Lock()
		defer sent.mu.Unlock()
		if len(sent.sent) != mails {
			t.Errorf("%d distinct mails sent, want %d", len(sent.sent), mails)
		}
		for id, n := range sent.sent {
			if n != 1 {
				t.Errorf("mail %d sent %d times", id, n)
			}
		}
		t.Logf("sent by instance: %v", sent.by)
		sentRows, err := a.SentMail(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(sentRows) != mails {
			t.Errorf("%d mails marked sent, want %d", len(sentRows), mails)
		}
	})
}

// tally records every delivery, by mail and by instance.
type tally struct {
	mu   sync.Mutex
	sent map[int64]int
	by   map[string]int
	n    int
}

func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// countingSender is one instance's mail.Sender.
type countingSender struct {
	*tally
	instance string
}

func (s countingSender) Send(_ context.Context, m *store.Mail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[m.ID]++
	s.by[s.instance]++
	s.n++
	return nil
}

// TestTextFromClients_R2_B1: a NUL byte or invalid UTF-8 that a client slips
// into a customer code, a User-Agent or a passkey name is stored the same way
// on both backends (as U+FFFD; PostgreSQL cannot hold either), never an error,
// and the audit chain covers the stored text (O5).
func TestTextFromClients_R2_B1(t *testing.T) {
	backends := map[string]func(t *testing.T) *sqlstore.DB{
		"sqlite":   func(t *testing.T) *sqlstore.DB { return openSQLite(t, t.TempDir()) },
		"postgres": func(t *testing.T) *sqlstore.DB { return pgtest.Open(t) },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t)
			if _, err := db.Hit(ctx, "account:7000\x00", time.Now().Truncate(time.Minute)); err != nil {
				t.Errorf("Hit: %v", err)
			}
			if _, err := db.CustomerByCode(ctx, "7000\x00"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CustomerByCode: %v", err)
			}
			c := customer(t, db)
			sess := &store.Session{IDHash: rnd(32), CustomerID: c.ID, Stage: store.StageFull, UserAgent: "Mozilla/5.0 \xff\xfe", ExpiresAt: time.Now().Add(time.Hour)}
			if err := db.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			if got, _, err := db.SessionWithCustomer(ctx, sess.IDHash); err != nil || got.UserAgent != "Mozilla/5.0 \uFFFD" { // one U+FFFD per run of bad bytes
				t.Errorf("stored user agent %q, %v", got.UserAgent, err)
			}
			p := &store.Passkey{CustomerID: c.ID, CredentialID: rnd(32), PublicKey: rnd(77), Name: "a\x00b", CreatedAt: time.Now()}
			if err := db.AddPasskey(ctx, p, 5); err != nil {
				t.Fatalf("AddPasskey: %v", err)
			}
			if err := db.RenamePasskey(ctx, p.ID, "c\x00d"); err != nil {
				t.Fatalf("RenamePasskey: %v", err)
			}
			if got, _ := db.PasskeyByID(ctx, p.ID); got == nil || got.Name != "c\uFFFDd" {
				t.Errorf("stored name %+v", got)
			}
			e := &store.AuditEntry{At: time.Now(), Actor: "customer", Event: "login.password.unknown", UserAgent: "UA \xff", Detail: "{\"x\":\"\x00\"}"}
			if err := db.AppendAudit(ctx, e); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			verifyChain(t, db, 1)
			if got, _ := db.AuditRange(ctx, 0, 1); len(got) != 1 || got[0].UserAgent != e.UserAgent || e.UserAgent != "UA \uFFFD" {
				t.Errorf("audit entry returned %q, stored %+v", e.UserAgent, got)
			}
		})
	}
}
