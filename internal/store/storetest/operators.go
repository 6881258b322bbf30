package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// The call center's part of the suite (issue 7): operators, their passkeys and
// sessions, procedures on customers, inquiries, four-eyes requests, the audit
// chain's tip and the dashboard's figures.
var operatorTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Operator/RoundTrip_O4", testOperatorRoundTrip},
	{"Operator/Enrollment_O4", testOperatorEnrollment},
	{"Operator/Passkeys_O4", testOperatorPasskeys},
	{"Operator/Sessions_O4", testOperatorSessions},
	{"Procedures/FreezeUnsuspend_O3", testFreezeUnsuspend},
	{"Inquiry/Queue_O2", testInquiries},
	{"Approval/FourEyes_O4", testApprovalRequests},
	{"Concurrent/DecideApproval_O4", testConcurrentDecide},
	{"Audit/HeadAndEvents_O5_K10", testAuditHead},
	{"Dashboard/Figures_O6", testDashboardFigures},
}

func newOperator(t *testing.T, s store.Store, name, role string) *store.Operator {
	t.Helper()
	o := &store.Operator{Name: name, Role: role, UserHandle: random(32), CreatedAt: t0, CreatedBy: "cli"}
	must(t, s.CreateOperator(t.Context(), o))
	return o
}

func testOperatorRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := &store.Operator{Name: "sato", Role: store.RoleSupervisor, UserHandle: random(32),
		EnrollHash: random(32), EnrollExpiresAt: at(24 * time.Hour), CreatedAt: t0, CreatedBy: "cli"}
	must(t, s.CreateOperator(ctx, o))
	if o.ID == 0 {
		t.Fatal("no ID")
	}
	for what, get := range map[string]func() (*store.Operator, error){
		"by id":     func() (*store.Operator, error) { return s.OperatorByID(ctx, o.ID) },
		"by name":   func() (*store.Operator, error) { return s.OperatorByName(ctx, "sato") },
		"by handle": func() (*store.Operator, error) { return s.OperatorByUserHandle(ctx, o.UserHandle) },
	} {
		got, err := get()
		must(t, err)
		same(t, what, got, o)
	}
	isErr(t, "taken name", s.CreateOperator(ctx, &store.Operator{Name: "sato", Role: store.RoleAgent, UserHandle: random(32), CreatedAt: t0}), store.ErrConflict)
	_, err := s.OperatorByName(ctx, "nobody")
	isErr(t, "unknown name", err, store.ErrNotFound)
	_, err = s.OperatorByUserHandle(ctx, random(32))
	isErr(t, "unknown handle", err, store.ErrNotFound)

	newOperator(t, s, "abe", store.RoleAgent)
	all, err := s.Operators(ctx)
	must(t, err)
	if names := []string{all[0].Name, all[1].Name}; len(all) != 2 || !slices.Equal(names, []string{"abe", "sato"}) {
		t.Fatalf("operators: %v", names)
	}

	must(t, s.DisableOperator(ctx, o.ID, at(time.Hour)))
	got, err := s.OperatorByID(ctx, o.ID)
	must(t, err)
	if got.Active() || !sameTime(got.DisabledAt, at(time.Hour)) || got.EnrollHash != nil {
		t.Fatalf("disabled: %+v", got)
	}
	isErr(t, "disable twice", s.DisableOperator(ctx, o.ID, at(2*time.Hour)), store.ErrNotFound)
}

