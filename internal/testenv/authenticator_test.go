package testenv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// These tests check the helper against go-webauthn acting as the relying
// party, outside kagi: what the helper produces must be what go-webauthn
// accepts, and each deliberate defect must be refused.

const testOrigin = "http://localhost:8080"

type rpUser struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *rpUser) WebAuthnID() []byte                         { return u.id }
func (u *rpUser) WebAuthnName() string                       { return "10000001" }
func (u *rpUser) WebAuthnDisplayName() string                { return "山田 太郎" }
func (u *rpUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newRP(t testing.TB) *webauthn.WebAuthn {
	t.Helper()
	rp, err := webauthn.New(&webauthn.Config{
		RPID: "localhost", RPDisplayName: "kagi", RPOrigins: []string{testOrigin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func newUser() *rpUser { return &rpUser{id: randomID()} }

// register runs a go-webauthn registration with the helper.
func register(t testing.TB, rp *webauthn.WebAuthn, a *Authenticator, u *rpUser, mods ...Mod) (*webauthn.Credential, *Credential, error) {
	t.Helper()
	creation, session, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(creation)
	resp, cred, err := a.TryRegister(opts, mods...)
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		return nil, cred, err
	}
	c, err := rp.CreateCredential(u, *session, parsed)
	return c, cred, err
}

// login runs a go-webauthn discoverable login with the helper.
func login(t testing.TB, rp *webauthn.WebAuthn, a *Authenticator, users []*rpUser, cred *Credential, mods ...Mod) (*webauthn.Credential, error) {
	t.Helper()
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(assertion)
	resp, err := a.TryLogin(opts, cred, mods...)
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		return nil, err
	}
	_, c, err := rp.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
		for _, u := range users {
			if bytes.Equal(u.id, handle) {
				return u, nil
			}
		}
		return nil, errors.New("unknown user")
	}, *session, parsed)
	return c, err
}

// The pitfall: raw virtualwebauthn v1.0.3 keys sometimes have short
// coordinates (about 1 in 128); FullLengthEC2 recognises them.
func TestVirtualWebAuthnShortCoordinates(t *testing.T) {
	for i := range 20000 {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if !FullLengthEC2(c.Key.AttestationData()) {
			t.Logf("short coordinate after %d keys", i+1)
			return
		}
	}
	t.Fatal("20000 raw virtualwebauthn keys all had full-length coordinates: has the bug been fixed? then the regeneration can go")
}

// 2000 ES256 registrations through the helper: every key has 32-byte X and Y
// and go-webauthn accepts every one of them.
func TestAuthenticatorFullLengthCoordinates(t *testing.T) {
	rp := newRP(t)
	u := newUser()
	n := 2000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		a := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, T: t})
		creation, session, err := rp.BeginRegistration(u)
		if err != nil {
			t.Fatal(err)
		}
		opts, _ := json.Marshal(creation)
		resp, cred := a.Register(opts)
		if !FullLengthEC2(cred.cose) {
			t.Fatalf("key %d: short coordinate", i)
		}
		// Decode what was sent, not what the helper kept.
		attObj := decodeAttestationObject(t, resp)
		authData := attObj.AuthData
		coseKey := authData[37+16+2+len(cred.ID):]
		var k ec2Key
		if err := cbor.Unmarshal(coseKey, &k); err != nil || k.Alg != -7 || k.Crv != 1 || len(k.X) != 32 || len(k.Y) != 32 {
			t.Fatalf("key %d: COSE key %+v (%v)", i, k, err)
		}
		parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
		if err != nil {
			t.Fatalf("key %d: parse: %v", i, err)
		}
		if _, err := rp.CreateCredential(u, *session, parsed); err != nil {
			t.Fatalf("key %d: go-webauthn refused: %v", i, err)
		}
	}
}

