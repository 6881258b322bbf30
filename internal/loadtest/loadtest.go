// Package loadtest is kagi's load driver (kagi loadtest, issue 8): it seeds
// customers with passkeys in bulk and runs concurrent passkey or password +
// TOTP logins against a kagi URL, as browsers would, reporting throughput,
// latency percentiles, errors by status and, for a local server, its CPU time
// and peak memory.
//
// The server must run with --rate-limit-ip 0 (and, for password logins,
// --rate-limit-account 0): every login of a load test comes from one address,
// which the per-IP budget is there to stop. That is a configuration of the
// server under test, not a weakened check.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
)

// Modes of a run.
const (
	ModePasskey  = "passkey"
	ModePassword = "password"
)

// Bounds of a run.
const (
	MaxDuration    = time.Hour
	MaxConcurrency = 10000
)

// userAgent is a current desktop Chrome's, so the server's user-agent
// parsing, audit entries and login mails see what they see in production.
const userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 kagi-loadtest/1"

// Options configure Run.
type Options struct {
	URL         string // the server's origin, e.g. http://localhost:8080
	Mode        string // ModePasskey or ModePassword
	Concurrency int
	Duration    time.Duration // measured time, after the warm-up
	Warmup      time.Duration // logins before the measurement, not counted
	MaxRequests int64         // no more HTTP requests than this in all (0: 10,000,000)
	AllowRemote bool          // allow a URL that is not on this machine
	PID         int           // the server's process on this machine, for CPU and memory (0: none)
	Keys        *KeySet
	// Now is the clock TOTP codes are computed for (default time.Now; tests
	// pass the server's clock).
	Now      func() time.Time
	Progress io.Writer // a line a second while running; nil for silence
}

// Run drives logins until the duration ends or the request budget is spent.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 10_000_000
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	st, err := loadState(statePath(o.Keys.Path, o.Mode), len(o.Keys.Keys))
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.URL)
	origin := u.Scheme + "://" + u.Host
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * o.Concurrency,
		MaxIdleConnsPerHost: 2 * o.Concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()

	r := &runner{o: o, origin: origin, tr: tr, st: st}
	if o.Mode == ModePassword {
		r.steps = [3]string{"password", "second_factor", "session"}
	} else {
		r.steps = [3]string{"options", "finish", "session"}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stopSave := make(chan struct{})
	saved := make(chan error, 1)
	go func() { saved <- r.saveEvery(stopSave, 5*time.Second) }()

	var proc *procWatch
	start := time.Now()
	measureAt := start.Add(o.Warmup)
	end := measureAt.Add(o.Duration)
	r.measureAt = measureAt
	workers := make([]*worker, o.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{r: r, id: i, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, end)
		}()
	}
	// Measurement window.
	timer := time.NewTimer(o.Warmup)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	driverCPU0 := selfCPU()
	machine0, machineErr := machineCPU()
	if o.PID > 0 {
		proc, err = watchProc(o.PID)
		if err != nil {
			cancel()
			wg.Wait()
			close(stopSave)
			<-saved
			return nil, err
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := int64(0)
loop:
	for {
		select {
		case <-done:
			break loop
		case <-ctx.Done():
			break loop
		case now := <-tick.C:
			n := r.ok.Load()
			fmt.Fprintf(o.Progress, "%5.0fs  %d logins (%d/s), %d failed\n", now.Sub(measureAt).Seconds(), n, n-last, r.failed.Load())
			last = n
		}
	}
	cancel()
	<-done
	measured := time.Since(measureAt)
	if t := time.Now(); t.After(end) {
		measured = end.Sub(measureAt)
	}
	rep := r.report(workers, measured)
	rep.DriverCPU = selfCPU() - driverCPU0
	if proc != nil {
		rep.Server = proc.finish()
	}
	if m1, err := machineCPU(); err == nil && machineErr == nil {
		rep.MachineCPU = m1 - machine0
	}
	close(stopSave)
	if err := <-saved; err != nil {
		return rep, fmt.Errorf("saving the driver's state: %w", err)
	}
	return rep, nil
}

func (o *Options) check() error {
	var errs []error
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--url must be the server's origin, e.g. http://localhost:8080, got %q", o.URL))
	} else if !o.AllowRemote && !loopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("--url %s is not on this machine: add --allow-remote to load another host", o.URL))
	}
	if o.Mode != ModePasskey && o.Mode != ModePassword {
		errs = append(errs, fmt.Errorf("--mode must be %s or %s", ModePasskey, ModePassword))
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency must be 1 to %d", MaxConcurrency))
	}
	if o.Duration <= 0 || o.Duration+o.Warmup > MaxDuration || o.Warmup < 0 {
		errs = append(errs, fmt.Errorf("--duration must be positive and, with --warmup, at most %s", MaxDuration))
	}
	if o.Keys == nil || len(o.Keys.Keys) == 0 {
		errs = append(errs, errors.New("no seeded customers: run kagi loadtest --seed N first"))
	} else if len(o.Keys.Keys) < o.Concurrency {
		errs = append(errs, fmt.Errorf("%d workers need at least as many seeded customers (have %d)", o.Concurrency, len(o.Keys.Keys)))
	}
	return errors.Join(errs...)
}

