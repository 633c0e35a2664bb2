package chat_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
	"starling/internal/events"
)

func newRooms(t *testing.T, h chat.History, bus events.Bus) *chat.Rooms {
	t.Helper()
	rs := chat.NewRooms(chat.Config{History: h, Bus: bus, Window: 5, Resync: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rs.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; rs.Close() })
	return rs
}

func post(t *testing.T, rs *chat.Rooms, room, body string) *chat.Entry {
	t.Helper()
	e, err := rs.Post(context.Background(), room, body, "")
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	return e
}

func bodies(es []*chat.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Body
	}
	return out
}

func wantBodies(t *testing.T, what string, got []*chat.Entry, want ...string) {
	t.Helper()
	if !slices.Equal(bodies(got), want) {
		t.Fatalf("%s: got %q, want %q", what, bodies(got), want)
	}
}

func TestReadCursorRules(t *testing.T) {
	h := chattest.NewMemory(0)
	rs := newRooms(t, h, nil)
	ctx := context.Background()
	var es []*chat.Entry
	for i := range 8 {
		es = append(es, post(t, rs, "r", fmt.Sprint("m", i)))
	}
	read := func(cursor string) chat.Batch {
		t.Helper()
		b, err := rs.Read(ctx, "r", cursor)
		if err != nil {
			t.Fatalf("Read(%q): %v", cursor, err)
		}
		return b
	}
	wantBodies(t, "no cursor: the window", read("").Entries, "m3", "m4", "m5", "m6", "m7")
	wantBodies(t, "cursor in the window", read(es[5].ID).Entries, "m6", "m7")
	wantBodies(t, "cursor = newest", read(es[7].ID).Entries)
	wantBodies(t, "cursor older than the window: from the history", read(es[0].ID).Entries, "m1", "m2", "m3", "m4", "m5")
	wantBodies(t, "unknown future cursor: the window", read("999").Entries, "m3", "m4", "m5", "m6", "m7")
	if _, err := rs.Read(ctx, "r", "nope"); !errors.Is(err, chat.ErrBadCursor) {
		t.Fatalf("Read(malformed) = %v, want ErrBadCursor", err)
	}
	if _, err := rs.Read(ctx, "Bad Room", ""); !errors.Is(err, chat.ErrBadRoom) {
		t.Fatalf("Read(bad room) = %v, want ErrBadRoom", err)
	}
}

func TestGapWhenCursorTrimmed(t *testing.T) {
	h := chattest.NewMemory(3)
	rs := newRooms(t, h, nil)
	first := post(t, rs, "r", "old")
	for i := range 6 {
		post(t, rs, "r", fmt.Sprint("m", i))
	}
	b, err := rs.Read(context.Background(), "r", first.ID)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !b.Gap {
		t.Fatalf("a trimmed cursor reports no gap")
	}
	wantBodies(t, "after a gap: the window", b.Entries, "m1", "m2", "m3", "m4", "m5")
}

func TestWaitReleasedByPost(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	last := post(t, rs, "lobby", "hello")
	got := make(chan chat.Batch, 1)
	go func() {
		b, err := rs.Wait(context.Background(), "lobby", last.ID)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		got <- b
	}()
	waitFor(t, "the waiter to wait", func() bool { return rs.Waiters() == 1 })
	post(t, rs, "lobby", "world")
	wantBodies(t, "woken waiter", (<-got).Entries, "world")
	if n := rs.Waiters(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

func TestCloseEndsWaits(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	errc := make(chan error, 1)
	go func() {
		_, err := rs.Wait(context.Background(), "lobby", "")
		errc <- err
	}()
	waitFor(t, "the waiter to wait", func() bool { return rs.Waiters() == 1 })
	rs.Close()
	if err := <-errc; !errors.Is(err, chat.ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
}

// Thousands of waits abandoned by their callers leave no waiter and no
// goroutine behind.
func TestAbandonedWaitsLeaveNothing(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	last := post(t, rs, "lobby", "x")
	before := runtime.NumGoroutine()
	const n = 5000
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := rs.Wait(ctx, "lobby", last.ID); !errors.Is(err, context.Canceled) {
				t.Errorf("abandoned Wait = %v, want context.Canceled", err)
			}
		})
	}
	waitFor(t, "every waiter to wait", func() bool { return rs.Waiters() == n })
	cancel()
	wg.Wait()
	if w := rs.Waiters(); w != 0 {
		t.Fatalf("%d waiters left after every caller gave up", w)
	}
	waitFor(t, "goroutines to go back to their number before", func() bool { return runtime.NumGoroutine() <= before })
}