// O4: an enrollment code is used once; a newer code replaces an older one.
func testOperatorEnrollment(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOperator(t, s, "ito", store.RoleAgent)
	first, second := random(32), random(32)
	must(t, s.SetOperatorEnrollment(ctx, o.ID, first, at(time.Hour)))
	must(t, s.SetOperatorEnrollment(ctx, o.ID, second, at(2*time.Hour)))
	got, err := s.OperatorByID(ctx, o.ID)
	must(t, err)
	if !slices.Equal(got.EnrollHash, second) || !sameTime(got.EnrollExpiresAt, at(2*time.Hour)) {
		t.Fatalf("enrollment: %+v", got)
	}
	for _, h := range [][]byte{first, nil} {
		ok, err := s.ConsumeOperatorEnrollment(ctx, o.ID, h)
		if ok || err != nil {
			t.Fatalf("stale code consumed: %v %v", ok, err)
		}
	}
	ok, err := s.ConsumeOperatorEnrollment(ctx, o.ID, second)
	if !ok || err != nil {
		t.Fatalf("consume: %v %v", ok, err)
	}
	if ok, _ := s.ConsumeOperatorEnrollment(ctx, o.ID, second); ok {
		t.Fatal("a code was consumed twice")
	}
	got, _ = s.OperatorByID(ctx, o.ID)
	if got.EnrollHash != nil || !got.EnrollExpiresAt.IsZero() {
		t.Fatalf("not cleared: %+v", got)
	}
	_, err = s.ConsumeOperatorEnrollment(ctx, 1<<40, second)
	isErr(t, "unknown operator", err, store.ErrNotFound)
	isErr(t, "set on unknown", s.SetOperatorEnrollment(ctx, 1<<40, first, t0), store.ErrNotFound)
}

func testOperatorPasskeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOperator(t, s, "kato", store.RoleSupervisor)
	p := &store.OperatorPasskey{OperatorID: o.ID, CredentialID: random(32), PublicKey: random(77), SignCount: 3,
		AAGUID: random(16), Transports: []string{"internal", "hybrid"}, BackupEligible: true, BackupState: true,
		AttestationFormat: "none", CreatedAt: t0, CreatedIP: "10.0.0.8"}
	must(t, s.AddOperatorPasskey(ctx, p))
	got, err := s.OperatorPasskeyByCredentialID(ctx, p.CredentialID)
	must(t, err)
	same(t, "operator passkey", got, p)
	isErr(t, "taken credential", s.AddOperatorPasskey(ctx, &store.OperatorPasskey{OperatorID: o.ID, CredentialID: p.CredentialID, PublicKey: random(9), CreatedAt: t0}), store.ErrConflict)
	_, err = s.OperatorPasskeyByCredentialID(ctx, random(32))
	isErr(t, "unknown credential", err, store.ErrNotFound)

	ok, err := s.RecordOperatorPasskeyUse(ctx, p.ID, 3, 4, false, at(time.Minute))
	if !ok || err != nil {
		t.Fatalf("use: %v %v", ok, err)
	}
	if ok, _ := s.RecordOperatorPasskeyUse(ctx, p.ID, 3, 5, false, at(time.Minute)); ok {
		t.Fatal("stale counter accepted")
	}
	_, err = s.RecordOperatorPasskeyUse(ctx, 1<<40, 0, 1, false, t0)
	isErr(t, "unknown passkey use", err, store.ErrNotFound)

	q := &store.OperatorPasskey{OperatorID: o.ID, CredentialID: random(32), PublicKey: random(77), CreatedAt: at(time.Hour)}
	must(t, s.AddOperatorPasskey(ctx, q))
	n, err := s.RevokeOperatorPasskeys(ctx, o.ID, at(2*time.Hour))
	if n != 2 || err != nil {
		t.Fatalf("revoke: %d %v", n, err)
	}
	list, err := s.OperatorPasskeys(ctx, o.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != p.ID || list[0].SignCount != 4 || list[0].BackupState ||
		!sameTime(list[0].LastUsedAt, at(time.Minute)) || !sameTime(list[1].RevokedAt, at(2*time.Hour)) {
		t.Fatalf("passkeys after revoke: %+v", list)
	}
	if n, _ := s.RevokeOperatorPasskeys(ctx, o.ID, at(3*time.Hour)); n != 0 {
		t.Fatalf("revoked again: %d", n)
	}
}

func testOperatorSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOperator(t, s, "endo", store.RoleAgent)
	other := newOperator(t, s, "fujii", store.RoleAgent)
	a := &store.OperatorSession{IDHash: random(32), OperatorID: o.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(time.Hour), IP: "10.0.0.1", UserAgent: "Chrome"}
	b := &store.OperatorSession{IDHash: random(32), OperatorID: o.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(3 * time.Hour)}
	c := &store.OperatorSession{IDHash: random(32), OperatorID: other.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(3 * time.Hour)}
	for _, x := range []*store.OperatorSession{a, b, c} {
		must(t, s.CreateOperatorSession(ctx, x))
	}
	got, err := s.OperatorSessionByHash(ctx, a.IDHash)
	must(t, err)
	same(t, "operator session", got, a)
	must(t, s.TouchOperatorSession(ctx, a.IDHash, at(time.Minute)))
	got, _ = s.OperatorSessionByHash(ctx, a.IDHash)
	if !sameTime(got.LastSeenAt, at(time.Minute)) {
		t.Fatalf("touch: %v", got.LastSeenAt)
	}
	isErr(t, "touch unknown", s.TouchOperatorSession(ctx, random(32), t0), store.ErrNotFound)
	if n, err := s.DeleteExpiredOperatorSessions(ctx, at(2*time.Hour)); n != 1 || err != nil {
		t.Fatalf("expired: %d %v", n, err)
	}
	if n, err := s.DeleteOperatorSessions(ctx, o.ID); n != 1 || err != nil {
		t.Fatalf("by operator: %d %v", n, err)
	}
	must(t, s.DeleteOperatorSession(ctx, c.IDHash))
	isErr(t, "delete twice", s.DeleteOperatorSession(ctx, c.IDHash), store.ErrNotFound)
	_, err = s.OperatorSessionByHash(ctx, b.IDHash)
	isErr(t, "deleted", err, store.ErrNotFound)
}

// O3: freeze and unfreeze; a suspension is lifted only from a passkey that is
// suspended and not revoked.
func testFreezeUnsuspend(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	must(t, s.SetFrozen(ctx, c.ID, at(time.Hour)))
	got, _ := s.CustomerByID(ctx, c.ID)
	if !sameTime(got.FrozenAt, at(time.Hour)) {
		t.Fatalf("frozen at %v", got.FrozenAt)
	}
	must(t, s.SetFrozen(ctx, c.ID, time.Time{}))
	got, _ = s.CustomerByID(ctx, c.ID)
	if !got.FrozenAt.IsZero() {
		t.Fatalf("still frozen: %v", got.FrozenAt)
	}
	isErr(t, "freeze unknown", s.SetFrozen(ctx, 1<<40, t0), store.ErrNotFound)

	p := addPasskey(t, s, c)
	isErr(t, "not suspended", s.UnsuspendPasskey(ctx, p.ID), store.ErrNotFound)
	must(t, s.SuspendPasskey(ctx, p.ID, "clone", t0))
	must(t, s.UnsuspendPasskey(ctx, p.ID))
	got2, _ := s.PasskeyByID(ctx, p.ID)
	if !got2.Active() || got2.SuspendReason != "" {
		t.Fatalf("unsuspended: %+v", got2)
	}
	must(t, s.SuspendPasskey(ctx, p.ID, "clone", t0))
	must(t, s.RevokePasskey(ctx, p.ID, "operator:sato", t0))
	isErr(t, "revoked", s.UnsuspendPasskey(ctx, p.ID), store.ErrNotFound)
}

