package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kagi-auth/kagi/internal/aaguid"
	"github.com/kagi-auth/kagi/internal/store"
)

// Operators' passkeys (O4): registered with a one-time enrollment code, used
// for a discoverable login with user verification, on the console's relying
// party. The ceremonies are stored server-side like the customers' (K9).

const (
	ceremonyOperatorEnroll = "operator_enroll"
	ceremonyOperatorLogin  = "operator_login"
)

// operatorPasskeyLimit bounds the passkeys one operator may hold.
const operatorPasskeyLimit = 5

// waOperator adapts an operator to go-webauthn's User.
type waOperator struct {
	o     *store.Operator
	creds []webauthn.Credential
}

func (u *waOperator) WebAuthnID() []byte                         { return u.o.UserHandle }
func (u *waOperator) WebAuthnName() string                       { return u.o.Name }
func (u *waOperator) WebAuthnDisplayName() string                { return u.o.Name + " (kagi)" }
func (u *waOperator) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func operatorCredential(p *store.OperatorPasskey) webauthn.Credential {
	return toCredential(&store.Passkey{
		CredentialID: p.CredentialID, PublicKey: p.PublicKey, AttestationFormat: p.AttestationFormat,
		Transports: p.Transports, BackupEligible: p.BackupEligible, BackupState: p.BackupState,
		AAGUID: p.AAGUID, SignCount: p.SignCount,
	})
}

// opCeremony is what an operator ceremony row keeps.
type opCeremony struct {
	Session    webauthn.SessionData `json:"session"`
	Binding    []byte               `json:"binding"`
	OperatorID int64                `json:"operator_id,omitempty"`
	Enroll     []byte               `json:"enroll,omitempty"` // the enrollment code's hash, consumed at finish
}

func (c *Console) saveCeremony(ctx context.Context, kind string, sd *webauthn.SessionData, st opCeremony) error {
	st.Session = *sd
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	now := c.s.now()
	return c.s.st.CreateCeremony(ctx, &store.Ceremony{
		ID: ceremonyID(sd.Challenge), Kind: kind, Data: data, CreatedAt: now, ExpiresAt: now.Add(CeremonyTTL),
	})
}

func (c *Console) takeCeremony(ctx context.Context, kind, challenge, binding string) (*opCeremony, error) {
	if challenge == "" || binding == "" {
		return nil, newErr(CodeCeremonyExpired, errors.New("no challenge or binding"))
	}
	row, err := c.s.st.ConsumeCeremony(ctx, ceremonyID(challenge), kind, c.s.now())
	if isNotFound(err) {
		return nil, newErr(CodeCeremonyExpired, errors.New("ceremony unknown, used or expired"))
	}
	if err != nil {
		return nil, err
	}
	var st opCeremony
	if err := json.Unmarshal(row.Data, &st); err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(st.Binding, bindingHash(binding)) != 1 {
		return nil, newErr(CodeCeremonyExpired, errors.New("ceremony begun in another browser"))
	}
	return &st, nil
}

