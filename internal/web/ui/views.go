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
	CustomerCode     string // prefills the customer code field after a failed attempt
	PasskeyAvailable bool   // false renders the passkey button disabled with a "coming soon" note
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
