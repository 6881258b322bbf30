package policy

import (
	"testing"
	"time"
)

var (
	jst       = time.FixedZone("JST", 9*3600)
	recommend = time.Date(2026, 3, 1, 0, 0, 0, 0, jst)
	mandatory = time.Date(2026, 5, 18, 0, 0, 0, 0, jst)
	sched     = Schedule{RecommendFrom: recommend, MandatoryFrom: mandatory, StepUpWindow: 5 * time.Minute, CoolingOff: 24 * time.Hour}
)

// P1: the phase changes exactly at each configured instant.
func TestPhaseAt_P1(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want Phase
	}{
		{recommend.Add(-time.Nanosecond), PhaseOptional},
		{recommend, PhaseRecommended},
		{mandatory.Add(-time.Nanosecond), PhaseRecommended},
		{mandatory, PhaseMandatory},
		{mandatory.AddDate(5, 0, 0), PhaseMandatory},
	} {
		if got := sched.PhaseAt(tc.at); got != tc.want {
			t.Errorf("PhaseAt(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if got := (Schedule{}).PhaseAt(mandatory); got != PhaseOptional {
		t.Errorf("unconfigured schedule: %v", got)
	}
	if got := (Schedule{MandatoryFrom: mandatory}).PhaseAt(mandatory); got != PhaseMandatory {
		t.Errorf("mandatory without recommend: %v", got)
	}
}

// P2, P3, P6, P7: every operation across the phase boundaries and session kinds.
func TestDecide_P2_P3_P6_P7(t *testing.T) {
	before := mandatory.Add(-time.Minute)
	after := mandatory.Add(time.Minute)
	legacy := Facts{}
	legacyWithPasskey := Facts{HasPasskey: true}
	passkey := Facts{Passkey: true, HasPasskey: true}
	steppedUp := Facts{HasPasskey: true, PasskeyStepUpAt: after.Add(-4 * time.Minute)}
	staleStepUp := Facts{HasPasskey: true, PasskeyStepUpAt: after.Add(-5 * time.Minute)}
	restricted := Facts{Restricted: true}
	cooling := Facts{Passkey: true, HasPasskey: true, CoolingOffFrom: after.Add(-23 * time.Hour)}
	cooled := Facts{Passkey: true, HasPasskey: true, CoolingOffFrom: after.Add(-24 * time.Hour)}
	type want struct {
		allowed bool
		reason  string
		txn     bool
	}
	cases := []struct {
		name string
		at   time.Time
		op   Operation
		f    Facts
		want want
	}{
		{"legacy trades before mandatory", before, OpTrade, legacy, want{true, "", false}},
		{"legacy withdraws before mandatory", before, OpWithdraw, legacy, want{true, "", false}},
		{"legacy changes e-mail before mandatory", before, OpChangeEmail, legacy, want{true, "", false}},
		{"legacy cannot trade after", after, OpTrade, legacy, want{false, ReasonPasskeyRequired, false}},
		{"legacy with passkey needs step-up to trade", after, OpTrade, legacyWithPasskey, want{false, ReasonStepUp, false}},
		{"step-up within window trades", after, OpTrade, steppedUp, want{true, "", false}},
		{"step-up window ends", after, OpTrade, staleStepUp, want{false, ReasonStepUp, false}},
		{"passkey session trades", after, OpTrade, passkey, want{true, "", false}},
		{"passkey session changes second factor", after, OpChangeSecondFactor, passkey, want{true, "", false}},
		{"passkey session withdraws with a bound step-up", after, OpWithdraw, passkey, want{true, "", true}},
		{"bank change always bound after mandatory", after, OpChangeBankAccount, steppedUp, want{true, "", true}},
		{"legacy without passkey cannot withdraw", after, OpWithdraw, legacy, want{false, ReasonPasskeyRequired, false}},
		{"restricted session does nothing", after, OpTrade, restricted, want{false, ReasonRestricted, false}},
		{"restricted even before (defensive)", before, OpChangeEmail, restricted, want{false, ReasonRestricted, false}},
		{"cooling-off holds a withdrawal", after, OpWithdraw, cooling, want{false, ReasonCoolingOff, false}},
		{"cooling-off holds a bank change before mandatory", before, OpChangeBankAccount, Facts{CoolingOffFrom: before.Add(-time.Hour)}, want{false, ReasonCoolingOff, false}},
		{"cooling-off does not hold trading", after, OpTrade, cooling, want{true, "", false}},
		{"cooling-off ends on time", after, OpWithdraw, cooled, want{true, "", true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(sched, tc.at, tc.op, tc.f)
			if d.Allowed != tc.want.allowed || d.Reason != tc.want.reason || d.NeedsTransactionStepUp != tc.want.txn {
				t.Fatalf("Decide = %+v, want %+v", d, tc.want)
			}
			if d.Reason == ReasonCoolingOff && !d.Until.Equal(tc.f.CoolingOffFrom.Add(24*time.Hour)) {
				t.Fatalf("cooling-off until %v", d.Until)
			}
		})
	}
}

// P1: the recommendation shows from recommend_from to customers without a passkey.
func TestRecommend_P1(t *testing.T) {
	if Decide(sched, recommend.Add(-time.Second), OpTrade, Facts{}).Recommend {
		t.Error("recommended before recommend_from")
	}
	if !Decide(sched, recommend, OpTrade, Facts{}).Recommend {
		t.Error("not recommended from recommend_from")
	}
	if Decide(sched, recommend, OpTrade, Facts{HasPasskey: true}).Recommend {
		t.Error("recommended to a customer who has a passkey")
	}
}

// P3: legacy logins after the mandatory date.
func TestAfterLegacyLogin_P3(t *testing.T) {
	allow := sched
	allow.LegacyAfterMandatory = true
	for _, tc := range []struct {
		s          Schedule
		at         time.Time
		hasPasskey bool
		want       LegacyLogin
	}{
		{sched, mandatory.Add(-time.Second), false, LegacyFull},
		{sched, mandatory.Add(-time.Second), true, LegacyFull},
		{sched, mandatory, false, LegacyRestricted},
		{sched, mandatory, true, LegacyRefused},
		{allow, mandatory, true, LegacyFull},
		{allow, mandatory, false, LegacyRestricted},
	} {
		if got := AfterLegacyLogin(tc.s, tc.at, tc.hasPasskey); got != tc.want {
			t.Errorf("AfterLegacyLogin(%v, passkey=%v, legacy allowed=%v) = %v, want %v", tc.at, tc.hasPasskey, tc.s.LegacyAfterMandatory, got, tc.want)
		}
	}
}
