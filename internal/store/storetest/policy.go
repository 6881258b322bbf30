package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// P6, P4: the cooling-off anchor round-trips; the mandatory-phase reminder is
// recorded once; only customers with a verified e-mail and no active passkey
// are listed for it.
func testSensitiveChangeAndNotice(t *testing.T, s store.Store) {
	ctx := t.Context()
	withPasskey, noEmail, suspended, target := newCustomer(t, s), newCustomer(t, s), newCustomer(t, s), newCustomer(t, s)
	for _, c := range []*store.Customer{withPasskey, suspended, target} {
		must(t, s.SetEmail(ctx, c.ID, c.Code+"@example.jp", t0))
	}
	must(t, s.AddPasskey(ctx, passkeyFor(withPasskey), 5))
	p := passkeyFor(suspended)
	must(t, s.AddPasskey(ctx, p, 5))
	must(t, s.SuspendPasskey(ctx, p.ID, "clone", t0))

	at := store.Micro(t0.Add(90 * time.Minute))
	must(t, s.SetSensitiveChange(ctx, target.ID, at))
	got, err := s.CustomerByID(ctx, target.ID)
	must(t, err)
	if !got.SensitiveChangedAt.Equal(at) || !got.PhaseNoticeAt.IsZero() {
		t.Fatalf("SensitiveChangedAt %v PhaseNoticeAt %v", got.SensitiveChangedAt, got.PhaseNoticeAt)
	}
	if err := s.SetSensitiveChange(ctx, 1<<40, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}

	list, err := s.CustomersWithoutPasskey(ctx, 0, 0)
	must(t, err)
	ids := map[int64]bool{}
	for _, c := range list {
		ids[c.ID] = true
	}
	if !ids[target.ID] || !ids[suspended.ID] || ids[withPasskey.ID] || ids[noEmail.ID] {
		t.Fatalf("without passkey: %v (target %d suspended %d with %d noemail %d)", ids, target.ID, suspended.ID, withPasskey.ID, noEmail.ID)
	}
	page, err := s.CustomersWithoutPasskey(ctx, target.ID, 10)
	must(t, err)
	for _, c := range page {
		if c.ID <= target.ID {
			t.Fatalf("afterID not honoured: %d", c.ID)
		}
	}

	first, err := s.MarkPhaseNotice(ctx, target.ID, at)
	must(t, err)
	again, err := s.MarkPhaseNotice(ctx, target.ID, at.Add(time.Hour))
	must(t, err)
	if !first || again {
		t.Fatalf("MarkPhaseNotice: first %v again %v", first, again)
	}
	got, _ = s.CustomerByID(ctx, target.ID)
	if !got.PhaseNoticeAt.Equal(at) {
		t.Fatalf("PhaseNoticeAt %v", got.PhaseNoticeAt)
	}
	list, err = s.CustomersWithoutPasskey(ctx, 0, 0)
	must(t, err)
	for _, c := range list {
		if c.ID == target.ID {
			t.Fatal("reminded customer listed again")
		}
	}
}

// P5: operations are stored as requested and listed newest first, by kind.
func testOperations(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, other := newCustomer(t, s), newCustomer(t, s)
	mk := func(cust *store.Customer, kind, detail string, at time.Time) *store.Operation {
		o := &store.Operation{CustomerID: cust.ID, Kind: kind, Detail: detail, Method: "passkey", CreatedAt: at, IP: "192.0.2.1"}
		must(t, s.RecordOperation(ctx, o))
		if o.ID == 0 {
			t.Fatal("no ID")
		}
		return o
	}
	a := mk(c, "trade", `{"symbol":"7203"}`, t0)
	b := mk(c, "withdraw", `{"amount":10000}`, t0.Add(time.Minute))
	cc := mk(c, "trade", `{"symbol":"6758"}`, t0.Add(2*time.Minute))
	mk(other, "trade", `{}`, t0)
	all, err := s.OperationsByCustomer(ctx, c.ID, "", 0)
	must(t, err)
	if len(all) != 3 || all[0].ID != cc.ID || all[2].ID != a.ID {
		t.Fatalf("all: %+v", all)
	}
	if *all[1] != *b {
		t.Fatalf("round trip: %+v != %+v", *all[1], *b)
	}
	trades, err := s.OperationsByCustomer(ctx, c.ID, "trade", 1)
	must(t, err)
	if len(trades) != 1 || trades[0].ID != cc.ID {
		t.Fatalf("trades: %+v", trades)
	}
}

// A4: attempts are reserved before a check, so concurrent guesses never get
// more than the threshold allows; a right answer gives its attempt back.
func testReserveAttempt(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	var wg sync.WaitGroup
	var granted atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := s.ReserveAttempt(ctx, c.ID, 5); err == nil && ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 5 {
		t.Fatalf("granted %d attempts, want 5", granted.Load())
	}
	must(t, s.ReleaseAttempt(ctx, c.ID))
	n, ok, err := s.ReserveAttempt(ctx, c.ID, 5)
	must(t, err)
	if !ok || n != 5 {
		t.Fatalf("after a release: %d %v", n, ok)
	}
	first, err := s.Lock(ctx, c.ID, t0)
	must(t, err)
	again, err := s.Lock(ctx, c.ID, t0.Add(time.Hour))
	must(t, err)
	got, _ := s.CustomerByID(ctx, c.ID)
	if !first || again || !got.LockedAt.Equal(store.Micro(t0)) {
		t.Fatalf("Lock: first %v again %v at %v", first, again, got.LockedAt)
	}
	must(t, s.Unlock(ctx, c.ID))
	if _, ok, _ := s.ReserveAttempt(ctx, c.ID, 5); !ok {
		t.Fatal("no attempt after an unlock")
	}
	if _, err := s.Lock(ctx, c.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ReserveAttempt(ctx, c.ID, 5); ok {
		t.Fatal("attempt reserved on a locked account")
	}
	// Releasing never goes below zero.
	d := newCustomer(t, s)
	must(t, s.ReleaseAttempt(ctx, d.ID))
	got, _ = s.CustomerByID(ctx, d.ID)
	if got.FailedAttempts != 0 {
		t.Fatalf("released below zero: %d", got.FailedAttempts)
	}
}

// K13: deleting a passkey's sessions leaves the customer's other sessions.
func testDeletePasskeySessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	pk := addPasskey(t, s, c)
	bySession := newSession(c, t0.Add(time.Hour))
	bySession.PasskeyID = pk.ID
	other := newSession(c, t0.Add(time.Hour))
	must(t, s.CreateSession(ctx, bySession))
	must(t, s.CreateSession(ctx, other))
	n, err := s.DeletePasskeySessions(ctx, c.ID, pk.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d", n)
	}
	if _, err := sessionByHash(ctx, s, other.IDHash); err != nil {
		t.Fatalf("other session gone: %v", err)
	}
}
