package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"starling/internal/engine/statuscache"
	"starling/internal/engine/timelinecache"
	"starling/internal/jobs"
	"starling/internal/social"
)

// FileName is the name of the database file Open creates in its directory.
const FileName = "starling.db"

var (
	_ social.Store = (*DB)(nil)
	_ jobs.Queue   = (*DB)(nil)
)

// Options tunes a DB. Zero values mean the documented defaults.
type Options struct {
	// ReadConns is the size of the read-only connection pool; zero means
	// max(4, GOMAXPROCS).
	ReadConns int
	// BusyTimeout is how long a statement waits for SQLite's write lock
	// held by another program (the sqlite3 shell, a backup) before failing;
	// zero means 5s.
	BusyTimeout time.Duration
	// JobPoll is how often a waiting Claim looks for jobs it was not told
	// about (delayed jobs coming due, expired leases); zero means 50ms.
	JobPoll time.Duration
	// FullSync makes every commit wait for the disk (synchronous=FULL), so
	// that a power loss or kernel crash also keeps it. The default
	// (synchronous=NORMAL in WAL mode) already survives a killed process.
	FullSync bool
	// StatusCacheBytes bounds the memory of the in-process cache of
	// statuses read (package statuscache); zero means DefaultStatusCacheBytes,
	// negative turns the cache off.
	StatusCacheBytes int
	// TimelineCacheBytes bounds the memory of the in-process cache of the
	// heads of home and list timelines read (see tlKey); zero
	// means DefaultTimelineCacheBytes, negative turns the cache off.
	TimelineCacheBytes int
	// TimelineSize is how many entries home and list timelines keep;
	// zero means social.DefaultTimelineSize. It is fixed for the life of
	// the data: the first Open records it, and a later Open with another
	// size fails (see checkSettings).
	TimelineSize int
}

// DefaultStatusCacheBytes is the status cache's size when
// Options.StatusCacheBytes is zero: some hundreds of thousands of statuses.
const DefaultStatusCacheBytes = 64 << 20

func (o Options) withDefaults() Options {
	if o.ReadConns <= 0 {
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.JobPoll <= 0 {
		o.JobPoll = 50 * time.Millisecond
	}
	if o.StatusCacheBytes == 0 {
		o.StatusCacheBytes = DefaultStatusCacheBytes
	}
	if o.TimelineCacheBytes == 0 {
		o.TimelineCacheBytes = DefaultTimelineCacheBytes
	}
	if o.TimelineSize == 0 {
		o.TimelineSize = social.DefaultTimelineSize
	}
	return o
}

// DB is the embedded engine: one SQLite database file serving both the
// social store and the job queue. See the package documentation for its
// concurrency contract.
type DB struct {
	path string
	opts Options
	log  *slog.Logger
	// afterRefillRead, when set (by tests), runs between the read and the
	// write of a refill (RefillTimeline).
	afterRefillRead func()

	// w has exactly one connection, so that database/sql itself queues
	// writers in this process instead of leaving them to spin on SQLITE_BUSY.
	w *sql.DB
	// r is a pool of query_only connections; in WAL mode each reads a
	// consistent snapshot without blocking the writer or each other.
	r *sql.DB

	// wstmts and rstmts are prepared once in Open and only read afterwards.
	// Writer statements cannot be prepared lazily: inside a transaction
	// the only writer connection is taken, so preparing on the pool would
	// wait for it forever.
	wstmts map[string]*sql.Stmt
	rstmts map[string]*sql.Stmt

	// ck is the one connection that checkpoints the WAL in the
	// background (see checkpoints); walGrew tells it that a write
	// committed.
	ck      *sql.DB
	walGrew chan struct{}
	ckDone  chan struct{} // closed when the checkpointer has stopped

	// lock holds the data directory's lock (lockDir) until Close.
	lock *os.File

	statuses *statuscache.Cache
	// group lets concurrent posts share a transaction (group.go).
	group     writeGroup
	timelines *timelinecache.Cache[tlKey]

	jobsAdded notifier
	// errors counts the failures fail saw that were not domain errors,
	// for metrics.
	errors    atomic.Uint64
	closing   chan struct{} // closed by Close to release waiting Claims
	closeOnce sync.Once
	closeErr  error
}

// Checkpoints copy the WAL back into the database file and fsync both,
// which takes milliseconds to tens of milliseconds when the disk is busy.
// SQLite's automatic checkpoint runs in the committing writer, so every
// write queued behind it waited; with fan-out putting a hundred frames in
// the WAL per call, that was one commit in ten. A goroutine with a
// connection of its own now checkpoints (PASSIVE: it never blocks readers
// or the writer) at most every checkpointEvery while writes come in. It
// cannot let the WAL start over while writes follow each other closely,
// so the writer's own checkpoint stays as a backstop, at walBackstop
// frames (64 MiB of 4 KiB pages, journal_size_limit), after which the WAL
// starts over from its beginning.
const (
	checkpointEvery = 250 * time.Millisecond
	walBackstop     = 16384
)

// writeQueries and readQueries collect the statements to prepare in Open.
// They are filled while the package's variables are initialized, by the
// writeQuery and readQuery calls that declare each statement next to the
// code that runs it.
var writeQueries, readQueries []string

func writeQuery(q string) string {
	writeQueries = append(writeQueries, q)
	return q
}

func readQuery(q string) string {
	readQueries = append(readQueries, q)
	return q
}

// Open opens the database in dir, creating dir and the database when they
// are missing and bringing the schema up to date. The directory is this
// process's until Close: Open fails with an error wrapping ErrInUse while
// another process has it open (see the package documentation).
func Open(ctx context.Context, dir string, opts Options, log *slog.Logger) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: creating data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	db, err := open(ctx, dir, opts, log)
	if err != nil {
		lock.Close()
		return nil, err
	}
	db.lock = lock
	return db, nil
}

