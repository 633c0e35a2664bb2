// Package eventstest is the conformance suite of the events.Bus port.
package eventstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"starling/internal/events"
)

// Run runs the suite. newBuses returns two handles on one fresh bus: for an
// in-process bus the same value twice; for a shared bus two connections, as
// two processes would hold, so that events must cross between them.
func Run(t *testing.T, newBuses func(t *testing.T) (publisher, subscriber events.Bus)) {
	t.Run("DeliversMatchingInOrder", func(t *testing.T) {
		pub, sub := newBuses(t)
		got := collect(t, sub, "status.*")
		other := collect(t, sub, "user.followed")
		waitReady(t, pub, got)
		for i := range 100 {
			publish(t, pub, events.StatusCreated, fmt.Sprintf(`{"n":%d}`, i))
		}
		publish(t, pub, events.UserUnfollowed, `{}`)
		publish(t, pub, events.UserFollowed, `{"f":1}`)
		evs := got.wait(t, 100)
		for i, e := range evs {
			if want := fmt.Sprintf(`{"n":%d}`, i); e.Topic != events.StatusCreated || string(e.Data) != want {
				t.Fatalf("event %d = %s %s, want %s %s", i, e.Topic, e.Data, events.StatusCreated, want)
			}
		}
		if f := other.wait(t, 1); string(f[0].Data) != `{"f":1}` {
			t.Fatalf("user.followed subscriber got %s, want {\"f\":1}", f[0].Data)
		}
		got.settle()
		if n := len(got.all()); n != 100 {
			t.Fatalf("status.* subscriber got %d events, want 100 (no user.* events)", n)
		}
	})
	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) {
		pub, sub := newBuses(t)
		keep := collect(t, sub, ">")
		drop := collect(t, sub, ">")
		waitReady(t, pub, keep)
		waitReady(t, pub, drop)
		drop.unsubscribe()
		publish(t, pub, events.StatusDeleted, `{"id":1}`)
		keep.wait(t, 1)
		drop.settle()
		for _, e := range drop.all() {
			if e.Topic == events.StatusDeleted {
				t.Fatalf("unsubscribed handler got %s", e.Topic)
			}
		}
	})
	t.Run("SlowSubscriberDelaysNobody", func(t *testing.T) {
		pub, sub := newBuses(t)
		// One subscriber's handler never returns until the test ends; the
		// publisher and the other subscriber must not notice.
		release := make(chan struct{})
		stuck := make(chan struct{}, 1)
		unsub, err := sub.Subscribe(events.StatusCreated, func(events.Event) {
			select {
			case stuck <- struct{}{}:
			default:
			}
			<-release
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsub)
		t.Cleanup(func() { close(release) }) // runs first: LIFO
		fast := collect(t, sub, events.StatusCreated)
		waitReady(t, pub, fast)
		// More than any subscription buffers; in steps the fast
		// subscriber keeps up with, so that only the stuck one drops.
		const total, step = 3 * events.DefaultBuffer, 256
		for i := 0; i < total; i += step {
			for j := i; j < i+step; j++ {
				publish(t, pub, events.StatusCreated, fmt.Sprintf(`{"n":%d}`, j))
			}
			fast.wait(t, i+step)
		}
		for i, e := range fast.wait(t, total) {
			if want := fmt.Sprintf(`{"n":%d}`, i); string(e.Data) != want {
				t.Fatalf("fast subscriber's event %d = %s, want %s", i, e.Data, want)
			}
		}
		<-stuck
		if d := sub.Dropped(); d < total-events.DefaultBuffer-1 {
			t.Fatalf("Dropped() = %d, want at least %d (the stuck subscriber's overflow)", d, total-events.DefaultBuffer-1)
		}
	})
	t.Run("RejectsBadPattern", func(t *testing.T) {
		_, sub := newBuses(t)
		if _, err := sub.Subscribe("a..b", func(events.Event) {}); err == nil {
			t.Fatal("Subscribe(\"a..b\") succeeded, want an error")
		}
	})
}

// readyTopic is published until a subscription proves it is live, because a
// shared bus may take a moment to register a subscription.
const readyTopic = "test.ready"

func waitReady(t *testing.T, pub events.Bus, c *collector) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		publish(t, pub, readyTopic, `{}`)
		select {
		case <-c.ready:
			c.reset()
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("subscription never received the ready event")
}

func publish(t *testing.T, b events.Bus, topic, data string) {
	t.Helper()
	if err := b.Publish(context.Background(), events.Event{Topic: topic, Data: []byte(data)}); err != nil {
		t.Fatalf("Publish(%s): %v", topic, err)
	}
}

type collector struct {
	mu          sync.Mutex // guards evs
	evs         []events.Event
	ready       chan struct{}
	readyOnce   sync.Once
	unsubscribe func()
}

func collect(t *testing.T, b events.Bus, pattern string) *collector {
	t.Helper()
	c := &collector{ready: make(chan struct{})}
	// Subscribe to the ready topic too when the pattern does not cover it.
	handler := func(e events.Event) {
		if e.Topic == readyTopic {
			c.readyOnce.Do(func() { close(c.ready) })
			return
		}
		if events.Match(pattern, e.Topic) {
			c.mu.Lock()
			c.evs = append(c.evs, e)
			c.mu.Unlock()
		}
	}
	unsub, err := b.Subscribe(pattern, handler)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", pattern, err)
	}
	unsubReady := func() {}
	if !events.Match(pattern, readyTopic) {
		unsubReady, err = b.Subscribe(readyTopic, handler)
		if err != nil {
			t.Fatalf("Subscribe(%q): %v", readyTopic, err)
		}
	}
	c.unsubscribe = func() { unsub(); unsubReady() }
	t.Cleanup(c.unsubscribe)
	return c
}

func (c *collector) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = nil
}

func (c *collector) all() []events.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]events.Event(nil), c.evs...)
}

// wait returns the first n events, failing the test if they do not arrive.
func (c *collector) wait(t *testing.T, n int) []events.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if evs := c.all(); len(evs) >= n {
			return evs[:n]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got %d events, want %d", len(c.all()), n)
	return nil
}

// settle gives stray events time to arrive before a check that none did.
func (c *collector) settle() { time.Sleep(100 * time.Millisecond) }
