package chat

import (
	"context"
	"sync/atomic"
)

// A Hold is a waiter with no goroutine of its own in Rooms: a long poll
// parked off its connection's goroutine, say. Where Wait blocks a goroutine
// on the room's channel, Hold registers h in the room and Rooms calls
// h.Wake, once, from a goroutine of its own, after the room's window next
// changes or when Rooms is closed. The caller reads again (Read) after
// Hold returns, since a message may have come before it; after Wake it
// reads again and holds again if there is still nothing for it.
//
// A Hold counts in Waiters and keeps its room in memory (and resynced with
// the history) while it is registered. Wake must not block: it runs on the
// goroutine that wakes every holder of the room in turn. A Hold is
// registered in one room at a time; its zero value is ready once Wake is
// set.
type Hold struct {
	// Wake is called once per Hold call that succeeded, unless Release
	// came first.
	Wake func()

	// held is set by Hold and cleared by whoever removes h from its room
	// (Release or the room's waker), under the room's heldMu; Release
	// reads it without the lock to skip a hold already woken.
	held atomic.Bool
	room *room // guarded by room.heldMu; the room h is registered in
}

// Hold registers h in room name; see Hold. It fails with ErrClosed once
// Rooms is closed, and with the room's loading error when it could not be
// read.
func (rs *Rooms) Hold(ctx context.Context, name string, h *Hold) error {
	if !ValidRoom(name) {
		return ErrBadRoom
	}
	r, err := rs.acquire(ctx, name)
	if err != nil {
		return err
	}
	r.heldMu.Lock()
	select {
	case <-rs.closing:
		r.heldMu.Unlock()
		rs.release(r)
		return ErrClosed
	default:
	}
	if r.held == nil {
		r.held = make(map[*Hold]struct{})
	}
	r.held[h] = struct{}{}
	h.room = r
	h.held.Store(true)
	rs.waiters.Add(1)
	if r.wakerStop == nil {
		r.wakerStop = make(chan struct{})
		// The state now, taken before the caller reads again: any change
		// after what the caller reads closes its channel.
		go rs.wakeHolders(r, r.state.Load(), r.wakerStop)
	}
	r.heldMu.Unlock()
	return nil
}

// Release removes h from its room if it is still registered; it does
// nothing after Wake was called or when h is not held.
func (rs *Rooms) Release(h *Hold) {
	if !h.held.Load() {
		return
	}
	r := h.room
	r.heldMu.Lock()
	if !h.held.Load() {
		r.heldMu.Unlock()
		return
	}
	delete(r.held, h)
	h.room = nil
	h.held.Store(false)
	if len(r.held) == 0 && r.wakerStop != nil {
		// Nobody left to wake: the waker ends now rather than at the
		// room's next message, which may never come.
		close(r.wakerStop)
		r.wakerStop = nil
	}
	r.heldMu.Unlock()
	rs.waiters.Add(-1)
	rs.release(r)
}

// wakeHolders is the goroutine that wakes r's holders after its window
// changes from state st, or Rooms is closed; it ends early when stop is
// closed (the last holder left). Each goroutine wakes the holders once: a
// holder that holds again after that starts the next one, from the state
// it then reads after, so that none lingers in a room nobody holds.
func (rs *Rooms) wakeHolders(r *room, st *roomState, stop chan struct{}) {
	select {
	case <-st.changed:
	case <-rs.closing:
	case <-stop:
		return
	}
	r.heldMu.Lock()
	if r.wakerStop != stop {
		// Stopped while this woke; a new waker may run by now.
		r.heldMu.Unlock()
		return
	}
	r.wakerStop = nil
	woken := r.held
	r.held = nil
	for h := range woken {
		h.room = nil
		h.held.Store(false)
	}
	r.heldMu.Unlock()
	for h := range woken {
		rs.waiters.Add(-1)
		rs.release(r)
		h.Wake()
	}
}
