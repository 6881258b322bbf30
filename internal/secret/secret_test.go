package secret

import (
	"bytes"
	"crypto/hmac"
	"path/filepath"
	"testing"
)

func testKeys(t *testing.T) *Keys {
	t.Helper()
	k, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// R3: TOTP secrets are encrypted at rest and bound to their owner.
func TestSealOpen(t *testing.T) {
	k := testKeys(t)
	sealed := k.Seal([]byte("JBSWY3DPEHPK3PXP"), []byte("customer:1"))
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := k.Open(sealed, []byte("customer:1"))
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, []byte("customer:2")); err == nil {
		t.Fatal("sealed value opened for another owner")
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, []byte("customer:1")); err == nil {
		t.Fatal("sealed value opened with another key")
	}
	if _, err := k.Open([]byte{1, 2}, nil); err == nil {
		t.Fatal("short value opened")
	}
}

func TestMACSeparatesParts(t *testing.T) {
	k := testKeys(t)
	if hmac.Equal(k.MAC("ab", "c"), k.MAC("a", "bc")) {
		t.Fatal("MAC ambiguous across part boundaries")
	}
	if !hmac.Equal(k.MAC("a", "b"), k.MAC("a", "b")) {
		t.Fatal("MAC not deterministic")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load differs: %v", err)
	}
	if _, err := New(k1); err != nil {
		t.Fatal(err)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="); err != nil {
		t.Fatal(err)
	}
}
