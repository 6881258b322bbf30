package testenv

// A software WebAuthn authenticator plus the browser around it, for tests.
//
// It is built on github.com/descope/virtualwebauthn: that package parses the
// server's options (challenge, rp.id, user.id, excludeCredentials,
// allowCredentials) and generates and holds the ES256 and RS256 keys. The
// helper assembles the responses itself so that every flag, the counter and the
// client data can be set per call (virtualwebauthn cannot), adds EdDSA
// (crypto/ed25519, which virtualwebauthn lacks) and emits the W3C WebAuthn
// Level 3 JSON a browser's PublicKeyCredential.toJSON() produces.
//
// Pitfall it works around: virtualwebauthn v1.0.3 encodes P-256 coordinates
// with big.Int.Bytes(), dropping leading zero bytes, so about 1 key in 128 has
// an X or Y shorter than 32 bytes and is (rightly) refused by go-webauthn. The
// helper regenerates such keys until both coordinates are 32 bytes long.
//
// It only signs, as an authenticator does; it never verifies anything.

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/fxamacker/cbor/v2"
)

// KeyType is the credential's public key algorithm.
type KeyType string

const (
	ES256 KeyType = "ES256" // COSE -7, P-256 (default)
	RS256 KeyType = "RS256" // COSE -257, RSA 2048 (Windows Hello)
	EdDSA KeyType = "EdDSA" // COSE -8, Ed25519
)

// COSEAlg is the COSE algorithm identifier of the key type.
func (k KeyType) COSEAlg() int64 {
	switch k {
	case RS256:
		return -257
	case EdDSA:
		return -8
	default:
		return -7
	}
}

// CounterMode says how a credential's signature counter behaves.
type CounterMode int

const (
	// CounterIncrement: every signature (registration included) increments
	// the counter by one first, as a security key does; registration signs 1.
	CounterIncrement CounterMode = iota
	// CounterZero: the counter is always 0, as synced passkeys report it.
	CounterZero
)

// AuthenticatorOptions configure an authenticator. The zero value is a
// platform authenticator with user verification, device-bound (BE=0, BS=0),
// all-zero AAGUID, ES256, an incrementing counter and "none" attestation.
type AuthenticatorOptions struct {
	// Origin is the origin the browser puts into clientDataJSON; Env.Authenticator sets it to e.URL.
	Origin string
	// NoUV makes the authenticator report UV=0 (no PIN or biometrics).
	NoUV bool
	// BE and BS are the backup eligible and backup state flags.
	BE, BS bool
	// AAGUID identifies the authenticator model (all zeros: unknown).
	AAGUID [16]byte
	// Key is the key type of new credentials (default ES256).
	Key KeyType
	// Counter is the counter behaviour of new credentials.
	Counter CounterMode
	// Attachment is "platform" (default) or "cross-platform".
	Attachment string
	// Transports reported at registration; default ["hybrid","internal"] for
	// a platform authenticator, ["usb"] for a cross-platform one.
	Transports []string
	// Format is the attestation statement format: "none" (default, what
	// browsers send for attestation "none") or "packed" (self attestation).
	Format string
	// T receives failures of Register and Login (t.Fatal); nil panics instead.
	T testing.TB
}

// Authenticator is a software authenticator holding discoverable credentials.
type Authenticator struct {
	Options AuthenticatorOptions

	mu    sync.Mutex
	vw    virtualwebauthn.Authenticator
	creds []*Credential
}

// Credential is one discoverable credential (passkey) held by an Authenticator.
// Its exported fields may be changed between calls.
type Credential struct {
	ID          []byte
	UserHandle  []byte
	RPID        string
	UserName    string
	DisplayName string
	Key         KeyType

	// Counter is the last signature counter value used. Set it to make the
	// next login sign a lower (regressed) value.
	Counter     uint32
	CounterMode CounterMode
	// Flags reported at login (defaults from the authenticator's options).
	NoUV, BE, BS bool

	vw     virtualwebauthn.Credential // ES256 and RS256
	signer crypto.Signer
	cose   []byte           // COSE_Key
	pub    crypto.PublicKey // for the SPKI publicKey field
}

