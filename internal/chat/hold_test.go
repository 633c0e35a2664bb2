package chat_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"starling/internal/chat"
	"starling/internal/chat/chattest"
)

// holder counts the wakes of a chat.Hold.
type holder struct {
	hold  chat.Hold
	wakes atomic.Int64
}

func newHolder() *holder {
	h := &holder{}
	h.hold.Wake = func() { h.wakes.Add(1) }
	return h
}

// A Hold is woken once by the next message, counts as a waiter until then,
// and can hold again afterwards.
func TestHoldWokenOnceByNextMessage(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	post(t, rs, "lobby", "before")
	hs := []*holder{newHolder(), newHolder(), newHolder()}
	for _, h := range hs {
		if err := rs.Hold(context.Background(), "lobby", &h.hold); err != nil {
			t.Fatalf("Hold: %v", err)
		}
	}
	if w := rs.Waiters(); w != 3 {
		t.Fatalf("Waiters = %d with three holds, want 3", w)
	}
	post(t, rs, "lobby", "one")
	waitFor(t, "every holder to be woken", func() bool { return rs.Waiters() == 0 })
	post(t, rs, "lobby", "two")
	for i, h := range hs {
		waitFor(t, "the wake", func() bool { return h.wakes.Load() > 0 })
		if n := h.wakes.Load(); n != 1 {
			t.Errorf("holder %d woken %d times by two messages after one Hold, want 1", i, n)
		}
		rs.Release(&h.hold) // after the wake: nothing to do
	}
	if err := rs.Hold(context.Background(), "lobby", &hs[0].hold); err != nil {
		t.Fatalf("Hold again: %v", err)
	}
	post(t, rs, "lobby", "three")
	waitFor(t, "the second wake", func() bool { return hs[0].wakes.Load() == 2 })
}

// A released Hold is not woken, counts no more, and leaves no goroutine.
func TestReleasedHoldLeavesNothing(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	post(t, rs, "lobby", "x")
	before := runtime.NumGoroutine()
	hs := make([]*holder, 1000)
	for i := range hs {
		hs[i] = newHolder()
		if err := rs.Hold(context.Background(), "lobby", &hs[i].hold); err != nil {
			t.Fatalf("Hold: %v", err)
		}
	}
	for _, h := range hs {
		rs.Release(&h.hold)
		rs.Release(&h.hold) // twice: nothing more
	}
	if w := rs.Waiters(); w != 0 {
		t.Fatalf("Waiters = %d after every hold was released, want 0", w)
	}
	waitFor(t, "goroutines to go back to their number before", func() bool { return runtime.NumGoroutine() <= before })
	post(t, rs, "lobby", "after")
	for i, h := range hs {
		if n := h.wakes.Load(); n != 0 {
			t.Fatalf("released holder %d woken %d times", i, n)
		}
	}
}

// Close wakes every holder; holding afterwards fails with ErrClosed.
func TestCloseWakesHolds(t *testing.T) {
	rs := newRooms(t, chattest.NewMemory(0), nil)
	h := newHolder()
	if err := rs.Hold(context.Background(), "lobby", &h.hold); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	rs.Close()
	waitFor(t, "the wake at Close", func() bool { return h.wakes.Load() == 1 })
	if w := rs.Waiters(); w != 0 {
		t.Errorf("Waiters = %d after Close, want 0", w)
	}
	if err := rs.Hold(context.Background(), "lobby", &h.hold); !errors.Is(err, chat.ErrClosed) {
		t.Fatalf("Hold after Close = %v, want ErrClosed", err)
	}
	if err := rs.Hold(context.Background(), "No Such Room", &h.hold); !errors.Is(err, chat.ErrBadRoom) {
		t.Fatalf("Hold of a bad room name = %v, want ErrBadRoom", err)
	}
}
