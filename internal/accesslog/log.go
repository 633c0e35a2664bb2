package accesslog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"starling/internal/events"
)

// Topic starts the events bus topics of access records: each Log publishes
// under Topic.<its own random word>, so that it can tell its own records
// coming back from the bus without decoding them.
const Topic = "access.log"

const (
	// ReplaySize is how many of the newest records a new watcher gets
	// first.
	ReplaySize = 100
	// pendingSize bounds the records waiting to be published.
	pendingSize = 1024
	// watchBuffer bounds the records waiting for one watcher.
	watchBuffer = 256
	// maxBatch bounds the records published in one event.
	maxBatch = 256
	// batchWindow is how long the first record of a batch waits for
	// others before the batch goes out: a busy process publishes an event
	// every batchWindow, not one a request (on Redis, one PUBLISH each,
	// delivered to every process), and the other processes' watchers see
	// its requests at most this late.
	batchWindow = 10 * time.Millisecond
)

// Log publishes this process's access records and keeps those of every
// process.
type Log struct {
	bus     events.Bus
	process string
	topic   string // Topic.<random word>: this Log's records
	log     *slog.Logger
	pending chan Record
	dropped atomic.Uint64 // records dropped on the way: queue or watcher full

	mu       sync.Mutex // guards ring, next, watchers and closed
	ring     [ReplaySize]Record
	next     int // records ever kept; ring[next%ReplaySize] is the oldest once full
	watchers map[*Watch]struct{}
	closed   bool
}

// New returns a Log over bus; process names this process in its records
// (host and pid, say). Run must run for records to flow.
func New(bus events.Bus, process string, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{bus: bus, process: process, topic: Topic + "." + rand.Text(), log: log, pending: make(chan Record, pendingSize), watchers: make(map[*Watch]struct{})}
}

// Add queues a record of this process for publishing, or drops it when the
// queue is full.
func (l *Log) Add(r Record) {
	r.Process = l.process
	select {
	case l.pending <- r:
	default:
		l.dropped.Add(1)
	}
}

// Dropped is how many records were lost on the way to the bus or to a
// watcher.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Run subscribes to the records of every process and publishes this one's,
// in batches, until ctx ends.
func (l *Log) Run(ctx context.Context) error {
	unsubscribe, err := l.bus.Subscribe(Topic+".*", l.receive)
	if err != nil {
		return err
	}
	defer unsubscribe()
	batch := make([]Record, 0, maxBatch)
	window := time.NewTimer(batchWindow)
	window.Stop()
	defer window.Stop()
	for {
		select {
		case <-ctx.Done():
			if len(batch) > 0 { // the last few milliseconds' records, if the bus still takes them
				pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				l.publish(pctx, batch)
				cancel()
			}
			return nil
		case r := <-l.pending:
			// This process's records are kept at once, as they are;
			// the bus brings back only the others' (receive).
			l.keep(r)
			batch = append(batch, r)
			if len(batch) == 1 {
				window.Reset(batchWindow)
			}
			if len(batch) < maxBatch {
				continue
			}
			window.Stop()
		case <-window.C:
		}
		l.publish(ctx, batch)
		batch = batch[:0]
	}
}

// publish sends a batch of this process's records to the other processes.
func (l *Log) publish(ctx context.Context, batch []Record) {
	data, err := json.Marshal(batch)
	if err != nil {
		return // a Record always encodes
	}
	if err := l.bus.Publish(ctx, events.Event{Topic: l.topic, Data: data}); err != nil && ctx.Err() == nil {
		l.dropped.Add(uint64(len(batch)))
		l.log.DebugContext(ctx, "accesslog: publishing records failed", "records", len(batch), "err", err)
	}
}

// receive keeps the records another process published: a batch (a JSON
// array), or one record (an object), as processes of earlier versions
// publish. The records of this process, which come back too, were kept
// when they were added.
func (l *Log) receive(e events.Event) {
	if e.Topic == l.topic {
		return
	}
	var batch []Record
	if bytes.HasPrefix(e.Data, []byte("{")) {
		batch = make([]Record, 1)
		if err := json.Unmarshal(e.Data, &batch[0]); err != nil {
			return
		}
	} else if err := json.Unmarshal(e.Data, &batch); err != nil {
		return
	}
	for _, r := range batch {
		l.keep(r)
	}
}

// keep puts a record into the ring and hands it to the watchers.
func (l *Log) keep(r Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next%ReplaySize] = r
	l.next++
	for w := range l.watchers {
		select {
		case w.c <- r:
		default:
			l.dropped.Add(1)
		}
	}
}

// Watch is one watcher of the log: C yields the records that arrive after
// it started, until Close or the Log's Close (then C is closed).
type Watch struct {
	C      <-chan Record
	c      chan Record
	l      *Log
	closed bool // guarded by l.mu
}

// Watch returns the newest records kept, oldest first, and a Watch of the
// records that follow them, with no gap and no repeat between the two.
func (l *Log) Watch() ([]Record, *Watch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(l.next, ReplaySize)
	replay := make([]Record, 0, n)
	for i := l.next - n; i < l.next; i++ {
		replay = append(replay, l.ring[i%ReplaySize])
	}
	c := make(chan Record, watchBuffer)
	w := &Watch{C: c, c: c, l: l}
	if l.closed {
		w.closed = true
		close(c)
		return replay, w
	}
	l.watchers[w] = struct{}{}
	return replay, w
}

// Close ends the watch; C is closed.
func (w *Watch) Close() {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	w.closeLocked()
}

func (w *Watch) closeLocked() {
	if !w.closed {
		w.closed = true
		delete(w.l.watchers, w)
		close(w.c)
	}
}

// Close ends every watch, now and to come, so that the streams serving them
// finish (a server calls it when it shuts down).
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for w := range l.watchers {
		w.closeLocked()
	}
}
