package mail

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/kagi-auth/kagi/internal/store"
)

// Sender delivers one outbox mail. It returns nil only when the mail has been
// handed over; any error makes the worker try again later.
type Sender interface {
	Send(ctx context.Context, m *store.Mail) error
}

// Defaults of the outbox worker.
const (
	DefaultPollInterval = time.Second
	DefaultBatchSize    = 50
	DefaultLease        = time.Minute
	DefaultBackoffBase  = 10 * time.Second
	DefaultBackoffMax   = 10 * time.Minute
)

// maxErrorText bounds the error stored on the outbox row; SMTP replies can be long.
const maxErrorText = 500

// storeWriteTimeout bounds the bookkeeping after a send. It runs detached from
// the caller's context so that a mail handed over during shutdown is still
// recorded as sent instead of being sent again by the next instance.
const storeWriteTimeout = 10 * time.Second

// Worker drains the outbox (SPEC P4): events write their mail in their own
// transaction, and the worker delivers it afterwards, retrying until the mail
// server takes it. Delivery is at least once: a crash between handing a mail
// over and recording it means it is sent again when its lease runs out.
type Worker struct {
	st          store.Store
	sender      Sender
	log         *slog.Logger
	poll        time.Duration
	batch       int
	lease       time.Duration
	now         func() time.Time
	backoffBase time.Duration
	backoffMax  time.Duration
	wake        chan struct{}
}

// Option configures a Worker. Non-positive values keep the default.
type Option func(*Worker)

// WithPollInterval sets how often the outbox is checked when nobody nudges (default 1s).
func WithPollInterval(d time.Duration) Option {
	return func(w *Worker) {
		if d > 0 {
			w.poll = d
		}
	}
}

// WithBatchSize sets how many mails are claimed at once (default 50: a login
// storm enqueues a notice per login, and each batch costs a claim and one
// transaction of bookkeeping whatever its size).
func WithBatchSize(n int) Option {
	return func(w *Worker) {
		if n > 0 {
			w.batch = n
		}
	}
}

// WithLease sets how long claimed mails are reserved for this worker (default 1 min).
// A batch's sends are cut off when the lease ends, so no mail is sent twice by two instances.
func WithLease(d time.Duration) Option {
	return func(w *Worker) {
		if d > 0 {
			w.lease = d
		}
	}
}

// WithClock sets the clock used for claiming, retry times and sent times.
func WithClock(now func() time.Time) Option {
	return func(w *Worker) {
		if now != nil {
			w.now = now
		}
	}
}

// WithBackoff sets the retry delay after a failure: base, doubled at every
// further failure, never more than max (defaults 10s and 10 min).
func WithBackoff(base, max time.Duration) Option {
	return func(w *Worker) {
		if base > 0 {
			w.backoffBase = base
		}
		if max > 0 {
			w.backoffMax = max
		}
	}
}

// NewWorker returns a worker that sends st's outbox through s.
func NewWorker(st store.Store, s Sender, logger *slog.Logger, opts ...Option) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		st:          st,
		sender:      s,
		log:         logger,
		poll:        DefaultPollInterval,
		batch:       DefaultBatchSize,
		lease:       DefaultLease,
		now:         time.Now,
		backoffBase: DefaultBackoffBase,
		backoffMax:  DefaultBackoffMax,
		wake:        make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(w)
	}
	if w.backoffMax < w.backoffBase {
		w.backoffMax = w.backoffBase
	}
	return w
}

// Nudge makes a running worker look at the outbox now instead of at its next
// poll, so a one-time code goes out right after it is enqueued. It never blocks:
// one pending nudge is enough to cover any number of new mails.
func (w *Worker) Nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers mail until ctx is done, then returns nil. Store and sender
// errors are logged and retried, never returned: mail must keep flowing.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0) // first pass at once: mail may have waited while we were down
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.wake:
		}
		for ctx.Err() == nil {
			n, err := w.runOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log.ErrorContext(ctx, "mail: claiming outbox failed", "err", err)
				}
				break
			}
			if n < w.batch { // a full batch means more may be due
				break
			}
		}
		timer.Reset(w.poll)
	}
}

// markEvery bounds how long a sent mail waits to be recorded: the worker
// records a batch's outcomes in one store transaction, at the end of the batch
// or sooner when sending is slow (SMTP), so that a crash or the end of the
// lease leaves few mails sent but unrecorded (they would be sent again).
const markEvery = time.Second

// runOnce claims one batch and tries each mail; it returns how many it claimed.
func (w *Worker) runOnce(ctx context.Context) (int, error) {
	mails, err := w.st.ClaimMail(ctx, w.batch, w.now(), w.lease)
	if err != nil {
		return 0, err
	}
	// Once the lease ends, another instance may claim these mails: stop sending
	// then. Unsent ones stay claimed and come back when the lease runs out.
	sendCtx, cancel := context.WithTimeout(ctx, w.lease)
	defer cancel()
	var done []outcome
	since := time.Now()
	for _, m := range mails {
		if sendCtx.Err() != nil {
			break
		}
		done = append(done, outcome{m, w.sender.Send(sendCtx, m)})
		if time.Since(since) >= markEvery {
			w.record(sendCtx, done)
			done, since = done[:0], time.Now()
		}
	}
	w.record(sendCtx, done)
	return len(mails), nil
}

// outcome is one mail's send result, to be recorded.
type outcome struct {
	m   *store.Mail
	err error
}

// record stores the outcomes: all in one transaction, or, if that fails, one
// by one as before, so that one bad row does not leave the others unrecorded.
func (w *Worker) record(ctx context.Context, done []outcome) {
	if len(done) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeWriteTimeout)
	defer cancel()
	if len(done) > 1 {
		err := w.st.InTx(wctx, func(st store.Store) error {
			for _, o := range done {
				if err := w.mark(wctx, st, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, o := range done {
				w.logOutcome(ctx, o)
			}
			return
		}
		w.log.WarnContext(ctx, "mail: recording a batch failed; recording one by one", "mails", len(done), "err", err)
	}
	for _, o := range done {
		if err := w.mark(wctx, w.st, o); err != nil {
			if o.err == nil {
				w.log.ErrorContext(ctx, "mail: sent but not recorded; it will be sent again", "mail_id", o.m.ID, "err", err)
			} else {
				w.log.ErrorContext(ctx, "mail: recording a failed send failed", "mail_id", o.m.ID, "err", err)
			}
			continue
		}
		w.logOutcome(ctx, o)
	}
}

func (w *Worker) mark(ctx context.Context, st store.Store, o outcome) error {
	if o.err == nil {
		return st.MarkMailSent(ctx, o.m.ID, w.now())
	}
	return st.MarkMailFailed(ctx, o.m.ID, truncate(o.err.Error(), maxErrorText), w.now().Add(w.backoff(o.m.Attempts)))
}

func (w *Worker) logOutcome(ctx context.Context, o outcome) {
	if o.err == nil {
		w.log.DebugContext(ctx, "mail: sent", "mail_id", o.m.ID)
		return
	}
	// The recipient is personal data and the body may hold a code: log the ID only.
	w.log.WarnContext(ctx, "mail: send failed, will retry", "mail_id", o.m.ID,
		"attempts", o.m.Attempts+1, "next_try", w.now().Add(w.backoff(o.m.Attempts)), "err", o.err)
}

// backoff is the delay after a mail's failure given its earlier attempts:
// base, 2·base, 4·base, … capped at max.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.backoffBase
	for i := 0; i < attempts && d < w.backoffMax; i++ {
		d *= 2
	}
	return min(d, w.backoffMax)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
