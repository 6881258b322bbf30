// Package policy decides, from the clock, the brokerage's published schedule
// and what a session proved, whether an important operation may proceed
// (SPEC P1–P3, P6, P7). Pure functions: no store, no HTTP.
package policy

import "time"

// Phase is where the brokerage stands on the road to mandatory passkeys (P1).
type Phase int

const (
	PhaseOptional    Phase = iota // before recommend_from: passkeys are offered
	PhaseRecommended              // from recommend_from: every legacy login is told to register one
	PhaseMandatory                // from mandatory_from: important operations need a passkey
)

func (p Phase) String() string {
	switch p {
	case PhaseRecommended:
		return "recommended"
	case PhaseMandatory:
		return "mandatory"
	}
	return "optional"
}

// Operation is an important operation (P2).
type Operation string

const (
	OpTrade              Operation = "trade"
	OpWithdraw           Operation = "withdraw"
	OpChangeBankAccount  Operation = "change_bank_account"
	OpChangeEmail        Operation = "change_email"
	OpChangeSecondFactor Operation = "change_second_factor"
)

// Operations lists every important operation, in the order shown to customers.
var Operations = []Operation{OpTrade, OpWithdraw, OpChangeBankAccount, OpChangeEmail, OpChangeSecondFactor}

// TransactionBound reports whether op needs a passkey assertion over its own
// details in the mandatory phase (P7: money leaving, or where it goes).
func (op Operation) TransactionBound() bool { return op == OpWithdraw || op == OpChangeBankAccount }

// Money reports whether cooling-off holds op back (P6).
func (op Operation) Money() bool { return op == OpWithdraw || op == OpChangeBankAccount }

// Schedule is the brokerage's configuration (P1, P6). Zero dates mean "never".
type Schedule struct {
	RecommendFrom time.Time
	MandatoryFrom time.Time
	// LegacyAfterMandatory keeps full legacy logins after MandatoryFrom for
	// customers who have a passkey (their sessions still need a step-up).
	LegacyAfterMandatory bool
	StepUpWindow         time.Duration // how long a passkey step-up covers non-money operations
	CoolingOff           time.Duration // P6
}

// PhaseAt is the phase in force at t.
func (s Schedule) PhaseAt(t time.Time) Phase {
	switch {
	case !s.MandatoryFrom.IsZero() && !t.Before(s.MandatoryFrom):
		return PhaseMandatory
	case !s.RecommendFrom.IsZero() && !t.Before(s.RecommendFrom):
		return PhaseRecommended
	}
	return PhaseOptional
}

// Facts are what the session and the customer's record prove.
type Facts struct {
	Passkey         bool      // the session was authenticated by a passkey
	Restricted      bool      // a legacy session after mandatory_from whose one purpose is registering a passkey (P3)
	PasskeyStepUpAt time.Time // last passkey step-up on this session (zero if none)
	HasPasskey      bool      // the customer has an active passkey
	CoolingOffFrom  time.Time // last passkey registration, e-mail or second-factor change (zero if none)
}

// Refusal reasons: stable codes the web layer maps to 403 problems.
const (
	ReasonRestricted      = "restricted_session"
	ReasonPasskeyRequired = "passkey_required" // no passkey yet: register one
	ReasonStepUp          = "step_up_required" // a passkey step-up would let it through
	ReasonCoolingOff      = "cooling_off"
)

// Decision says whether an operation may proceed now and, if not, what would
// let it: Reason, and Until for cooling-off.
type Decision struct {
	Allowed bool
	Reason  string
	Until   time.Time
	// NeedsTransactionStepUp: even when Allowed, the operation itself must be
	// confirmed by a passkey assertion bound to its details (P7).
	NeedsTransactionStepUp bool
	// Recommend: tell the customer to register a passkey (P1).
	Recommend bool
}

// Decide applies the rules to one operation at now.
func Decide(s Schedule, now time.Time, op Operation, f Facts) Decision {
	phase := s.PhaseAt(now)
	d := Decision{Recommend: !f.HasPasskey && phase >= PhaseRecommended}
	if f.Restricted {
		d.Reason = ReasonRestricted
		return d
	}
	if op.Money() && s.CoolingOff > 0 && !f.CoolingOffFrom.IsZero() {
		if until := f.CoolingOffFrom.Add(s.CoolingOff); now.Before(until) {
			d.Reason, d.Until = ReasonCoolingOff, until
			return d
		}
	}
	if phase < PhaseMandatory {
		d.Allowed = true // the current rules: the legacy MFA login suffices
		return d
	}
	if op.TransactionBound() {
		if !f.HasPasskey {
			d.Reason = ReasonPasskeyRequired
			return d
		}
		d.Allowed, d.NeedsTransactionStepUp = true, true
		return d
	}
	switch {
	case f.Passkey:
		d.Allowed = true
	case !f.PasskeyStepUpAt.IsZero() && now.Sub(f.PasskeyStepUpAt) < s.StepUpWindow:
		d.Allowed = true
	case f.HasPasskey:
		d.Reason = ReasonStepUp
	default:
		d.Reason = ReasonPasskeyRequired
	}
	return d
}

// LegacyLogin is what a completed password + second-factor login becomes (P3).
type LegacyLogin int

const (
	LegacyFull       LegacyLogin = iota // a normal session
	LegacyRestricted                    // may only register a passkey (and log out)
	LegacyRefused                       // use "パスキーでログイン" instead
)

// AfterLegacyLogin decides the fate of a legacy login at now.
func AfterLegacyLogin(s Schedule, now time.Time, hasPasskey bool) LegacyLogin {
	if s.PhaseAt(now) < PhaseMandatory {
		return LegacyFull
	}
	if !hasPasskey {
		return LegacyRestricted
	}
	if s.LegacyAfterMandatory {
		return LegacyFull
	}
	return LegacyRefused
}