// O2: inquiries queue oldest first until closed; a customer's newest first.
func testInquiries(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	q1 := &store.Inquiry{CustomerCode: c.Code, CustomerID: c.ID, Name: "山田 太郎", Email: "new@example.jp",
		Topic: store.TopicEmailChange, Message: "メールアドレスを変更したいです。", IP: "203.0.113.9", UserAgent: "Firefox", CreatedAt: t0}
	q2 := &store.Inquiry{CustomerCode: "99999999", Name: "x", Topic: store.TopicOther, CreatedAt: at(time.Minute)}
	q3 := &store.Inquiry{CustomerCode: c.Code, CustomerID: c.ID, Name: "山田 太郎", Topic: store.TopicLoginTrouble, CreatedAt: at(2 * time.Minute)}
	for _, q := range []*store.Inquiry{q1, q2, q3} {
		must(t, s.CreateInquiry(ctx, q))
	}
	got, err := s.InquiryByID(ctx, q1.ID)
	must(t, err)
	same(t, "inquiry", got, q1)
	got, _ = s.InquiryByID(ctx, q2.ID)
	if got.CustomerID != 0 {
		t.Fatalf("unknown customer stored as %d", got.CustomerID)
	}
	inqIDs := func(qs []*store.Inquiry) []int64 { return ids(qs, func(q *store.Inquiry) int64 { return q.ID }) }
	open, err := s.OpenInquiries(ctx, 0)
	must(t, err)
	if want := []int64{q1.ID, q2.ID, q3.ID}; !slices.Equal(inqIDs(open), want) {
		t.Fatalf("open %v, want %v", inqIDs(open), want)
	}
	must(t, s.CloseInquiry(ctx, q1.ID, "operator:sato", "対応済み", at(time.Hour)))
	isErr(t, "close twice", s.CloseInquiry(ctx, q1.ID, "operator:sato", "", at(time.Hour)), store.ErrNotFound)
	isErr(t, "close unknown", s.CloseInquiry(ctx, 1<<40, "x", "", t0), store.ErrNotFound)
	open, _ = s.OpenInquiries(ctx, 1)
	if want := []int64{q2.ID}; !slices.Equal(inqIDs(open), want) {
		t.Fatalf("open after close %v, want %v", inqIDs(open), want)
	}
	mine, err := s.InquiriesByCustomer(ctx, c.ID, 0)
	must(t, err)
	if want := []int64{q3.ID, q1.ID}; !slices.Equal(inqIDs(mine), want) {
		t.Fatalf("by customer %v, want %v", inqIDs(mine), want)
	}
	if mine[1].Open() || mine[1].ClosedBy != "operator:sato" || mine[1].CloseNote != "対応済み" || !sameTime(mine[1].ClosedAt, at(time.Hour)) {
		t.Fatalf("closed inquiry: %+v", mine[1])
	}
	_, err = s.InquiryByID(ctx, 1<<40)
	isErr(t, "unknown inquiry", err, store.ErrNotFound)
}

// O4: a request is decided once; listing by status and by customer.
func testApprovalRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	q := &store.Inquiry{CustomerCode: c.Code, CustomerID: c.ID, Topic: store.TopicEmailChange, CreatedAt: t0}
	must(t, s.CreateInquiry(ctx, q))
	payload, _ := json.Marshal(map[string]string{"email": "new@example.jp"})
	a := &store.ApprovalRequest{Kind: store.RequestEmailChange, CustomerID: c.ID, InquiryID: q.ID, Payload: string(payload),
		Reason: "お問い合わせフォームによる依頼", RequestedBy: "abe", RequestedAt: t0}
	must(t, s.CreateApprovalRequest(ctx, a))
	if a.Status != store.RequestPending {
		t.Fatalf("status %q", a.Status)
	}
	got, err := s.ApprovalRequestByID(ctx, a.ID)
	must(t, err)
	same(t, "approval request", got, a)
	b := &store.ApprovalRequest{Kind: store.RequestUnfreeze, CustomerID: c.ID, Reason: "本人確認済み", RequestedBy: "abe", RequestedAt: at(time.Minute)}
	must(t, s.CreateApprovalRequest(ctx, b))
	got, _ = s.ApprovalRequestByID(ctx, b.ID)
	if got.Payload != "{}" || got.InquiryID != 0 {
		t.Fatalf("defaults: %+v", got)
	}

	ok, err := s.DecideApprovalRequest(ctx, a.ID, store.RequestApproved, "sato", "確認しました", at(time.Hour))
	if !ok || err != nil {
		t.Fatalf("decide: %v %v", ok, err)
	}
	if ok, err := s.DecideApprovalRequest(ctx, a.ID, store.RequestRejected, "kato", "", at(time.Hour)); ok || err != nil {
		t.Fatalf("decided twice: %v %v", ok, err)
	}
	_, err = s.DecideApprovalRequest(ctx, 1<<40, store.RequestApproved, "sato", "", t0)
	isErr(t, "decide unknown", err, store.ErrNotFound)
	got, _ = s.ApprovalRequestByID(ctx, a.ID)
	if got.Status != store.RequestApproved || got.DecidedBy != "sato" || got.DecisionNote != "確認しました" || !sameTime(got.DecidedAt, at(time.Hour)) {
		t.Fatalf("decided: %+v", got)
	}
	reqIDs := func(as []*store.ApprovalRequest) []int64 {
		return ids(as, func(a *store.ApprovalRequest) int64 { return a.ID })
	}
	pending, err := s.ApprovalRequests(ctx, store.RequestPending, 0)
	must(t, err)
	if !slices.Equal(reqIDs(pending), []int64{b.ID}) {
		t.Fatalf("pending %v", reqIDs(pending))
	}
	all, _ := s.ApprovalRequests(ctx, "", 0)
	if !slices.Equal(reqIDs(all), []int64{b.ID, a.ID}) {
		t.Fatalf("all %v", reqIDs(all))
	}
	mine, _ := s.ApprovalRequestsByCustomer(ctx, c.ID, 1)
	if !slices.Equal(reqIDs(mine), []int64{b.ID}) {
		t.Fatalf("by customer %v", reqIDs(mine))
	}
}

