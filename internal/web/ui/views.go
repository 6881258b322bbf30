package ui

import "html/template"

// Base is embedded in every view. Handlers fill it; the layout reads it.
type Base struct {
	// Lang is "ja" or "en" (locale.Negotiate); anything else renders in Japanese.
	Lang string
	// Title overrides the page's own <title> when set (already localized).
	Title string
	// Path is the current path (and query, without lang=) that the language
	// switch links point to. Only local paths are used; "" means "/".
	Path string

	LoggedIn     bool
	CustomerCode string

	// SiteName defaults to the catalog's site.name ("ホームトレード").
	SiteName string
	// Brokerage is the company's name for the header and footer; empty falls
	// back to the catalog's site.brokerage.
	Brokerage string
	// CallCenter, Phone and Hours describe the call center, e.g.
	// "テレホントレードセンター", "0120-99-1234", "8:45〜16:00".
	CallCenter, Phone, Hours string

	// Notice and Error are already-localized one-line messages shown in a
	// banner: Notice with role="status", Error with role="alert".
	Notice, Error string
}

// Language reports the view's language.
func (b Base) Language() string { return b.Lang }

// base lets the renderer read Base from any view that embeds it.
func (b Base) base() Base { return b }

// baser is satisfied by Base and by every struct that embeds it, by value or
// by pointer.
type baser interface{ base() Base }

// LoginView is the login page: a password form POSTed to /login
// (customer_code, password) and the "パスキーでログイン" button.
type LoginView struct {
	Base
	CustomerCode     string      // prefills the customer code field after a failed attempt
	PasskeyAvailable bool        // false renders the passkey button disabled with a "coming soon" note
	Phase            PhaseNotice // the published passkey schedule (P1); zero shows nothing
}

// SecondFactorView asks for the one-time code after the password
// (POST /login/second-factor, field code).
type SecondFactorView struct {
	Base
	Method      string // "totp" or "email"
	MaskedEmail string // shown when Method is "email", e.g. "ta***@example.jp"
}

// SetupEmailView is step 1 of the initial setup (POST /setup/email, field email).
type SetupEmailView struct {
	Base
	Email string
}

// SetupEmailVerifyView is step 2 of the initial setup
// (POST /setup/email/verify, field code; POST /setup/email/resend).
type SetupEmailVerifyView struct {
	Base
	Email string
}

// SetupMethodView is step 3 of the initial setup
// (POST /setup/method, field method = "totp" | "email").
type SetupMethodView struct {
	Base
}

// SetupTOTPView enrolls an authenticator app (POST /setup/totp, field code).
type SetupTOTPView struct {
	Base
	QRDataURL template.URL // data:image/png;base64,...
	Secret    string       // the key, grouped in 4s for manual entry
}

// AccountView is 登録情報照会 (registered information).
type AccountView struct {
	Base
	Email             string
	SecondFactor      string // "totp" | "email"
	SessionMethod     string // "password_totp" | "password_email" | "passkey"
	AuthenticatedAt   string // preformatted in JST
	PasskeysAvailable bool
	PasskeyCount      int
	// PasskeyOffer shows, above everything else, a card offering to create a
	// passkey in one step (K12): the shared-PC question and a create button
	// (#passkey-register, the same script as the passkeys page). Set it after
	// a password login when the customer has no passkey yet.
	PasskeyOffer bool
	// Signal feeds the WebAuthn Signal API (K11); a zero value signals nothing.
	Signal SignalData
	// Phase is the published passkey schedule (P1), with HasPasskey set.
	Phase PhaseNotice
}

// PasskeyItem is one row of the passkey list (K6).
type PasskeyItem struct {
	ID   int64
	Name string // customer-editable
	// Authenticator is the name from the AAGUID, e.g. "iCloud キーチェーン",
	// "Google パスワードマネージャー", "Windows Hello", or a neutral default /
	// "セキュリティキー" (catalog keys passkey.authenticator.*).
	Authenticator string
	Synced        bool   // backup state BS: 同期 (cloud) vs この端末のみ (device-bound)
	Shared        bool   // registered on a PC the customer said is shared (K14)
	Suspended     bool   // suspended as possibly cloned (K10): badge and "call the center"
	CreatedAt     string // preformatted JST
	LastUsedAt    string // preformatted JST, "" if never
	CredentialID  string // base64url, for the Signal API
}

// PasskeysView is パスキー登録・一覧 (GET /account/passkeys; 口座情報 ›
// お客様情報 › 登録情報照会 › パスキー登録). What the registration card shows
// is decided in this order: !EmailVerified → refusal with a link to
// /guide/start; LimitReached → the limit message; !StepUpValid → the
// re-verification forms (POST /account/passkeys/verify/send for "email",
// POST /account/passkeys/verify with field code); else the registration
// form, which static/js/passkeys.js drives through the JSON API.
type PasskeysView struct {
	Base
	Passkeys      []PasskeyItem // every passkey not revoked, suspended ones included (shown with a badge)
	Limit         int
	LimitReached  bool   // len(active) >= Limit: said plainly; no register button (K3)
	EmailVerified bool   // false: registration refused with the way to initial setup (K2 Check1)
	StepUpValid   bool   // re-verified recently: show the registration form, else the re-verification form
	SecondFactor  string // "totp" | "email": which re-verification form to show
	MaskedEmail   string
	Signal        SignalData // for the WebAuthn Signal API (K11)
}

// ActiveCount is the number of passkeys that are not suspended: the "n" of
// "n / Limit 件登録済み", the same count LimitReached is decided on.
func (v PasskeysView) ActiveCount() int {
	n := 0
	for _, p := range v.Passkeys {
		if !p.Suspended {
			n++
		}
	}
	return n
}

// SignalData feeds the WebAuthn Signal API (K11) through the hidden
// #passkey-signal element; the page script calls
// signalAllAcceptedCredentials and signalCurrentUserDetails at every load.
// Nothing is signalled while RPID or UserID is empty.
type SignalData struct {
	RPID          string
	UserID        string   // base64url WebAuthn user handle
	Name          string   // user.name as stored in the passkey
	DisplayName   string   // user.displayName
	CredentialIDs []string // base64url of every ACTIVE passkey
}

// PasskeyDeleteView is the confirmation page of a deletion
// (GET /account/passkeys/{id}/delete; the form POSTs to the same path).
type PasskeyDeleteView struct {
	Base
	Passkey PasskeyItem
}

// LockedView tells a customer their account is locked and whom to call.
type LockedView struct {
	Base
}

// GuideView is ホームトレードスタートガイド (GET /guide/start).
type GuideView struct {
	Base
}

// ErrorView is a full error page.
type ErrorView struct {
	Base
	Status  int
	Message string // already localized; a generic one is shown when empty
}
