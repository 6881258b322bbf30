package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Group commit (SQLite). SQLite has one writer at a time, and on this file
// format each transaction pays for BEGIN, the commit's WAL writes and the
// hand-over of the writer between goroutines whatever it wrote. Under a login
// storm that per-transaction cost, not the statements, bounds the logins a
// second. So every write transaction of a SQLite DB (InTx, and each single
// write outside one) becomes a job for one goroutine that owns the writer
// connection: it takes every job waiting, runs them one after the other in a
// single SQLite transaction, each inside a SAVEPOINT of its own, and commits
// once.
//
// What callers see does not change:
//   - Jobs run one at a time, in arrival order, as the single writer ran them
//     before: serializable, each seeing the earlier ones' writes.
//   - A job that fails (returns an error or panics) is rolled back to its
//     savepoint alone; the others commit.
//   - A caller learns the outcome only after the COMMIT: success means its
//     writes are as durable as before (WAL, synchronous=NORMAL). If the COMMIT
//     fails, every job of the batch fails with its error and none is kept.
//   - If SQLite rolls the whole transaction back on its own (I/O error, disk
//     full, an interrupted statement), the jobs run so far fail, and those not
//     yet run are run in the next batch.
//   - A caller's context is checked before its job starts; once it runs, the
//     job's statements run to the end (a cancelled statement would make SQLite
//     roll back the other jobs' work too), as do its savepoint and the commit.
//
// Statements are prepared once per connection and kept (the writer connection
// is the committer's for the life of the DB), which also saves SQLite's parser
// its work on every call.

// maxGroup bounds the jobs of one transaction, so that the first of a long
// queue is not kept waiting for the commit too long.
const maxGroup = 128

type committer struct {
	mu     sync.RWMutex // held to submit; close takes it to stop submissions
	closed bool
	conn   *sql.Conn
	jobs   chan *groupJob
	stop   chan struct{}
	done   chan struct{}
	stmts  map[string]*sql.Stmt // prepared on conn; used by the committer goroutine only
	tx     *groupTx

	commits  atomic.Int64 // transactions committed, for the checkpointer
	ckptDone chan struct{}
}

type groupJob struct {
	// single: fn runs one statement. It needs no savepoint: SQLite undoes a
	// failed statement by itself (see statementFailed).
	single bool
	ctx    context.Context
	db     *DB // the unbound DB the job was submitted on
	fn     func(*DB) error
	err    error
	pnc    any // a panic of fn, raised again in the caller
	done   chan struct{}
}

// errGroupAborted is what the jobs of a transaction SQLite rolled back get.
var errGroupAborted = errors.New("sqlstore: the group transaction was rolled back")

func startCommitter(ctx context.Context, writer *sql.DB) (*committer, error) {
	conn, err := writer.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// The checkpointer copies the WAL into the database file beside the
	// committer (see checkpoints); the commit that takes the WAL past this
	// many pages still checkpoints, so that the WAL starts over from its
	// beginning instead of growing, but finds little left to copy.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 2000"); err != nil {
		conn.Close()
		return nil, err
	}
	c := &committer{
		conn: conn, jobs: make(chan *groupJob, 4*maxGroup), stop: make(chan struct{}), done: make(chan struct{}),
		stmts: map[string]*sql.Stmt{},
	}
	c.tx = &groupTx{c: c}
	c.ckptDone = make(chan struct{})
	go c.loop()
	go func() {
		defer close(c.ckptDone)
		c.checkpoints(writer)
	}()
	return c, nil
}

// checkpointEvery is how often the checkpointer runs while there are commits.
const checkpointEvery = 100 * time.Millisecond

// checkpoints runs a PASSIVE checkpoint (it never makes the committer wait) on
// the writer pool's other connection whenever transactions were committed
// since the last one, as SQLite's automatic checkpoint did after the commit
// that took the WAL past 1,000 pages.
func (c *committer) checkpoints(writer *sql.DB) {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if n := c.commits.Load(); n != last {
			last = n
			// A failure changes nothing: the commit that takes the WAL past
			// wal_autocheckpoint checkpoints anyway.
			var busy, frames, copied int
			_ = writer.QueryRowContext(background, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		}
	}
}

// close stops the committer after the jobs already submitted and releases the connection.
func (c *committer) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	<-c.ckptDone
	for _, s := range c.stmts {
		s.Close()
	}
	return c.conn.Close()
}

// run submits fn and waits for its outcome.
func (c *committer) run(ctx context.Context, db *DB, single bool, fn func(*DB) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &groupJob{single: single, ctx: ctx, db: db, fn: fn, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errors.New("sqlstore: database closed")
	}
	c.jobs <- j
	c.mu.RUnlock()
	<-j.done
	if j.pnc != nil {
		panic(j.pnc)
	}
	return j.err
}

func (c *committer) loop() {
	defer close(c.done)
	var pending []*groupJob // left over from a rolled-back batch
	for {
		if len(pending) == 0 {
			select {
			case j := <-c.jobs:
				pending = append(pending, j)
			case <-c.stop:
				// Finish what was submitted before the stop.
				for {
					select {
					case j := <-c.jobs:
						pending = append(pending, j)
						continue
					default:
					}
					break
				}
				for len(pending) > 0 {
					pending = c.batch(pending)
				}
				return
			}
		}
	drain:
		for len(pending) < maxGroup {
			select {
			case j := <-c.jobs:
				pending = append(pending, j)
			default:
				break drain
			}
		}
		pending = c.batch(pending)
	}
}

