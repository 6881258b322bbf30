package web_test

import (
	"bytes"
	"encoding/base64"
	"flag"
	"html"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/locale"
	"github.com/kagi-auth/kagi/internal/secret"
	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/testenv"
	"github.com/kagi-auth/kagi/internal/web"
	"github.com/kagi-auth/kagi/internal/web/ui"
)

// TestPasswordBusy (issue 8): when the password hasher's every slot stays
// taken for its whole wait, a password login is not queued without bound: the
// API answers 503 with Retry-After and the server_busy problem, the login page
// 503 with Retry-After and the sentence telling the customer to try again or
// to log in with a passkey.
func TestPasswordBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, _ := config.Register(fs)
	if err := config.Parse(fs, cfg, []string{
		"--origin", "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), "--data", t.TempDir(),
		"--rate-limit-ip", "0", "--rate-limit-account", "0",
	}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	st, err := sqlstore.OpenSQLite(t.Context(), cfg.Data, logger)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hasher := auth.NewHasher(1, 20*time.Millisecond) // one slot, a short wait
	svc := auth.New(testenv.AuthConfig(cfg), auth.Deps{Store: st, Keys: keys, Hasher: hasher, Logger: logger})
	if err := svc.EnablePasskeys(auth.RP{ID: cfg.RPID(), Origin: cfg.Origin, Name: cfg.SiteName}); err != nil {
		t.Fatal(err)
	}
	renderer, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(web.NewServer(web.Deps{Config: *cfg, Auth: svc, Store: st, UI: renderer, Logger: logger}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	e := &testenv.Env{T: t, URL: cfg.Origin, Addr: ln.Addr().String()}

	if _, _, err := svc.CreateCustomer(t.Context(), auth.NewCustomer{Code: "70000010", Password: pw, Email: "busy@example.jp", SecondFactor: "totp"}, "test"); err != nil {
		t.Fatal(err)
	}
	// A customer whose stored hash is very costly (64 MiB, 10 passes): a
	// login of theirs holds the only slot for a good while.
	salt := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
	slow := &store.Customer{Code: "70000011", UserHandle: bytes.Repeat([]byte{1}, 32), Lang: "ja", CreatedAt: time.Now(),
		PasswordHash: "$argon2id$v=19$m=65536,t=10,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32))}
	if err := st.CreateCustomer(t.Context(), slow); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		<-done
		srv.Close()
		st.Close()
	})
	before := hasher.Count()
	go func() {
		defer close(done)
		e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": slow.Code, "password": "a wrong password"})
	}()
	for hasher.Count() == before { // the slow hash has the slot
		time.Sleep(time.Millisecond)
	}

	r := e.Client().PostJSON("/api/login/password", map[string]string{"customer_code": "70000010", "password": pw})
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || r.JSON()["code"] != auth.CodeServerBusy {
		t.Fatalf("API: %d, Retry-After %q: %s", r.StatusCode, r.Header.Get("Retry-After"), r.Body)
	}
	sentence := html.EscapeString(locale.Printer("ja").T("error." + auth.CodeServerBusy))
	if !strings.Contains(sentence, "パスキー") {
		t.Fatalf("the busy message does not mention passkeys: %s", sentence)
	}
	r = e.Client().PostForm("/login", "customer_code", "70000010", "password", pw)
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), sentence) {
		t.Fatalf("page: %d, Retry-After %q, body has the sentence: %v", r.StatusCode, r.Header.Get("Retry-After"), strings.Contains(string(r.Body), sentence))
	}
	if hasher.Count() != before+1 {
		t.Fatalf("%d hashes ran, want only the slow one", hasher.Count()-before)
	}
}
