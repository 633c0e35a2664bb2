package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"starling/internal/events"
)

// TopicPrefix starts the topic of the event published for each message:
// "chat.<room>", with the message id as its data.
const TopicPrefix = "chat."

// Config configures Rooms. Zero values mean the documented defaults.
type Config struct {
	// History is the durable store; required.
	History History
	// Bus carries "a room has a new message" between processes; nil means
	// this process is the only one posting.
	Bus events.Bus
	// Logger receives trouble with the history or the bus; nil discards.
	Logger *slog.Logger
	// Window is how many of each room's newest messages are kept in
	// memory; zero means DefaultWindow.
	Window int
	// MaxRooms bounds the rooms kept in memory: beyond it, the least
	// recently used room nobody is reading is dropped (and read again
	// from the history when needed). Zero means 1000.
	MaxRooms int
	// Resync is how often rooms with readers are compared with the
	// history, to catch messages whose event the bus lost (it delivers at
	// most once); zero means 1s.
	Resync time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// syncTimeout bounds one read of the history made to bring a window up to
// date.
const syncTimeout = 5 * time.Second

// Rooms keeps the newest messages of the rooms in use in memory, appends
// new messages to the history, and releases the callers waiting for them.
// Every window is a copy of the newest messages of its room's history,
// brought up to date by reading the history after the window's newest
// message; so messages reach readers once, in the history's order, whichever
// process posted them and whether or not the bus delivered their event.
type Rooms struct {
	hist     History
	bus      events.Bus
	log      *slog.Logger
	window   int
	maxRooms int
	resync   time.Duration
	now      func() time.Time

	closing   chan struct{} // closed by Close: waits end
	closeOnce sync.Once

	// mu guards rooms: read-locked to find a room (the path of every
	// request), locked to add or evict one.
	mu    sync.RWMutex
	rooms map[string]*room
	clock atomic.Uint64 // counts acquisitions, for least-recently-used eviction

	pendingMu sync.Mutex // guards pending
	pending   []*room    // rooms marked dirty, for the syncer
	kick      chan struct{}

	waiters atomic.Int64
}

// room is one room's window.
type room struct {
	name string
	// refs counts the calls using the room. It is raised only under
	// Rooms.mu (read-locked), and eviction checks it with Rooms.mu locked,
	// so a room in use is never evicted; it is lowered without the lock.
	refs    atomic.Int64
	lastUse atomic.Uint64 // Rooms.clock at the last acquisition

	// syncMu serializes loading and changing the window, so that one
	// history read at a time appends to it.
	syncMu sync.Mutex
	// state is the window as readers see it, replaced whole (under
	// syncMu) when it changes, so that the thousands of readers a message
	// wakes read it without taking a lock.
	state atomic.Pointer[roomState]

	dirty atomic.Bool // queued for the syncer

	// heldMu guards held and wakerStop: the Holds registered in the
	// room (hold.go), and the channel that stops its waker goroutine, nil
	// when none runs.
	heldMu    sync.Mutex
	held      map[*Hold]struct{}
	wakerStop chan struct{}
}

// roomState is a room's window at one moment; it never changes.
type roomState struct {
	loaded  bool          // the window has been read from the history
	entries []*Entry      // oldest first; the window is the last Rooms.window
	changed chan struct{} // closed when the next state replaces this one
}

// newest returns the id of the newest entry, or "".
func (st *roomState) newest() string {
	if n := len(st.entries); n > 0 {
		return st.entries[n-1].ID
	}
	return ""
}

// NewRooms returns Rooms over cfg.History. Call Run to follow other
// processes' messages and Close to end the waits.
func NewRooms(cfg Config) *Rooms {
	if cfg.History == nil {
		panic("chat: Config.History is nil")
	}
	rs := &Rooms{
		hist: cfg.History, bus: cfg.Bus, log: cfg.Logger,
		window: cfg.Window, maxRooms: cfg.MaxRooms, resync: cfg.Resync, now: cfg.Now,
		closing: make(chan struct{}),
		rooms:   make(map[string]*room),
		kick:    make(chan struct{}, 1),
	}
	if rs.log == nil {
		rs.log = slog.New(slog.DiscardHandler)
	}
	if rs.window <= 0 {
		rs.window = DefaultWindow
	}
	if rs.maxRooms <= 0 {
		rs.maxRooms = 1000
	}
	if rs.resync <= 0 {
		rs.resync = time.Second
	}
	if rs.now == nil {
		rs.now = time.Now
	}
	return rs
}

// Batch is what a reader holding a cursor gets.
type Batch struct {
	// Entries are the messages after the cursor, oldest first, at most a
	// window of them; or the whole window when the cursor is empty or
	// unknown.
	Entries []*Entry
	// Gap reports that the cursor names a message the history no longer
	// keeps: messages may have been missed, and Entries is the window.
	Gap bool
}

// Post cleans body, appends it to room's history and makes it visible to
// the readers of every process. login is empty for an anonymous author.
func (rs *Rooms) Post(ctx context.Context, name, body, login string) (*Entry, error) {
	if !ValidRoom(name) {
		return nil, ErrBadRoom
	}
	body, err := CleanBody(body)
	if err != nil {
		return nil, err
	}
	r, err := rs.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rs.release(r)
	m, err := rs.hist.Append(ctx, NewMessage{Room: name, Body: body, Login: login, Posted: rs.now()})
	if err != nil {
		return nil, fmt.Errorf("chat: posting to %s: %w", name, err)
	}
	e, err := NewEntry(m)
	if err != nil {
		return nil, fmt.Errorf("chat: posting to %s: %w", name, err)
	}
	// The message is stored: make it visible even if the poster has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncTimeout)
	defer cancel()
	if err := rs.sync(ctx, r); err != nil {
		rs.log.WarnContext(ctx, "chat: reading new messages failed; retrying in the background", "room", name, "err", err)
		rs.markDirty(r)
	}
	if rs.bus != nil {
		if err := rs.bus.Publish(ctx, events.Event{Topic: TopicPrefix + name, Data: []byte(m.ID)}); err != nil {
			// Other processes find the message at their next resync.
			rs.log.WarnContext(ctx, "chat: publishing a message's event failed", "room", name, "err", err)
		}
	}
	return e, nil
}

// Read returns at once what a reader holding cursor gets (see Batch); an
// empty cursor gets the window. A cursor that is not a message id fails
// with ErrBadCursor.
func (rs *Rooms) Read(ctx context.Context, name, cursor string) (Batch, error) {
	if !ValidRoom(name) {
		return Batch{}, ErrBadRoom
	}
	r, err := rs.acquire(ctx, name)
	if err != nil {
		return Batch{}, err
	}
	defer rs.release(r)
	b, _, err := rs.read(ctx, r, cursor)
	return b, err
}

// Wait is Read that, when there is nothing to return, waits until there is,
// ctx ends (its error is returned) or Rooms is closed (ErrClosed).
func (rs *Rooms) Wait(ctx context.Context, name, cursor string) (Batch, error) {
	if !ValidRoom(name) {
		return Batch{}, ErrBadRoom
	}
	r, err := rs.acquire(ctx, name)
	if err != nil {
		return Batch{}, err
	}
	defer rs.release(r)
	for {
		b, changed, err := rs.read(ctx, r, cursor)
		if err != nil || len(b.Entries) > 0 || b.Gap {
			return b, err
		}
		rs.waiters.Add(1)
		select {
		case <-changed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-rs.closing:
			err = ErrClosed
		}
		rs.waiters.Add(-1)
		if err != nil {
			return Batch{}, err
		}
	}
}

// Waiters returns the number of calls waiting in Wait and of Holds
// registered.
func (rs *Rooms) Waiters() int64 { return rs.waiters.Load() }

// List returns at most limit rooms, the most recently active first, with
// the lobby always among them.
func (rs *Rooms) List(ctx context.Context, limit int) ([]RoomInfo, error) {
	infos, err := rs.hist.Rooms(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("chat: listing rooms: %w", err)
	}
	for _, ri := range infos {
		if ri.Name == Lobby {
			return infos, nil
		}
	}
	if len(infos) == limit && limit > 0 {
		infos = infos[:limit-1]
	}
	return append(infos, RoomInfo{Name: Lobby}), nil
}

// Close ends every wait, now and later, with ErrClosed. Posting and reading
// still work.
func (rs *Rooms) Close() { rs.closeOnce.Do(func() { close(rs.closing) }) }

// Run follows the rooms' events on the bus and keeps the windows in use up
// to date until ctx ends.
func (rs *Rooms) Run(ctx context.Context) error {
	if rs.bus != nil {
		unsubscribe, err := rs.bus.Subscribe(TopicPrefix+"*", rs.onEvent)
		if err != nil {
			return fmt.Errorf("chat: subscribing to room events: %w", err)
		}
		defer unsubscribe()
	}
	ticker := time.NewTicker(rs.resync)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rs.kick:
		case <-ticker.C:
			rs.markRoomsInUse()
		}
		rs.pendingMu.Lock()
		todo := rs.pending
		rs.pending = nil
		rs.pendingMu.Unlock()
		for _, r := range todo {
			r.dirty.Store(false)
			sctx, cancel := context.WithTimeout(ctx, syncTimeout)
			err := rs.sync(sctx, r)
			cancel()
			if err != nil && ctx.Err() == nil {
				rs.log.WarnContext(ctx, "chat: reading new messages failed", "room", r.name, "err", err)
			}
		}
	}
}

