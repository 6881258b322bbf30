// Package storetest is the conformance suite of store.Store: every backend runs
// it unchanged, and a backend is correct when it passes. Test names carry the
// SPEC requirement IDs they cover.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// Run runs the suite. open must return a fresh, empty, migrated store for the
// calling (sub)test and close it with t.Cleanup. Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"NotFound", testNotFound},
		{"Empty", testEmpty},
		{"Customer/RoundTrip_A1_K4", testCustomerRoundTrip},
		{"Customer/Conflict_A1_K4", testCustomerConflict},
		{"Customer/RecordFailureLocks_A4", testRecordFailure},
		{"Customer/UseTOTPStep_A5", testUseTOTPStep},
		{"Customer/Setters_A3_O1_O2", testCustomerSetters},
		{"EmailCode/Latest_A5", testLatestEmailCode},
		{"EmailCode/AttemptsAndUse_A5", testEmailCodeAttempts},
		{"Session/CRUD_A6", testSessionCRUD},
		{"Session/DeleteCustomerSessions_A6", testDeleteCustomerSessions},
		{"Session/DeleteExpired_A6", testDeleteExpiredSessions},
		{"Session/DeleteExpiredInChunks", testDeleteExpiredSessionsChunked},
		{"Ceremony/Consume_K9", testConsumeCeremony},
		{"Ceremony/DeleteExpired_K9", testDeleteExpiredCeremonies},
		{"Passkey/RoundTrip_K6_K13", testPasskeyRoundTrip},
		{"Passkey/Limit_K3", testAddPasskeyLimit},
		{"Passkey/CredentialConflict_K4", testPasskeyConflict},
		{"Passkey/RecordUse_K10", testRecordPasskeyUse},
		{"Passkey/Revoke_K13", testRevokePasskey},
		{"Passkey/RenameSuspend_K6_K10", testRenameSuspendPasskey},
		{"Audit/Chain_O5", testAuditChain},
		{"Outbox/Claim_P4", testClaimMail},
		{"Outbox/SentMail_P4", testSentMail},
		{"RateLimit/HitCount_B3", testHitCount},
		{"Policy/SensitiveChangeAndNotice_P4_P6", testSensitiveChangeAndNotice},
		{"Policy/Operations_P5", testOperations},
		{"Customer/ReserveAttempt_A4", testReserveAttempt},
		{"Session/DeletePasskeySessions_K13", testDeletePasskeySessions},
		{"InTx/Commit_P4_B2", testInTxCommit},
		{"InTx/Rollback_P4_B2", testInTxRollback},
		{"Concurrent/AddPasskey_K3", testConcurrentAddPasskey},
		{"Concurrent/ConsumeCeremony_K9", testConcurrentConsumeCeremony},
		{"Concurrent/UseEmailCode_A5", testConcurrentUseEmailCode},
		{"Concurrent/UseTOTPStep_A5", testConcurrentUseTOTPStep},
		{"Concurrent/RecordFailure_A4_R2", testConcurrentRecordFailure},
		{"Concurrent/RecordPasskeyUse_K10", testConcurrentRecordPasskeyUse},
		{"Concurrent/ClaimMail_P4", testConcurrentClaimMail},
		{"Concurrent/AppendAudit_O5", testConcurrentAppendAudit},
		{"Concurrent/Hit_B3", testConcurrentHit},
	}
	tests = append(tests, operatorTests...) // the call center (issue 7), storetest/operators.go
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// t0 has nanoseconds and a zone on purpose: the store keeps microseconds and
// returns UTC.
var t0 = time.Date(2026, 5, 15, 9, 30, 0, 123456789, time.FixedZone("JST", 9*60*60))

func at(d time.Duration) time.Time { return t0.Add(d) }

// ---- helpers ----

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

var serial atomic.Int64

func newCustomer(t *testing.T, s store.Store) *store.Customer {
	t.Helper()
	c := &store.Customer{
		Code:         fmt.Sprintf("%08d", 20000000+serial.Add(1)),
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		UserHandle:   random(64),
		Lang:         "ja",
		CreatedAt:    t0,
	}
	must(t, s.CreateCustomer(t.Context(), c))
	return c
}

func passkeyFor(c *store.Customer) *store.Passkey {
	return &store.Passkey{
		CustomerID:        c.ID,
		CredentialID:      random(32),
		PublicKey:         random(77),
		AAGUID:            random(16),
		Transports:        []string{"internal", "hybrid"},
		BackupEligible:    true,
		BackupState:       true,
		AttestationFormat: "none",
		Name:              "iPhone",
		CreatedAt:         t0,
		CreatedIP:         "203.0.113.7",
		CreatedUserAgent:  "Mozilla/5.0 (iPhone)",
	}
}

func addPasskey(t *testing.T, s store.Store, c *store.Customer) *store.Passkey {
	t.Helper()
	p := passkeyFor(c)
	must(t, s.AddPasskey(t.Context(), p, 0))
	return p
}

func newMail(to string, next time.Time) *store.Mail {
	return &store.Mail{To: to, Subject: "ログインのお知らせ", Body: "本文 " + to, CreatedAt: t0, NextTryAt: next}
}

// same reports every field of two structs (or pointers to them) that differs,
// the way a backend may legitimately differ aside: times compare at the
// microsecond and must come back in UTC, the zero time stays zero, and nil and
// empty slices are alike.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Pointer {
		if g.IsNil() {
			t.Errorf("%s: got nil", what)
			return
		}
		g = g.Elem()
	}
	if w.Kind() == reflect.Pointer {
		w = w.Elem()
	}
	var diffs []string
	for i := range g.NumField() {
		gv, wv := g.Field(i).Interface(), w.Field(i).Interface()
		var ok bool
		switch gv := gv.(type) {
		case time.Time:
			ok = sameTime(gv, wv.(time.Time))
		case []byte:
			ok = bytes.Equal(gv, wv.([]byte))
		case []string:
			ok = slices.Equal(gv, wv.([]string))
		default:
			ok = reflect.DeepEqual(gv, wv)
		}
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", g.Type().Field(i).Name, gv, wv))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}

func sameTime(got, want time.Time) bool {
	if want.IsZero() {
		return got.IsZero()
	}
	return got.Equal(store.Micro(want)) && got.Location() == time.UTC
}

func ids[T any](vs []*T, id func(*T) int64) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = id(v)
	}
	return out
}

func mailIDs(ms []*store.Mail) []int64 { return ids(ms, func(m *store.Mail) int64 { return m.ID }) }
func passkeyIDs(ps []*store.Passkey) []int64 {
	return ids(ps, func(p *store.Passkey) int64 { return p.ID })
}
func seqs(es []*store.AuditEntry) []int64 {
	return ids(es, func(e *store.AuditEntry) int64 { return e.Seq })
}

// verifyChain checks what `kagi audit verify` checks: seqs 1..n without gaps,
// each entry linked to its predecessor and hashed over what was stored.
func verifyChain(t *testing.T, es []*store.AuditEntry) {
	t.Helper()
	var prev []byte
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("seq %d: PrevHash does not match the previous Hash", e.Seq)
		}
		if !bytes.Equal(e.Hash, store.AuditHash(e.PrevHash, e)) {
			t.Fatalf("seq %d: Hash does not match its content", e.Seq)
		}
		prev = e.Hash
	}
}

// parallel runs fn(0..n-1) in n goroutines and waits for all.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// ---- basics ----

func testPing(t *testing.T, s store.Store) {
	must(t, s.Ping(t.Context()))
}

