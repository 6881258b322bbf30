package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/loadtest"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
)

// seedKeys writes a keys file of n customers as kagi loadtest --seed does,
// into a throw-away SQLite store (the floor server reads the file only).
func seedKeys(t *testing.T, n int) *loadtest.KeySet {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "kagi.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ks, err := loadtest.Seed(t.Context(), db, loadtest.SeedOptions{
		N: n, KeysPath: filepath.Join(dir, loadtest.KeysFile), RPID: "localhost", Batch: 10,
		Sealer:       nopSealer{},
		HashPassword: func(string) (string, error) { return "unused", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// nopSealer stands in for the server's key: the floor never reads TOTP secrets.
type nopSealer struct{}

func (nopSealer) Seal(b, _ []byte) []byte { return b }

// serve starts the floor server on 127.0.0.1 and returns the origin the driver uses.
func serve(t *testing.T, ks *loadtest.KeySet) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	h, err := newServer(ks, origin)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return origin
}

// TestDriverAgainstFloor: the driver's logins succeed against the floor
// server, so its figures measure logins, not errors.
func TestDriverAgainstFloor(t *testing.T) {
	ks := seedKeys(t, 20)
	origin := serve(t, ks)
	rep, err := loadtest.Run(t.Context(), loadtest.Options{
		URL: origin, Mode: loadtest.ModePasskey, Concurrency: 4, Duration: time.Second, Warmup: 100 * time.Millisecond, Keys: ks,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Logins == 0 || rep.Failed != 0 || len(rep.Errors) != 0 {
		t.Fatalf("%d logins, %d failed: %v", rep.Logins, rep.Failed, rep.Errors)
	}
}

// TestFloorChecks: the floor does the checks it claims to measure — a
// challenge is used once, and a signature over other data is refused.
func TestFloorChecks(t *testing.T) {
	ks := seedKeys(t, 1)
	origin := serve(t, ks)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	post := func(path string, body []byte) (int, []byte) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, origin+path, bytes.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	status, opts := post("/api/login/passkey/options", []byte("{}"))
	if status != 200 {
		t.Fatalf("options: %d", status)
	}
	good, err := loadtest.Sign(opts, ks, 0, 10, origin)
	if err != nil {
		t.Fatal(err)
	}
	// The same assertion with a counter the signature does not cover: refused,
	// and the ceremony is used up.
	bad := tamperCounter(t, good)
	if status, _ := post("/api/login/passkey", bad); status != http.StatusBadRequest {
		t.Fatalf("tampered signature: %d, want 400", status)
	}
	if status, _ := post("/api/login/passkey", good); status != http.StatusBadRequest {
		t.Fatalf("second use of a ceremony: %d, want 400", status)
	}
	if status, opts = post("/api/login/passkey/options", []byte("{}")); status != 200 {
		t.Fatalf("options: %d", status)
	}
	good, _ = loadtest.Sign(opts, ks, 0, 11, origin)
	if status, body := post("/api/login/passkey", good); status != 200 || !bytes.Contains(body, []byte(`"done"`)) {
		t.Fatalf("valid assertion: %d %s", status, body)
	}
}

// tamperCounter raises the counter in an assertion's authenticator data
// without signing again.
func tamperCounter(t *testing.T, assertion []byte) []byte {
	t.Helper()
	var a map[string]any
	if err := json.Unmarshal(assertion, &a); err != nil {
		t.Fatal(err)
	}
	resp := a["response"].(map[string]any)
	ad, err := base64.RawURLEncoding.DecodeString(resp["authenticatorData"].(string))
	if err != nil || len(ad) != 37 {
		t.Fatalf("authenticator data: %v, %d bytes", err, len(ad))
	}
	ad[36]++
	resp["authenticatorData"] = base64.RawURLEncoding.EncodeToString(ad)
	out, _ := json.Marshal(a)
	return out
}