// loopback reports whether host is this machine: localhost, *.localhost or a loopback address.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

type runner struct {
	o         Options
	origin    string
	tr        *http.Transport
	st        *state
	steps     [3]string
	measureAt time.Time

	requests atomic.Int64 // issued, warm-up included (the budget)
	ok       atomic.Int64 // measured logins that succeeded
	failed   atomic.Int64 // measured logins that failed
}

func (r *runner) saveEvery(stop chan struct{}, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return r.st.save()
		case <-t.C:
			if err := r.st.save(); err != nil {
				return err
			}
		}
	}
}

// worker is one browser after another: a new cookie jar for every login, as
// each login of the storm is another customer's.
type worker struct {
	r   *runner
	id  int
	rng *rand.Rand

	login  []time.Duration
	step   [3][]time.Duration
	errors map[string]int
}

func (w *worker) loop(ctx context.Context, end time.Time) {
	w.errors = map[string]int{}
	for ctx.Err() == nil && time.Now().Before(end) {
		if w.r.requests.Add(3) > w.r.o.MaxRequests {
			return
		}
		idx, ok := w.pick()
		if !ok { // password mode: every customer of this worker used up its TOTP steps for now
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			w.r.requests.Add(-3)
			continue
		}
		t0 := time.Now()
		var times [3]time.Duration
		var errKey string
		if w.r.o.Mode == ModePassword {
			errKey = w.password(ctx, idx, &times)
		} else {
			errKey = w.passkey(ctx, idx, &times)
		}
		if ctx.Err() != nil && errKey != "" {
			return // cut off by the end of the run: neither success nor failure
		}
		if t0.Before(w.r.measureAt) {
			continue
		}
		if errKey != "" {
			w.r.failed.Add(1)
			w.errors[errKey]++
			continue
		}
		w.r.ok.Add(1)
		w.login = append(w.login, time.Since(t0))
		for i := range times {
			w.step[i] = append(w.step[i], times[i])
		}
	}
}

// pick chooses one of this worker's customers (index ≡ id mod concurrency, so
// no two workers ever use one passkey at once) at random.
func (w *worker) pick() (int, bool) {
	n, c := len(w.r.o.Keys.Keys), w.r.o.Concurrency
	mine := (n - w.id + c - 1) / c // indices id, id+c, ... below n
	for range 16 {
		idx := w.id + c*w.rng.IntN(mine)
		if w.r.o.Mode != ModePassword || w.totpStep(idx) != 0 {
			return idx, true
		}
	}
	return 0, false
}

// totpStep is the TOTP time step this customer's next login signs, or 0 when
// it has used every step the server accepts now. The server takes the current
// step and its neighbours, each once per customer; the driver uses only the
// current and the next, which stay acceptable if a step boundary passes
// while the request is under way.
func (w *worker) totpStep(idx int) uint32 {
	cur := uint32(w.r.o.Now().Unix() / 30)
	s := max(w.r.st.v[idx].Load()+1, cur)
	if s > cur+1 {
		return 0
	}
	return s
}