// testNotFound: every lookup or change of something absent is ErrNotFound.
func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s) // something present, so that absence is not an empty table
	p := addPasskey(t, s, c)
	const absent = 1 << 40
	cases := []struct {
		name string
		call func() error
	}{
		{"CustomerByID", func() error { _, err := s.CustomerByID(ctx, absent); return err }},
		{"CustomerByCode", func() error { _, err := s.CustomerByCode(ctx, "99999999"); return err }},
		{"CustomerByUserHandle", func() error { _, err := s.CustomerByUserHandle(ctx, random(64)); return err }},
		{"RecordFailure", func() error { _, _, err := s.RecordFailure(ctx, absent, 5, t0); return err }},
		{"ResetFailures", func() error { return s.ResetFailures(ctx, absent) }},
		{"Unlock", func() error { return s.Unlock(ctx, absent) }},
		{"UseTOTPStep", func() error { _, err := s.UseTOTPStep(ctx, absent, 1); return err }},
		{"SetEmail", func() error { return s.SetEmail(ctx, absent, "a@example.jp", t0) }},
		{"SetSecondFactor", func() error { return s.SetSecondFactor(ctx, absent, store.FactorEmail, nil) }},
		{"SetLang", func() error { return s.SetLang(ctx, absent, "en") }},
		{"SetPasswordHash", func() error { return s.SetPasswordHash(ctx, absent, "x") }},
		{"LatestEmailCode", func() error { _, err := s.LatestEmailCode(ctx, c.ID, store.CodeLogin); return err }},
		{"AddEmailCodeAttempt", func() error { _, err := s.AddEmailCodeAttempt(ctx, absent); return err }},
		{"UseEmailCode", func() error { _, err := s.UseEmailCode(ctx, absent, t0); return err }},
		{"SessionWithCustomer", func() error { _, _, err := s.SessionWithCustomer(ctx, random(32)); return err }},
		{"UpdateSession", func() error {
			return s.UpdateSession(ctx, &store.Session{IDHash: random(32), CustomerID: c.ID, Stage: store.StageFull, ExpiresAt: at(time.Hour)})
		}},
		{"DeleteSession", func() error { return s.DeleteSession(ctx, random(32)) }},
		{"ConsumeCeremony", func() error { _, err := s.ConsumeCeremony(ctx, random(32), "login", t0); return err }},
		{"AddPasskey of an unknown customer", func() error {
			return s.AddPasskey(ctx, passkeyFor(&store.Customer{ID: absent}), 5)
		}},
		{"PasskeyByID", func() error { _, err := s.PasskeyByID(ctx, p.ID+absent); return err }},
		{"PasskeyByCredentialID", func() error { _, err := s.PasskeyByCredentialID(ctx, random(32)); return err }},
		{"PasskeyWithCustomer", func() error { _, _, err := s.PasskeyWithCustomer(ctx, random(32)); return err }},
		{"RecordPasskeyUse", func() error { _, err := s.RecordPasskeyUse(ctx, absent, 0, 1, true, t0); return err }},
		{"RenamePasskey", func() error { return s.RenamePasskey(ctx, absent, "x") }},
		{"RevokePasskey", func() error { return s.RevokePasskey(ctx, absent, "customer", t0) }},
		{"SuspendPasskey", func() error { return s.SuspendPasskey(ctx, absent, "clone", t0) }},
		{"MarkMailSent", func() error { return s.MarkMailSent(ctx, absent, t0) }},
		{"MarkMailFailed", func() error { return s.MarkMailFailed(ctx, absent, "x", t0) }},
	}
	for _, tc := range cases {
		isErr(t, tc.name, tc.call(), store.ErrNotFound)
	}
}

// testEmpty: lists and counts of nothing are empty, not errors.
func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	checkLen := func(what string, n int, err error) {
		t.Helper()
		if err != nil || n != 0 {
			t.Errorf("%s = %d, %v; want 0, nil", what, n, err)
		}
	}
	ps, err := s.PasskeysByCustomer(ctx, c.ID, true)
	checkLen("PasskeysByCustomer", len(ps), err)
	n, err := s.CountActivePasskeys(ctx, c.ID)
	checkLen("CountActivePasskeys", n, err)
	es, err := s.AuditByCustomer(ctx, c.ID, 10)
	checkLen("AuditByCustomer", len(es), err)
	es, err = s.AuditRange(ctx, 0, 10)
	checkLen("AuditRange", len(es), err)
	ms, err := s.ClaimMail(ctx, 10, t0, time.Minute)
	checkLen("ClaimMail", len(ms), err)
	ms, err = s.SentMail(ctx, "", 10)
	checkLen("SentMail", len(ms), err)
	n, err = s.Count(ctx, "ip:203.0.113.7", t0)
	checkLen("Count", n, err)
	n, err = s.DeleteCustomerSessions(ctx, c.ID)
	checkLen("DeleteCustomerSessions", n, err)
	n, err = s.DeleteExpiredSessions(ctx, at(time.Hour))
	checkLen("DeleteExpiredSessions", n, err)
	n, err = s.DeleteExpiredCeremonies(ctx, at(time.Hour))
	checkLen("DeleteExpiredCeremonies", n, err)
	n, err = s.DeleteOldHits(ctx, at(time.Hour))
	checkLen("DeleteOldHits", n, err)
}

// ---- customers ----

func testCustomerRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Customer{
		Code:            "10000001",
		PasswordHash:    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Email:           "taro@example.jp",
		EmailVerifiedAt: at(time.Minute),
		SecondFactor:    store.FactorTOTP,
		TOTPSecret:      []byte{0, 1, 2, 254, 255},
		TOTPLastStep:    59_300_000,
		UserHandle:      random(64),
		Lang:            "en",
		FailedAttempts:  2,
		LockedAt:        at(2 * time.Minute),
		FrozenAt:        at(3 * time.Minute),
		CreatedAt:       t0,
	}
	minimal := store.Customer{Code: "10000002", UserHandle: random(64)} // zero times, nil secret
	seen := map[int64]bool{}
	for _, want := range []store.Customer{full, minimal} {
		c := want
		must(t, s.CreateCustomer(ctx, &c))
		if c.ID <= 0 || seen[c.ID] {
			t.Fatalf("CreateCustomer set ID %d", c.ID)
		}
		seen[c.ID] = true
		want.ID = c.ID
		got, err := s.CustomerByID(ctx, c.ID)
		must(t, err)
		same(t, "CustomerByID", got, want)
		got, err = s.CustomerByCode(ctx, c.Code)
		must(t, err)
		same(t, "CustomerByCode", got, want)
		got, err = s.CustomerByUserHandle(ctx, c.UserHandle)
		must(t, err)
		same(t, "CustomerByUserHandle", got, want)
	}
}

func testCustomerConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newCustomer(t, s)
	dupCode := &store.Customer{Code: a.Code, UserHandle: random(64)}
	isErr(t, "same code", s.CreateCustomer(ctx, dupCode), store.ErrConflict)
	dupHandle := &store.Customer{Code: "30000001", UserHandle: a.UserHandle}
	isErr(t, "same user handle", s.CreateCustomer(ctx, dupHandle), store.ErrConflict)
	_, err := s.CustomerByCode(ctx, dupHandle.Code)
	isErr(t, "customer refused for its handle", err, store.ErrNotFound)
}

