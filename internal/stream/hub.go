package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBufferBytes is how many bytes of frames a connection may have
// waiting before it is ended as too slow.
const DefaultBufferBytes = 256 << 10

// HubConfig configures a Hub. Zero values mean the documented defaults.
type HubConfig struct {
	Log Log // required
	// BufferBytes bounds each connection's waiting frames; zero means
	// DefaultBufferBytes.
	BufferBytes int
	// MaxConnections caps this process's stream connections; zero means
	// no cap.
	MaxConnections int
	Logger         *slog.Logger
	// Hidden reports whether the statuses of user uid are kept out of
	// every stream (its author is suspended): the hub then sends none of
	// their status or timeline events, live or replayed; their deletes
	// still go out. It is called on the hub's goroutine and by replaying
	// clients, so it must be cheap and safe for concurrent use. Nil hides
	// nothing.
	Hidden func(ctx context.Context, uid int64) bool
}

// Errors of Connect and Subscribe.
var (
	ErrTooManyConnections = errors.New("stream: too many stream connections on this server")
	ErrHubClosed          = errors.New("stream: hub closed")
)

// readBatch is how many log entries the hub reads at once; readWait how
// long one read waits for new entries before looking again.
const (
	readBatch = 1024
	readWait  = 5 * time.Second
)

// Hub hands the events of the log to the matching clients of this process.
// Run reads the log (the process's one subscription); Connect and Subscribe
// add clients; Close ends every connection with ReasonShutdown.
type Hub struct {
	log    Log
	lg     *slog.Logger
	limit  int
	max    int
	hidden func(ctx context.Context, uid int64) bool // nil: none

	mu     sync.RWMutex // guards idx, sinks and closed; held shared while events are dispatched
	idx    *index
	sinks  map[*Sink]struct{}
	subs   int
	closed bool

	pos   atomic.Uint64 // id of the last event dispatched
	stamp uint64        // events considered; touched by the dispatching goroutine only
	ready chan struct{} // closed once Run knows the log's position
	quit  chan struct{} // closed by Close
	once  sync.Once

	delivered atomic.Uint64 // frames handed to clients
	slow      atomic.Uint64 // connections ended as too slow
}

// NewHub returns a hub over cfg.Log; call Run to start it.
func NewHub(cfg HubConfig) *Hub {
	if cfg.Log == nil {
		panic("stream: HubConfig.Log is nil")
	}
	if cfg.BufferBytes <= 0 {
		cfg.BufferBytes = DefaultBufferBytes
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		log: cfg.Log, lg: lg, limit: cfg.BufferBytes, max: cfg.MaxConnections, hidden: cfg.Hidden,
		idx: newIndex(), sinks: make(map[*Sink]struct{}),
		ready: make(chan struct{}), quit: make(chan struct{}),
	}
}

// Run reads the log and dispatches its events until ctx ends or Close is
// called. A failing log is retried with backoff from where the hub was,
// so nothing retained is missed across an outage.
func (h *Hub) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-h.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := newBackoff()
	for {
		last, err := h.log.Last(ctx)
		if err == nil {
			h.pos.Store(last)
			break
		}
		if !backoff.wait(ctx, h.lg, "finding the log's end", err) {
			return nil
		}
	}
	close(h.ready)
	for {
		pos := h.pos.Load()
		entries, gap, err := h.log.Read(ctx, pos, readBatch, readWait)
		if err != nil {
			if !backoff.wait(ctx, h.lg, "reading the log", err) {
				return nil
			}
			continue
		}
		backoff.reset()
		if gap && len(entries) == 0 {
			// The log is behind the hub: it was reset (a Redis that lost
			// its data). Everything in it now is new, so the hub reads it
			// from its start.
			h.lg.Warn("stream: the event log was reset; reading it from its start", "was", pos)
			h.mu.Lock()
			h.pos.Store(0)
			h.mu.Unlock()
			continue
		}
		if gap {
			h.lg.Warn("stream: events dropped from the log before the hub read them", "after", pos, "next", entries[0].ID)
		}
		h.dispatch(ctx, entries)
	}
}

