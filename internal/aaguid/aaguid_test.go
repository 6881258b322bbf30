package aaguid

import (
	"encoding/hex"
	"testing"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// K6: names come from the embedded community list; unknown AAGUIDs fall back by transport.
func TestKnown_K6(t *testing.T) {
	if n, ok := Known(mustHex("08987058cadc4b81b6e130de50dcbe96")); !ok || n != "Windows Hello" {
		t.Fatalf("Windows Hello: %q %v", n, ok)
	}
	if _, ok := Known(make([]byte, 16)); ok {
		t.Fatal("all-zero AAGUID named")
	}
	if _, ok := Known([]byte{1, 2}); ok {
		t.Fatal("short AAGUID named")
	}
	if len(names) < 50 {
		t.Fatalf("list has only %d entries", len(names))
	}
	for _, tc := range []struct {
		tr   []string
		want Kind
	}{
		{[]string{"usb"}, KindSecurityKey}, {[]string{"nfc", "usb"}, KindSecurityKey},
		{[]string{"hybrid", "internal"}, KindUnknown}, {[]string{"hybrid"}, KindPhone}, {nil, KindUnknown},
	} {
		if got := KindOf(tc.tr); got != tc.want {
			t.Errorf("KindOf(%v) = %v, want %v", tc.tr, got, tc.want)
		}
	}
}