func testRecordFailure(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	for i := 1; i <= 4; i++ {
		failed, locked, err := s.RecordFailure(ctx, c.ID, 3, at(time.Duration(i)*time.Second))
		must(t, err)
		if failed != i || locked != (i >= 3) {
			t.Errorf("failure %d: got (%d, %v), want (%d, %v)", i, failed, locked, i, i >= 3)
		}
	}
	got, err := s.CustomerByID(ctx, c.ID)
	must(t, err)
	if got.FailedAttempts != 4 || !sameTime(got.LockedAt, at(3*time.Second)) {
		t.Errorf("after 4 failures: FailedAttempts %d, LockedAt %v; want 4 and the first lock time %v",
			got.FailedAttempts, got.LockedAt, store.Micro(at(3*time.Second)))
	}

	// ResetFailures clears the counter only; a lock stays until Unlock.
	must(t, s.ResetFailures(ctx, c.ID))
	got, err = s.CustomerByID(ctx, c.ID)
	must(t, err)
	if got.FailedAttempts != 0 || !sameTime(got.LockedAt, at(3*time.Second)) {
		t.Errorf("after ResetFailures: FailedAttempts %d, LockedAt %v", got.FailedAttempts, got.LockedAt)
	}
	if failed, locked, err := s.RecordFailure(ctx, c.ID, 3, at(time.Minute)); err != nil || failed != 1 || !locked {
		t.Errorf("failure while locked: got (%d, %v, %v), want (1, true, nil)", failed, locked, err)
	}

	must(t, s.Unlock(ctx, c.ID))
	got, err = s.CustomerByID(ctx, c.ID)
	must(t, err)
	if got.FailedAttempts != 0 || !got.LockedAt.IsZero() {
		t.Errorf("after Unlock: FailedAttempts %d, LockedAt %v", got.FailedAttempts, got.LockedAt)
	}

	// Threshold 0 counts but never locks.
	for i := 1; i <= 10; i++ {
		failed, locked, err := s.RecordFailure(ctx, c.ID, 0, t0)
		if err != nil || failed != i || locked {
			t.Fatalf("threshold 0, failure %d: got (%d, %v, %v)", i, failed, locked, err)
		}
	}
}

func testUseTOTPStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	for _, step := range []struct {
		step int64
		ok   bool
	}{{100, true}, {100, false}, {99, false}, {0, false}, {101, true}, {100, false}, {5000, true}} {
		ok, err := s.UseTOTPStep(ctx, c.ID, step.step)
		must(t, err)
		if ok != step.ok {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", step.step, ok, step.ok)
		}
	}
	got, err := s.CustomerByID(ctx, c.ID)
	must(t, err)
	if got.TOTPLastStep != 5000 {
		t.Errorf("TOTPLastStep = %d, want 5000", got.TOTPLastStep)
	}
	// A new secret starts a new sequence.
	must(t, s.SetSecondFactor(ctx, c.ID, store.FactorTOTP, []byte("new secret")))
	if ok, err := s.UseTOTPStep(ctx, c.ID, 7); err != nil || !ok {
		t.Errorf("UseTOTPStep after SetSecondFactor = %v, %v; want true", ok, err)
	}
}

func testCustomerSetters(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	want := *c
	steps := []struct {
		name   string
		do     func() error
		change func(*store.Customer)
	}{
		{"SetEmail unverified", func() error { return s.SetEmail(ctx, c.ID, "hanako@example.jp", time.Time{}) },
			func(c *store.Customer) { c.Email, c.EmailVerifiedAt = "hanako@example.jp", time.Time{} }},
		{"SetEmail verified", func() error { return s.SetEmail(ctx, c.ID, "hanako@example.jp", at(time.Hour)) },
			func(c *store.Customer) { c.EmailVerifiedAt = at(time.Hour) }},
		{"SetSecondFactor totp", func() error { return s.SetSecondFactor(ctx, c.ID, store.FactorTOTP, []byte{9, 8, 7}) },
			func(c *store.Customer) { c.SecondFactor, c.TOTPSecret = store.FactorTOTP, []byte{9, 8, 7} }},
		{"UseTOTPStep", func() error { _, err := s.UseTOTPStep(ctx, c.ID, 42); return err },
			func(c *store.Customer) { c.TOTPLastStep = 42 }},
		{"SetSecondFactor email", func() error { return s.SetSecondFactor(ctx, c.ID, store.FactorEmail, nil) },
			func(c *store.Customer) { c.SecondFactor, c.TOTPSecret, c.TOTPLastStep = store.FactorEmail, nil, 0 }},
		{"SetLang", func() error { return s.SetLang(ctx, c.ID, "en") },
			func(c *store.Customer) { c.Lang = "en" }},
		{"SetPasswordHash", func() error { return s.SetPasswordHash(ctx, c.ID, "$argon2id$new") },
			func(c *store.Customer) { c.PasswordHash = "$argon2id$new" }},
	}
	for _, step := range steps {
		must(t, step.do())
		step.change(&want)
		got, err := s.CustomerByID(ctx, c.ID)
		must(t, err)
		same(t, step.name, got, want)
	}
	if got, _ := s.CustomerByID(ctx, c.ID); got != nil && !got.EmailVerified() {
		t.Error("EmailVerified() = false after SetEmail with a time")
	}
}

// ---- e-mail codes ----

func newCode(t *testing.T, s store.Store, customerID int64, purpose string, created time.Time) *store.EmailCode {
	t.Helper()
	c := &store.EmailCode{
		CustomerID: customerID,
		Purpose:    purpose,
		Email:      "taro@example.jp",
		CodeHash:   random(32),
		CreatedAt:  created,
		ExpiresAt:  created.Add(10 * time.Minute),
	}
	must(t, s.CreateEmailCode(t.Context(), c))
	if c.ID <= 0 {
		t.Fatalf("CreateEmailCode set ID %d", c.ID)
	}
	return c
}

func testLatestEmailCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, other := newCustomer(t, s), newCustomer(t, s)
	c1 := newCode(t, s, c.ID, store.CodeLogin, t0)
	c2 := newCode(t, s, c.ID, store.CodeLogin, at(time.Minute))
	c3 := newCode(t, s, c.ID, store.CodeLogin, at(2*time.Minute))
	newCode(t, s, c.ID, store.CodeStepUp, at(3*time.Minute))
	newCode(t, s, other.ID, store.CodeLogin, at(4*time.Minute))

	latest := func(want *store.EmailCode) {
		t.Helper()
		got, err := s.LatestEmailCode(ctx, c.ID, store.CodeLogin)
		if want == nil {
			isErr(t, "LatestEmailCode with all used", err, store.ErrNotFound)
			return
		}
		must(t, err)
		same(t, "LatestEmailCode", got, want)
	}
	latest(c3)
	for _, step := range []struct{ use, latest *store.EmailCode }{{c3, c2}, {c1, c2}, {c2, nil}} {
		ok, err := s.UseEmailCode(ctx, step.use.ID, at(time.Hour)) // long expired: expiry is the caller's test
		if err != nil || !ok {
			t.Fatalf("UseEmailCode = %v, %v", ok, err)
		}
		latest(step.latest)
	}
	if got, err := s.LatestEmailCode(ctx, c.ID, store.CodeStepUp); err != nil || got.Purpose != store.CodeStepUp {
		t.Errorf("LatestEmailCode(step_up) = %v, %v", got, err)
	}
}

func testEmailCodeAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	code := newCode(t, s, c.ID, store.CodeSetupEmail, t0)
	for i := 1; i <= 3; i++ {
		n, err := s.AddEmailCodeAttempt(ctx, code.ID)
		if err != nil || n != i {
			t.Fatalf("AddEmailCodeAttempt = %d, %v; want %d", n, err, i)
		}
	}
	got, err := s.LatestEmailCode(ctx, c.ID, store.CodeSetupEmail)
	must(t, err)
	if got.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", got.Attempts)
	}
	if ok, err := s.UseEmailCode(ctx, code.ID, at(time.Minute)); err != nil || !ok {
		t.Errorf("first UseEmailCode = %v, %v; want true", ok, err)
	}
	if ok, err := s.UseEmailCode(ctx, code.ID, at(2*time.Minute)); err != nil || ok {
		t.Errorf("second UseEmailCode = %v, %v; want false", ok, err)
	}
}

// ---- sessions ----

// sessionByHash is the session part of SessionWithCustomer.
func sessionByHash(ctx context.Context, s store.Store, idHash []byte) (*store.Session, error) {
	sess, _, err := s.SessionWithCustomer(ctx, idHash)
	return sess, err
}

func newSession(c *store.Customer, expires time.Time) *store.Session {
	return &store.Session{IDHash: random(32), CustomerID: c.ID, Stage: store.StageSecondFactor, CreatedAt: t0, ExpiresAt: expires}
}

func testSessionCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, other := newCustomer(t, s), newCustomer(t, s)
	pk := addPasskey(t, s, c)
	full := store.Session{
		IDHash:          random(32),
		CustomerID:      c.ID,
		Stage:           store.StageFull,
		Method:          store.MethodPasskey,
		PasskeyID:       pk.ID,
		AuthenticatedAt: t0,
		StepUpAt:        at(time.Minute),
		CreatedAt:       t0,
		LastSeenAt:      at(2 * time.Minute),
		ExpiresAt:       at(12 * time.Hour),
		IP:              "2001:db8::1",
		UserAgent:       "Mozilla/5.0 (Windows NT 10.0)",
		Data:            `{"pending":"x"}`,
	}
	minimal := *newSession(c, at(10*time.Minute))
	for _, want := range []store.Session{full, minimal} {
		sess := want
		must(t, s.CreateSession(ctx, &sess))
		got, owner, err := s.SessionWithCustomer(ctx, want.IDHash)
		must(t, err)
		same(t, "SessionWithCustomer session", got, want)
		same(t, "SessionWithCustomer customer", owner, c)
	}
	dup := *newSession(other, at(time.Hour))
	dup.IDHash = full.IDHash
	isErr(t, "CreateSession with a taken hash", s.CreateSession(ctx, &dup), store.ErrConflict)

	// UpdateSession changes everything but IDHash, CustomerID and CreatedAt.
	upd := store.Session{
		IDHash:          minimal.IDHash,
		CustomerID:      other.ID,
		Stage:           store.StageFull,
		Method:          store.MethodPasswordTOTP,
		PasskeyID:       pk.ID,
		AuthenticatedAt: at(3 * time.Minute),
		StepUpAt:        at(4 * time.Minute),
		CreatedAt:       at(99 * time.Hour),
		LastSeenAt:      at(5 * time.Minute),
		ExpiresAt:       at(6 * time.Hour),
		IP:              "198.51.100.2",
		UserAgent:       "curl",
		Data:            `{}`,
	}
	must(t, s.UpdateSession(ctx, &upd))
	want := upd
	want.CustomerID, want.CreatedAt = c.ID, minimal.CreatedAt
	got, err := sessionByHash(ctx, s, upd.IDHash)
	must(t, err)
	same(t, "after UpdateSession", got, want)
	// and back to zero values
	upd.PasskeyID, upd.StepUpAt, upd.Method = 0, time.Time{}, ""
	must(t, s.UpdateSession(ctx, &upd))
	want.PasskeyID, want.StepUpAt, want.Method = 0, time.Time{}, ""
	got, err = sessionByHash(ctx, s, upd.IDHash)
	must(t, err)
	same(t, "after UpdateSession to zero values", got, want)

	must(t, s.DeleteSession(ctx, full.IDHash))
	_, err = sessionByHash(ctx, s, full.IDHash)
	isErr(t, "SessionWithCustomer after DeleteSession", err, store.ErrNotFound)
	isErr(t, "DeleteSession twice", s.DeleteSession(ctx, full.IDHash), store.ErrNotFound)
	if _, err := sessionByHash(ctx, s, minimal.IDHash); err != nil {
		t.Errorf("the other session: %v", err)
	}
}

func testDeleteCustomerSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newCustomer(t, s), newCustomer(t, s)
	for range 3 {
		must(t, s.CreateSession(ctx, newSession(a, at(time.Hour))))
	}
	keep := newSession(b, at(time.Hour))
	must(t, s.CreateSession(ctx, keep))
	if n, err := s.DeleteCustomerSessions(ctx, a.ID); err != nil || n != 3 {
		t.Errorf("DeleteCustomerSessions = %d, %v; want 3", n, err)
	}
	if n, err := s.DeleteCustomerSessions(ctx, a.ID); err != nil || n != 0 {
		t.Errorf("DeleteCustomerSessions again = %d, %v; want 0", n, err)
	}
	if _, err := sessionByHash(ctx, s, keep.IDHash); err != nil {
		t.Errorf("another customer's session: %v", err)
	}
}

func testDeleteExpiredSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	now := store.Micro(at(time.Hour)) // exact, so that expiry == now is tested
	var live *store.Session
	for _, exp := range []time.Time{now.Add(-time.Minute), now, now.Add(time.Microsecond)} {
		sess := newSession(c, exp)
		must(t, s.CreateSession(ctx, sess))
		live = sess
	}
	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2 (expiry at now counts)", n, err)
	}
	if _, err := sessionByHash(ctx, s, live.IDHash); err != nil {
		t.Errorf("unexpired session: %v", err)
	}
}

// The sweep deletes in chunks of 500 rows; all of them go, and the
// count is the total.
func testDeleteExpiredSessionsChunked(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	now := at(time.Hour)
	const expired = 2345
	must(t, s.InTx(ctx, func(tx store.Store) error {
		for range expired {
			if err := tx.CreateSession(ctx, newSession(c, now.Add(-time.Second))); err != nil {
				return err
			}
		}
		return nil
	}))
	live := newSession(c, now.Add(time.Second))
	must(t, s.CreateSession(ctx, live))
	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != expired {
		t.Errorf("DeleteExpiredSessions = %d, %v; want %d", n, err, expired)
	}
	if n, err := s.DeleteCustomerSessions(ctx, c.ID); err != nil || n != 1 {
		t.Errorf("sessions left: %d, %v; want only the live one", n, err)
	}
}

// ---- ceremonies ----

func newCeremony(t *testing.T, s store.Store, kind string, customerID int64, expires time.Time) *store.Ceremony {
	t.Helper()
	c := &store.Ceremony{
		ID:         random(32),
		Kind:       kind,
		CustomerID: customerID,
		Data:       []byte(`{"challenge":"` + fmt.Sprintf("%x", random(16)) + `"}`),
		CreatedAt:  t0,
		ExpiresAt:  expires,
	}
	want := *c
	must(t, s.CreateCeremony(t.Context(), c))
	return &want
}

