// Package aaguid names passkey providers from their AAGUID, for display only
// (SPEC K6): the name is never a trust decision.
package aaguid

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed passkey-aaguids.json
var data []byte

var names = func() map[string]string {
	var raw map[string]struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		panic(fmt.Sprintf("aaguid: embedded list: %v", err))
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		m[k] = v.Name
	}
	return m
}()

// Format renders 16 bytes as a lowercase UUID; anything else as "".
func Format(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Known returns the provider's name for an AAGUID, if listed.
func Known(b []byte) (string, bool) {
	n, ok := names[Format(b)]
	return n, ok && n != ""
}

// Kind is what the transports tell of an unlisted authenticator.
type Kind int

const (
	KindUnknown     Kind = iota
	KindSecurityKey      // usb, nfc or ble: a roaming key
	KindPhone            // hybrid: a phone used across devices
)

// KindOf guesses a kind from the transports the browser reported.
func KindOf(transports []string) Kind {
	switch {
	case slices.Contains(transports, "internal"):
		return KindUnknown // a platform authenticator with no listed name
	case slices.Contains(transports, "usb"), slices.Contains(transports, "nfc"), slices.Contains(transports, "ble"):
		return KindSecurityKey
	case slices.Contains(transports, "hybrid"):
		return KindPhone
	}
	return KindUnknown
}
