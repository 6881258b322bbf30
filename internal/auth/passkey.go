package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kagi-auth/kagi/internal/aaguid"
	"github.com/kagi-auth/kagi/internal/mail"
	"github.com/kagi-auth/kagi/internal/store"
)

// Ceremony kinds stored in the ceremonies table.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// CeremonyTTL is how long a begun WebAuthn ceremony may be finished (K9).
const CeremonyTTL = 5 * time.Minute

// maxPasskeyName bounds the customer-editable name, in characters.
const maxPasskeyName = 64

// Further error codes of the passkey ceremonies.
const (
	CodeCeremonyExpired   = "ceremony_expired"
	CodePasskeyRegistered = "passkey_already_registered"
)

// RP describes the relying party: the origin customers use and its host.
type RP struct {
	ID     string // RP ID: the origin's host
	Origin string
	Name   string // shown by some authenticators
}

// EnablePasskeys configures the WebAuthn relying party. Every ceremony
// requires user verification and a discoverable credential; timeouts are
// enforced by the library as well as by the ceremony row's expiry.
func (s *Service) EnablePasskeys(rp RP) error {
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  rp.ID,
		RPDisplayName:         rp.Name,
		RPOrigins:             []string{rp.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return err
	}
	s.wa, s.rp = wa, rp
	return nil
}

// RPID is the relying party ID passkeys are bound to.
func (s *Service) RPID() string { return s.rp.ID }

// pkParams are the algorithms offered at registration (K7): ES256, RS256
// (Windows Hello), EdDSA.
var pkParams = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: -7},
	{Type: protocol.PublicKeyCredentialType, Algorithm: -257},
	{Type: protocol.PublicKeyCredentialType, Algorithm: -8},
}

// waUser adapts a customer to go-webauthn's User.
type waUser struct {
	c     *store.Customer
	creds []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.c.UserHandle }
func (u *waUser) WebAuthnName() string                       { return u.c.Code }
func (u *waUser) WebAuthnDisplayName() string                { return u.c.Code }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func toCredential(p *store.Passkey) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey, AttestationFormat: p.AttestationFormat, Transport: tr,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: p.BackupEligible, BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// ceremonyState is what a ceremony row keeps besides go-webauthn's SessionData.
type ceremonyState struct {
	Session webauthn.SessionData `json:"session"`
	Binding []byte               `json:"binding"` // SHA-256 of the browser's binding cookie
	Shared  bool                 `json:"shared,omitempty"`
}

// ceremonyID derives the row key from the challenge, so that a browser may run
// the autofill and the button ceremonies at once and any instance can finish
// either. The binding cookie ties the row to the browser that began it.
func ceremonyID(challenge string) []byte {
	h := sha256.Sum256([]byte("kagi-ceremony:" + challenge))
	return h[:]
}

func bindingHash(binding string) []byte {
	h := sha256.Sum256([]byte("kagi-binding:" + binding))
	return h[:]
}

func (s *Service) saveCeremony(ctx context.Context, kind string, customerID int64, sd *webauthn.SessionData, binding string, shared bool) error {
	data, err := json.Marshal(ceremonyState{Session: *sd, Binding: bindingHash(binding), Shared: shared})
	if err != nil {
		return err
	}
	now := s.now()
	return s.st.CreateCeremony(ctx, &store.Ceremony{
		ID: ceremonyID(sd.Challenge), Kind: kind, CustomerID: customerID, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(CeremonyTTL),
	})
}

// takeCeremony consumes the ceremony whose challenge the client signed. Every
// failure (unknown, replayed, expired, other browser) is CodeCeremonyExpired.
func (s *Service) takeCeremony(ctx context.Context, kind, challenge, binding string) (*store.Ceremony, *ceremonyState, error) {
	if challenge == "" || binding == "" {
		return nil, nil, newErr(CodeCeremonyExpired, errors.New("no challenge or binding"))
	}
	c, err := s.st.ConsumeCeremony(ctx, ceremonyID(challenge), kind, s.now())
	if isNotFound(err) {
		return nil, nil, newErr(CodeCeremonyExpired, errors.New("ceremony unknown, used or expired"))
	}
	if err != nil {
		return nil, nil, err
	}
	var st ceremonyState
	if err := json.Unmarshal(c.Data, &st); err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(st.Binding, bindingHash(binding)) != 1 {
		return nil, nil, newErr(CodeCeremonyExpired, errors.New("ceremony begun in another browser"))
	}
	return c, &st, nil
}