func decodeAttestationObject(t testing.TB, resp []byte) attestationObject {
	t.Helper()
	var r struct {
		Response struct {
			AttestationObject string `json:"attestationObject"`
		} `json:"response"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(r.Response.AttestationObject)
	if err != nil {
		t.Fatal(err)
	}
	var att attestationObject
	if err := cbor.Unmarshal(raw, &att); err != nil {
		t.Fatal(err)
	}
	return att
}

// Every key type and attestation format registers and logs in with
// go-webauthn; the counter increases; the user handle is the registered one.
func TestAuthenticatorCeremonies(t *testing.T) {
	for _, kt := range []KeyType{ES256, RS256, EdDSA} {
		for _, format := range []string{"none", "packed"} {
			t.Run(fmt.Sprintf("%s/%s", kt, format), func(t *testing.T) {
				rp := newRP(t)
				u := newUser()
				a := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, Key: kt, Format: format, T: t})
				c, cred, err := register(t, rp, a, u)
				if err != nil {
					t.Fatalf("registration: %v", err)
				}
				if c.Attestation.PublicKeyAlgorithm != kt.COSEAlg() && kt != EdDSA {
					t.Errorf("algorithm %d", c.Attestation.PublicKeyAlgorithm)
				}
				if !bytes.Equal(cred.UserHandle, u.id) || c.Authenticator.SignCount != 1 {
					t.Fatalf("user handle %x, counter %d", cred.UserHandle, c.Authenticator.SignCount)
				}
				u.creds = append(u.creds, *c)
				for i := range 3 {
					got, err := login(t, rp, a, []*rpUser{u}, cred)
					if err != nil {
						t.Fatalf("login %d: %v", i, err)
					}
					if got.Authenticator.SignCount != uint32(i+2) || got.Authenticator.CloneWarning {
						t.Fatalf("login %d: counter %d clone %v", i, got.Authenticator.SignCount, got.Authenticator.CloneWarning)
					}
					u.creds[0] = *got
				}
			})
		}
	}
}

// The flags, the counter and each defect come out as asked.
func TestAuthenticatorMods(t *testing.T) {
	rp := newRP(t)
	u := newUser()
	a := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, BE: true, BS: true, AAGUID: [16]byte{1, 2, 3}, T: t})
	c, cred, err := register(t, rp, a, u)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Flags.BackupEligible || !c.Flags.BackupState || !c.Flags.UserVerified || c.Authenticator.AAGUID[2] != 3 {
		t.Fatalf("credential %+v", c)
	}
	u.creds = []webauthn.Credential{*c}
	users := []*rpUser{u}

	refused := map[string][]Mod{
		"no UV":               {UV(false)},
		"other origin":        {Origin("https://evil.example")},
		"create type":         {ClientDataType("webauthn.create")},
		"other RP ID hash":    {RPIDHash("example.com")},
		"bad signature":       {BadSignature()},
		"other challenge":     {Challenge([]byte("0123456789abcdef0123456789abcdef"))},
		"BE changed":          {Flags(false, false)},
		"other user handle":   {UserHandle(randomID())},
		"without user handle": {UserHandle(nil)},
	}
	for name, mods := range refused {
		if _, err := login(t, rp, a, users, cred, mods...); err == nil {
			t.Errorf("%s: go-webauthn accepted", name)
		}
	}
	// A tampered signature in the JSON is refused as well.
	assertion, session, _ := rp.BeginDiscoverableLogin()
	opts, _ := json.Marshal(assertion)
	resp := TamperSignature(a.Login(opts, cred))
	parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err == nil {
		_, _, err = rp.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, *session, parsed)
	}
	if err == nil {
		t.Error("tampered signature accepted")
	}

	// Per-call BS and an explicit counter.
	got, err := login(t, rp, a, users, cred, Flags(true, false), Counter(50))
	if err != nil {
		t.Fatal(err)
	}
	if got.Flags.BackupState || got.Authenticator.SignCount != 50 || cred.Counter != 50 {
		t.Fatalf("flags %+v counter %d/%d", got.Flags, got.Authenticator.SignCount, cred.Counter)
	}
	u.creds[0] = *got
	// A regressed counter: go-webauthn flags it (kagi must act on it).
	cred.Counter = 10
	got, err = login(t, rp, a, users, cred)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Authenticator.CloneWarning {
		t.Fatal("no clone warning for a regressed counter")
	}

	// BE=0 with BS=1 at registration is refused.
	if _, _, err := register(t, rp, NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, BS: true, T: t}), newUser()); err == nil {
		t.Error("BE=0 BS=1 accepted")
	}
	// A registration without UV is refused when UV is required.
	if _, _, err := register(t, rp, NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, NoUV: true, T: t}), newUser()); err == nil {
		t.Error("UV=0 registration accepted")
	}
	// A counter that stays 0 never raises a clone warning.
	zero := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, Counter: CounterZero, BE: true, BS: true, T: t})
	u2 := newUser()
	c2, cred2, err := register(t, rp, zero, u2)
	if err != nil {
		t.Fatal(err)
	}
	u2.creds = []webauthn.Credential{*c2}
	for range 2 {
		got, err := login(t, rp, zero, []*rpUser{u2}, cred2)
		if err != nil || got.Authenticator.CloneWarning || got.Authenticator.SignCount != 0 {
			t.Fatalf("zero counter: %v %+v", err, got)
		}
	}
	// Registration defects.
	for name, mods := range map[string][]Mod{
		"other origin":     {Origin("https://evil.example")},
		"get type":         {ClientDataType("webauthn.get")},
		"other RP ID hash": {RPIDHash("example.com")},
		"bad signature":    {BadSignature()},
	} {
		if _, _, err := register(t, rp, NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, T: t}), newUser(), mods...); err == nil {
			t.Errorf("registration with %s accepted", name)
		}
	}
}

// The JSON is the W3C Level 3 serialisation a browser produces.
func TestAuthenticatorJSON(t *testing.T) {
	rp := newRP(t)
	u := newUser()
	a := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, Attachment: "cross-platform", T: t})
	creation, _, _ := rp.BeginRegistration(u)
	opts, _ := json.Marshal(creation)
	resp, cred := a.Register(opts)
	var reg struct {
		ID, RawID, Type, AuthenticatorAttachment string
		ClientExtensionResults                   map[string]any
		Response                                 struct {
			ClientDataJSON, AttestationObject, AuthenticatorData, PublicKey string
			Transports                                                      []string
			PublicKeyAlgorithm                                              int64
		}
	}
	if err := json.Unmarshal(resp, &reg); err != nil {
		t.Fatal(err)
	}
	if reg.ID != cred.IDString() || reg.RawID != reg.ID || reg.Type != "public-key" || reg.AuthenticatorAttachment != "cross-platform" ||
		reg.ClientExtensionResults == nil || reg.Response.PublicKey == "" || reg.Response.PublicKeyAlgorithm != -7 ||
		len(reg.Response.Transports) != 1 || reg.Response.Transports[0] != "usb" || reg.Response.AuthenticatorData == "" {
		t.Fatalf("registration JSON: %s", resp)
	}
	cd, _ := base64.RawURLEncoding.DecodeString(reg.Response.ClientDataJSON)
	want := `{"type":"webauthn.create","challenge":"` + creation.Response.Challenge.String() + `","origin":"` + testOrigin + `","crossOrigin":false}`
	if string(cd) != want {
		t.Fatalf("clientDataJSON %s, want %s", cd, want)
	}

	assertion, _, _ := rp.BeginDiscoverableLogin()
	opts, _ = json.Marshal(assertion)
	resp = a.Login(opts, cred)
	var auth struct {
		ID, RawID, Type        string
		ClientExtensionResults map[string]any
		Response               struct{ ClientDataJSON, AuthenticatorData, Signature, UserHandle string }
	}
	if err := json.Unmarshal(resp, &auth); err != nil {
		t.Fatal(err)
	}
	if auth.ID != cred.IDString() || auth.Response.UserHandle != base64.RawURLEncoding.EncodeToString(u.id) ||
		auth.Response.Signature == "" || auth.ClientExtensionResults == nil {
		t.Fatalf("authentication JSON: %s", resp)
	}
	cd, _ = base64.RawURLEncoding.DecodeString(auth.Response.ClientDataJSON)
	if !strings.HasPrefix(string(cd), `{"type":"webauthn.get","challenge":"`) {
		t.Fatalf("clientDataJSON %s", cd)
	}
}

// excludeCredentials is honoured as a browser does (InvalidStateError), and
// one authenticator holds one credential per RP and user.
func TestAuthenticatorExclude(t *testing.T) {
	rp := newRP(t)
	u := newUser()
	a := NewAuthenticator(AuthenticatorOptions{Origin: testOrigin, T: t})
	c, _, err := register(t, rp, a, u)
	if err != nil {
		t.Fatal(err)
	}
	u.creds = []webauthn.Credential{*c}
	creation, _, _ := rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	opts, _ := json.Marshal(creation)
	if _, _, err := a.TryRegister(opts); !errors.Is(err, ErrExcluded) {
		t.Fatalf("excluded credential: %v", err)
	}
	if _, _, err := a.TryRegister(opts, IgnoreExclude()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Credentials()); n != 1 {
		t.Fatalf("%d credentials for one user", n)
	}
	// Another user on the same authenticator.
	if _, _, err := register(t, rp, a, newUser()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Credentials()); n != 2 {
		t.Fatalf("%d credentials for two users", n)
	}
	// A wrong RP ID in the options is the browser's SecurityError.
	if _, _, err := a.TryRegister(bytes.Replace(opts, []byte(`"id":"localhost"`), []byte(`"id":"example.com"`), 1)); err == nil || !strings.Contains(err.Error(), "SecurityError") {
		t.Fatalf("foreign RP ID: %v", err)
	}
}
