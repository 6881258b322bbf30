package cli

import (
	"testing"

	"github.com/kagi-auth/kagi/internal/auth"
)

// serve raises GOGC and caps the heap softly, unless the operator set either.
func TestGCSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	p, l := gcSettings(env(nil), 1)
	if p != serveGCPercent || l != 512<<20+2*auth.HashMemory {
		t.Errorf("defaults: GOGC %d, limit %d", p, l)
	}
	if _, l8 := gcSettings(env(nil), 8); l8-l != 7*2*auth.HashMemory {
		t.Errorf("the limit grows by twice the hashing memory per slot: %d against %d", l8, l)
	}
	p, l = gcSettings(env(map[string]string{"GOGC": "100", "GOMEMLIMIT": "2GiB"}), 1)
	if p != -1 || l != -1 {
		t.Errorf("operator's GOGC and GOMEMLIMIT overridden: %d, %d", p, l)
	}
}
