package auth

import (
	"crypto/subtle"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP returns the time step whose code equals code, allowing one step of
// clock skew either way, or 0. The caller stores the step so it is never
// accepted again (RFC 6238 §5.2).
func matchTOTP(secret, code string, now time.Time) int64 {
	if len(code) != 6 {
		return 0
	}
	cur := now.Unix() / totpPeriod
	var found int64
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0
		}
		// Every step is compared so timing does not reveal which one matched.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found
}

// TOTPCode is the current code for secret; the demo and tests use it.
func TOTPCode(secret string, now time.Time) string {
	code, _ := totp.GenerateCodeCustom(secret, now, totpOpts)
	return code
}