// EnrollOptions checks an operator's name and enrollment code and begins the
// registration of a passkey.
func (c *Console) EnrollOptions(ctx context.Context, name, code, binding string, m Meta) (*protocol.CredentialCreation, error) {
	o, err := c.checkEnrollment(ctx, name, code)
	if err != nil {
		if ErrorCode(err) == CodeEnrollmentInvalid {
			_ = c.s.audit(ctx, c.s.st, "system", 0, "operator.enroll.fail", m, map[string]any{"operator": truncate(name, 32)})
		}
		return nil, err
	}
	existing, err := c.s.st.OperatorPasskeys(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	active := 0
	for _, p := range existing {
		if p.RevokedAt.IsZero() {
			active++
			cred := operatorCredential(p)
			exclude = append(exclude, cred.Descriptor())
		}
	}
	if active >= operatorPasskeyLimit {
		return nil, newErr(CodePasskeyLimit, nil, operatorPasskeyLimit)
	}
	creation, sd, err := c.wa.BeginRegistration(&waOperator{o: o},
		webauthn.WithCredentialParameters(pkParams), webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, err
	}
	if err := c.saveCeremony(ctx, ceremonyOperatorEnroll, sd, opCeremony{
		Binding: bindingHash(binding), OperatorID: o.ID, Enroll: o.EnrollHash,
	}); err != nil {
		return nil, err
	}
	return creation, nil
}

// Enroll finishes the registration: the passkey is stored, the enrollment code
// used up and a console session started, in one transaction.
func (c *Console) Enroll(ctx context.Context, body []byte, binding string, m Meta) (*OperatorLogin, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, passkeyErr(err)
	}
	cer, err := c.takeCeremony(ctx, ceremonyOperatorEnroll, parsed.Response.CollectedClientData.Challenge, binding)
	if err != nil {
		return nil, err
	}
	o, err := c.s.st.OperatorByID(ctx, cer.OperatorID)
	if err != nil {
		return nil, err
	}
	if !o.Active() {
		return nil, newErr(CodeEnrollmentInvalid, errors.New("operator disabled during enrollment"))
	}
	flags := parsed.Response.AttestationObject.AuthData.Flags
	if !flags.HasUserVerified() {
		return nil, newErr(CodePasskeyUV, errors.New("operator registration without user verification"))
	}
	if !flags.HasBackupEligible() && flags.HasBackupState() {
		return nil, newErr(CodePasskeyFailed, errors.New("BS set without BE"))
	}
	cred, err := c.wa.CreateCredential(&waOperator{o: o}, cer.Session, parsed)
	if err != nil {
		return nil, passkeyErr(err)
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	p := &store.OperatorPasskey{
		OperatorID: o.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		AAGUID: cred.Authenticator.AAGUID, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		AttestationFormat: cred.AttestationFormat, CreatedAt: c.s.now(), CreatedIP: m.IP,
	}
	var login *OperatorLogin
	err = c.s.st.InTx(ctx, func(st store.Store) error {
		ok, err := st.ConsumeOperatorEnrollment(ctx, o.ID, cer.Enroll)
		if err != nil {
			return err
		}
		if !ok {
			return newErr(CodeEnrollmentInvalid, errors.New("enrollment code used or replaced meanwhile"))
		}
		if err := st.AddOperatorPasskey(ctx, p); err != nil {
			return err
		}
		if err := c.s.audit(ctx, st, "operator:"+o.Name, 0, "operator.enrolled", m, map[string]any{
			"operator_passkey_id": p.ID, "aaguid": aaguid.Format(p.AAGUID), "backup_eligible": p.BackupEligible,
		}); err != nil {
			return err
		}
		login, err = c.startSession(ctx, st, o, m)
		if err != nil {
			return err
		}
		return c.s.audit(ctx, st, "operator:"+o.Name, 0, "operator.login", m, map[string]any{"operator_passkey_id": p.ID})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, newErr(CodePasskeyRegistered, err)
	}
	if err != nil {
		return nil, err
	}
	return login, nil
}

// LoginOptions begins an operator's discoverable login.
func (c *Console) LoginOptions(ctx context.Context, binding string) (*protocol.CredentialAssertion, error) {
	a, sd, err := c.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	if err := c.saveCeremony(ctx, ceremonyOperatorLogin, sd, opCeremony{Binding: bindingHash(binding)}); err != nil {
		return nil, err
	}
	return a, nil
}

// Login finishes an operator's login and starts a console session. Every
// failure to find the operator or passkey answers CodePasskeyUnknown alike.
func (c *Console) Login(ctx context.Context, body []byte, binding string, m Meta) (*OperatorLogin, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, passkeyErr(err)
	}
	cer, err := c.takeCeremony(ctx, ceremonyOperatorLogin, parsed.Response.CollectedClientData.Challenge, binding)
	if err != nil {
		return nil, err
	}
	fail := func(actor, reason string, err error) error {
		_ = c.s.audit(ctx, c.s.st, actor, 0, "operator.login.fail", m, map[string]any{"reason": reason})
		return err
	}
	unknown := newErr(CodePasskeyUnknown, errors.New("unknown or revoked operator credential"))
	p, err := c.s.st.OperatorPasskeyByCredentialID(ctx, parsed.RawID)
	if isNotFound(err) || (err == nil && !p.RevokedAt.IsZero()) {
		return nil, fail("system", "unknown credential "+base64.RawURLEncoding.EncodeToString(truncBytes(parsed.RawID, 64)), unknown)
	}
	if err != nil {
		return nil, err
	}
	o, err := c.s.st.OperatorByID(ctx, p.OperatorID)
	if err != nil {
		return nil, err
	}
	actor := "operator:" + o.Name
	if subtle.ConstantTimeCompare(parsed.Response.UserHandle, o.UserHandle) != 1 {
		return nil, fail(actor, "user handle", unknown)
	}
	if !o.Active() {
		return nil, fail(actor, "disabled", unknown)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if !flags.HasUserVerified() {
		return nil, fail(actor, "no user verification", newErr(CodePasskeyUV, errors.New("assertion without user verification")))
	}
	if flags.HasBackupEligible() != p.BackupEligible || (!flags.HasBackupEligible() && flags.HasBackupState()) {
		return nil, fail(actor, "backup flags", newErr(CodePasskeyFailed, errors.New("backup eligibility changed or BS without BE")))
	}
	user := &waOperator{o: o, creds: []webauthn.Credential{operatorCredential(p)}}
	_, cred, err := c.wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return user, nil }, cer.Session, parsed)
	if err != nil {
		return nil, fail(actor, "verification", passkeyErr(err))
	}
	newCount := parsed.Response.AuthenticatorData.Counter
	if (newCount != 0 || p.SignCount != 0) && newCount <= p.SignCount {
		_ = c.s.audit(ctx, c.s.st, "system", 0, "alert.operator_passkey_clone", m, map[string]any{"operator": o.Name, "operator_passkey_id": p.ID})
		return nil, fail(actor, "counter", newErr(CodePasskeyFailed, fmt.Errorf("signature counter %d after %d", newCount, p.SignCount)))
	}
	ok, err := c.s.st.RecordOperatorPasskeyUse(ctx, p.ID, p.SignCount, newCount, cred.Flags.BackupState, c.s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newErr(CodePasskeyFailed, errors.New("concurrent use of one operator passkey"))
	}
	var login *OperatorLogin
	err = c.s.st.InTx(ctx, func(st store.Store) error {
		var err error
		if login, err = c.startSession(ctx, st, o, m); err != nil {
			return err
		}
		return c.s.audit(ctx, st, actor, 0, "operator.login", m, map[string]any{"operator_passkey_id": p.ID})
	})
	if err != nil {
		return nil, err
	}
	return login, nil
}
