package auth

import (
	"errors"
	"fmt"
)

// Stable machine codes of domain errors. The web layer maps each to an HTTP
// status and a localized sentence (locale key "error.<code>"); the wrapped Err
// is for the log only.
const (
	CodeInvalidCredentials = "invalid_credentials"
	CodeAccountLocked      = "account_locked"
	CodeAccountFrozen      = "account_frozen"
	CodeInvalidCode        = "invalid_code"
	CodeCodeExpired        = "code_expired"
	CodeTooManyAttempts    = "too_many_attempts"
	CodeResendWait         = "code_resend_wait"
	CodeNotAuthenticated   = "not_authenticated"
	CodeSessionExpired     = "session_expired"
	CodeSetupRequired      = "setup_required"
	CodeAlreadySetUp       = "already_set_up"
	CodeInvalidEmail       = "invalid_email"
	CodeInvalidRequest     = "invalid_request"
	CodeEmailNotVerified   = "email_not_verified"
	CodeStepUpRequired     = "step_up_required"
	CodePasskeyLimit       = "passkey_limit_reached"
	CodePasskeyFailed      = "passkey_failed"
	CodePasskeyUV          = "passkey_user_verification"
	CodePasskeyUnknown     = "passkey_unknown"
	CodePasskeySuspended   = "passkey_suspended"
	CodeNotFound           = "not_found"
	CodeServerBusy         = "server_busy"
	CodeRateLimited        = "rate_limited"
)

// Error is a domain failure with a code safe to show and an internal cause.
type Error struct {
	Code string
	Args []any // arguments of the localized message (e.g. the passkey limit)
	Err  error // what went wrong, for the log
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(code string, cause error, args ...any) *Error {
	return &Error{Code: code, Err: cause, Args: args}
}

// ErrorCode returns the domain code of err, or "" if it is not a domain error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, ErrBusy) {
		return CodeServerBusy
	}
	return ""
}
