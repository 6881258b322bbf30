package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/kagi-auth/kagi/internal/testenv"
)

// chromiumPath is Debian's Chromium binary itself. /usr/bin/chromium is a
// shell wrapper that adds flags of its own; the tests set every flag.
const chromiumPath = "/usr/lib/chromium/chromium"

// stepTimeout bounds one browser step (a click, a wait, a navigation). The
// pages are local, so a step that needs longer is stuck, not slow.
const stepTimeout = 15 * time.Second

// Browser is one Chromium with one tab (1280×900, Japanese), on the site of
// one testenv.Env. Its methods fail the test with the page's state on error.
type Browser struct {
	t   *testing.T
	env *testenv.Env
	ctx context.Context // the tab

	dir   string // screenshots: test-artifacts/<TestName>
	shots int

	auths []*Authenticator // plugged in, in order

	mu      sync.Mutex
	console []string // the page's console messages and exceptions
	out     lockedBuffer
}

// unavailable skips the test when Chromium is missing or cannot start, and
// fails it in CI, where .ci/run installs Chromium and a skip would hide that
// the suite did not run.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("end-to-end tests need Chromium: %s", why)
	}
	t.Skipf("install Debian's chromium: apt-get install chromium (%s)", why)
}

// newBrowser starts a fresh Chromium (new profile) for the test and enables
// the WebAuthn domain on its tab, so navigator.credentials talks only to the
// virtual authenticators the test adds (none until it does).
func newBrowser(t *testing.T, env *testenv.Env) *Browser {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("KAGI_E2E_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		unavailable(t, err.Error())
	}
	b := &Browser{t: t, env: env, dir: artifactDir(t)}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		// A Japanese customer's browser: the site negotiates its language
		// from Accept-Language.
		chromedp.Flag("lang", "ja-JP"),
		chromedp.Flag("accept-lang", "ja-JP,ja"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&b.out),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b.ctx = ctx

	// The first Do starts the browser and binds it to ctx, so it runs without
	// a deadline; a watchdog turns a hung start into a clear answer.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			unavailable(t, fmt.Sprintf("start %s: %v; output: %s", path, err, tail(b.out.String(), 800)))
		}
	case <-time.After(30 * time.Second):
		cancelTab()
		unavailable(t, fmt.Sprintf("%s did not start within 30s; output: %s", path, tail(b.out.String(), 800)))
	}

	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String())
			b.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatalf("set the time zone: %v", err)
	}
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		unavailable(t, fmt.Sprintf("WebAuthn.enable: %v", err))
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.mu.Lock()
			if len(b.console) > 0 {
				t.Logf("browser console:\n  %s", strings.Join(b.console, "\n  "))
			}
			b.mu.Unlock()
		}
	})
	return b
}

// step runs actions with the step timeout and fails the test on error.
func (b *Browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page (reading the page as a
// person reads it: location, text, element state; never the site's API).
func eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *Browser) evalString(expr string) string    { b.t.Helper(); return eval[string](b, expr) }
func (b *Browser) evalBool(expr string) bool        { b.t.Helper(); return eval[bool](b, expr) }
func (b *Browser) evalStrings(expr string) []string { b.t.Helper(); return eval[[]string](b, expr) }

// tryEval is eval that reports errors instead of failing (during navigations).
func tryEval[T any](b *Browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// fatalf fails the test after saving a screenshot of the page and logging
// where the browser is and what the page says.
func (b *Browser) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\n  at " + loc
	}
	if txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`)); err == nil {
		msg += "\n  page says: " + tail(strings.Join(strings.Fields(txt), " "), 600)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		p := filepath.Join(b.dir, "FAIL.png")
		if os.WriteFile(p, png, 0o644) == nil {
			msg += "\n  screenshot: " + p
		}
	}
	b.t.Fatal(msg)
}

// Go opens path on the site as if typed into the address bar and returns
// the HTTP status of the document.
func (b *Browser) Go(path string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.env.URL+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	b.waitReady()
	if resp == nil {
		return 0
	}
	return resp.Status
}

// Click clicks the first element matching the CSS selector once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.step("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// ClickNav clicks (a link, a form's submit button) and waits until the
// browser has loaded the next document.
func (b *Browser) ClickNav(sel string) {
	b.t.Helper()
	b.markDocument()
	b.Click(sel)
	b.waitNewDocument("after clicking " + sel)
}

// Type types text into the field as a person does (key events).
func (b *Browser) Type(sel, text string) {
	b.t.Helper()
	b.step("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Focus moves the keyboard focus to the element, as clicking into it does.
func (b *Browser) Focus(sel string) {
	b.t.Helper()
	b.step("focus "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// WaitVisible waits until the element is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.step("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Has reports whether the current page has an element matching sel, now.
func (b *Browser) Has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// Enabled reports whether the element exists and is not disabled.
func (b *Browser) Enabled(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(e => e !== null && !e.disabled)(document.querySelector(%q))`, sel))
}