// onEvent is the bus handler: a room has a new message. It must not wait.
func (rs *Rooms) onEvent(e events.Event) {
	name, ok := strings.CutPrefix(e.Topic, TopicPrefix)
	if !ok {
		return
	}
	rs.mu.RLock()
	r := rs.rooms[name]
	rs.mu.RUnlock()
	if r == nil {
		return // not in memory: read whole when next used
	}
	if id, err := ParseID(string(e.Data)); err == nil {
		st := r.state.Load()
		if n := len(st.entries); n > 0 && st.entries[n-1].id.Compare(id) >= 0 {
			return // this process posted it, or has synced past it
		}
	}
	rs.markDirty(r)
}

func (rs *Rooms) markDirty(r *room) {
	if r.dirty.Swap(true) {
		return
	}
	rs.pendingMu.Lock()
	rs.pending = append(rs.pending, r)
	rs.pendingMu.Unlock()
	select {
	case rs.kick <- struct{}{}:
	default:
	}
}

// markRoomsInUse queues every room someone is reading for a resync.
func (rs *Rooms) markRoomsInUse() {
	rs.mu.RLock()
	var inUse []*room
	for _, r := range rs.rooms {
		if r.refs.Load() > 0 {
			inUse = append(inUse, r)
		}
	}
	rs.mu.RUnlock()
	for _, r := range inUse {
		rs.markDirty(r)
	}
}

