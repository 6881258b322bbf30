package loadtest

// The minimal software authenticator of the driver. It does what
// internal/testenv/authenticator.go does for a login with an ES256 passkey
// (that package imports testing and cannot be used here): authenticator data
// with UP and UV set and a counter that increases at every login, the client
// data a browser writes, an ASN.1 ECDSA signature over
// authenticatorData || SHA-256(clientDataJSON), and the W3C WebAuthn Level 3
// JSON of PublicKeyCredential.toJSON().

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 1 << 0
	flagUV = 1 << 2
)

// newKey generates a customer's passkey: a P-256 key, a random credential ID
// and user handle (32 bytes each, as kagi and platform authenticators make them).
func newKey(code string) (*Key, []byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	d, err := priv.Bytes()
	if err != nil {
		return nil, nil, err
	}
	k := &Key{Code: code, UserHandle: make([]byte, 32), CredentialID: make([]byte, 32), PrivateKey: d, priv: priv}
	rand.Read(k.UserHandle)
	rand.Read(k.CredentialID)
	cose, err := coseES256(&priv.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return k, cose, nil
}

// coseES256 encodes an ES256 public key as the COSE_Key an authenticator puts
// into its attested credential data, in CTAP2 canonical CBOR:
// {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
func coseES256(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 || X (32) || Y (32)
	if err != nil {
		return nil, err
	}
	if len(raw) != 65 || raw[0] != 4 {
		return nil, errors.New("loadtest: not an uncompressed P-256 point")
	}
	out := make([]byte, 0, 77)
	out = append(out, 0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20)
	out = append(out, raw[1:33]...)
	out = append(out, 0x22, 0x58, 0x20)
	return append(out, raw[33:]...), nil
}

// requestOptions is what the driver reads of {"publicKey": PublicKeyCredentialRequestOptionsJSON}.
type requestOptions struct {
	PublicKey *struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

type assertionJSON struct {
	ID                      string        `json:"id"`
	RawID                   string        `json:"rawId"`
	Response                assertionResp `json:"response"`
	AuthenticatorAttachment string        `json:"authenticatorAttachment"`
	ClientExtensionResults  struct{}      `json:"clientExtensionResults"`
	Type                    string        `json:"type"`
}

type assertionResp struct {
	ClientDataJSON    string `json:"clientDataJSON"`
	AuthenticatorData string `json:"authenticatorData"`
	Signature         string `json:"signature"`
	UserHandle        string `json:"userHandle"`
}

type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

var b64 = base64.RawURLEncoding

// sign answers navigator.credentials.get() for the server's options with k,
// signing counter, and returns the AuthenticationResponseJSON. rpID is the RP
// ID the keys were seeded for: as a browser does, the authenticator refuses
// options of another one.
func sign(optionsJSON []byte, k *Key, counter uint32, rpID, origin string) ([]byte, error) {
	var opts requestOptions
	if err := json.Unmarshal(optionsJSON, &opts); err != nil || opts.PublicKey == nil {
		return nil, fmt.Errorf("request options are not {\"publicKey\":{...}}")
	}
	o := opts.PublicKey
	if o.RPID != "" && o.RPID != rpID {
		return nil, fmt.Errorf("NotAllowedError: the keys are for RP ID %q, the server asks for %q", rpID, o.RPID)
	}
	if len(o.AllowCredentials) > 0 {
		return nil, errors.New("the server listed allowCredentials: not a discoverable login")
	}
	if _, err := b64.DecodeString(o.Challenge); err != nil || o.Challenge == "" {
		return nil, errors.New("request options without a base64url challenge")
	}
	priv, err := k.signer()
	if err != nil {
		return nil, err
	}
	rpHash := sha256.Sum256([]byte(rpID))
	authData := make([]byte, 0, 37)
	authData = append(authData, rpHash[:]...)
	authData = append(authData, flagUP|flagUV, byte(counter>>24), byte(counter>>16), byte(counter>>8), byte(counter))
	cd, err := json.Marshal(clientData{Type: "webauthn.get", Challenge: o.Challenge, Origin: origin})
	if err != nil {
		return nil, err
	}
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(authData[:len(authData):len(authData)], cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, err
	}
	id := b64.EncodeToString(k.CredentialID)
	return json.Marshal(assertionJSON{
		ID: id, RawID: id, Type: "public-key", AuthenticatorAttachment: "platform",
		Response: assertionResp{
			ClientDataJSON: b64.EncodeToString(cd), AuthenticatorData: b64.EncodeToString(authData),
			Signature: b64.EncodeToString(sig), UserHandle: b64.EncodeToString(k.UserHandle),
		},
	})
}

// counterEpoch and counterRate define the floor under every signature counter
// the driver signs: 16 per second since 2026. Counters are also remembered in
// the state file; the floor keeps them increasing after a run that could not
// save its state (killed), as long as no passkey logged in more than 16 times a
// second on average. A counter that does not increase would get the passkey
// suspended as a suspected clone (K10).
var counterEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const counterRate = 16

func counterFloor(now time.Time) uint32 {
	d := now.Sub(counterEpoch)
	if d <= 0 {
		return 0
	}
	return uint32(d / (time.Second / counterRate))
}

// Sign is the driver's authenticator answering the request options of a
// passkey login for the idx-th seeded customer with the given counter, as
// from origin. It is for tests of other servers the driver runs against.
func Sign(optionsJSON []byte, ks *KeySet, idx int, counter uint32, origin string) ([]byte, error) {
	if idx < 0 || idx >= len(ks.Keys) {
		return nil, fmt.Errorf("no key %d", idx)
	}
	return sign(optionsJSON, ks.Keys[idx], counter, ks.RPID, origin)
}