func (w *worker) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: w.r.tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// passkey runs options → sign → finish → session; it returns "" or what failed.
func (w *worker) passkey(ctx context.Context, idx int, times *[3]time.Duration) string {
	c := w.client()
	k := w.r.o.Keys.Keys[idx]
	body, errKey := w.do(ctx, c, 0, times, http.MethodPost, "/api/login/passkey/options", []byte("{}"))
	if errKey != "" {
		return errKey
	}
	counter := max(w.r.st.v[idx].Load()+1, counterFloor(time.Now()))
	w.r.st.v[idx].Store(counter) // before sending: a signed counter is never signed again
	assertion, err := sign(body, k, counter, w.r.o.Keys.RPID, w.r.origin)
	if err != nil {
		return "sign: " + err.Error()
	}
	body, errKey = w.do(ctx, c, 1, times, http.MethodPost, "/api/login/passkey", assertion)
	if errKey != "" {
		return errKey
	}
	if !bytes.Contains(body, []byte(`"done"`)) {
		return "finish: unexpected answer"
	}
	return w.session(ctx, c, times, k.Code)
}

// password runs password → TOTP code → session.
func (w *worker) password(ctx context.Context, idx int, times *[3]time.Duration) string {
	c := w.client()
	k := w.r.o.Keys.Keys[idx]
	req, _ := json.Marshal(map[string]string{"customer_code": k.Code, "password": w.r.o.Keys.Password})
	body, errKey := w.do(ctx, c, 0, times, http.MethodPost, "/api/login/password", req)
	if errKey != "" {
		return errKey
	}
	if !bytes.Contains(body, []byte(`"second_factor"`)) {
		return "password: unexpected answer " + string(truncate(body, 80))
	}
	step := w.totpStep(idx)
	if step == 0 { // cannot happen: time only moves on
		return "second_factor: no TOTP step left"
	}
	w.r.st.v[idx].Store(step)
	code := auth.TOTPCode(w.r.o.Keys.TOTPSecret, time.Unix(int64(step)*30, 0))
	req, _ = json.Marshal(map[string]string{"code": code})
	body, errKey = w.do(ctx, c, 1, times, http.MethodPost, "/api/login/second-factor", req)
	if errKey != "" {
		return errKey
	}
	if !bytes.Contains(body, []byte(`"done"`)) {
		return "second_factor: unexpected answer"
	}
	return w.session(ctx, c, times, k.Code)
}

func (w *worker) session(ctx context.Context, c *http.Client, times *[3]time.Duration, code string) string {
	body, errKey := w.do(ctx, c, 2, times, http.MethodGet, "/api/session", nil)
	if errKey != "" {
		return errKey
	}
	var s struct {
		CustomerCode string `json:"customer_code"`
		Stage        string `json:"stage"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.CustomerCode != code || s.Stage != "full" {
		return "session: not logged in as the customer"
	}
	return ""
}

// do sends one request as a browser on the origin would and returns the body,
// or an error key: "STEP STATUS CODE" for an HTTP error (CODE from the
// problem+json answer), "STEP transport" when no answer came.
func (w *worker) do(ctx context.Context, c *http.Client, step int, times *[3]time.Duration, method, path string, body []byte) ([]byte, string) {
	name := w.r.steps[step]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.r.origin+path, rd)
	if err != nil {
		return nil, name + " request: " + err.Error()
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", "ja,en;q=0.8")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", w.r.origin)
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, name + " transport"
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	times[step] = time.Since(t0)
	if err != nil {
		return nil, name + " transport"
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(out, &p)
		key := fmt.Sprintf("%s %d", name, resp.StatusCode)
		if p.Code != "" {
			key += " " + p.Code
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			key += " (Retry-After)"
		}
		return nil, key
	}
	return out, ""
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
