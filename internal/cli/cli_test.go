package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// Issue 2 item 2: customer add prints the created customer as JSON, with the
// generated TOTP secret; mistakes exit non-zero with a message on stderr.
func TestCustomerAdd(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, "customer", "add", "--data", dir, "--code", "12345678", "--password", "a long password", "--email", "k@example.jp", "--second-factor", "totp", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got customerJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got.CustomerCode != "12345678" || got.SecondFactor != "totp" || len(got.TOTPSecret) < 32 || !got.EmailVerified || got.SetupRequired {
		t.Fatalf("created: %+v", got)
	}
	if _, _, err := run(t, "customer", "add", "--data", dir, "--code", "12345678", "--password", "another password"); err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate: %v", err)
	}
	for _, args := range [][]string{
		{"customer", "add", "--data", dir},
		{"customer", "add", "--data", dir, "--code", "12ab", "--password", "a long password"},
		{"customer", "add", "--data", dir, "--code", "22345678", "--password", "short"},
		{"customer", "add", "--data", dir, "--code", "22345678", "--password", "a long password", "--second-factor", "sms"},
		{"customer", "add", "--data", dir, "--code", "22345678", "--password", "a long password", "--second-factor", "email"},
		{"customer", "add", "--data", dir, "--code", "22345678", "--password", "a long password", "--bogus"},
		{"nonsense"},
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	out, _, err = run(t, "customer", "add", "--data", dir, "--code", "32345678", "--password", "a long password")
	if err != nil || !strings.Contains(out, "initial setup") {
		t.Fatalf("setup customer: %q %v", out, err)
	}
	if _, _, err := run(t, "migrate", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := run(t, "config"); !strings.Contains(out, "KAGI_ORIGIN") || !strings.Contains(out, "--data") {
		t.Fatalf("config list: %s", out)
	}
}

// R1, R3: `kagi serve --demo` starts with no configuration but a data
// directory, prints how to log in, serves the login flows, lets the CLI work
// on the same data while running, and shuts down gracefully.
func TestServeDemo_R1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir := t.TempDir()
	origin := "http://localhost:" + port
	consolePort := freePort(t) // the operator console (issue 7) listens beside the site
	consoleOrigin := "http://localhost:" + consolePort
	env := map[string]string{"KAGI_ADDR": "127.0.0.1:" + port, "KAGI_ORIGIN": origin, "KAGI_LOG_LEVEL": "warn",
		"KAGI_CONSOLE_ADDR": "127.0.0.1:" + consolePort, "KAGI_CONSOLE_ORIGIN": consoleOrigin}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--demo", "--data", dir}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	}()
	waitHealthy(t, origin, done)
	waitHealthy(t, consoleOrigin, done)

	printed := out.String()
	if !regexp.MustCompile(`sato +supervisor +enrollment code [A-Z2-7-]{19} \(at ` + regexp.QuoteMeta(consoleOrigin) + `/enroll\)`).MatchString(printed) {
		t.Fatalf("no demo operator in the output:\n%s", printed)
	}
	totp := regexp.MustCompile(`お客様コード 10000001  パスワード (\S+).*\n\s+TOTP secret ([A-Z2-7]+)`).FindStringSubmatch(printed)
	email := regexp.MustCompile(`お客様コード 10000002  パスワード (\S+)`).FindStringSubmatch(printed)
	setup := regexp.MustCompile(`お客様コード 10000003  パスワード (\S+)`).FindStringSubmatch(printed)
	if totp == nil || email == nil || setup == nil || !strings.Contains(printed, origin+"/dev/mail") {
		t.Fatalf("demo output:\n%s", printed)
	}

	c := newClient()
	post(t, c, origin+"/api/login/password", `{"customer_code":"10000001","password":"`+totp[1]+`"}`, 200)
	post(t, c, origin+"/api/login/second-factor", `{"code":"`+auth.TOTPCode(totp[2], time.Now())+`"}`, 200)

	c = newClient()
	post(t, c, origin+"/api/login/password", `{"customer_code":"10000002","password":"`+email[1]+`"}`, 200)
	code := waitCode(t, origin, "hanako@example.jp")
	post(t, c, origin+"/api/login/second-factor", `{"code":"`+code+`"}`, 200)

	c = newClient()
	if b := post(t, c, origin+"/api/login/password", `{"customer_code":"10000003","password":"`+setup[1]+`"}`, 200); !strings.Contains(b, `"setup"`) {
		t.Fatalf("setup customer: %s", b)
	}

	// The CLI works on the same data while the server runs.
	if _, _, err := run(t, "customer", "add", "--data", dir, "--code", "55555555", "--password", "a long password", "--email", "x@example.jp"); err != nil {
		t.Fatalf("customer add while serving: %v", err)
	}
	post(t, newClient(), origin+"/api/login/password", `{"customer_code":"55555555","password":"a long password"}`, 200)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v; stderr %s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
}

// R3: an invalid configuration is refused with every problem listed.
func TestServeRefusesBadConfig_R3(t *testing.T) {
	_, _, err := run(t, "serve", "--origin", "http://127.0.0.1:8080", "--lock-threshold", "0", "--data", t.TempDir())
	if err == nil || ExitCode(err) != 2 {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"--origin", "--lock-threshold"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
	_, _, err = run(t, "serve", "--origin", "https://trade.example.jp", "--data", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "smtp") {
		t.Fatalf("production origin without SMTP: %v", err)
	}
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func post(t *testing.T, c *http.Client, url, body string, want int) string {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func waitHealthy(t *testing.T, origin string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if resp, err := http.Get(origin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server not healthy within 20s")
}

func waitCode(t *testing.T, origin, addr string) string {
	t.Helper()
	re := regexp.MustCompile(`\b(\d{6})\b`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(origin + "/dev/mail.json?to=" + addr)
		if err == nil {
			var ms []struct{ Body string }
			_ = json.NewDecoder(resp.Body).Decode(&ms)
			resp.Body.Close()
			if len(ms) > 0 {
				if m := re.FindStringSubmatch(ms[0].Body); m != nil {
					return m[1]
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no code mail")
	return ""
}

// R3: the README's option list is the option table itself (regenerate it
// with `go run ./cmd/kagi config` between the markers).
func TestREADMEListsEveryOption_R3(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	begin, end := strings.Index(s, "<!-- options:begin -->\n"), strings.Index(s, "<!-- options:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README lacks the options markers")
	}
	got := s[begin+len("<!-- options:begin -->\n") : end]
	want, _, _ := run(t, "config")
	if got != want {
		t.Fatalf("README options differ from `kagi config`; regenerate them:\n%s", want)
	}
}