func open(ctx context.Context, dir string, opts Options, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	abs, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolving database path: %w", err)
	}
	db := &DB{
		path: abs, opts: opts, log: log, closing: make(chan struct{}),
		walGrew: make(chan struct{}, 1), ckDone: make(chan struct{}),
		statuses:  statuscache.New(opts.StatusCacheBytes),
		timelines: timelinecache.New[tlKey](opts.TimelineCacheBytes),
	}
	db.jobsAdded.init()
	if err := restrictFiles(abs); err != nil {
		return nil, err
	}

	db.w, err = sql.Open("sqlite", db.dsn(connWriter))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.migrate(ctx); err != nil {
		db.w.Close()
		return nil, err
	}
	if err := db.checkSettings(ctx); err != nil {
		db.w.Close()
		return nil, err
	}

	// Readers are opened after the migrations so that the first one finds
	// the file already in WAL mode.
	db.r, err = sql.Open("sqlite", db.dsn(connReader))
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: opening %s for reading: %w", abs, err)
	}
	db.r.SetMaxOpenConns(opts.ReadConns)
	db.r.SetMaxIdleConns(opts.ReadConns)
	db.r.SetConnMaxLifetime(0)
	db.r.SetConnMaxIdleTime(0)

	if db.wstmts, err = prepareAll(ctx, db.w, writeQueries); err == nil {
		db.rstmts, err = prepareAll(ctx, db.r, readQueries)
	}
	if err != nil {
		db.closeStmts()
		db.r.Close()
		db.w.Close()
		return nil, fmt.Errorf("sqlite: preparing statements: %w", err)
	}
	db.ck, err = sql.Open("sqlite", db.dsn(connCheckpointer))
	if err != nil {
		db.closeStmts()
		db.r.Close()
		db.w.Close()
		return nil, fmt.Errorf("sqlite: opening %s for checkpoints: %w", abs, err)
	}
	db.ck.SetMaxOpenConns(1)
	db.ck.SetMaxIdleConns(1)
	db.ck.SetConnMaxLifetime(0)
	db.ck.SetConnMaxIdleTime(0)
	go db.checkpoints()
	log.Debug("sqlite: database open", "path", abs, "read_conns", opts.ReadConns)
	return db, nil
}

// The connections a DB opens.
const (
	connWriter = iota
	connReader
	connCheckpointer
)