// Text is the visible text of the first element matching sel ("" if none).
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(e => e ? e.innerText : "")(document.querySelector(%q))`, sel))
}

// Path is the current location's path.
func (b *Browser) Path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname`)
}

// URL is the current location (path and query, without the origin).
func (b *Browser) URL() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// WaitPath waits until the browser shows path (after a script's navigation).
func (b *Browser) WaitPath(path string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		p, err := tryEval[string](b, `document.readyState === "complete" ? location.pathname : ""`)
		if err == nil && p == path {
			return
		}
		if err == nil && p != "" {
			last = p
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fatalf("the browser did not reach %s within %s (last at %q)", path, timeout, last)
}

// WaitText waits until the element's text contains one of want and returns it.
func (b *Browser) WaitText(sel string, timeout time.Duration, want ...string) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	txt := ""
	for time.Now().Before(deadline) {
		v, err := tryEval[string](b, fmt.Sprintf(`(e => e ? e.innerText : "")(document.querySelector(%q))`, sel))
		if err == nil {
			txt = v
			for _, w := range want {
				if strings.Contains(v, w) {
					return v
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fatalf("%s never said any of %q within %s (last: %q)", sel, want, timeout, txt)
	return ""
}

// WaitNonEmpty waits until the element has some text and returns it.
func (b *Browser) WaitNonEmpty(sel string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		v, err := tryEval[string](b, fmt.Sprintf(`(e => e ? e.innerText.trim() : "")(document.querySelector(%q))`, sel))
		if err == nil && v != "" {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fatalf("%s stayed empty for %s", sel, timeout)
	return ""
}

// markDocument tags the current document, so waitNewDocument can tell when
// the browser has replaced it.
func (b *Browser) markDocument() {
	b.t.Helper()
	eval[chromedp.Void](b, `window.__e2eOldDocument = true`)
}

func (b *Browser) waitNewDocument(what string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ok, err := tryEval[bool](b, `window.__e2eOldDocument !== true && document.readyState === "complete"`)
		if err == nil && ok {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	b.fatalf("no new page was loaded %s", what)
}

func (b *Browser) waitReady() {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		if ok, err := tryEval[bool](b, `document.readyState === "complete"`); err == nil && ok {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	b.fatalf("the page did not finish loading")
}

// Shot saves a full-page PNG of the current page as <nn>-<step>.png.
func (b *Browser) Shot(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", step, err)
	}
	b.save(step, png)
}

// MobileShot opens the current page again in a second tab of the same
// browser (same cookies) sized like a phone (390×844, touch), saves a
// full-page PNG and closes the tab. Use it on pages that a GET can show again.
func (b *Browser) MobileShot(step string) {
	b.t.Helper()
	u := eval[string](b, `location.href`)
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(tab, stepTimeout)
	defer cancelT()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(u),
	); err != nil {
		b.fatalf("mobile view of %s: %v", u, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("mobile screenshot %s: %v", step, err)
	}
	b.save(step+"-mobile", png)
}

func (b *Browser) save(step string, png []byte) {
	b.t.Helper()
	b.shots++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, step))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
}

// LogShots prints where the journey's screenshots are (call at the end).
func (b *Browser) LogShots() {
	b.t.Helper()
	b.t.Logf("%d screenshots in %s", b.shots, b.dir)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// artifactDir is test-artifacts/<TestName> at the repository root, emptied.
func artifactDir(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test-artifacts", unsafeName.ReplaceAllString(t.Name(), "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// lockedBuffer collects the browser's output (written from another goroutine).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