// Two processes share a history and a bus: each one's waiters get the
// other's messages once and in order, even when the bus loses events.
func TestMessagesReachEveryProcess(t *testing.T) {
	h := chattest.NewMemory(0)
	bus := &lossyBus{Bus: events.NewMemory(events.MemoryOptions{}), dropEvery: 3}
	a, b := newRooms(t, h, bus), newRooms(t, h, bus)
	const total = 40
	start := post(t, a, "lobby", "start")
	got := make(chan []string, 1)
	go func() {
		var seen []string
		cursor := start.ID
		for len(seen) < total {
			batch, err := b.Wait(context.Background(), "lobby", cursor)
			if err != nil {
				t.Errorf("Wait: %v", err)
				break
			}
			seen = append(seen, bodies(batch.Entries)...)
			cursor = batch.Entries[len(batch.Entries)-1].ID
		}
		got <- seen
	}()
	waitFor(t, "the reader on b to wait", func() bool { return b.Waiters() == 1 })
	var want []string
	for i := range total {
		want = append(want, fmt.Sprint("m", i))
		post(t, a, "lobby", want[i])
	}
	if seen := <-got; !slices.Equal(seen, want) {
		t.Fatalf("process b saw %q, want %q", seen, want)
	}
}

// lossyBus drops every dropEvery-th event, as a bus that delivers at most
// once may.
type lossyBus struct {
	events.Bus
	mu        sync.Mutex
	n         int
	dropEvery int
}

func (l *lossyBus) Publish(ctx context.Context, e events.Event) error {
	l.mu.Lock()
	l.n++
	drop := l.n%l.dropEvery == 0
	l.mu.Unlock()
	if drop {
		return nil
	}
	return l.Bus.Publish(ctx, e)
}

func TestPostRefusesBadInput(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	for _, tc := range []struct{ room, body string }{
		{"lobby", ""}, {"lobby", "   \t\n"}, {"lobby", "\u200b\u200d\ufe0f"}, {"lobby", "\x01\x02"},
		{"lobby", string(make([]rune, 2001))}, {"Lobby", "x"}, {"", "x"}, {"a.b", "x"},
	} {
		var ie *chat.InputError
		if _, err := rs.Post(context.Background(), tc.room, tc.body, ""); !errors.As(err, &ie) {
			t.Errorf("Post(%q, %q) = %v, want an InputError", tc.room, tc.body, err)
		}
	}
	if b, _ := rs.Read(context.Background(), "lobby", ""); len(b.Entries) != 0 {
		t.Fatalf("refused posts were stored: %q", bodies(b.Entries))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Rooms beyond MaxRooms are dropped from memory while nobody reads them,
// and read whole from the history when used again.
func TestIdleRoomsAreEvictedAndReloaded(t *testing.T) {
	h := chattest.NewMemory(0)
	rs := chat.NewRooms(chat.Config{History: h, MaxRooms: 2, Window: 5})
	ctx := context.Background()
	for _, room := range []string{"a", "b", "c", "a", "b", "c"} {
		post(t, rs, room, "in "+room)
	}
	for _, room := range []string{"a", "b", "c"} {
		b, err := rs.Read(ctx, room, "")
		if err != nil {
			t.Fatalf("Read(%s): %v", room, err)
		}
		wantBodies(t, "room "+room, b.Entries, "in "+room, "in "+room)
	}
}
