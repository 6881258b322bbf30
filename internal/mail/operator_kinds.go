package mail

// Issue 7: what the call center's procedures tell the customer (SPEC P4,
// O1–O4). Every operator change to an account is notified, at the old address
// too for an e-mail change. A single passkey revoked by an operator uses
// KindPasskeyDeleted with a Reason.
const (
	KindOperatorSecondFactor    Kind = "operator_second_factor"    // the app second factor was switched to e-mail (O1)
	KindOperatorEmailCode       Kind = "operator_email_code"       // verifies the new address of an approved e-mail change (O2)
	KindOperatorEmailChanged    Kind = "operator_email_changed"    // the address changed; sent to the old and the new one (O2)
	KindOperatorUnlocked        Kind = "operator_unlocked"         // an operator lifted the lock (A4, O3)
	KindOperatorFrozen          Kind = "operator_frozen"           // an operator froze the account (O3)
	KindOperatorUnfrozen        Kind = "operator_unfrozen"         // the freeze was lifted after identity re-verification (O3)
	KindOperatorPasskeysRevoked Kind = "operator_passkeys_revoked" // every passkey was revoked (lost device, O3, K13)
	KindOperatorPasskeyRestored Kind = "operator_passkey_restored" // a suspended passkey may be used again (K10, O3)
	KindOperatorSetupGuide      Kind = "operator_setup_guide"      // how to do the initial setup, sent again (A3)
)

// validateOperator checks the fields an operator kind needs; it reports false
// when kind is not one of them.
func validateOperator(kind Kind, d Data, need func(ok bool, field string)) bool {
	switch kind {
	case KindOperatorSecondFactor:
		need(d.Method != "", "Method")
	case KindOperatorEmailCode:
		need(d.Code != "", "Code")
		need(d.ExpiresMinutes > 0, "ExpiresMinutes")
		need(d.Email != "", "Email")
	case KindOperatorEmailChanged:
		need(d.Email != "", "Email")
	case KindOperatorUnlocked, KindOperatorFrozen, KindOperatorUnfrozen,
		KindOperatorPasskeysRevoked, KindOperatorPasskeyRestored, KindOperatorSetupGuide:
	default:
		return false
	}
	return true
}