// acquire returns the room, loaded, and counts the caller as using it until
// release.
func (rs *Rooms) acquire(ctx context.Context, name string) (*room, error) {
	rs.mu.RLock()
	r := rs.rooms[name]
	if r != nil {
		r.refs.Add(1)
	}
	rs.mu.RUnlock()
	if r == nil {
		rs.mu.Lock()
		if r = rs.rooms[name]; r == nil {
			if len(rs.rooms) >= rs.maxRooms {
				rs.evictLocked()
			}
			r = &room{name: name}
			r.state.Store(&roomState{changed: make(chan struct{})})
			rs.rooms[name] = r
		}
		r.refs.Add(1)
		rs.mu.Unlock()
	}
	r.lastUse.Store(rs.clock.Add(1))
	if err := rs.load(ctx, r); err != nil {
		rs.release(r)
		return nil, err
	}
	return r, nil
}

func (rs *Rooms) release(r *room) { r.refs.Add(-1) }

// evictLocked drops the least recently used room nobody uses. rs.mu must be
// held.
func (rs *Rooms) evictLocked() {
	var victim *room
	for _, r := range rs.rooms {
		if r.refs.Load() == 0 && (victim == nil || r.lastUse.Load() < victim.lastUse.Load()) {
			victim = r
		}
	}
	if victim != nil {
		delete(rs.rooms, victim.name)
	}
}

// load reads the window of a room not read yet.
func (rs *Rooms) load(ctx context.Context, r *room) error {
	if r.state.Load().loaded {
		return nil
	}
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	return rs.loadLocked(ctx, r)
}

// loadLocked reads the window, when it has not been read; r.syncMu must be
// held.
func (rs *Rooms) loadLocked(ctx context.Context, r *room) error {
	if r.state.Load().loaded {
		return nil
	}
	msgs, err := rs.hist.Latest(ctx, r.name, rs.window)
	if err != nil {
		return fmt.Errorf("chat: reading room %s: %w", r.name, err)
	}
	entries, err := newEntries(msgs)
	if err != nil {
		return fmt.Errorf("chat: reading room %s: %w", r.name, err)
	}
	rs.replaceState(r, entries)
	return nil
}

