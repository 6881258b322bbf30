package sqlstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/sqlstore/pgtest"
)

// seedConsole fills the call center's tables (issue 7) on top of seed.
func seedConsole(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 5, 15, 1, 0, 0, 654321000, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.CustomerByCode(ctx, "10000001")
	must(err)
	o := &store.Operator{Name: "sato", Role: store.RoleSupervisor, UserHandle: rnd(32), EnrollHash: rnd(32), EnrollExpiresAt: now.Add(24 * time.Hour), CreatedAt: now, CreatedBy: "cli"}
	must(s.CreateOperator(ctx, o))
	must(s.CreateOperator(ctx, &store.Operator{Name: "suzuki", Role: store.RoleAgent, UserHandle: rnd(32), CreatedAt: now, DisabledAt: now.Add(time.Hour)}))
	must(s.AddOperatorPasskey(ctx, &store.OperatorPasskey{OperatorID: o.ID, CredentialID: rnd(32), PublicKey: rnd(77), SignCount: 4, AAGUID: rnd(16),
		Transports: []string{"internal"}, BackupEligible: true, BackupState: false, AttestationFormat: "none", CreatedAt: now, CreatedIP: "10.0.0.8", LastUsedAt: now}))
	must(s.CreateOperatorSession(ctx, &store.OperatorSession{IDHash: rnd(32), OperatorID: o.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(10 * time.Hour), IP: "10.0.0.8", UserAgent: "Chrome"}))
	q := &store.Inquiry{CustomerCode: c.Code, CustomerID: c.ID, Name: "山田 太郎", Email: "new@example.jp", Topic: store.TopicEmailChange, Message: "改行\nあり", IP: "203.0.113.9", CreatedAt: now}
	must(s.CreateInquiry(ctx, q))
	must(s.CreateInquiry(ctx, &store.Inquiry{CustomerCode: "99999999", Topic: store.TopicOther, CreatedAt: now}))
	a := &store.ApprovalRequest{Kind: store.RequestEmailChange, CustomerID: c.ID, InquiryID: q.ID, Payload: `{"email":"new@example.jp"}`, Reason: "依頼", RequestedBy: "suzuki", RequestedAt: now}
	must(s.CreateApprovalRequest(ctx, a))
	_, err = s.DecideApprovalRequest(ctx, a.ID, store.RequestApproved, "sato", "確認", now.Add(time.Minute))
	must(err)
	must(s.CloseInquiry(ctx, q.ID, "system", "完了", now.Add(2*time.Minute)))
}

// R2, O4: the call center's tables move between the backends like the rest.
func TestDumpConsoleTables_R2(t *testing.T) {
	src := openSQLite(t, t.TempDir())
	seed(t, src)
	seedConsole(t, src)
	dump := export(t, src)
	check := func(t *testing.T, dst *sqlstore.DB) {
		counts, err := dst.Import(t.Context(), bytes.NewReader(dump))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"operators": 2, "operator_passkeys": 1, "operator_sessions": 1, "inquiries": 2, "approval_requests": 1}
		for _, c := range counts {
			if n, ok := want[c.Table]; ok && c.Rows != n {
				t.Errorf("%s: %d rows, want %d", c.Table, c.Rows, n)
			}
		}
		if got := export(t, dst); body(got) != body(dump) {
			t.Fatalf("the copy differs:\nsource:\n%s\ncopy:\n%s", body(dump), body(got))
		}
		// Sequences go on after the imported ids.
		o := &store.Operator{Name: "ito", Role: store.RoleAgent, UserHandle: rnd(32), CreatedAt: time.Now()}
		if err := dst.CreateOperator(t.Context(), o); err != nil || o.ID != 3 {
			t.Fatalf("operator after import: id %d, %v", o.ID, err)
		}
	}
	t.Run("sqlite", func(t *testing.T) { check(t, openSQLite(t, t.TempDir())) })
	t.Run("postgres", func(t *testing.T) {
		pgtest.Require(t)
		check(t, pgtest.Open(t))
	})
}