// IDString is the base64url credential ID, as in the JSON and the API.
func (c *Credential) IDString() string { return b64(c.ID) }

// ErrExcluded is the browser's InvalidStateError: the authenticator already
// holds a credential listed in excludeCredentials.
var ErrExcluded = errors.New("InvalidStateError: the authenticator holds an excluded credential")

// NewAuthenticator creates an authenticator.
func NewAuthenticator(opts AuthenticatorOptions) *Authenticator {
	if opts.Key == "" {
		opts.Key = ES256
	}
	if opts.Attachment == "" {
		opts.Attachment = "platform"
	}
	if opts.Transports == nil {
		if opts.Attachment == "platform" {
			opts.Transports = []string{"hybrid", "internal"}
		} else {
			opts.Transports = []string{"usb"}
		}
	}
	if opts.Format == "" {
		opts.Format = "none"
	}
	vw := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
		UserNotVerified: opts.NoUV, BackupEligible: opts.BE, BackupState: opts.BS,
	})
	vw.Aaguid = opts.AAGUID
	return &Authenticator{Options: opts, vw: vw}
}

// Authenticator creates an authenticator whose browser runs on the site's
// origin and reports failures to the test.
func (e *Env) Authenticator(opts AuthenticatorOptions) *Authenticator {
	if opts.Origin == "" {
		opts.Origin = e.URL
	}
	if opts.T == nil {
		opts.T = e.T
	}
	return NewAuthenticator(opts)
}

// Credentials lists the credentials the authenticator holds.
func (a *Authenticator) Credentials() []*Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.creds)
}

// Mod changes one ceremony: a per-call flag, or a deliberate defect for
// negative tests.
type Mod func(*ceremony)

type ceremony struct {
	uv, up, be, bs *bool
	counter        *uint32
	origin         string
	typ            string
	rpID           string // RP ID whose hash goes into authenticator data
	challenge      []byte
	userHandle     *[]byte
	badSignature   bool
	reuse          *Credential
	ignoreExclude  bool
	transports     []string
	format         string
	crossOrigin    bool
}

// UV sets the user-verified flag of this call.
func UV(on bool) Mod { return func(c *ceremony) { c.uv = &on } }

// UP sets the user-present flag of this call (default on).
func UP(on bool) Mod { return func(c *ceremony) { c.up = &on } }

// Flags sets the backup eligible and backup state flags of this call.
func Flags(be, bs bool) Mod { return func(c *ceremony) { c.be, c.bs = &be, &bs } }

// Counter signs exactly n (and records it as the credential's counter).
func Counter(n uint32) Mod { return func(c *ceremony) { c.counter = &n } }

// Origin puts another origin into clientDataJSON (a phishing site).
func Origin(o string) Mod { return func(c *ceremony) { c.origin = o } }

// ClientDataType puts another type into clientDataJSON, e.g. "webauthn.create" on a login.
func ClientDataType(t string) Mod { return func(c *ceremony) { c.typ = t } }

// RPIDHash makes the authenticator data carry the SHA-256 of another RP ID.
func RPIDHash(rpID string) Mod { return func(c *ceremony) { c.rpID = rpID } }

// Challenge signs another challenge than the options' one.
func Challenge(ch []byte) Mod { return func(c *ceremony) { c.challenge = ch } }

// UserHandle sends another user handle at login (nil: none at all).
func UserHandle(h []byte) Mod { return func(c *ceremony) { c.userHandle = &h } }

// BadSignature signs other data than the authenticator data and client data
// hash: a well-formed signature that does not verify. At registration it
// implies "packed" attestation (a "none" attestation has no signature).
func BadSignature() Mod { return func(c *ceremony) { c.badSignature = true } }

// ReuseCredential registers an existing credential (same ID and key) again,
// as a malicious client could; it ignores excludeCredentials.
func ReuseCredential(cred *Credential) Mod {
	return func(c *ceremony) { c.reuse = cred; c.ignoreExclude = true }
}

