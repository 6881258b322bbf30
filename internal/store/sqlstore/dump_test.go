package sqlstore_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
)

// seed fills every table through the Store.
func seed(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 5, 15, 0, 30, 0, 123456000, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var cs []*store.Customer
	for i, code := range []string{"10000001", "10000002", "10000003"} {
		c := &store.Customer{Code: code, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", UserHandle: rnd(64),
			Lang: "ja", CreatedAt: now.Add(time.Duration(i) * time.Hour)}
		if i < 2 {
			c.Email, c.EmailVerifiedAt, c.SecondFactor, c.TOTPSecret = code+"@example.jp", now, store.FactorTOTP, rnd(60)
		}
		must(s.CreateCustomer(ctx, c))
		cs = append(cs, c)
	}
	_, _, err := s.RecordFailure(ctx, cs[1].ID, 1, now)
	must(err)
	_, err = s.UseTOTPStep(ctx, cs[0].ID, 59_000_000)
	must(err)
	var keys []*store.Passkey
	for i := range 3 {
		p := &store.Passkey{CustomerID: cs[0].ID, CredentialID: rnd(32), PublicKey: rnd(77), SignCount: uint32(i * 7), AAGUID: rnd(16),
			Transports: []string{"internal", "hybrid"}, BackupEligible: i == 0, BackupState: i == 0, AttestationFormat: "none",
			Name: "iPhone の パスキー", Shared: i == 2, CreatedAt: now, CreatedIP: "203.0.113.7", CreatedUserAgent: "Mozilla/5.0"}
		must(s.AddPasskey(ctx, p, 5))
		keys = append(keys, p)
	}
	must(s.RevokePasskey(ctx, keys[1].ID, "customer", now.Add(time.Minute)))
	must(s.SuspendPasskey(ctx, keys[2].ID, "clone_suspected", now.Add(time.Minute)))
	must(s.CreateSession(ctx, &store.Session{IDHash: rnd(32), CustomerID: cs[0].ID, Stage: store.StageFull, Method: store.MethodPasskey,
		PasskeyID: keys[0].ID, AuthenticatedAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour), IP: "203.0.113.7", UserAgent: "UA", Data: `{"a":1}`}))
	must(s.CreateEmailCode(ctx, &store.EmailCode{CustomerID: cs[1].ID, Purpose: store.CodeLogin, Email: "x@example.jp", CodeHash: rnd(32), CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}))
	must(s.CreateCeremony(ctx, &store.Ceremony{ID: rnd(32), Kind: "login", Data: []byte(`{"challenge":"x"}`), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}))
	for i, ev := range []string{"customer.created", "login.password.ok", "passkey.registered", "passkey.deleted"} {
		must(s.AppendAudit(ctx, &store.AuditEntry{At: now.Add(time.Duration(i) * time.Second), Actor: "customer", CustomerID: cs[0].ID,
			Event: ev, IP: "203.0.113.7", UserAgent: "UA", Detail: `{"i":` + string(rune('0'+i)) + `}`}))
	}
	must(s.AppendAudit(ctx, &store.AuditEntry{Actor: "system", Event: "zero time"}))
	m := &store.Mail{To: "10000001@example.jp", Subject: "ログインのお知らせ", Body: "本文 <b>&</b>", CreatedAt: now}
	must(s.EnqueueMail(ctx, m))
	must(s.MarkMailSent(ctx, m.ID, now.Add(time.Second)))
	must(s.EnqueueMail(ctx, &store.Mail{To: "10000002@example.jp", Subject: "s", Body: "b", CreatedAt: now, Attempts: 2, LastError: "421 try later", NextTryAt: now.Add(time.Minute)}))
	_, err = s.Hit(ctx, "ip:203.0.113.7", now.Truncate(time.Minute))
	must(err)
}