// background is the context of the committer's own statements: BEGIN,
// savepoints and COMMIT must not be cut short by one caller's context.
var background = context.Background()

// batch runs jobs in one transaction and reports to each. It returns the jobs
// it did not get to run because SQLite rolled the transaction back.
func (c *committer) batch(jobs []*groupJob) []*groupJob {
	finish := func(js []*groupJob, err error) {
		for _, j := range js {
			if j.err == nil && j.pnc == nil {
				j.err = err
			}
			close(j.done)
		}
	}
	if err := c.ctl("BEGIN IMMEDIATE"); err != nil {
		finish(jobs, fmt.Errorf("sqlstore: begin: %w", err))
		return nil
	}
	var kept []*groupJob // ran and released: committed with the transaction
	for i, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			close(j.done)
			continue
		}
		if j.single {
			c.call(j)
			switch {
			case j.err == nil && j.pnc == nil:
				kept = append(kept, j)
			case j.pnc == nil && statementFailed(j.err):
				close(j.done)
			default: // SQLite may have rolled the whole transaction back
				c.abort(kept, j.err)
				close(j.done)
				return jobs[i+1:]
			}
			continue
		}
		if err := c.ctl("SAVEPOINT job"); err != nil {
			c.abort(kept, err)
			return jobs[i:]
		}
		c.call(j)
		failed := j.err != nil || j.pnc != nil
		if failed {
			if err := c.ctl("ROLLBACK TO job"); err != nil {
				c.abort(kept, err)
				close(j.done)
				return jobs[i+1:]
			}
		}
		if err := c.ctl("RELEASE job"); err != nil {
			c.abort(kept, err)
			if !failed {
				j.err = errGroupAborted
			}
			close(j.done)
			return jobs[i+1:]
		}
		if failed {
			close(j.done)
			continue
		}
		kept = append(kept, j)
	}
	if err := c.ctl("COMMIT"); err != nil {
		_ = c.ctl("ROLLBACK")
		finish(kept, fmt.Errorf("sqlstore: commit: %w", err))
		return nil
	}
	c.commits.Add(1)
	finish(kept, nil)
	return nil
}

// ctl runs one of the committer's own statements (BEGIN, SAVEPOINT, ...), prepared once.
func (c *committer) ctl(query string) error {
	s, err := c.stmt(query)
	if err == nil && s != nil {
		_, err = s.ExecContext(background)
	} else if err == nil {
		_, err = c.conn.ExecContext(background, query)
	}
	return err
}

// statementFailed reports an error after which the transaction goes on: no
// row (a conditional write that matched nothing) or a constraint violation,
// which SQLite undoes by itself, statement by statement. After any other
// error (I/O, disk full, ...) SQLite may have rolled the whole transaction back.
func statementFailed(err error) bool {
	if errors.Is(err, sql.ErrNoRows) {
		return true
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// abort ends a transaction SQLite broke off: the jobs run so far lose their
// work. (The caller hands the jobs not yet run to the next batch.)
func (c *committer) abort(kept []*groupJob, cause error) {
	_ = c.ctl("ROLLBACK") // may already be rolled back
	for _, j := range kept {
		j.err = fmt.Errorf("%w: %w", errGroupAborted, cause)
		close(j.done)
	}
}

// call runs one job's function on the DB bound to the group transaction.
func (c *committer) call(j *groupJob) {
	defer func() {
		if v := recover(); v != nil {
			j.pnc = v
		}
	}()
	bound := *j.db
	bound.tx = c.tx
	j.err = j.fn(&bound)
}

// stmt returns query prepared on the writer connection.
func (c *committer) stmt(query string) (*sql.Stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil // run it unprepared
	}
	s, err := c.conn.PrepareContext(background, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

// groupTx is the querier of a job: the writer connection inside the group
// transaction, with prepared statements. Every statement runs detached from
// the caller's cancellation (see the package comment above).
type groupTx struct{ c *committer }

func (g *groupTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	s, err := g.c.stmt(query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return g.c.conn.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (g *groupTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	s, err := g.c.stmt(query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return g.c.conn.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (g *groupTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	s, err := g.c.stmt(query)
	if err != nil || s == nil {
		return g.c.conn.QueryRowContext(ctx, query, args...) // reports the same error, if any
	}
	return s.QueryRowContext(ctx, args...)
}

func (g *groupTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return g.c.conn.PrepareContext(ctx, query)
}

// maxCachedStmts bounds a statement cache: the queries are constants, but a
// few are built (bulk inserts, optional filters); beyond this many, new ones
// run unprepared.
const maxCachedStmts = 512

// readStmts caches the statements of the SQLite reader pool.
type readStmts struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

func (r *readStmts) get(ctx context.Context, query string) *sql.Stmt {
	r.mu.Lock()
	s, ok := r.m[query]
	full := len(r.m) >= maxCachedStmts
	r.mu.Unlock()
	if ok || full {
		return s
	}
	s, err := r.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared query reports the error
	}
	r.mu.Lock()
	if old, ok := r.m[query]; ok {
		s.Close()
		s = old
	} else {
		r.m[query] = s
	}
	r.mu.Unlock()
	return s
}

func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.m {
		s.Close()
	}
	r.m = nil
}