// IgnoreExclude creates a credential although excludeCredentials lists one the
// authenticator holds (a client that does not honour the list).
func IgnoreExclude() Mod { return func(c *ceremony) { c.ignoreExclude = true } }

// Transports reports other transports at registration.
func Transports(t ...string) Mod { return func(c *ceremony) { c.transports = t } }

// Format uses another attestation format at registration ("none" or "packed").
func Format(f string) Mod { return func(c *ceremony) { c.format = f } }

// CrossOrigin marks the client data as coming from a cross-origin iframe.
func CrossOrigin() Mod { return func(c *ceremony) { c.crossOrigin = true } }

func (a *Authenticator) fail(err error) {
	if a.Options.T != nil {
		a.Options.T.Helper()
		a.Options.T.Fatalf("authenticator: %v", err)
	}
	panic("authenticator: " + err.Error())
}

// Register answers navigator.credentials.create() for the server's
// {"publicKey": PublicKeyCredentialCreationOptionsJSON} and returns the
// RegistrationResponseJSON and the new credential, which the authenticator
// keeps. An error (e.g. ErrExcluded) fails the test.
func (a *Authenticator) Register(optionsJSON []byte, mods ...Mod) ([]byte, *Credential) {
	if a.Options.T != nil {
		a.Options.T.Helper()
	}
	resp, cred, err := a.TryRegister(optionsJSON, mods...)
	if err != nil {
		a.fail(err)
	}
	return resp, cred
}

// creationOptions are the fields of PublicKeyCredentialCreationOptionsJSON the
// helper needs beyond what virtualwebauthn parses.
type creationOptions struct {
	PublicKey *struct {
		PubKeyCredParams []struct {
			Type string `json:"type"`
			Alg  int64  `json:"alg"`
		} `json:"pubKeyCredParams"`
		Attestation string `json:"attestation"`
		Extensions  struct {
			CredProps bool `json:"credProps"`
		} `json:"extensions"`
	} `json:"publicKey"`
}