// passkeyErr turns a go-webauthn failure into the generic customer-facing
// code, keeping the library's DevInfo for the log.
func passkeyErr(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return newErr(CodePasskeyFailed, fmt.Errorf("webauthn %s: %s (%s)", pe.Type, pe.Details, pe.DevInfo))
	}
	return newErr(CodePasskeyFailed, err)
}

// stepUpValid reports whether the session re-verified recently enough to register a passkey.
func (s *Service) stepUpValid(sess *store.Session) bool {
	return !sess.StepUpAt.IsZero() && s.now().Sub(sess.StepUpAt) < s.cfg.StepUpWindow
}

// StepUpUntil is when the session's re-verification stops covering registration.
func (s *Service) StepUpUntil(cur *Current) (time.Time, bool) {
	if !s.stepUpValid(cur.Session) {
		return time.Time{}, false
	}
	return cur.Session.StepUpAt.Add(s.cfg.StepUpWindow), true
}

func requireFull(cur *Current) error {
	if cur.Restricted() {
		return newErr(CodeRestricted, nil)
	}
	if !cur.Full() {
		return newErr(CodeNotAuthenticated, nil)
	}
	return nil
}

// requireRegistrar admits full sessions and restricted ones, whose one purpose
// is registering a passkey (P3).
func requireRegistrar(cur *Current) error {
	if cur.Restricted() {
		return nil
	}
	return requireFull(cur)
}

// RegistrationOptions begins a passkey registration (K2, K3, K4, K14) after
// checking the prerequisites in the order the customer meets them.
func (s *Service) RegistrationOptions(ctx context.Context, cur *Current, shared, conditional bool, binding string, m Meta) (*protocol.CredentialCreation, error) {
	if err := requireRegistrar(cur); err != nil {
		return nil, err
	}
	c := cur.Customer
	if !c.EmailVerified() {
		return nil, newErr(CodeEmailNotVerified, nil)
	}
	if !s.stepUpValid(cur.Session) {
		return nil, newErr(CodeStepUpRequired, nil)
	}
	all, err := s.st.PasskeysByCustomer(ctx, c.ID, false)
	if err != nil {
		return nil, err
	}
	var active int
	var exclude []protocol.CredentialDescriptor
	for _, p := range all {
		if p.Active() {
			active++
		}
		// Every credential still bound (active or suspended) is excluded so a
		// device never holds two passkeys of one account.
		cred := toCredential(p)
		exclude = append(exclude, cred.Descriptor())
	}
	if active >= s.cfg.PasskeyLimit {
		return nil, newErr(CodePasskeyLimit, nil, s.cfg.PasskeyLimit)
	}
	opts := []webauthn.RegistrationOption{webauthn.WithCredentialParameters(pkParams), webauthn.WithExclusions(exclude)}
	var creation *protocol.CredentialCreation
	var sd *webauthn.SessionData
	if conditional {
		// Conditional create may not verify the user (the customer just did, with
		// their second factor, within the step-up window); every login does.
		opts = append(opts, webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(), ResidentKey: protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		}))
		creation, sd, err = s.wa.BeginMediatedRegistration(&waUser{c: c}, protocol.MediationConditional, opts...)
	} else {
		creation, sd, err = s.wa.BeginRegistration(&waUser{c: c}, opts...)
	}
	if err != nil {
		return nil, err
	}
	if err := s.saveCeremony(ctx, ceremonyRegister, c.ID, sd, binding, shared); err != nil {
		return nil, err
	}
	return creation, nil
}