// O4: of operators deciding one request at once, exactly one wins.
func testConcurrentDecide(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCustomer(t, s)
	a := &store.ApprovalRequest{Kind: store.RequestSecondFactorEmail, CustomerID: c.ID, Reason: "r", RequestedBy: "abe", RequestedAt: t0}
	must(t, s.CreateApprovalRequest(ctx, a))
	var wins, errs [8]bool
	parallel(8, func(i int) {
		ok, err := s.DecideApprovalRequest(ctx, a.ID, store.RequestApproved, fmt.Sprintf("sup%d", i), "", t0)
		wins[i], errs[i] = ok, err != nil
	})
	n := 0
	for i := range wins {
		if errs[i] {
			t.Fatalf("decider %d failed", i)
		}
		if wins[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d deciders won", n)
	}
}

// O5: the head is the last entry's seq and hash.
func testAuditHead(t *testing.T, s store.Store) {
	ctx := t.Context()
	seq, hash, err := s.AuditHead(ctx)
	if err != nil || seq != 0 || len(hash) != 0 {
		t.Fatalf("empty head: %d %x %v", seq, hash, err)
	}
	var last *store.AuditEntry
	for i := range 3 {
		last = &store.AuditEntry{At: at(time.Duration(i) * time.Second), Actor: "system", Event: "x"}
		must(t, s.AppendAudit(ctx, last))
	}
	seq, hash, err = s.AuditHead(ctx)
	must(t, err)
	if seq != last.Seq || !slices.Equal(hash, last.Hash) {
		t.Fatalf("head %d %x, last %d %x", seq, hash, last.Seq, last.Hash)
	}
	must(t, s.AppendAudit(ctx, &store.AuditEntry{At: at(time.Minute), Actor: "system", Event: "alert.passkey_clone"}))
	alert := &store.AuditEntry{At: at(2 * time.Minute), Actor: "system", Event: "alert.passkey_clone"}
	must(t, s.AppendAudit(ctx, alert))
	alerts, err := s.AuditByEvent(ctx, "alert.passkey_clone", 1)
	must(t, err)
	if len(alerts) != 1 || alerts[0].Seq != alert.Seq {
		t.Fatalf("alerts %v, want seq %d", seqs(alerts), alert.Seq)
	}
}

func login(t *testing.T, s store.Store, c *store.Customer, method string, when time.Time) {
	t.Helper()
	d, _ := json.Marshal(map[string]any{"method": method, "passkey_id": 0})
	must(t, s.AppendAudit(t.Context(), &store.AuditEntry{At: when, Actor: "customer", CustomerID: c.ID, Event: "login.success", Detail: string(d)}))
}

// O6: exact figures on seeded data.
func testDashboardFigures(t *testing.T, s store.Store) {
	ctx := t.Context()
	// now is 2026-05-15 09:30 JST; day boundaries are midnight in Japan.
	now := t0
	day := 24 * time.Hour
	a, b, c, d, e := newCustomer(t, s), newCustomer(t, s), newCustomer(t, s), newCustomer(t, s), newCustomer(t, s)

	// a: passkey since 40 days ago, logs in by passkey today and yesterday.
	pa := passkeyFor(a)
	pa.CreatedAt, pa.BackupState = now.Add(-40*day), true
	must(t, s.AddPasskey(ctx, pa, 0))
	login(t, s, a, store.MethodPasskey, now.Add(-time.Hour))
	login(t, s, a, store.MethodPasskey, now.Add(-day))
	// b: password + app 3 days ago; a passkey registered 2 days ago, device-bound, unknown AAGUID.
	login(t, s, b, store.MethodPasswordTOTP, now.Add(-3*day))
	pb := passkeyFor(b)
	pb.CreatedAt, pb.BackupEligible, pb.BackupState, pb.AAGUID, pb.Transports = now.Add(-2*day), false, false, nil, []string{"usb"}
	must(t, s.AddPasskey(ctx, pb, 0))
	// c: password + e-mail on 6 May at 08:30 in Japan (still 5 May in UTC), no passkey.
	login(t, s, c, store.MethodPasswordEmail, time.Date(2026, 5, 6, 8, 30, 0, 0, time.FixedZone("JST", 9*3600)))
	// d: logged in 40 days ago only: not active now.
	login(t, s, d, store.MethodPasswordEmail, now.Add(-40*day))
	// e: had a passkey, revoked 5 days ago; another one suspended; logs in by e-mail today.
	pe := passkeyFor(e)
	pe.CreatedAt = now.Add(-20 * day)
	must(t, s.AddPasskey(ctx, pe, 0))
	must(t, s.RevokePasskey(ctx, pe.ID, "customer", now.Add(-5*day)))
	pe2 := passkeyFor(e)
	pe2.CreatedAt = now.Add(-4 * day)
	must(t, s.AddPasskey(ctx, pe2, 0))
	must(t, s.SuspendPasskey(ctx, pe2.ID, "clone", now.Add(-3*day)))
	login(t, s, e, store.MethodPasswordEmail, now.Add(-2*time.Hour))
	// Noise: a failure and an unknown customer's event.
	must(t, s.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: "customer", CustomerID: c.ID, Event: "login.password.fail", Detail: "{}"}))

	check := func(when time.Time, wantActive, wantWith int) {
		t.Helper()
		active, with, err := s.AdoptionAt(ctx, when, 30*day)
		must(t, err)
		if active != wantActive || with != wantWith {
			t.Errorf("AdoptionAt(%v): %d active, %d with a passkey; want %d, %d", when, active, with, wantActive, wantWith)
		}
	}
	check(now, 4, 3)                       // a, b, c, e; a, b and e (a suspended passkey is still bound) have one
	check(now.Add(-2*day+time.Hour), 2, 1) // b and c; b's passkey was registered an hour before
	check(now.Add(-2*day-time.Hour), 2, 0) // b and c; b's passkey not yet
	check(now.Add(-7*day), 1, 0)           // c
	check(now.Add(-14*day), 1, 0)          // d (40 days before now)
	check(now.Add(-80*day), 0, 0)          // nobody

	days, err := s.LoginsByDay(ctx, now.Add(-14*day))
	must(t, err)
	type row struct {
		day    string
		method string
		n      int
	}
	var got []row
	jst := time.FixedZone("JST", 9*3600)
	for _, x := range days {
		if h, m, s := x.Day.In(jst).Clock(); h != 0 || m != 0 || s != 0 {
			t.Errorf("day %v is not midnight in Japan", x.Day)
		}
		got = append(got, row{x.Day.In(jst).Format("01-02"), x.Method, x.Count})
	}
	want := []row{
		{"05-06", store.MethodPasswordEmail, 1},
		{"05-12", store.MethodPasswordTOTP, 1},
		{"05-14", store.MethodPasskey, 1},
		{"05-15", store.MethodPasskey, 1},
		{"05-15", store.MethodPasswordEmail, 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("logins by day %v, want %v", got, want)
	}

	groups, err := s.PasskeyGroups(ctx)
	must(t, err)
	total, synced := 0, 0
	for _, g := range groups {
		total += g.Count
		if g.BackupState {
			synced += g.Count
		}
	}
	if len(groups) != 2 || total != 2 || synced != 1 {
		t.Errorf("groups %+v: want a's synced and b's device-bound passkey", groups)
	}

	n, list, err := s.ActiveWithoutPasskey(ctx, now.Add(-30*day), 1)
	must(t, err)
	if n != 2 || len(list) != 1 || list[0].ID != e.ID || list[0].Code != e.Code || !sameTime(list[0].LastLogin, now.Add(-2*time.Hour)) {
		t.Errorf("without passkey: %d %+v; want c and e, e first", n, list)
	}
}