func testConsumeCeremony(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	reg := newCeremony(t, s, "register", c.ID, at(5*time.Minute))
	login := newCeremony(t, s, "login", 0, at(5*time.Minute)) // discoverable: no customer
	dup := *reg
	isErr(t, "CreateCeremony with a taken ID", s.CreateCeremony(ctx, &dup), store.ErrConflict)

	_, err := s.ConsumeCeremony(ctx, reg.ID, "login", at(time.Minute))
	isErr(t, "ConsumeCeremony of another kind", err, store.ErrNotFound)
	got, err := s.ConsumeCeremony(ctx, reg.ID, "register", at(time.Minute))
	must(t, err)
	same(t, "ConsumeCeremony", got, reg)
	_, err = s.ConsumeCeremony(ctx, reg.ID, "register", at(time.Minute))
	isErr(t, "ConsumeCeremony twice", err, store.ErrNotFound)

	got, err = s.ConsumeCeremony(ctx, login.ID, "login", at(time.Minute))
	must(t, err)
	same(t, "ConsumeCeremony (discoverable)", got, login)

	exp := newCeremony(t, s, "step_up", c.ID, at(5*time.Minute))
	_, err = s.ConsumeCeremony(ctx, exp.ID, "step_up", store.Micro(at(5*time.Minute))) // exactly its expiry
	isErr(t, "ConsumeCeremony at its expiry", err, store.ErrNotFound)
	_, err = s.ConsumeCeremony(ctx, exp.ID, "step_up", at(time.Minute))
	isErr(t, "ConsumeCeremony after an expired attempt (deleted)", err, store.ErrNotFound)
}

func testDeleteExpiredCeremonies(t *testing.T, s store.Store) {
	ctx := t.Context()
	newCeremony(t, s, "login", 0, at(time.Minute))
	newCeremony(t, s, "login", 0, at(2*time.Minute))
	live := newCeremony(t, s, "login", 0, at(3*time.Minute))
	if n, err := s.DeleteExpiredCeremonies(ctx, at(2*time.Minute)); err != nil || n != 2 {
		t.Errorf("DeleteExpiredCeremonies = %d, %v; want 2", n, err)
	}
	if _, err := s.ConsumeCeremony(ctx, live.ID, "login", t0); err != nil {
		t.Errorf("unexpired ceremony: %v", err)
	}
}

// ---- passkeys ----

func testPasskeyRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	full := *passkeyFor(c)
	full.SignCount = 1<<32 - 1
	full.Shared = true
	full.LastUsedAt = at(time.Hour)
	full.SuspendedAt, full.SuspendReason = at(2*time.Hour), "sign counter went back"
	full.RevokedAt, full.RevokedBy = at(3*time.Hour), "operator:sato"
	minimal := store.Passkey{CustomerID: c.ID, CredentialID: random(16), PublicKey: random(77)}
	var want []*store.Passkey
	for _, w := range []store.Passkey{full, minimal} {
		p := w
		must(t, s.AddPasskey(ctx, &p, 5))
		if p.ID <= 0 {
			t.Fatalf("AddPasskey set ID %d", p.ID)
		}
		w.ID = p.ID
		want = append(want, &w)
		got, err := s.PasskeyByID(ctx, p.ID)
		must(t, err)
		same(t, "PasskeyByID", got, w)
		got, err = s.PasskeyByCredentialID(ctx, p.CredentialID)
		must(t, err)
		same(t, "PasskeyByCredentialID", got, w)
		got, owner, err := s.PasskeyWithCustomer(ctx, p.CredentialID)
		must(t, err)
		same(t, "PasskeyWithCustomer passkey", got, w)
		same(t, "PasskeyWithCustomer customer", owner, c)
	}
	all, err := s.PasskeysByCustomer(ctx, c.ID, true)
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("PasskeysByCustomer = %d passkeys, want 2", len(all))
	}
	for i := range all {
		same(t, "PasskeysByCustomer", all[i], want[i])
	}
}

func testAddPasskeyLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	const limit = 3
	var ps []*store.Passkey
	for range limit {
		p := passkeyFor(c)
		must(t, s.AddPasskey(ctx, p, limit))
		ps = append(ps, p)
	}
	over := passkeyFor(c)
	isErr(t, "AddPasskey over the limit", s.AddPasskey(ctx, over, limit), store.ErrLimit)
	if _, err := s.PasskeyByCredentialID(ctx, over.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused passkey stored: %v", err)
	}
	// Revoked and suspended passkeys are not active and leave room.
	must(t, s.RevokePasskey(ctx, ps[0].ID, "customer", at(time.Minute)))
	must(t, s.AddPasskey(ctx, passkeyFor(c), limit))
	must(t, s.SuspendPasskey(ctx, ps[1].ID, "clone suspected", at(time.Minute)))
	must(t, s.AddPasskey(ctx, passkeyFor(c), limit))
	isErr(t, "AddPasskey over the limit again", s.AddPasskey(ctx, passkeyFor(c), limit), store.ErrLimit)
	if n, err := s.CountActivePasskeys(ctx, c.ID); err != nil || n != limit {
		t.Errorf("CountActivePasskeys = %d, %v; want %d", n, err, limit)
	}
	// Another customer has a limit of their own.
	must(t, s.AddPasskey(ctx, passkeyFor(newCustomer(t, s)), limit))
}

func testPasskeyConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newCustomer(t, s), newCustomer(t, s)
	p := addPasskey(t, s, a)
	theirs := passkeyFor(b)
	theirs.CredentialID = p.CredentialID
	isErr(t, "credential ID of another customer", s.AddPasskey(ctx, theirs, 5), store.ErrConflict)
	mine := passkeyFor(a)
	mine.CredentialID = p.CredentialID
	isErr(t, "credential ID registered twice", s.AddPasskey(ctx, mine, 5), store.ErrConflict)
	got, err := s.PasskeyByCredentialID(ctx, p.CredentialID)
	must(t, err)
	if got.ID != p.ID || got.CustomerID != a.ID {
		t.Errorf("credential now belongs to passkey %d of customer %d", got.ID, got.CustomerID)
	}
	if n, _ := s.CountActivePasskeys(ctx, b.ID); n != 0 {
		t.Errorf("customer b has %d passkeys, want 0", n)
	}
}

func testRecordPasskeyUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := addPasskey(t, s, newCustomer(t, s))
	steps := []struct {
		old, new uint32
		bs       bool
		ok       bool
	}{
		{0, 5, false, true},
		{0, 6, true, false}, // stale: a concurrent use won
		{5, 7, false, true},
		{7, 1<<32 - 1, true, true},
		{7, 8, true, false},
	}
	want := *p
	for i, st := range steps {
		now := at(time.Duration(i+1) * time.Minute)
		ok, err := s.RecordPasskeyUse(ctx, p.ID, st.old, st.new, st.bs, now)
		must(t, err)
		if ok != st.ok {
			t.Errorf("RecordPasskeyUse(%d→%d) = %v, want %v", st.old, st.new, ok, st.ok)
		}
		if ok {
			want.SignCount, want.BackupState, want.LastUsedAt = st.new, st.bs, now
		}
		got, err := s.PasskeyByID(ctx, p.ID)
		must(t, err)
		same(t, fmt.Sprintf("after RecordPasskeyUse(%d→%d)", st.old, st.new), got, want)
	}
}