// sync appends to r's window what the history has after it.
func (rs *Rooms) sync(ctx context.Context, r *room) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if err := rs.loadLocked(ctx, r); err != nil {
		return err
	}
	for {
		newest := r.state.Load().newest()
		var msgs []Message
		var gap bool
		var err error
		if newest == "" {
			msgs, err = rs.hist.Latest(ctx, r.name, rs.window)
		} else {
			msgs, gap, err = rs.hist.After(ctx, r.name, newest, rs.window)
		}
		if err != nil {
			return fmt.Errorf("chat: reading room %s: %w", r.name, err)
		}
		if gap {
			// The window's newest message is gone from the history: so
			// many came since that only the newest can be shown.
			if msgs, err = rs.hist.Latest(ctx, r.name, rs.window); err != nil {
				return fmt.Errorf("chat: reading room %s: %w", r.name, err)
			}
		}
		if len(msgs) == 0 {
			return nil
		}
		entries, err := newEntries(msgs)
		if err != nil {
			return fmt.Errorf("chat: reading room %s: %w", r.name, err)
		}
		rs.appendEntries(r, entries, gap)
		if len(msgs) < rs.window || gap {
			return nil
		}
	}
}

// appendEntries adds entries to r's window (replacing it when reset) and
// wakes its waiters; r.syncMu must be held. Slices of the window already
// handed out stay valid: entries are only ever appended past them or
// copied to a new array.
func (rs *Rooms) appendEntries(r *room, entries []*Entry, reset bool) {
	all := r.state.Load().entries
	if reset {
		all = nil
	}
	all = append(all, entries...)
	if len(all) > 2*rs.window {
		kept := make([]*Entry, rs.window, 2*rs.window)
		copy(kept, all[len(all)-rs.window:])
		all = kept
	}
	rs.replaceState(r, all)
}

// replaceState publishes a new window and wakes the readers waiting on the
// old one; r.syncMu must be held.
func (rs *Rooms) replaceState(r *room, entries []*Entry) {
	old := r.state.Load()
	r.state.Store(&roomState{loaded: true, entries: entries, changed: make(chan struct{})})
	close(old.changed)
}

// read returns what a reader holding cursor gets now, and the channel that
// will be closed when r changes after that.
func (rs *Rooms) read(ctx context.Context, r *room, cursor string) (Batch, <-chan struct{}, error) {
	var c ID
	if cursor != "" {
		var err error
		if c, err = ParseID(cursor); err != nil {
			return Batch{}, nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		st := r.state.Load()
		n := len(st.entries)
		win, changed := st.entries[max(0, n-rs.window):n:n], st.changed
		if cursor == "" || len(win) == 0 {
			return Batch{Entries: win}, changed, nil
		}
		switch c.Compare(win[len(win)-1].id) {
		case 0:
			return Batch{}, changed, nil
		case 1:
			// A message this process has not seen yet (posted through
			// another one), or no message at all: look once.
			if attempt == 0 {
				if err := rs.sync(ctx, r); err != nil {
					return Batch{}, nil, err
				}
				continue
			}
			return Batch{Entries: win}, changed, nil
		}
		if c.Compare(win[0].id) >= 0 {
			i := sort.Search(len(win), func(i int) bool { return win[i].id.Compare(c) > 0 })
			return Batch{Entries: win[i:]}, changed, nil
		}
		msgs, gap, err := rs.hist.After(ctx, r.name, cursor, rs.window)
		switch {
		case errors.Is(err, ErrBadCursor):
			return Batch{Entries: win}, changed, nil
		case err != nil:
			return Batch{}, nil, fmt.Errorf("chat: reading room %s: %w", r.name, err)
		case gap || len(msgs) == 0:
			return Batch{Entries: win, Gap: gap}, changed, nil
		}
		entries, err := newEntries(msgs)
		if err != nil {
			return Batch{}, nil, fmt.Errorf("chat: reading room %s: %w", r.name, err)
		}
		return Batch{Entries: entries}, changed, nil
	}
}

func newEntries(msgs []Message) ([]*Entry, error) {
	entries := make([]*Entry, len(msgs))
	for i, m := range msgs {
		e, err := NewEntry(m)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	return entries, nil
}
