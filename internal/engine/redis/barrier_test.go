package redis

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// heldTrips is a barrier's round trip that counts the trips begun and
// blocks each until the test releases it with the error it should return.
type heldTrips struct {
	mu      sync.Mutex
	started int
	begun   chan int   // receives the number of each trip as it begins
	release chan error // each trip returns the next error sent here
}

func newHeldTrips() *heldTrips {
	return &heldTrips{begun: make(chan int, 16), release: make(chan error)}
}

func (h *heldTrips) roundTrip(context.Context) error {
	h.mu.Lock()
	h.started++
	n := h.started
	h.mu.Unlock()
	h.begun <- n
	return <-h.release
}

func (h *heldTrips) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.started
}

// expectBegun waits for trip n to begin.
func (h *heldTrips) expectBegun(t *testing.T, n int) {
	t.Helper()
	select {
	case got := <-h.begun:
		if got != n {
			t.Fatalf("trip %d began, want %d", got, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("trip %d never began", n)
	}
}

// waitAll starts n waits on b and returns the channel their results
// arrive on.
func waitAll(ctx context.Context, b *barrier, n int) chan error {
	done := make(chan error, n)
	for range n {
		go func() { done <- b.wait(ctx) }()
	}
	return done
}

// TestBarrierWaitsForALaterRoundTrip checks the barrier's promise: callers
// that arrive while a round trip is in flight do not return with it, but
// with the next, which they all share and which starts only when the one
// in flight is back.
func TestBarrierWaitsForALaterRoundTrip(t *testing.T) {
	synctest.Test(t, testBarrierWaitsForALaterRoundTrip)
}

func testBarrierWaitsForALaterRoundTrip(t *testing.T) {
	trips := newHeldTrips()
	b := &barrier{roundTrip: trips.roundTrip}
	ctx := t.Context()

	first := waitAll(ctx, b, 1)
	trips.expectBegun(t, 1)

	const late = 5
	second := waitAll(ctx, b, late)
	// The late callers queue behind the trip in flight; none may return
	// with it, and no second trip starts while it is out.
	synctest.Wait()
	if n := trips.count(); n != 1 {
		t.Fatalf("%d trips began while the first was in flight, want 1", n)
	}
	trips.release <- nil
	if err := <-first; err != nil {
		t.Fatalf("first wait: %v", err)
	}
	synctest.Wait()
	select {
	case err := <-second:
		t.Fatalf("a caller that arrived during trip 1 returned with it (%v)", err)
	default:
	}

	trips.expectBegun(t, 2)
	want := errors.New("connection lost")
	trips.release <- want
	for range late {
		if err := <-second; !errors.Is(err, want) {
			t.Fatalf("a caller sharing trip 2 got %v, want its error %v", err, want)
		}
	}
	if n := trips.count(); n != 2 {
		t.Fatalf("%d trips for %d callers, want 2", n, 1+late)
	}

	// With nothing in flight, the next caller sends at once.
	third := waitAll(ctx, b, 1)
	trips.expectBegun(t, 3)
	trips.release <- nil
	if err := <-third; err != nil {
		t.Fatalf("third wait: %v", err)
	}
}

// TestBarrierCallerGivesUp checks that a caller whose context ends returns
// at once, while the round it joined still completes for the others.
func TestBarrierCallerGivesUp(t *testing.T) {
	synctest.Test(t, testBarrierCallerGivesUp)
}

func testBarrierCallerGivesUp(t *testing.T) {
	trips := newHeldTrips()
	b := &barrier{roundTrip: trips.roundTrip}

	first := waitAll(t.Context(), b, 1)
	trips.expectBegun(t, 1)
	// The leader of round 2 is waiting for trip 1; these two join round 2.
	leader := waitAll(t.Context(), b, 1)
	synctest.Wait()
	ctx, cancel := context.WithCancel(t.Context())
	quitter := waitAll(ctx, b, 1)
	stayer := waitAll(t.Context(), b, 1)
	synctest.Wait()
	cancel()
	if err := <-quitter; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up got %v, want %v", err, context.Canceled)
	}

	trips.release <- nil
	trips.expectBegun(t, 2)
	trips.release <- nil
	for name, ch := range map[string]chan error{"first": first, "leader": leader, "stayer": stayer} {
		if err := <-ch; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