// TryRegister is Register returning errors.
func (a *Authenticator) TryRegister(optionsJSON []byte, mods ...Mod) ([]byte, *Credential, error) {
	var cer ceremony
	for _, m := range mods {
		m(&cer)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(optionsJSON))
	if err != nil {
		return nil, nil, fmt.Errorf("creation options: %w", err)
	}
	var extra creationOptions
	if err := json.Unmarshal(optionsJSON, &extra); err != nil || extra.PublicKey == nil {
		return nil, nil, fmt.Errorf("creation options are not {\"publicKey\":{...}}: %s", optionsJSON)
	}
	origin := a.origin(cer)
	rpID := opts.RelyingPartyID
	if rpID == "" {
		rpID = hostOf(a.Options.Origin)
	}
	if err := checkRPID(rpID, a.Options.Origin); err != nil {
		return nil, nil, err
	}
	if len(opts.UserID) == 0 || len(opts.UserID) > 64 {
		return nil, nil, fmt.Errorf("TypeError: user.id of %d bytes", len(opts.UserID))
	}
	keyType := a.Options.Key
	if cer.reuse != nil {
		keyType = cer.reuse.Key
	}
	offered := false
	for _, p := range extra.PublicKey.PubKeyCredParams {
		if p.Type == "public-key" && p.Alg == keyType.COSEAlg() {
			offered = true
		}
	}
	if !offered {
		return nil, nil, fmt.Errorf("NotSupportedError: %s (%d) not in pubKeyCredParams", keyType, keyType.COSEAlg())
	}
	if !cer.ignoreExclude {
		a.mu.Lock()
		for _, c := range a.creds {
			if c.RPID == rpID && slices.Contains(opts.ExcludeCredentials, c.IDString()) {
				a.mu.Unlock()
				return nil, nil, ErrExcluded
			}
		}
		a.mu.Unlock()
	}

	var cred *Credential
	if cer.reuse != nil {
		r := *cer.reuse
		cred = &r
	} else {
		cred = newCredential(keyType)
		cred.CounterMode = a.Options.Counter
		cred.NoUV, cred.BE, cred.BS = a.Options.NoUV, a.Options.BE, a.Options.BS
	}
	cred.RPID = rpID
	cred.UserHandle = []byte(opts.UserID)
	cred.UserName, cred.DisplayName = opts.UserName, opts.UserDisplayName

	counter := a.nextCounter(cred, cer)
	flags := a.flags(cred, cer, true)
	// Attested credential data: AAGUID, credential ID length and ID, COSE key.
	credData := slices.Concat(a.vw.Aaguid[:], be16(len(cred.ID)), cred.ID, cred.cose)
	authData := slices.Concat(rpIDHash(cer, rpID), []byte{flags}, be32(counter), credData)

	challenge := opts.Challenge
	if cer.challenge != nil {
		challenge = cer.challenge
	}
	clientDataJSON := clientData(cer, "webauthn.create", challenge, origin)

	format := a.Options.Format
	if extra.PublicKey.Attestation == "direct" || extra.PublicKey.Attestation == "enterprise" {
		format = "packed"
	}
	if cer.format != "" {
		format = cer.format
	}
	if cer.badSignature {
		format = "packed"
	}
	att := attestationObject{Fmt: format, AttStmt: map[string]any{}, AuthData: authData}
	if format == "packed" {
		sig, err := cred.sign(authData, clientDataJSON, cer.badSignature)
		if err != nil {
			return nil, nil, err
		}
		att.AttStmt = map[string]any{"alg": cred.Key.COSEAlg(), "sig": sig}
	}
	attObj, err := ctap2.Marshal(att)
	if err != nil {
		return nil, nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(cred.pub)
	if err != nil {
		return nil, nil, err
	}
	transports := a.Options.Transports
	if cer.transports != nil {
		transports = cer.transports
	}
	ext := map[string]any{}
	if extra.PublicKey.Extensions.CredProps {
		ext["credProps"] = map[string]bool{"rk": true}
	}
	out, err := json.Marshal(registrationResponseJSON{
		ID: cred.IDString(), RawID: cred.IDString(), Type: "public-key",
		AuthenticatorAttachment: a.Options.Attachment,
		Response: attestationResponseJSON{
			ClientDataJSON: b64(clientDataJSON), AuthenticatorData: b64(authData),
			Transports: transports, PublicKey: b64(spki), PublicKeyAlgorithm: cred.Key.COSEAlg(),
			AttestationObject: b64(attObj),
		},
		ClientExtensionResults: ext,
	})
	if err != nil {
		return nil, nil, err
	}

	// A discoverable credential for the same RP and user replaces the old one.
	a.mu.Lock()
	a.creds = slices.DeleteFunc(a.creds, func(c *Credential) bool {
		return c.RPID == cred.RPID && bytes.Equal(c.UserHandle, cred.UserHandle)
	})
	a.creds = append(a.creds, cred)
	a.mu.Unlock()
	return out, cred, nil
}

// Login answers navigator.credentials.get() for the server's
// {"publicKey": PublicKeyCredentialRequestOptionsJSON} with cred (the account
// picked in the browser's chooser) and returns the AuthenticationResponseJSON,
// whose userHandle is the credential's user handle. An error fails the test.
func (a *Authenticator) Login(optionsJSON []byte, cred *Credential, mods ...Mod) []byte {
	if a.Options.T != nil {
		a.Options.T.Helper()
	}
	resp, err := a.TryLogin(optionsJSON, cred, mods...)
	if err != nil {
		a.fail(err)
	}
	return resp
}

// TryLogin is Login returning errors.
func (a *Authenticator) TryLogin(optionsJSON []byte, cred *Credential, mods ...Mod) ([]byte, error) {
	var cer ceremony
	for _, m := range mods {
		m(&cer)
	}
	if !bytes.Contains(optionsJSON, []byte(`"publicKey"`)) {
		return nil, fmt.Errorf("request options are not {\"publicKey\":{...}}: %s", optionsJSON)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(optionsJSON))
	if err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	rpID := opts.RelyingPartyID
	if rpID == "" {
		rpID = hostOf(a.Options.Origin)
	}
	if err := checkRPID(rpID, a.Options.Origin); err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, errors.New("no credential")
	}
	if cred.RPID != rpID {
		return nil, fmt.Errorf("NotAllowedError: credential is for RP %q, not %q", cred.RPID, rpID)
	}
	if len(opts.AllowCredentials) > 0 && !slices.Contains(opts.AllowCredentials, cred.IDString()) {
		return nil, errors.New("NotAllowedError: credential not in allowCredentials")
	}
	counter := a.nextCounter(cred, cer)
	authData := slices.Concat(rpIDHash(cer, rpID), []byte{a.flags(cred, cer, false)}, be32(counter))
	challenge := opts.Challenge
	if cer.challenge != nil {
		challenge = cer.challenge
	}
	clientDataJSON := clientData(cer, "webauthn.get", challenge, a.origin(cer))
	sig, err := cred.sign(authData, clientDataJSON, cer.badSignature)
	if err != nil {
		return nil, err
	}
	handle := cred.UserHandle
	if cer.userHandle != nil {
		handle = *cer.userHandle
	}
	resp := assertionResponseJSON{
		ClientDataJSON: b64(clientDataJSON), AuthenticatorData: b64(authData), Signature: b64(sig),
	}
	if handle != nil {
		resp.UserHandle = b64(handle)
	}
	return json.Marshal(authenticationResponseJSON{
		ID: cred.IDString(), RawID: cred.IDString(), Type: "public-key",
		AuthenticatorAttachment: a.Options.Attachment, Response: resp,
		ClientExtensionResults: map[string]any{},
	})
}