func testRevokePasskey(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	ps := []*store.Passkey{addPasskey(t, s, c), addPasskey(t, s, c), addPasskey(t, s, c)}
	addPasskey(t, s, newCustomer(t, s)) // not c's

	must(t, s.RevokePasskey(ctx, ps[1].ID, "customer", at(time.Minute)))
	isErr(t, "RevokePasskey twice", s.RevokePasskey(ctx, ps[1].ID, "operator:sato", at(2*time.Minute)), store.ErrNotFound)

	got, err := s.PasskeyByID(ctx, ps[1].ID)
	must(t, err)
	want := *ps[1]
	want.RevokedAt, want.RevokedBy = at(time.Minute), "customer"
	same(t, "revoked passkey", got, want)
	if got.Active() {
		t.Error("revoked passkey is Active")
	}

	active, err := s.PasskeysByCustomer(ctx, c.ID, false)
	must(t, err)
	if g, w := passkeyIDs(active), []int64{ps[0].ID, ps[2].ID}; !slices.Equal(g, w) {
		t.Errorf("PasskeysByCustomer(false) = %v, want %v", g, w)
	}
	all, err := s.PasskeysByCustomer(ctx, c.ID, true)
	must(t, err)
	if g, w := passkeyIDs(all), []int64{ps[0].ID, ps[1].ID, ps[2].ID}; !slices.Equal(g, w) {
		t.Fatalf("PasskeysByCustomer(true) = %v, want %v (oldest first)", g, w)
	}
	same(t, "revoked passkey in the full list", all[1], want)
	if n, err := s.CountActivePasskeys(ctx, c.ID); err != nil || n != 2 {
		t.Errorf("CountActivePasskeys = %d, %v; want 2", n, err)
	}
}

func testRenameSuspendPasskey(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	p := addPasskey(t, s, c)
	must(t, s.RenamePasskey(ctx, p.ID, "会社のPC（共用）"))
	must(t, s.SuspendPasskey(ctx, p.ID, "sign counter went back", at(time.Minute)))
	want := *p
	want.Name, want.SuspendedAt, want.SuspendReason = "会社のPC（共用）", at(time.Minute), "sign counter went back"
	got, err := s.PasskeyByID(ctx, p.ID)
	must(t, err)
	same(t, "suspended passkey", got, want)
	if got.Active() {
		t.Error("suspended passkey is Active")
	}
	// Suspended is listed (the customer sees why it fails) but not active.
	listed, err := s.PasskeysByCustomer(ctx, c.ID, false)
	must(t, err)
	if len(listed) != 1 {
		t.Errorf("PasskeysByCustomer(false) has %d passkeys, want the suspended one", len(listed))
	}
	if n, err := s.CountActivePasskeys(ctx, c.ID); err != nil || n != 0 {
		t.Errorf("CountActivePasskeys = %d, %v; want 0", n, err)
	}
}

// ---- audit ----

func testAuditChain(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	in := []store.AuditEntry{
		{At: t0, Actor: "customer", CustomerID: c.ID, Event: "login.passkey.ok", IP: "203.0.113.7", UserAgent: "Mozilla/5.0", Detail: `{"passkey_id":1}`},
		{At: at(time.Second), Actor: "system", Event: "login.password.fail", IP: "198.51.100.9", Detail: `{"code":"99999999"}`},
		{At: at(2 * time.Second), Actor: "operator:sato", CustomerID: c.ID, Event: "customer.unlock"}, // Detail defaults to {}
		{At: at(3 * time.Second), Actor: "cli", CustomerID: c.ID + 1, Event: "customer.create", Detail: `{"note":"日本語"}`},
		{At: at(4 * time.Second), Actor: "customer", CustomerID: c.ID, Event: "passkey.register", Detail: `{}`},
	}
	var appended []*store.AuditEntry
	for i, want := range in {
		e := want
		must(t, s.AppendAudit(ctx, &e))
		if want.Detail == "" {
			want.Detail = "{}"
		}
		if e.Seq != int64(i+1) || e.Detail != want.Detail || !sameTime(e.At, want.At) {
			t.Errorf("AppendAudit filled Seq %d, Detail %q, At %v", e.Seq, e.Detail, e.At)
		}
		if !bytes.Equal(e.Hash, store.AuditHash(e.PrevHash, &e)) {
			t.Errorf("AppendAudit: the Hash it filled does not match the entry")
		}
		appended = append(appended, &e)
	}

	all, err := s.AuditRange(ctx, 0, 100)
	must(t, err)
	verifyChain(t, all)
	if len(all) != len(in) {
		t.Fatalf("AuditRange returned %d entries, want %d", len(all), len(in))
	}
	for i := range all {
		same(t, fmt.Sprintf("entry %d", i+1), all[i], appended[i])
	}
	if len(all[0].PrevHash) != 0 {
		t.Errorf("first entry's PrevHash = %x, want empty", all[0].PrevHash)
	}

	page, err := s.AuditRange(ctx, 2, 2)
	must(t, err)
	if g := seqs(page); !slices.Equal(g, []int64{3, 4}) {
		t.Errorf("AuditRange(2, 2) = seqs %v, want [3 4]", g)
	}
	mine, err := s.AuditByCustomer(ctx, c.ID, 2)
	must(t, err)
	if g := seqs(mine); !slices.Equal(g, []int64{5, 3}) {
		t.Errorf("AuditByCustomer(limit 2) = seqs %v, want [5 3] (newest first)", g)
	}
	mine, err = s.AuditByCustomer(ctx, c.ID, 100)
	must(t, err)
	if g := seqs(mine); !slices.Equal(g, []int64{5, 3, 1}) {
		t.Errorf("AuditByCustomer = seqs %v, want [5 3 1]", g)
	}
}

// ---- outbox ----

func testClaimMail(t *testing.T, s store.Store) {
	ctx := t.Context()
	m1 := newMail("a@example.jp", t0)
	m2 := newMail("b@example.jp", time.Time{}) // zero NextTryAt: due at once
	m3 := newMail("a@example.jp", at(time.Hour))
	var want []store.Mail
	for _, m := range []*store.Mail{m1, m2, m3} {
		w := *m
		must(t, s.EnqueueMail(ctx, m))
		if m.ID <= 0 {
			t.Fatalf("EnqueueMail set ID %d", m.ID)
		}
		w.ID = m.ID
		want = append(want, w)
	}
	claim := func(what string, limit int, now time.Time, wantIDs ...int64) []*store.Mail {
		t.Helper()
		got, err := s.ClaimMail(ctx, limit, now, 5*time.Minute)
		must(t, err)
		if g := mailIDs(got); !slices.Equal(g, wantIDs) {
			t.Fatalf("%s: claimed %v, want %v", what, g, wantIDs)
		}
		return got
	}

	got := claim("first claim", 10, at(time.Minute), m1.ID, m2.ID)
	for i, m := range got {
		w := want[i]
		w.Attempts, w.NextTryAt = 1, at(6*time.Minute) // now + lease
		same(t, "claimed mail", m, w)
	}
	claim("within the lease", 10, at(time.Minute))
	claim("just before the lease ends", 10, at(6*time.Minute).Add(-time.Microsecond))
	got = claim("after the lease", 10, at(6*time.Minute), m1.ID, m2.ID)
	if got[0].Attempts != 2 {
		t.Errorf("Attempts = %d after two claims", got[0].Attempts)
	}

	must(t, s.MarkMailSent(ctx, m2.ID, at(6*time.Minute)))
	must(t, s.MarkMailFailed(ctx, m1.ID, "451 try again later", at(30*time.Minute)))
	claim("before the retry time", 10, at(30*time.Minute).Add(-time.Microsecond))
	got = claim("at the retry time", 10, at(30*time.Minute), m1.ID)
	w := want[0]
	w.Attempts, w.NextTryAt, w.LastError = 3, at(35*time.Minute), "451 try again later"
	same(t, "retried mail", got[0], w)
	claim("limit 1 takes the oldest", 1, at(2*time.Hour), m1.ID)
	claim("then the next", 1, at(2*time.Hour), m3.ID)

	sent, err := s.SentMail(ctx, "", 10)
	must(t, err)
	if len(sent) != 1 || sent[0].ID != m2.ID || !sameTime(sent[0].SentAt, at(6*time.Minute)) {
		t.Errorf("SentMail = %v, want only mail %d sent at %v", sent, m2.ID, at(6*time.Minute))
	}
}

