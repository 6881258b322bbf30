package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
)

// BenchmarkHotQueries measures the statements of a passkey login, one at a
// time, on SQLite and (when it is reachable) PostgreSQL:
//
//	go test -run '^$' -bench HotQueries -benchmem ./internal/store/sqlstore/
//
// "Parallel" runs the login's write transaction from GOMAXPROCS×8 goroutines,
// as concurrent logins do: on SQLite they share group commits.
func BenchmarkHotQueries(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) *sqlstore.DB
	}{
		{"sqlite", func(b *testing.B) *sqlstore.DB {
			db, err := sqlstore.OpenSQLite(context.Background(), b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		}},
		{"postgres", func(b *testing.B) *sqlstore.DB { return pgtest.Open(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchHot(b, be.open) })
	}
}

func benchHot(b *testing.B, open func(b *testing.B) *sqlstore.DB) {
	ctx := context.Background()
	db := open(b)
	now := time.Now()
	c := &store.Customer{Code: "80000001", UserHandle: rnd(32), Lang: "ja", Email: "b@example.jp", CreatedAt: now}
	if err := db.CreateCustomer(ctx, c); err != nil {
		b.Fatal(err)
	}
	// A thousand passkeys, so that the lookup goes through a real index.
	var cs []*store.Customer
	var ps []*store.Passkey
	for i := range 1000 {
		cs = append(cs, &store.Customer{Code: fmt.Sprint(81000000 + i), UserHandle: rnd(32), Lang: "ja", CreatedAt: now})
		ps = append(ps, &store.Passkey{CredentialID: rnd(32), PublicKey: rnd(77), AAGUID: make([]byte, 16), CreatedAt: now})
	}
	if err := db.BulkCreateCustomers(ctx, cs, ps); err != nil {
		b.Fatal(err)
	}
	p := ps[500]
	session := func() *store.Session {
		return &store.Session{IDHash: rnd(32), CustomerID: c.ID, Stage: store.StageFull, Method: store.MethodPasskey,
			PasskeyID: p.ID, AuthenticatedAt: now, StepUpAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour),
			IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}
	}
	audit := func() *store.AuditEntry {
		return &store.AuditEntry{At: now, Actor: "customer", CustomerID: c.ID, Event: "login.success", IP: "192.0.2.1",
			UserAgent: "Mozilla/5.0", Detail: `{"method":"passkey","passkey_id":1}`}
	}

	b.Run("PasskeyByCredentialID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.PasskeyByCredentialID(ctx, p.CredentialID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PasskeyWithCustomer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := db.PasskeyWithCustomer(ctx, p.CredentialID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SessionWithCustomer", func(b *testing.B) {
		s := session()
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := db.SessionWithCustomer(ctx, s.IDHash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateSession", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.CreateSession(ctx, session()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendAudit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.AppendAudit(ctx, audit()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateConsumeCeremony", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			id := rnd(32)
			if err := db.CreateCeremony(ctx, &store.Ceremony{ID: id, Kind: "login", Data: rnd(200), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ConsumeCeremony(ctx, id, "login", now); err != nil {
				b.Fatal(err)
			}
		}
	})
	var count atomic.Uint32
	b.Run("RecordPasskeyUse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := count.Add(1)
			if ok, err := db.RecordPasskeyUse(ctx, p.ID, n-1, n, false, now); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	// The login's one write transaction: counter, session, audit entry, notice.
	login := func(db store.Store, pk *store.Passkey, old uint32) error {
		return db.InTx(ctx, func(tx store.Store) error {
			if ok, err := tx.RecordPasskeyUse(ctx, pk.ID, old, old+1, false, now); err != nil || !ok {
				return fmt.Errorf("record use: %v %v", ok, err)
			}
			if err := tx.CreateSession(ctx, session()); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, audit()); err != nil {
				return err
			}
			return tx.EnqueueMail(ctx, &store.Mail{To: "b@example.jp", Subject: "ログインのお知らせ", Body: "...", CreatedAt: now})
		})
	}
	b.Run("LoginTx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := count.Add(1)
			if err := login(db, p, n-1); err != nil {
				b.Fatal(err)
			}
		}
	})
	var next atomic.Int64 // a passkey of its own for every goroutine of every run
	b.Run("LoginTxParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			pk := ps[next.Add(1)%int64(len(ps))]
			var n uint32
			for pb.Next() {
				if err := login(db, pk, n); err != nil {
					b.Error(err)
					return
				}
				n++
			}
		})
	})
}
