package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// flakySender fails its first `failures` sends, then delivers.
type flakySender struct {
	mu        sync.Mutex
	failures  int
	calls     int
	delivered []int64
	sent      chan int64 // optional: receives each delivered ID
}

func (s *flakySender) Send(ctx context.Context, m *store.Mail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failures {
		return fmt.Errorf("451 4.3.0 try again later (attempt %d)", s.calls)
	}
	s.delivered = append(s.delivered, m.ID)
	if s.sent != nil {
		s.sent <- m.ID
	}
	return nil
}

func (s *flakySender) stats() (calls int, delivered []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]int64(nil), s.delivered...)
}

func enqueue(t *testing.T, st *fakeOutbox, to string, created time.Time) int64 {
	t.Helper()
	m := &store.Mail{To: to, Subject: "s", Body: "b", CreatedAt: created}
	if err := st.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestWorkerRetriesUntilSent (SPEC P4 outbox): a mail server that fails twice
// loses nothing; the mail stays unsent with a backed-off retry time, then is
// delivered exactly once.
func TestWorkerRetriesUntilSent(t *testing.T) {
	ctx := context.Background()
	st := &fakeOutbox{}
	clk := &clock{t: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	snd := &flakySender{failures: 2}
	w := NewWorker(st, snd, nil, WithClock(clk.Now))
	id := enqueue(t, st, "taro@example.jp", clk.Now())

	step := func(wantClaimed int) {
		t.Helper()
		n, err := w.runOnce(ctx)
		if err != nil || n != wantClaimed {
			t.Fatalf("runOnce = %d, %v; want %d claimed", n, err, wantClaimed)
		}
	}

	step(1) // first failure
	m := st.get(id)
	if !m.SentAt.IsZero() || m.Attempts != 1 || !strings.Contains(m.LastError, "try again later") {
		t.Fatalf("after 1st failure: %+v", m)
	}
	if want := clk.Now().Add(10 * time.Second); !m.NextTryAt.Equal(want) {
		t.Fatalf("next try %v, want %v", m.NextTryAt, want)
	}

	step(0) // not due yet
	clk.Add(9 * time.Second)
	step(0)
	clk.Add(time.Second)
	step(1) // second failure
	m = st.get(id)
	if !m.SentAt.IsZero() || m.Attempts != 2 {
		t.Fatalf("after 2nd failure: %+v", m)
	}
	if want := clk.Now().Add(20 * time.Second); !m.NextTryAt.Equal(want) {
		t.Fatalf("next try %v, want %v (doubled)", m.NextTryAt, want)
	}

	clk.Add(20 * time.Second)
	step(1) // delivered
	m = st.get(id)
	if !m.SentAt.Equal(clk.Now()) {
		t.Fatalf("not marked sent at now: %+v", m)
	}

	clk.Add(time.Hour)
	step(0)
	calls, delivered := snd.stats()
	if calls != 3 || len(delivered) != 1 || delivered[0] != id {
		t.Fatalf("calls %d, delivered %v; want 3 calls, %d delivered once", calls, delivered, id)
	}
}

// TestWorkerRunDeliversAfterFailures runs the real loop with a real clock.
func TestWorkerRunDeliversAfterFailures(t *testing.T) {
	st := &fakeOutbox{}
	snd := &flakySender{failures: 2, sent: make(chan int64, 10)}
	w := NewWorker(st, snd, nil, WithPollInterval(5*time.Millisecond), WithBackoff(time.Millisecond, 5*time.Millisecond))
	id := enqueue(t, st, "taro@example.jp", time.Now())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	select {
	case got := <-snd.sent:
		if got != id {
			t.Fatalf("delivered %d, want %d", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("mail never delivered")
	}
	time.Sleep(50 * time.Millisecond) // several more polls: nothing is sent twice
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if calls, delivered := snd.stats(); calls != 3 || len(delivered) != 1 {
		t.Fatalf("calls %d, delivered %v", calls, delivered)
	}
	if m := st.get(id); m.SentAt.IsZero() {
		t.Fatal("not marked sent")
	}
}

// TestWorkerNudge: a code mail goes out at once, not at the next poll.
func TestWorkerNudge(t *testing.T) {
	st := &fakeOutbox{}
	snd := &flakySender{sent: make(chan int64, 10)}
	w := NewWorker(st, snd, nil, WithPollInterval(time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	for i := range 3 {
		id := enqueue(t, st, fmt.Sprintf("u%d@example.jp", i), time.Now())
		w.Nudge()
		w.Nudge() // never blocks, even when a nudge is pending
		select {
		case got := <-snd.sent:
			if got != id {
				t.Fatalf("delivered %d, want %d", got, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nudge did not wake the worker")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

// TestWorkerDrainsBacklog: full batches are claimed back to back.
func TestWorkerDrainsBacklog(t *testing.T) {
	st := &fakeOutbox{}
	snd := &flakySender{sent: make(chan int64, 100)}
	w := NewWorker(st, snd, nil, WithPollInterval(time.Hour), WithBatchSize(3))
	for i := range 10 {
		enqueue(t, st, fmt.Sprintf("u%d@example.jp", i), time.Now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	for range 10 {
		select {
		case <-snd.sent:
		case <-time.After(5 * time.Second):
			t.Fatal("backlog not drained in one wake-up")
		}
	}
}

// TestWorkerSurvivesStoreErrors: a failing store is logged and retried; Run goes on.
func TestWorkerSurvivesStoreErrors(t *testing.T) {
	st := &fakeOutbox{claimFailures: 3}
	snd := &flakySender{sent: make(chan int64, 10)}
	w := NewWorker(st, snd, nil, WithPollInterval(5*time.Millisecond))
	enqueue(t, st, "taro@example.jp", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	select {
	case <-snd.sent:
	case <-time.After(5 * time.Second):
		t.Fatal("worker gave up after store errors")
	}
}

// blockingSender blocks until its context ends, like a hung SMTP server.
type blockingSender struct {
	mu    sync.Mutex
	calls int
}

func (s *blockingSender) Send(ctx context.Context, _ *store.Mail) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

// TestWorkerStopsAtLeaseEnd: once the lease is over another instance may claim
// the batch, so this one must stop sending it; the unsent rest is not marked
// and comes back when the lease runs out.
func TestWorkerStopsAtLeaseEnd(t *testing.T) {
	st := &fakeOutbox{}
	clk := &clock{t: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	snd := &blockingSender{}
	w := NewWorker(st, snd, nil, WithClock(clk.Now), WithLease(30*time.Millisecond))
	first := enqueue(t, st, "a@example.jp", clk.Now())
	second := enqueue(t, st, "b@example.jp", clk.Now())

	if n, err := w.runOnce(context.Background()); n != 2 || err != nil {
		t.Fatalf("runOnce = %d, %v", n, err)
	}
	if snd.calls != 1 {
		t.Fatalf("sender called %d times after the lease ended, want 1", snd.calls)
	}
	if m := st.get(first); m.Attempts != 1 || !strings.Contains(m.LastError, "deadline") {
		t.Fatalf("timed-out mail not recorded as failed: %+v", m)
	}
	if m := st.get(second); m.Attempts != 0 || !m.NextTryAt.Equal(clk.Now().Add(30*time.Millisecond)) {
		t.Fatalf("untried mail should stay leased: %+v", m)
	}
}

func TestWorkerBackoff(t *testing.T) {
	w := NewWorker(&fakeOutbox{}, DevSender{}, nil)
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{0, 10 * time.Second},
		{1, 20 * time.Second},
		{2, 40 * time.Second},
		{5, 320 * time.Second},
		{6, 10 * time.Minute},
		{1000, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := w.backoff(tt.attempts); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("送信エラー", 100)
	got := truncate(s, maxErrorText)
	if len(got) > maxErrorText || !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
		t.Fatalf("truncate: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if truncate("short", 10) != "short" {
		t.Fatal("short string changed")
	}
}

// A long sender error is stored truncated.
func TestWorkerStoresTruncatedError(t *testing.T) {
	st := &fakeOutbox{}
	clk := &clock{t: time.Now()}
	long := errors.New(strings.Repeat("x", 5000))
	w := NewWorker(st, senderFunc(func(context.Context, *store.Mail) error { return long }), nil, WithClock(clk.Now))
	id := enqueue(t, st, "a@example.jp", clk.Now())
	if _, err := w.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := st.get(id); len(m.LastError) != maxErrorText {
		t.Fatalf("stored error of %d bytes", len(m.LastError))
	}
}

type senderFunc func(context.Context, *store.Mail) error

func (f senderFunc) Send(ctx context.Context, m *store.Mail) error { return f(ctx, m) }