// dsn builds the connection string of the writer, a reader or the
// checkpointer. The file: form keeps unusual characters in the path from
// being read as URI syntax.
func (db *DB) dsn(conn int) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", db.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	switch conn {
	case connWriter:
		q.Add("_pragma", "journal_mode(WAL)")
		if db.opts.FullSync {
			q.Add("_pragma", "synchronous(FULL)")
		} else {
			q.Add("_pragma", "synchronous(NORMAL)")
		}
		// Keeps a WAL that grew during a burst from staying that large.
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstop))
		q.Add("_pragma", "temp_store(MEMORY)")
		// A fan-out dirties a hundred pages or so; a page cache of 64 MiB
		// keeps the hot part of the timelines in memory between
		// transactions instead of rereading it from the OS.
		q.Add("_pragma", "cache_size(-65536)")
		// Taking the write lock at BEGIN means a transaction never fails
		// half-way with SQLITE_BUSY when it upgrades from reading to
		// writing; it waits (busy_timeout) before doing anything instead.
		q.Set("_txlock", "immediate")
	case connReader:
		q.Set("_query_only", "1")
	case connCheckpointer:
		// Checkpoints write the database file, so not query_only; the
		// synchronous setting decides whether they fsync, as on the
		// writer.
		if db.opts.FullSync {
			q.Add("_pragma", "synchronous(FULL)")
		} else {
			q.Add("_pragma", "synchronous(NORMAL)")
		}
	}
	return "file:" + (&url.URL{Path: db.path}).EscapedPath() + "?" + q.Encode()
}

// checkpoints runs the background checkpoints until Close: one at most
// every checkpointEvery, and only after writes.
func (db *DB) checkpoints() {
	defer close(db.ckDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-db.closing
		cancel()
	}()
	var last time.Time
	for {
		select {
		case <-db.closing:
			return
		case <-db.walGrew:
		}
		if wait := checkpointEvery - time.Since(last); wait > 0 {
			select {
			case <-db.closing:
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		var busy, frames, copied int
		err := db.ck.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		if err != nil && ctx.Err() == nil {
			db.log.Warn("sqlite: checkpoint failed", "err", err)
		}
	}
}

func prepareAll(ctx context.Context, pool *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		if _, ok := m[q]; ok {
			continue
		}
		s, err := pool.PrepareContext(ctx, q)
		if err != nil {
			for _, s := range m {
				s.Close()
			}
			return nil, fmt.Errorf("%w in %s", err, strings.Join(strings.Fields(q), " "))
		}
		m[q] = s
	}
	return m, nil
}

func (db *DB) closeStmts() {
	for _, s := range db.wstmts {
		s.Close()
	}
	for _, s := range db.rstmts {
		s.Close()
	}
}

// Close releases waiting Claims, lets the statements that have started
// finish and closes the database. Calls made after Close fail.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		<-db.ckDone
		// Worth doing once per process lifetime: it refreshes the planner's
		// statistics for tables whose shape changed a lot.
		if _, err := db.w.Exec("PRAGMA optimize"); err != nil {
			db.log.Warn("sqlite: optimize on close failed", "err", err)
		}
		db.closeStmts()
		db.closeErr = errors.Join(db.ck.Close(), db.r.Close(), db.w.Close())
		if db.lock != nil {
			db.closeErr = errors.Join(db.closeErr, db.lock.Close())
		}
		if db.closeErr != nil {
			db.closeErr = fmt.Errorf("sqlite: closing: %w", db.closeErr)
		}
	})
	return db.closeErr
}

// Ping reports whether the store can serve requests.
func (db *DB) Ping(ctx context.Context) error {
	select {
	case <-db.closing:
		return fmt.Errorf("sqlite: ping: %w: database closed", social.ErrUnavailable)
	default:
	}
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w: %w", social.ErrUnavailable, err)
	}
	return nil
}

// wtx is a write transaction: the one writer connection, held from BEGIN
// IMMEDIATE to COMMIT.
type wtx struct {
	ctx context.Context
	db  *DB
	tx  *sql.Tx
	// enqueued records that the transaction added runnable work, so that
	// waiting Claims are woken once it commits.
	enqueued bool
	// touched lists the timelines the transaction changed, for the
	// timeline cache to forget once it commits.
	touched []tlKey
}

// touch records that the transaction changes the given timelines. Every
// statement that changes what a home or list timeline shows runs in a
// function that calls it (timelines.go).
func (tx *wtx) touch(kind int, owners ...int64) {
	for _, o := range owners {
		tx.touched = append(tx.touched, tlKey{kind, o})
	}
}