func export(t *testing.T, db *sqlstore.DB) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := db.Export(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// body is a dump without its header line (source and time differ).
func body(dump []byte) string {
	_, rest, _ := bytes.Cut(dump, []byte("\n"))
	return string(rest)
}

// TestDumpSQLiteToPostgres_R2: a SQLite deployment's data moves to PostgreSQL
// row for row, ids, revoked passkeys and the audit chain included, and back.
func TestDumpSQLiteToPostgres_R2(t *testing.T) {
	pgtest.Require(t)
	ctx := t.Context()
	lite := openSQLite(t, t.TempDir())
	seed(t, lite)
	dump := export(t, lite)

	pg := pgtest.Open(t)
	counts, err := pg.Import(ctx, bytes.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"customers": 3, "passkeys": 3, "audit_log": 5, "audit_head": 1, "outbox": 2, "sessions": 1, "email_codes": 1, "ceremonies": 1, "rate_limits": 1}
	for _, c := range counts {
		if c.Rows != want[c.Table] {
			t.Errorf("%s: %d rows imported, want %d", c.Table, c.Rows, want[c.Table])
		}
	}
	if got := export(t, pg); body(got) != body(dump) {
		t.Fatalf("PostgreSQL holds other rows than SQLite did:\nsqlite:\n%s\npostgres:\n%s", body(dump), body(got))
	}

	// The copy is a working store: ids continue after the imported ones, the
	// audit chain goes on from its tip, revoked passkeys stay revoked.
	c := &store.Customer{Code: "10000004", UserHandle: rnd(64), CreatedAt: time.Now()}
	if err := pg.CreateCustomer(ctx, c); err != nil || c.ID != 4 {
		t.Fatalf("new customer after import: id %d, %v", c.ID, err)
	}
	e := &store.AuditEntry{At: time.Now(), Actor: "cli", Event: "after"}
	if err := pg.AppendAudit(ctx, e); err != nil || e.Seq != 6 {
		t.Fatalf("audit append after import: seq %d, %v", e.Seq, err)
	}
	verifyChain(t, pg, 6)
	first, _ := pg.CustomerByCode(ctx, "10000001")
	ps, err := pg.PasskeysByCustomer(ctx, first.ID, true)
	if err != nil || len(ps) != 3 || ps[1].RevokedAt.IsZero() || ps[1].RevokedBy != "customer" || ps[2].SuspendReason != "clone_suspected" {
		t.Fatalf("passkeys after import: %v %+v", err, ps)
	}
	if active, _ := pg.PasskeysByCustomer(ctx, first.ID, false); len(active) != 2 {
		t.Errorf("%d unrevoked passkeys, want 2", len(active))
	}

	// Back again: a PostgreSQL dump restores into SQLite.
	back := openSQLite(t, t.TempDir())
	if _, err := back.Import(ctx, bytes.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	if got := export(t, back); body(got) != body(dump) {
		t.Fatal("SQLite → SQLite round trip differs")
	}
}

func verifyChain(t *testing.T, s store.Store, n int) {
	t.Helper()
	es, err := s.AuditRange(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n {
		t.Fatalf("%d audit entries, want %d", len(es), n)
	}
	var prev []byte
	for i, e := range es {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, store.AuditHash(prev, e)) {
			t.Fatalf("audit chain broken at seq %d", e.Seq)
		}
		prev = e.Hash
	}
}

// TestImportRefuses_R2_O5: a dump that was edited, cut short or aimed at a
// database in use is refused, and nothing of it is written.
func TestImportRefuses_R2_O5(t *testing.T) {
	ctx := t.Context()
	src := openSQLite(t, t.TempDir())
	seed(t, src)
	dump := string(export(t, src))
	lines := strings.SplitAfter(strings.TrimSuffix(dump, "\n"), "\n")

	for name, bad := range map[string]string{
		"edited audit entry": strings.Replace(dump, `"event":"passkey.deleted"`, `"event":"passkey.renamed"`, 1),
		"dropped audit entry": strings.Join(func() []string {
			var out []string
			for _, l := range lines {
				if !strings.Contains(l, `"login.password.ok"`) {
					out = append(out, l)
				}
			}
			return out
		}(), ""),
		"truncated":      strings.Join(lines[:len(lines)-3], ""),
		"no closing":     strings.Join(lines[:len(lines)-1], ""),
		"other version":  regexp.MustCompile(`"schema_version":\d+`).ReplaceAllString(dump, `"schema_version":99`),
		"unknown table":  strings.Replace(dump, `"table":"outbox"`, `"table":"mailbox"`, 1),
		"unknown column": strings.Replace(dump, `"to_addr":`, `"to":`, 1),
		"not a dump":     "hello\n",
		"empty":          "",
	} {
		dst := openSQLite(t, t.TempDir())
		if _, err := dst.Import(ctx, strings.NewReader(bad)); err == nil {
			t.Errorf("%s: imported", name)
			continue
		} else {
			t.Logf("%s: %v", name, err)
		}
		if got := body(export(t, dst)); strings.Contains(got, `"table":"customers"`) {
			t.Errorf("%s: rows were written", name)
		}
	}

	// Into a database in use: refused.
	if _, err := src.Import(ctx, strings.NewReader(dump)); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("import into a used database: %v", err)
	}
}