// TamperSignature flips a bit in the signature of an AuthenticationResponseJSON.
func TamperSignature(responseJSON []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(responseJSON, &m); err != nil {
		panic(err)
	}
	r := m["response"].(map[string]any)
	sig, err := base64.RawURLEncoding.DecodeString(r["signature"].(string))
	if err != nil {
		panic(err)
	}
	sig[len(sig)-1] ^= 1
	r["signature"] = b64(sig)
	out, _ := json.Marshal(m)
	return out
}

// ---- keys

// newCredential generates a credential with a fresh key of type k.
func newCredential(k KeyType) *Credential {
	c := &Credential{Key: k}
	switch k {
	case EdDSA:
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		c.ID = randomID()
		c.signer, c.pub = priv, pub
		c.cose, err = ctap2.Marshal(okpKey{Kty: 1, Alg: -8, Crv: 6, X: pub})
		if err != nil {
			panic(err)
		}
		return c
	case RS256:
		c.vw = virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeRSA)
	default:
		c.Key = ES256
		// Regenerate keys whose coordinates virtualwebauthn would encode short.
		for {
			c.vw = virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
			if FullLengthEC2(c.vw.Key.AttestationData()) {
				break
			}
		}
	}
	c.ID = c.vw.ID
	c.cose = c.vw.Key.AttestationData()
	parsed, err := x509.ParsePKCS8PrivateKey(c.vw.Key.Data)
	if err != nil {
		panic(err)
	}
	c.signer = parsed.(crypto.Signer)
	c.pub = c.signer.Public()
	return c
}

func randomID() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// FullLengthEC2 reports whether a COSE EC2 key has 32-byte X and Y coordinates.
func FullLengthEC2(coseKey []byte) bool {
	var k ec2Key
	if err := cbor.Unmarshal(coseKey, &k); err != nil {
		return false
	}
	return k.Kty == 2 && len(k.X) == 32 && len(k.Y) == 32
}

type ec2Key struct {
	Kty int64  `cbor:"1,keyasint"`
	Alg int64  `cbor:"3,keyasint"`
	Crv int64  `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint"`
}

