package e2e

import (
	"bytes"
	"context"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Authenticator is a DevTools virtual authenticator on the browser's tab:
// by default a platform authenticator (CTAP 2.1, internal transport,
// resident keys, user verification) such as Windows Hello, Touch ID or an
// Android phone's screen lock.
type Authenticator struct {
	b    *Browser
	ID   webauthn.AuthenticatorID
	Opts webauthn.VirtualAuthenticatorOptions
}

// AuthenticatorConfig is what differs between the tests' authenticators.
type AuthenticatorConfig struct {
	// NoUV makes a device without face, fingerprint or PIN: it cannot
	// perform user verification (SPEC K2, Check3).
	NoUV bool
	// Synced sets the backup flags (BE=1, BS=1) on every credential it
	// creates, like iCloud Keychain or Google Password Manager; otherwise
	// BE=0, BS=0: a device-bound passkey (SPEC K6, K10).
	Synced bool
}

// AddAuthenticator plugs a virtual authenticator into the tab. Every option
// is set explicitly: automatic presence simulation answers every "touch"
// at once, and user verification succeeds when the device has it.
//
// Keep one authenticator plugged in at a time. Chromium allows one internal
// (platform) virtual authenticator per tab, and with several virtual
// authenticators a creation request reaches all of them: each makes a
// credential, and a discoverable request may be answered by one that holds
// none ("not allowed"). Unplug one device, saving Credentials, before
// plugging in the next; AddCredential plugs a saved passkey back.
func (b *Browser) AddAuthenticator(c AuthenticatorConfig) *Authenticator {
	b.t.Helper()
	opts := webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Ctap2version:                webauthn.Ctap2versionCtap21,
		Transport:                   webauthn.AuthenticatorTransportInternal,
		HasResidentKey:              true,
		HasUserVerification:         !c.NoUV,
		IsUserVerified:              true,
		AutomaticPresenceSimulation: true,
		DefaultBackupEligibility:    c.Synced,
		DefaultBackupState:          c.Synced,
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &opts})
	if err != nil {
		b.fatalf("add a virtual authenticator: %v", err)
	}
	a := &Authenticator{b: b, ID: res.AuthenticatorID, Opts: opts}
	b.auths = append(b.auths, a)
	return a
}

// Credentials lists the credentials the authenticator holds, with their
// private keys (so AddCredential can put them back).
func (a *Authenticator) Credentials() []*webauthn.Credential {
	a.b.t.Helper()
	res, err := chromedp.Call(a.b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.ID})
	if err != nil {
		a.b.fatalf("list the credentials of authenticator %s: %v", a.ID, err)
	}
	return res.Credentials
}

// RemoveCredential deletes one credential from the authenticator, as a
// customer does in the password manager's settings.
func (a *Authenticator) RemoveCredential(id []byte) {
	a.b.t.Helper()
	if _, err := chromedp.Call(a.b.ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: a.ID, CredentialID: id}); err != nil {
		a.b.fatalf("remove a credential from authenticator %s: %v", a.ID, err)
	}
}

// AddCredential puts a credential (as Credentials returned it) back.
//
// webauthn.AddCredentialParams cannot be used for that: its Credential always
// sends generateCmtgKeyOnNextOperation, which Chromium refuses on an
// authenticator without the cmtgKey extension ("CMTG is not supported by
// this authenticator"), so this sends the WebAuthn.addCredential command with
// the fields of a plain passkey only.
func (a *Authenticator) AddCredential(c *webauthn.Credential) {
	a.b.t.Helper()
	type credential struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle,omitempty"`
		SignCount            float64 `json:"signCount"`
		BackupEligibility    bool    `json:"backupEligibility"`
		BackupState          bool    `json:"backupState"`
		UserName             string  `json:"userName,omitempty"`
		UserDisplayName      string  `json:"userDisplayName,omitempty"`
	}
	params := struct {
		AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential               `json:"credential"`
	}{a.ID, credential{
		CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
		PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: c.SignCount,
		BackupEligibility: c.BackupEligibility, BackupState: c.BackupState,
		UserName: c.UserName, UserDisplayName: c.UserDisplayName,
	}}
	err := chromedp.Do(a.b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		return t.Call(ctx, webauthn.CommandAddCredential, params, nil)
	}))
	if err != nil {
		a.b.fatalf("add a credential to authenticator %s: %v", a.ID, err)
	}
}