// write runs fn in a write transaction and commits it when fn returns nil.
// op names the operation in wrapped errors.
func (db *DB) write(ctx context.Context, op string, fn func(tx *wtx) error) error {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, err)
	}
	tx := &wtx{ctx: ctx, db: db, tx: sqlTx}
	// A panic in fn must not leave the only writer connection inside a
	// transaction, where every later write would wait for it forever.
	committing := false
	defer func() {
		if p := recover(); p != nil {
			if !committing {
				sqlTx.Rollback()
			}
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return db.fail(op, err)
	}
	committing = true
	err = sqlTx.Commit()
	// Forgotten even when Commit failed, which may come after the commit
	// itself; forgetting only costs a reread.
	db.timelines.Forget(tx.touched...)
	if err != nil {
		return db.fail(op, err)
	}
	select {
	case db.walGrew <- struct{}{}:
	default:
	}
	if tx.enqueued {
		db.jobsAdded.broadcast()
	}
	return nil
}

// stmt returns the transaction's use of a statement prepared in Open,
// preparing it on the spot for the rare statement that was not.
func (tx *wtx) stmt(query string) (*sql.Stmt, error) {
	if s, ok := tx.db.wstmts[query]; ok {
		return tx.tx.StmtContext(tx.ctx, s), nil
	}
	return tx.tx.PrepareContext(tx.ctx, query)
}

func (tx *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, args...)
}

// execCount runs a statement and returns how many rows it changed.
func (tx *wtx) execCount(query string, args ...any) (int64, error) {
	res, err := tx.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (tx *wtx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, args...)
}

func (tx *wtx) queryRow(query string, args ...any) row {
	s, err := tx.stmt(query)
	if err != nil {
		return row{err: err}
	}
	return row{Row: s.QueryRowContext(tx.ctx, args...)}
}

// row is a *sql.Row that can also carry the error of preparing it.
type row struct {
	*sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

// read helpers run one statement on the reader pool.

func (db *DB) rstmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.rstmts[query]; ok {
		return s, nil
	}
	return db.r.PrepareContext(ctx, query)
}

func (db *DB) readRow(ctx context.Context, query string, args ...any) row {
	s, err := db.rstmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{Row: s.QueryRowContext(ctx, args...)}
}

func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.rstmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// readIDs runs a query whose rows are single integers.
func readIDs[ID ~int64](ctx context.Context, db *DB, op, query string, args ...any) ([]ID, error) {
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, db.fail(op, err)
	}
	ids, err := scanIDs[ID](rows)
	return ids, db.fail(op, err)
}

func scanIDs[ID ~int64](rows *sql.Rows) ([]ID, error) {
	defer rows.Close()
	ids := []ID{}
	for rows.Next() {
		var id ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// domainErrors pass through fail unwrapped: they are the ports' answers,
// not failures of the engine.
var domainErrors = []error{
	social.ErrUserNotFound, social.ErrStatusNotFound, social.ErrListNotFound,
	social.ErrLoginTaken, social.ErrInvalidToken, social.ErrForbidden,
	social.ErrFollowSelf, social.ErrLimitReached, jobs.ErrLeaseLost, jobs.ErrNoDeadJob,
}

// fail wraps an engine error with the operation's name. Lock timeouts are
// also marked social.ErrUnavailable: the call may well succeed later.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, d := range domainErrors {
		if errors.Is(err, d) {
			return err
		}
	}
	db.errors.Add(1)
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlite: %s: %w: %w", op, social.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// Errors is how many store calls failed for a reason other than the
// caller's (domain errors such as social.ErrNotFound are not counted).
func (db *DB) Errors() uint64 { return db.errors.Load() }

// CacheCounts returns the hits and misses of the status and timeline
// caches since the engine opened.
func (db *DB) CacheCounts() (statusHits, statusMisses, timelineHits, timelineMisses uint64) {
	statusHits, statusMisses = db.statuses.Counts()
	timelineHits, timelineMisses = db.timelines.Counts()
	return statusHits, statusMisses, timelineHits, timelineMisses
}

// Times are stored as unix milliseconds.

func millis(t time.Time) int64 { return t.UnixMilli() }

// millisCeil rounds up, for the times before which a job must not run: a
// stored time may then only be late, never early.
func millisCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// notifier wakes every goroutine waiting for the next broadcast.
type notifier struct {
	mu sync.Mutex    // guards ch
	ch chan struct{} // closed and replaced by each broadcast
}

func (n *notifier) init() { n.ch = make(chan struct{}) }

// wait returns a channel closed by the next broadcast. Take it before
// looking for work, so that work added during the look is not missed.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}