type okpKey struct {
	Kty int64  `cbor:"1,keyasint"`
	Alg int64  `cbor:"3,keyasint"`
	Crv int64  `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
}

// sign signs authData || SHA-256(clientDataJSON) as the authenticator does
// (ES256 and RS256 over its SHA-256 digest, EdDSA over the message itself).
func (c *Credential) sign(authData, clientDataJSON []byte, bad bool) ([]byte, error) {
	cdh := sha256.Sum256(clientDataJSON)
	msg := slices.Concat(authData, cdh[:])
	if bad {
		msg[len(msg)-1] ^= 0xff
	}
	if c.Key == EdDSA {
		return c.signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	digest := sha256.Sum256(msg)
	return c.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
}

// ---- assembly

var ctap2 = func() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

type attestationObject struct {
	Fmt      string         `cbor:"fmt"`
	AttStmt  map[string]any `cbor:"attStmt"`
	AuthData []byte         `cbor:"authData"`
}

func (a *Authenticator) origin(cer ceremony) string {
	if cer.origin != "" {
		return cer.origin
	}
	return a.Options.Origin
}

func (a *Authenticator) nextCounter(cred *Credential, cer ceremony) uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case cer.counter != nil:
		cred.Counter = *cer.counter
	case cred.CounterMode == CounterZero:
		cred.Counter = 0
	default:
		cred.Counter++
	}
	return cred.Counter
}

// flags: UP, UV, BE, BS and (at registration) AT.
func (a *Authenticator) flags(cred *Credential, cer ceremony, attested bool) byte {
	up, uv, be, bs := true, !cred.NoUV, cred.BE, cred.BS
	if cer.up != nil {
		up = *cer.up
	}
	if cer.uv != nil {
		uv = *cer.uv
	}
	if cer.be != nil {
		be = *cer.be
	}
	if cer.bs != nil {
		bs = *cer.bs
	}
	var f byte
	for bit, on := range map[byte]bool{0: up, 2: uv, 3: be, 4: bs, 6: attested} {
		if on {
			f |= 1 << bit
		}
	}
	return f
}

func rpIDHash(cer ceremony, rpID string) []byte {
	if cer.rpID != "" {
		rpID = cer.rpID
	}
	h := sha256.Sum256([]byte(rpID))
	return h[:]
}

// clientData serialises CollectedClientData as browsers do (member order
// type, challenge, origin, crossOrigin).
func clientData(cer ceremony, typ string, challenge []byte, origin string) []byte {
	if cer.typ != "" {
		typ = cer.typ
	}
	b, err := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, b64(challenge), origin, cer.crossOrigin})
	if err != nil {
		panic(err)
	}
	return b
}

type registrationResponseJSON struct {
	ID                      string                  `json:"id"`
	RawID                   string                  `json:"rawId"`
	Response                attestationResponseJSON `json:"response"`
	AuthenticatorAttachment string                  `json:"authenticatorAttachment,omitempty"`
	ClientExtensionResults  map[string]any          `json:"clientExtensionResults"`
	Type                    string                  `json:"type"`
}

type attestationResponseJSON struct {
	ClientDataJSON     string   `json:"clientDataJSON"`
	AuthenticatorData  string   `json:"authenticatorData"`
	Transports         []string `json:"transports"`
	PublicKey          string   `json:"publicKey,omitempty"`
	PublicKeyAlgorithm int64    `json:"publicKeyAlgorithm"`
	AttestationObject  string   `json:"attestationObject"`
}

type authenticationResponseJSON struct {
	ID                      string                `json:"id"`
	RawID                   string                `json:"rawId"`
	Response                assertionResponseJSON `json:"response"`
	AuthenticatorAttachment string                `json:"authenticatorAttachment,omitempty"`
	ClientExtensionResults  map[string]any        `json:"clientExtensionResults"`
	Type                    string                `json:"type"`
}

type assertionResponseJSON struct {
	ClientDataJSON    string `json:"clientDataJSON"`
	AuthenticatorData string `json:"authenticatorData"`
	Signature         string `json:"signature"`
	UserHandle        string `json:"userHandle,omitempty"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func be16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

func be32(n uint32) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

func hostOf(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// checkRPID is the browser's check that the RP ID is the origin's host or a
// registrable suffix of it (SecurityError otherwise).
func checkRPID(rpID, origin string) error {
	host := hostOf(origin)
	if rpID == host || strings.HasSuffix(host, "."+rpID) {
		return nil
	}
	return fmt.Errorf("SecurityError: RP ID %q is not valid for origin %q", rpID, origin)
}
