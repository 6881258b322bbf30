package config

import (
	"strings"
	"testing"
)

// O4: the operator console has a listener and an origin of its own, never
// the customer site's; an empty --console-addr runs none.
func TestConsoleOptions_O4(t *testing.T) {
	c, _, _, err := parseArgs(t)
	if err != nil || c.ConsoleAddr != "127.0.0.1:8081" || c.ConsoleOrigin != "http://localhost:8081" || c.ConsoleRPID() != "localhost" {
		t.Fatalf("defaults: %v %q %q", err, c.ConsoleAddr, c.ConsoleOrigin)
	}
	c, _, _, err = parseArgs(t, "--console-origin", "https://console.internal.example.jp", "--console-addr", "10.0.0.5:8081")
	if err != nil || c.ConsoleRPID() != "console.internal.example.jp" {
		t.Fatalf("internal name: %v %q", err, c.ConsoleRPID())
	}
	if _, _, _, err := parseArgs(t, "--console-addr", "", "--console-origin", "nonsense"); err != nil {
		t.Fatalf("no console, origin unchecked: %v", err)
	}
	for _, args := range [][]string{
		{"--console-origin", "http://console.internal.example.jp"},
		{"--console-origin", "https://10.0.0.5:8081"},
		{"--console-origin", "ftp://console.example.jp"},
		{"--console-origin", "https://console.example.jp/path"},
		{"--console-origin", "http://localhost:8080"},
		{"--console-addr", "127.0.0.1:8080"},
	} {
		if _, _, _, err := parseArgs(t, args...); err == nil || !strings.Contains(err.Error(), "--console-") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// The development mailbox shows every one-time code to whoever reaches it:
// allowed on another origin, but never silently.
func TestDevMailboxWarning(t *testing.T) {
	c, _, _, err := parseArgs(t)
	if err != nil || !c.Dev || len(c.Warnings()) != 0 {
		t.Fatalf("localhost: %v dev=%v %q", err, c.Dev, c.Warnings())
	}
	c, _, _, err = parseArgs(t, "--origin", "https://trade.example.jp", "--secret-key", key)
	if err != nil || c.Dev || len(c.Warnings()) != 0 {
		t.Fatalf("production origin: %v dev=%v %q", err, c.Dev, c.Warnings())
	}
	c, _, _, err = parseArgs(t, "--origin", "https://staging.example.jp", "--dev")
	if err != nil || !c.Dev {
		t.Fatalf("--dev on another origin: %v dev=%v", err, c.Dev)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "https://staging.example.jp/dev/mail") {
		t.Fatalf("warnings: %q", w)
	}
}