// SetUserVerified makes user verification succeed or fail: a finger the
// sensor does not recognise, a wrong PIN, or the customer cancelling the
// prompt. With false, a request ends within milliseconds with
// NotAllowedError, the error a cancelled prompt gives the page (browsers do
// not tell the page which it was), so the tests cancel this way. The other
// ways are slow: with no authenticator, or with automatic presence
// simulation off, the request waits for its timeout (a minute or more).
func (a *Authenticator) SetUserVerified(ok bool) {
	a.b.t.Helper()
	if _, err := chromedp.Call(a.b.ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: a.ID, IsUserVerified: ok}); err != nil {
		a.b.fatalf("set user verification of authenticator %s: %v", a.ID, err)
	}
}

// Unplug removes the authenticator from the tab.
func (a *Authenticator) Unplug() {
	a.b.t.Helper()
	if _, err := chromedp.Call(a.b.ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: a.ID}); err != nil {
		a.b.fatalf("remove authenticator %s: %v", a.ID, err)
	}
	for i, x := range a.b.auths {
		if x == a {
			a.b.auths = append(a.b.auths[:i], a.b.auths[i+1:]...)
			break
		}
	}
}

// HandleCount counts the credentials on the authenticator whose user handle
// is handle (the customer's random WebAuthn user ID, store.Customer.UserHandle).
func (a *Authenticator) HandleCount(handle []byte) int {
	a.b.t.Helper()
	n := 0
	for _, c := range a.Credentials() {
		if bytes.Equal(c.UserHandle, handle) {
			n++
		}
	}
	return n
}

// ChooseAccount plays the customer picking one account in the browser's
// passkey account chooser, for the next "パスキーでログイン".
//
// Chromium's virtual authenticators have no chooser: with the WebAuthn
// domain's UI disabled (the default of WebAuthn.enable), a discoverable
// request that matches several credentials is answered with one of them
// that the test cannot choose (in practice always the same one). What the
// test can choose is what the authenticator holds, so ChooseAccount takes
// every credential whose user handle is not handle off the authenticator
// (WebAuthn.getCredentials returns each credential with its private key and
// sign count), and the returned func puts them back unchanged
// (AddCredential). Between the two the authenticator can only answer with
// the chosen customer's passkey, which is what the chooser would have
// returned. Call the restore func once the login's outcome is checked.
func (a *Authenticator) ChooseAccount(handle []byte) (restore func()) {
	a.b.t.Helper()
	return a.hide(func(c *webauthn.Credential) bool { return !bytes.Equal(c.UserHandle, handle) })
}

// HideAll takes every credential off the authenticator until the returned
// func puts them back: a browser that offers no passkey, for a page whose
// autofill request the authenticator would otherwise answer by itself.
func (a *Authenticator) HideAll() (restore func()) {
	a.b.t.Helper()
	return a.hide(func(*webauthn.Credential) bool { return true })
}

func (a *Authenticator) hide(which func(*webauthn.Credential) bool) (restore func()) {
	a.b.t.Helper()
	var hidden []*webauthn.Credential
	for _, c := range a.Credentials() {
		if which(c) {
			a.RemoveCredential(c.CredentialID)
			hidden = append(hidden, c)
		}
	}
	return func() {
		a.b.t.Helper()
		for _, c := range hidden {
			a.AddCredential(c)
		}
	}
}

// ChooseAccount is Authenticator.ChooseAccount on every plugged-in
// authenticator.
func (b *Browser) ChooseAccount(handle []byte) (restore func()) {
	b.t.Helper()
	var rs []func()
	for _, a := range b.auths {
		rs = append(rs, a.ChooseAccount(handle))
	}
	return func() { b.t.Helper(); runAll(rs) }
}

// HideCredentials is Authenticator.HideAll on every plugged-in authenticator.
func (b *Browser) HideCredentials() (restore func()) {
	b.t.Helper()
	var rs []func()
	for _, a := range b.auths {
		rs = append(rs, a.HideAll())
	}
	return func() { b.t.Helper(); runAll(rs) }
}

func runAll(fs []func()) {
	for _, f := range fs {
		f()
	}
}