// dispatch hands each entry to the clients it matches. The entries are
// decoded, and hidden authors looked up, before the lock is taken, so that
// a lookup that reads the store never holds up Connect and Subscribe.
func (h *Hub) dispatch(ctx context.Context, entries []Entry) {
	evs := make([]*event, len(entries))
	for i, e := range entries {
		ev, err := decodeEvent(e)
		if err != nil {
			h.lg.Warn("stream: skipping an undecodable event", "err", err)
			continue
		}
		if !h.hides(ctx, ev) {
			evs[i] = ev
		}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for i, e := range entries {
		if ev := evs[i]; ev != nil {
			h.stamp++
			stamp := h.stamp
			h.idx.candidates(ev, func(c *Client, check bool) {
				if c.stamp == stamp {
					return
				}
				c.stamp = stamp
				if ev.id <= c.skipThrough || check && !c.spec.Filter.matches(ev) {
					return
				}
				c.sink.push(c, ev.frame(c.format))
				h.delivered.Add(1)
			})
		}
		h.pos.Store(e.ID)
	}
}

// hides reports whether ev is a status or timeline event of a hidden
// author.
func (h *Hub) hides(ctx context.Context, ev *event) bool {
	return h.hidden != nil && (ev.kind == created || ev.kind == delivered) && h.hidden(ctx, ev.st.UID)
}

// Close ends every connection with ReasonShutdown, refuses new ones and
// stops Run.
func (h *Hub) Close() {
	h.once.Do(func() {
		close(h.quit)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.closed = true
		for s := range h.sinks {
			s.mu.Lock()
			s.end(ReasonShutdown)
			s.mu.Unlock()
		}
	})
}

// Done is closed once Close has been called.
func (h *Hub) Done() <-chan struct{} { return h.quit }

// Connect opens a connection's sink. Close it when the connection ends.
func (h *Hub) Connect() (*Sink, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrHubClosed
	}
	if h.max > 0 && len(h.sinks) >= h.max {
		return nil, ErrTooManyConnections
	}
	s := &Sink{hub: h, limit: h.limit, wake: make(chan struct{}, 1), clients: make(map[*Client]struct{})}
	h.sinks[s] = struct{}{}
	return s, nil
}

// Subscribe adds a subscription to the connection; it is live when
// Subscribe returns: every event appended from then on that matches spec
// is kept for the sink, and reaches it once the caller has called Start.
// head is prepended to every frame. When after is non-zero the client
// already has the events up to it, and Start writes those after it that
// the hub had dispatched before the subscription began.
func (s *Sink) Subscribe(ctx context.Context, spec Spec, format Format, head []byte, after uint64) (*Client, error) {
	h := s.hub
	select {
	case <-h.ready:
	case <-h.quit:
		return nil, ErrHubClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c := &Client{sink: s, spec: spec, format: format, head: head}
	if after > 0 {
		// An id beyond the log's end was not given by this log (it was
		// reset since): nothing the client missed can be found.
		last, err := h.log.Last(ctx)
		if err != nil {
			return nil, fmt.Errorf("stream: subscribing: %w", err)
		}
		if after > last {
			c.lost, after = true, 0
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrHubClosed
	}
	c.start = h.pos.Load()
	c.skipThrough = after
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrHubClosed
	}
	c.replaying = true // until Start
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	h.idx.each(c, true)
	h.subs++
	return c, nil
}

// Unsubscribe removes a subscription; frames of it already waiting stay.
func (s *Sink) Unsubscribe(c *Client) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	_, ok := s.clients[c]
	delete(s.clients, c)
	c.held = nil
	s.mu.Unlock()
	if ok {
		h.idx.each(c, false)
		h.subs--
	}
}

// Close removes the connection's subscriptions and frees its place and
// buffer.
func (s *Sink) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	clients := s.clients
	s.clients = map[*Client]struct{}{}
	s.buf = nil
	s.mu.Unlock()
	for c := range clients {
		h.idx.each(c, false)
		h.subs--
	}
	delete(h.sinks, s)
}

// Stats is a snapshot of the hub's state and counters.
type Stats struct {
	Connections   int
	Subscriptions int
	IndexEntries  int
	BufferedBytes int
	Delivered     uint64 // frames handed to clients since the start
	TooSlow       uint64 // connections ended as too slow since the start
	Position      uint64 // id of the last event dispatched
}

// Stats returns the hub's state; it walks every connection, so it is for
// tests and occasional monitoring.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	st := Stats{
		Connections: len(h.sinks), Subscriptions: h.subs, IndexEntries: h.idx.size(),
		Delivered: h.delivered.Load(), TooSlow: h.slow.Load(), Position: h.pos.Load(),
	}
	for s := range h.sinks {
		st.BufferedBytes += s.Buffered()
	}
	return st
}

// backoff spaces out retries of a failing log.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 50 * time.Millisecond} }

func (b *backoff) reset() { b.d = 50 * time.Millisecond }

// wait logs err, sleeps and doubles the delay up to a second; it reports
// false when ctx ended.
func (b *backoff) wait(ctx context.Context, lg *slog.Logger, what string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	lg.Warn("stream: "+what+" failed; retrying", "err", err, "in", b.d)
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