// RegisterPasskey finishes a registration: the library verifies the
// attestation; kagi then applies its own policy (UV, flags, limit, uniqueness)
// and stores the passkey, the audit entry and the notice in one transaction.
func (s *Service) RegisterPasskey(ctx context.Context, cur *Current, body []byte, name, binding string, m Meta) (*store.Passkey, error) {
	if err := requireRegistrar(cur); err != nil {
		return nil, err
	}
	c := cur.Customer
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, passkeyErr(err)
	}
	cer, st, err := s.takeCeremony(ctx, ceremonyRegister, parsed.Response.CollectedClientData.Challenge, binding)
	if err != nil {
		return nil, err
	}
	if cer.CustomerID != c.ID {
		return nil, newErr(CodeCeremonyExpired, errors.New("ceremony of another customer"))
	}
	flags := parsed.Response.AttestationObject.AuthData.Flags
	if !flags.HasUserVerified() && st.Session.Mediation != protocol.MediationConditional {
		return nil, newErr(CodePasskeyUV, errors.New("registration without user verification"))
	}
	if !flags.HasBackupEligible() && flags.HasBackupState() {
		return nil, newErr(CodePasskeyFailed, errors.New("BS set without BE"))
	}
	cred, err := s.wa.CreateCredential(&waUser{c: c}, st.Session, parsed)
	if err != nil {
		return nil, passkeyErr(err)
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	now := s.now()
	p := &store.Passkey{
		CustomerID: c.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		AAGUID: cred.Authenticator.AAGUID, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		AttestationFormat: cred.AttestationFormat, Shared: st.Shared,
		CreatedAt: now, CreatedIP: m.IP, CreatedUserAgent: truncate(m.UserAgent, 512),
	}
	authName := AuthenticatorName(p, langOr(m.Lang, c.Lang))
	p.Name = cleanName(name)
	if p.Name == "" {
		// The provider alone ("パスキー") says little in a list; the browser and
		// OS it was made on tell the customer which device it is.
		p.Name = authName
		if b := describeUA(m.UserAgent); b != "" {
			p.Name = cleanName(authName + " - " + b)
		}
		if p.Shared {
			p.Name += sharedSuffix(langOr(m.Lang, c.Lang))
		}
	}
	err = s.inTx(ctx, func(tx store.Store, mailed *bool) error {
		if err := tx.AddPasskey(ctx, p, s.cfg.PasskeyLimit); err != nil {
			return err
		}
		// Money waits out the cooling-off from here (P6): a phisher who
		// registers their own passkey gains nothing before the mail is read.
		if err := tx.SetSensitiveChange(ctx, c.ID, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "customer", c.ID, "passkey.registered", m, map[string]any{
			"passkey_id": p.ID, "aaguid": aaguid.Format(p.AAGUID), "backup_eligible": p.BackupEligible,
			"backup_state": p.BackupState, "shared": p.Shared, "transports": transports, "user_verified": flags.HasUserVerified(),
		}); err != nil {
			return err
		}
		*mailed = true
		return s.notify(ctx, tx, c.Email, c.Lang, mail.KindPasskeyRegistered, mail.Data{
			CustomerCode: c.Code, PasskeyName: p.Name, Authenticator: authName, IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
	switch {
	case errors.Is(err, store.ErrLimit):
		return nil, newErr(CodePasskeyLimit, err, s.cfg.PasskeyLimit)
	case errors.Is(err, store.ErrConflict):
		return nil, newErr(CodePasskeyRegistered, err)
	case err != nil:
		return nil, err
	}
	return p, nil
}

// LoginOptions begins a discoverable login (K5): no customer code, the
// browser's account chooser picks the passkey.
func (s *Service) LoginOptions(ctx context.Context, conditional bool, binding string) (*protocol.CredentialAssertion, error) {
	var a *protocol.CredentialAssertion
	var sd *webauthn.SessionData
	var err error
	if conditional {
		a, sd, err = s.wa.BeginDiscoverableMediatedLogin(protocol.MediationConditional, webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		a, sd, err = s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	}
	if err != nil {
		return nil, err
	}
	if err := s.saveCeremony(ctx, ceremonyLogin, 0, sd, binding, false); err != nil {
		return nil, err
	}
	return a, nil
}

// PasskeyLogin finishes a discoverable login and, on success, starts a full
// session (replacing prev, the browser's current session, if any). Every
// failure to find the customer or passkey answers CodePasskeyUnknown alike.
func (s *Service) PasskeyLogin(ctx context.Context, prev *Current, body []byte, binding string, m Meta) (*LoginResult, *store.Passkey, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, nil, passkeyErr(err)
	}
	_, st, err := s.takeCeremony(ctx, ceremonyLogin, parsed.Response.CollectedClientData.Challenge, binding)
	if err != nil {
		return nil, nil, err
	}
	p, c, err := s.st.PasskeyWithCustomer(ctx, parsed.RawID)
	if isNotFound(err) || (err == nil && !p.RevokedAt.IsZero()) {
		_ = s.audit(ctx, s.st, "customer", 0, "login.passkey.unknown", m, map[string]any{"credential_id": base64.RawURLEncoding.EncodeToString(truncBytes(parsed.RawID, 64))})
		return nil, p, newErr(CodePasskeyUnknown, errors.New("unknown or revoked credential"))
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(parsed.Response.UserHandle, c.UserHandle) != 1 {
		return nil, p, newErr(CodePasskeyUnknown, errors.New("user handle does not match the credential's owner"))
	}
	if !p.SuspendedAt.IsZero() {
		_ = s.audit(ctx, s.st, "customer", c.ID, "login.passkey.suspended", m, map[string]any{"passkey_id": p.ID})
		return nil, p, newErr(CodePasskeySuspended, nil, s.cfg.Brand.Phone)
	}
	if s.lockExpired(c, s.now()) {
		if err := s.unlock(ctx, c, "system", m); err != nil {
			return nil, nil, err
		}
	}
	if !c.FrozenAt.IsZero() {
		return nil, p, newErr(CodeAccountFrozen, nil, s.cfg.Brand.Phone)
	}
	if !c.LockedAt.IsZero() {
		return nil, p, newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if !flags.HasUserVerified() {
		_ = s.audit(ctx, s.st, "customer", c.ID, "login.passkey.fail", m, map[string]any{"passkey_id": p.ID, "reason": "no user verification"})
		return nil, p, newErr(CodePasskeyUV, errors.New("assertion without user verification"))
	}
	if flags.HasBackupEligible() != p.BackupEligible || (!flags.HasBackupEligible() && flags.HasBackupState()) {
		_ = s.audit(ctx, s.st, "customer", c.ID, "login.passkey.fail", m, map[string]any{"passkey_id": p.ID, "reason": "backup flags"})
		return nil, p, newErr(CodePasskeyFailed, errors.New("backup eligibility changed or BS without BE"))
	}
	user := &waUser{c: c, creds: []webauthn.Credential{toCredential(p)}}
	_, cred, err := s.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) { return user, nil }, st.Session, parsed)
	if err != nil {
		_ = s.audit(ctx, s.st, "customer", c.ID, "login.passkey.fail", m, map[string]any{"passkey_id": p.ID, "reason": "verification"})
		return nil, p, passkeyErr(err)
	}
	newCount := parsed.Response.AuthenticatorData.Counter
	if (newCount != 0 || p.SignCount != 0) && newCount <= p.SignCount {
		return nil, p, s.suspectClone(ctx, c, p, newCount, m)
	}
	cur := &Current{Customer: c}
	if prev != nil && prev.Session != nil {
		cur.Session = prev.Session
	}
	usedAt := s.now()
	// The counter moves in the login's own transaction: the session, the audit
	// entry and the notice commit with it, or nothing does.
	res, err := s.completeLoginWith(ctx, cur, store.MethodPasskey, p.ID, m, func(st store.Store) error {
		ok, err := st.RecordPasskeyUse(ctx, p.ID, p.SignCount, newCount, cred.Flags.BackupState, usedAt)
		if err != nil {
			return err
		}
		if !ok { // another login with this passkey moved the counter first
			return newErr(CodePasskeyFailed, errors.New("concurrent use of one passkey"))
		}
		return nil
	})
	if err != nil {
		if ErrorCode(err) != "" {
			return nil, p, err
		}
		return nil, nil, err
	}
	p.SignCount, p.BackupState, p.LastUsedAt = newCount, cred.Flags.BackupState, usedAt
	return res, p, nil
}

// suspectClone handles a signature counter that did not increase (K10): the
// login is refused, the passkey suspended, the customer told and an operator
// alert raised (an audit event the console lists).
func (s *Service) suspectClone(ctx context.Context, c *store.Customer, p *store.Passkey, got uint32, m Meta) error {
	reason := fmt.Sprintf("signature counter %d after %d", got, p.SignCount)
	err := s.inTx(ctx, func(tx store.Store, mailed *bool) error {
		if err := tx.SuspendPasskey(ctx, p.ID, reason, s.now()); err != nil {
			return err
		}
		if _, err := tx.DeletePasskeySessions(ctx, c.ID, p.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "system", c.ID, "passkey.suspended", m, map[string]any{"passkey_id": p.ID, "reason": "clone_suspected", "counter": got, "stored_counter": p.SignCount}); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "system", c.ID, "alert.passkey_clone", m, map[string]any{"passkey_id": p.ID}); err != nil {
			return err
		}
		*mailed = true
		return s.notify(ctx, tx, c.Email, c.Lang, mail.KindPasskeySuspended, mail.Data{
			CustomerCode: c.Code, PasskeyName: p.Name, Authenticator: AuthenticatorName(p, c.Lang), IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
	if err != nil {
		return err
	}
	s.log.Warn("passkey suspended: signature counter did not increase", "customer_id", c.ID, "passkey_id", p.ID, "counter", got, "stored", p.SignCount)
	return newErr(CodePasskeySuspended, errors.New(reason), s.cfg.Brand.Phone)
}

// Passkeys lists the customer's passkeys that are still bound (active or suspended).
func (s *Service) Passkeys(ctx context.Context, cur *Current) ([]*store.Passkey, error) {
	if err := requireRegistrar(cur); err != nil {
		return nil, err
	}
	return s.st.PasskeysByCustomer(ctx, cur.Customer.ID, false)
}

// ownPasskey loads one of the customer's own bound passkeys; anyone else's is not found.
func (s *Service) ownPasskey(ctx context.Context, cur *Current, id int64) (*store.Passkey, error) {
	if err := requireFull(cur); err != nil {
		return nil, err
	}
	p, err := s.st.PasskeyByID(ctx, id)
	if isNotFound(err) || (err == nil && (p.CustomerID != cur.Customer.ID || !p.RevokedAt.IsZero())) {
		return nil, newErr(CodeNotFound, nil)
	}
	return p, err
}

// RenamePasskey sets the customer's name for one of their passkeys.
func (s *Service) RenamePasskey(ctx context.Context, cur *Current, id int64, name string, m Meta) (*store.Passkey, error) {
	p, err := s.ownPasskey(ctx, cur, id)
	if err != nil {
		return nil, err
	}
	name = cleanName(name)
	if name == "" {
		return nil, newErr(CodeInvalidRequest, errors.New("empty passkey name"))
	}
	err = s.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.RenamePasskey(ctx, p.ID, name); err != nil {
			return err
		}
		return s.audit(ctx, tx, "customer", cur.Customer.ID, "passkey.renamed", m, map[string]any{"passkey_id": p.ID})
	})
	if err != nil {
		return nil, err
	}
	p.Name = name
	return p, nil
}

// DeletePasskey revokes one of the customer's passkeys (K13: the record stays).
func (s *Service) DeletePasskey(ctx context.Context, cur *Current, id int64, m Meta) error {
	p, err := s.ownPasskey(ctx, cur, id)
	if err != nil {
		return err
	}
	c := cur.Customer
	return s.inTx(ctx, func(tx store.Store, mailed *bool) error {
		if err := tx.RevokePasskey(ctx, p.ID, "customer", s.now()); err != nil {
			if isNotFound(err) {
				return newErr(CodeNotFound, err)
			}
			return err
		}
		// Sessions it authenticated end with it, or deleting a stolen
		// passkey would not log its thief out (K13).
		if _, err := tx.DeletePasskeySessions(ctx, c.ID, p.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "customer", c.ID, "passkey.deleted", m, map[string]any{"passkey_id": p.ID}); err != nil {
			return err
		}
		*mailed = true
		return s.notify(ctx, tx, c.Email, c.Lang, mail.KindPasskeyDeleted, mail.Data{
			CustomerCode: c.Code, PasskeyName: p.Name, Authenticator: AuthenticatorName(p, c.Lang), IP: m.IP, Browser: describeUA(m.UserAgent),
		})
	})
}

// AuthenticatorName names the passkey's provider for the list (K6): the
// community AAGUID list first, then what the transports say.
func AuthenticatorName(p *store.Passkey, lang string) string {
	if n, ok := aaguid.Known(p.AAGUID); ok {
		return n
	}
	switch aaguid.KindOf(p.Transports) {
	case aaguid.KindSecurityKey:
		return pick(lang, "セキュリティキー", "Security key")
	case aaguid.KindPhone:
		return pick(lang, "スマートフォン", "Phone")
	}
	return pick(lang, "パスキー", "Passkey")
}

func sharedSuffix(lang string) string { return pick(lang, "（共用PC）", " (shared PC)") }

func pick(lang, ja, en string) string {
	if lang == "en" {
		return en
	}
	return ja
}

// cleanName drops control characters and bounds the length.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) > maxPasskeyName {
		s = string([]rune(s)[:maxPasskeyName])
	}
	return strings.TrimSpace(s)
}

func truncBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