func testSentMail(t *testing.T, s store.Store) {
	ctx := t.Context()
	var sentA, sentAll []store.Mail
	for i := range 6 {
		to := []string{"a@example.jp", "b@example.jp"}[i%2]
		m := newMail(to, t0)
		must(t, s.EnqueueMail(ctx, m))
		if i == 4 {
			continue // one of a's is never sent
		}
		sentAt := at(time.Duration(i) * time.Minute)
		must(t, s.MarkMailSent(ctx, m.ID, sentAt))
		w := *m
		w.SentAt = sentAt
		sentAll = slices.Insert(sentAll, 0, w) // newest first
		if to == "a@example.jp" {
			sentA = slices.Insert(sentA, 0, w)
		}
	}
	check := func(to string, limit int, want []store.Mail) {
		t.Helper()
		got, err := s.SentMail(ctx, to, limit)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("SentMail(%q, %d) = %d mails, want %d", to, limit, len(got), len(want))
		}
		for i := range got {
			same(t, fmt.Sprintf("SentMail(%q)[%d]", to, i), got[i], want[i])
		}
	}
	check("a@example.jp", 10, sentA)
	check("a@example.jp", 1, sentA[:1])
	check("", 10, sentAll)
	check("", 3, sentAll[:3])
	check("nobody@example.jp", 10, nil)

	// Retention: the mails sent before the cut go; those sent at or after it
	// and the one never sent stay.
	if n, err := s.DeleteSentMail(ctx, at(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("DeleteSentMail = %d, %v; want 2", n, err)
	}
	check("", 10, sentAll[:3])
	unsent, err := s.ClaimMail(ctx, 10, at(time.Hour), time.Minute)
	must(t, err)
	if len(unsent) != 1 || unsent[0].To != "a@example.jp" {
		t.Fatalf("after DeleteSentMail the unsent mail is gone: %d claimed", len(unsent))
	}
}

// ---- rate limits ----

func testHitCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	w1 := time.Date(2026, 5, 15, 9, 30, 0, 0, time.UTC)
	w2 := w1.Add(time.Minute)
	expect := func(what string, n int, err error, want int) {
		t.Helper()
		if err != nil || n != want {
			t.Errorf("%s = %d, %v; want %d", what, n, err, want)
		}
	}
	for i := 1; i <= 3; i++ {
		n, err := s.Hit(ctx, "ip:203.0.113.7", w1)
		expect("Hit", n, err, i)
	}
	n, err := s.Count(ctx, "ip:203.0.113.7", w1)
	expect("Count", n, err, 3)
	n, err = s.Count(ctx, "ip:203.0.113.7", w2)
	expect("Count of an unhit window", n, err, 0)
	n, err = s.Hit(ctx, "ip:203.0.113.7", w2)
	expect("Hit in the next window", n, err, 1)
	n, err = s.Hit(ctx, "customer:10000001", w1)
	expect("Hit of another key", n, err, 1)
	n, err = s.Count(ctx, "ip:203.0.113.7", w1)
	expect("Count after other hits", n, err, 3)
	n, err = s.DeleteOldHits(ctx, w2)
	expect("DeleteOldHits", n, err, 2)
	n, err = s.Count(ctx, "ip:203.0.113.7", w1)
	expect("Count of a deleted window", n, err, 0)
	n, err = s.Count(ctx, "ip:203.0.113.7", w2)
	expect("Count of a kept window", n, err, 1)
}

// ---- transactions ----

// writeAll writes one of everything through st and returns what to look for.
type written struct {
	code    string
	session []byte
	cred    []byte
}

func writeAll(t *testing.T, st store.Store) (written, error) {
	ctx := t.Context()
	c := &store.Customer{Code: fmt.Sprintf("%08d", 40000000+serial.Add(1)), UserHandle: random(64), CreatedAt: t0}
	if err := st.CreateCustomer(ctx, c); err != nil {
		return written{}, err
	}
	sess := newSession(c, at(time.Hour))
	p := passkeyFor(c)
	steps := []func() error{
		func() error { return st.CreateSession(ctx, sess) },
		func() error { return st.AddPasskey(ctx, p, 5) },
		func() error {
			return st.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "customer", CustomerID: c.ID, Event: "passkey.register"})
		},
		func() error { return st.EnqueueMail(ctx, newMail("a@example.jp", t0)) },
		func() error { _, err := st.Hit(ctx, "tx", t0); return err },
		func() error { _, _, err := st.RecordFailure(ctx, c.ID, 5, t0); return err },
		// reads inside the transaction see its writes
		func() error {
			got, err := st.CustomerByID(ctx, c.ID)
			if err == nil && got.FailedAttempts != 1 {
				err = fmt.Errorf("read in tx: FailedAttempts %d", got.FailedAttempts)
			}
			return err
		},
		func() error { _, err := st.PasskeyByCredentialID(ctx, p.CredentialID); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return written{}, err
		}
	}
	return written{c.Code, sess.IDHash, p.CredentialID}, nil
}

func testInTxCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var w written
	err := s.InTx(ctx, func(tx store.Store) error {
		var err error
		if w, err = writeAll(t, tx); err != nil {
			return err
		}
		// A nested InTx joins: its writes commit with the outer ones.
		return tx.InTx(ctx, func(tx2 store.Store) error {
			return tx2.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "system", Event: "nested"})
		})
	})
	must(t, err)

	c, err := s.CustomerByCode(ctx, w.code)
	must(t, err)
	if c.FailedAttempts != 1 {
		t.Errorf("FailedAttempts = %d, want 1", c.FailedAttempts)
	}
	_, err = sessionByHash(ctx, s, w.session)
	must(t, err)
	_, err = s.PasskeyByCredentialID(ctx, w.cred)
	must(t, err)
	es, err := s.AuditRange(ctx, 0, 10)
	must(t, err)
	verifyChain(t, es)
	if len(es) != 2 {
		t.Errorf("%d audit entries, want 2", len(es))
	}
	ms, err := s.ClaimMail(ctx, 10, t0, time.Minute)
	must(t, err)
	if len(ms) != 1 {
		t.Errorf("%d mails, want 1", len(ms))
	}
	if n, err := s.Count(ctx, "tx", t0); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
}

func testInTxRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	c := newCustomer(t, s)
	cer := newCeremony(t, s, "login", c.ID, at(5*time.Minute))

	for _, nestedFails := range []bool{false, true} {
		var w written
		err := s.InTx(ctx, func(tx store.Store) error {
			var err error
			if w, err = writeAll(t, tx); err != nil {
				return err
			}
			if _, _, err := tx.RecordFailure(ctx, c.ID, 1, t0); err != nil { // locks c
				return err
			}
			if _, err := tx.ConsumeCeremony(ctx, cer.ID, "login", t0); err != nil {
				return err
			}
			err = tx.InTx(ctx, func(tx2 store.Store) error {
				if err := tx2.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "system", Event: "nested"}); err != nil {
					return err
				}
				if nestedFails {
					return boom
				}
				return nil
			})
			if err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want the function's error", err)
		}

		_, err = s.CustomerByCode(ctx, w.code)
		isErr(t, "customer created in a rolled back tx", err, store.ErrNotFound)
		_, err = sessionByHash(ctx, s, w.session)
		isErr(t, "session created in a rolled back tx", err, store.ErrNotFound)
		_, err = s.PasskeyByCredentialID(ctx, w.cred)
		isErr(t, "passkey added in a rolled back tx", err, store.ErrNotFound)
		if es, err := s.AuditRange(ctx, 0, 10); err != nil || len(es) != 0 {
			t.Errorf("AuditRange = %d entries, %v; want none", len(es), err)
		}
		if ms, err := s.ClaimMail(ctx, 10, at(time.Hour), time.Minute); err != nil || len(ms) != 0 {
			t.Errorf("ClaimMail = %d mails, %v; want none", len(ms), err)
		}
		if n, err := s.Count(ctx, "tx", t0); err != nil || n != 0 {
			t.Errorf("Count = %d, %v; want 0", n, err)
		}
		got, err := s.CustomerByID(ctx, c.ID)
		must(t, err)
		if got.FailedAttempts != 0 || !got.LockedAt.IsZero() {
			t.Errorf("customer after rollback: FailedAttempts %d, LockedAt %v", got.FailedAttempts, got.LockedAt)
		}
	}
	// The ceremony consumed in the rolled back transactions is still there,
	// and the audit chain starts at 1: the head rolled back with the entries.
	if _, err := s.ConsumeCeremony(ctx, cer.ID, "login", t0); err != nil {
		t.Errorf("ceremony after rollback: %v", err)
	}
	e := &store.AuditEntry{At: t0, Actor: "system", Event: "after"}
	must(t, s.AppendAudit(ctx, e))
	if e.Seq != 1 || len(e.PrevHash) != 0 {
		t.Errorf("first entry after rollbacks: Seq %d, PrevHash %x", e.Seq, e.PrevHash)
	}
}

// ---- concurrency: n callers, as from several instances ----

const workers = 20

func testConcurrentAddPasskey(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	var ok, limited atomic.Int32
	parallel(workers, func(int) {
		switch err := s.AddPasskey(ctx, passkeyFor(c), 5); {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, store.ErrLimit):
			limited.Add(1)
		default:
			t.Errorf("AddPasskey: %v", err)
		}
	})
	if ok.Load() != 5 || limited.Load() != workers-5 {
		t.Errorf("%d added, %d refused; want 5 and %d", ok.Load(), limited.Load(), workers-5)
	}
	all, err := s.PasskeysByCustomer(ctx, c.ID, true)
	must(t, err)
	if len(all) != 5 {
		t.Errorf("customer has %d passkeys, want 5", len(all))
	}
}

func testConcurrentConsumeCeremony(t *testing.T, s store.Store) {
	ctx := t.Context()
	cer := newCeremony(t, s, "login", 0, at(5*time.Minute))
	var won atomic.Int32
	parallel(10, func(int) {
		switch _, err := s.ConsumeCeremony(ctx, cer.ID, "login", t0); {
		case err == nil:
			won.Add(1)
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("ConsumeCeremony: %v", err)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d callers consumed the ceremony, want 1", won.Load())
	}
}

func testConcurrentUseEmailCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	code := newCode(t, s, newCustomer(t, s).ID, store.CodeLogin, t0)
	var won atomic.Int32
	parallel(workers, func(i int) {
		ok, err := s.UseEmailCode(ctx, code.ID, at(time.Duration(i)*time.Second))
		if err != nil {
			t.Errorf("UseEmailCode: %v", err)
		}
		if ok {
			won.Add(1)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d callers used the code, want 1", won.Load())
	}
}

func testConcurrentUseTOTPStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	var won atomic.Int32
	parallel(workers, func(int) {
		ok, err := s.UseTOTPStep(ctx, c.ID, 59_300_001)
		if err != nil {
			t.Errorf("UseTOTPStep: %v", err)
		}
		if ok {
			won.Add(1)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d callers accepted the same step, want 1", won.Load())
	}
}

func testConcurrentRecordFailure(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	const threshold = 5
	var mu sync.Mutex
	counts := map[int]time.Time{} // count returned → the now of that call
	parallel(workers, func(i int) {
		now := at(time.Duration(i) * time.Second)
		failed, locked, err := s.RecordFailure(ctx, c.ID, threshold, now)
		if err != nil {
			t.Errorf("RecordFailure: %v", err)
			return
		}
		if locked != (failed >= threshold) {
			t.Errorf("RecordFailure = (%d, %v)", failed, locked)
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := counts[failed]; dup {
			t.Errorf("two callers got count %d", failed)
		}
		counts[failed] = now
	})
	got, err := s.CustomerByID(ctx, c.ID)
	must(t, err)
	if got.FailedAttempts != workers {
		t.Errorf("FailedAttempts = %d, want %d", got.FailedAttempts, workers)
	}
	if !sameTime(got.LockedAt, counts[threshold]) {
		t.Errorf("LockedAt = %v, want %v: the time of the failure that reached the threshold", got.LockedAt, counts[threshold])
	}
}

func testConcurrentRecordPasskeyUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := addPasskey(t, s, newCustomer(t, s))
	var won atomic.Int32
	parallel(workers, func(i int) {
		ok, err := s.RecordPasskeyUse(ctx, p.ID, 0, uint32(i+1), true, t0)
		if err != nil {
			t.Errorf("RecordPasskeyUse: %v", err)
		}
		if ok {
			won.Add(1)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d callers swapped the counter from 0, want 1", won.Load())
	}
}

func testConcurrentClaimMail(t *testing.T, s store.Store) {
	ctx := t.Context()
	const mails = 30
	for i := range mails {
		must(t, s.EnqueueMail(ctx, newMail(fmt.Sprintf("u%d@example.jp", i), t0)))
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	parallel(4, func(int) {
		for {
			ms, err := s.ClaimMail(ctx, 3, at(time.Minute), time.Hour)
			if err != nil {
				t.Errorf("ClaimMail: %v", err)
				return
			}
			if len(ms) == 0 {
				return
			}
			mu.Lock()
			for _, m := range ms {
				claimed[m.ID]++
			}
			mu.Unlock()
		}
	})
	if len(claimed) != mails {
		t.Errorf("%d mails claimed, want %d", len(claimed), mails)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("mail %d claimed %d times within one lease", id, n)
		}
	}
}

func testConcurrentAppendAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	const each = 5
	parallel(10, func(i int) {
		for j := range each {
			e := &store.AuditEntry{At: at(time.Duration(j) * time.Millisecond), Actor: "system", CustomerID: int64(i), Event: "concurrent"}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Errorf("AppendAudit: %v", err)
			}
		}
	})
	es, err := s.AuditRange(ctx, 0, 1000)
	must(t, err)
	if len(es) != 10*each {
		t.Fatalf("%d entries, want %d", len(es), 10*each)
	}
	verifyChain(t, es)
}

func testConcurrentHit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var mu sync.Mutex
	seen := map[int]bool{}
	parallel(workers, func(int) {
		n, err := s.Hit(ctx, "ip:203.0.113.7", t0)
		if err != nil {
			t.Errorf("Hit: %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[n] {
			t.Errorf("two hits returned %d", n)
		}
		seen[n] = true
	})
	if n, err := s.Count(ctx, "ip:203.0.113.7", t0); err != nil || n != workers {
		t.Errorf("Count = %d, %v; want %d", n, err, workers)
	}
}
