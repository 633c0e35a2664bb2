package redis

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/events"
	"starling/internal/events/eventstest"
)

// newBusAt opens an engine of its own on url and prefix, as a separate
// process would, and returns a Bus over it, closed before the engine.
func newBusAt(t *testing.T, url, prefix string, opts BusOptions) *Bus {
	t.Helper()
	b := NewBus(openAt(t, url, Options{Prefix: prefix}), opts)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBusConformance(t *testing.T) {
	t.Parallel()
	eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
		url, prefix := redistest.Shared(t), redistest.Prefix(t)
		return newBusAt(t, url, prefix, BusOptions{}), newBusAt(t, url, prefix, BusOptions{})
	})
}

// inbox collects the events of a subscription on a channel.
type inbox chan events.Event

func subscribe(t *testing.T, b *Bus, pattern string) inbox {
	t.Helper()
	in := make(inbox, 10000)
	unsub, err := b.Subscribe(pattern, func(e events.Event) { in <- e })
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", pattern, err)
	}
	t.Cleanup(unsub)
	return in
}

// publishUntilReceived publishes topic with fresh data until in receives
// one of them, proving that the subscription behind in is live, and then
// drains what else arrived. Events published while a subscription is
// being (re)established are lost by design, hence the repetition.
func publishUntilReceived(t *testing.T, pub *Bus, in inbox, topic string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		// Publish errors are expected while Redis is coming back.
		pub.Publish(t.Context(), events.Event{Topic: topic, Data: fmt.Appendf(nil, `{"probe":%d}`, n)})
		select {
		case e := <-in:
			if e.Topic != topic {
				t.Fatalf("got an event on %s, want %s", e.Topic, topic)
			}
			time.Sleep(50 * time.Millisecond)
			for len(in) > 0 {
				<-in
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no %s event arrived within 20s", topic)
}

func expectEvent(t *testing.T, in inbox, topic, data string) {
	t.Helper()
	select {
	case e := <-in:
		if e.Topic != topic || string(e.Data) != data {
			t.Fatalf("got %s %s, want %s %s", e.Topic, e.Data, topic, data)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no event within 5s, want %s %s", topic, data)
	}
}

// TestBusSurvivesRestart subscribes, restarts redis-server under both
// buses, and shows that the subscription made before the restart gets
// events published after it without anyone subscribing again.
func TestBusSurvivesRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	prefix := redistest.Prefix(t)
	pub := newBusAt(t, srv.URL(), prefix, BusOptions{})
	sub := newBusAt(t, srv.URL(), prefix, BusOptions{})
	in := subscribe(t, sub, "status.*")
	publishUntilReceived(t, pub, in, events.StatusCreated)

	if err := srv.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	publishUntilReceived(t, pub, in, events.StatusCreated)
	if !sub.Live() {
		t.Fatal("Live() is false after an event arrived")
	}
	if err := pub.Publish(t.Context(), events.Event{Topic: events.StatusDeleted, Data: []byte(`{"id":7}`)}); err != nil {
		t.Fatalf("Publish after the restart: %v", err)
	}
	expectEvent(t, in, events.StatusDeleted, `{"id":7}`)
}

// TestBusOneRedisSubscription checks that however many local subscribers a
// Bus has, Redis sees one pattern subscription from it.
func TestBusOneRedisSubscription(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	prefix := redistest.Prefix(t)
	b := newBusAt(t, srv.URL(), prefix, BusOptions{})
	ins := []inbox{subscribe(t, b, ">"), subscribe(t, b, "status.*"), subscribe(t, b, "status.created")}
	for _, in := range ins {
		publishUntilReceived(t, b, in, events.StatusCreated)
	}
	client := b.engine.client
	list, err := client.Do(t.Context(), client.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	subscribers := 0
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		if !strings.Contains(line, " psub=0 ") {
			subscribers++
		}
	}
	if subscribers != 1 {
		t.Fatalf("%d connections hold pattern subscriptions, want 1:\n%s", subscribers, list)
	}
}

// TestBusSlowHandlerHoldsUpNobody blocks one subscription's handler: it
// loses events once its buffer is full, while another subscription of the
// same Bus still gets every event in order.
func TestBusSlowHandlerHoldsUpNobody(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	// Every subscription of a Bus gets the same buffer: big enough that
	// the quick one never falls that far behind, while n overflows the
	// blocked one.
	const buffer, n = 256, 1000
	b := newBusAt(t, url, prefix, BusOptions{Buffer: buffer})
	in := subscribe(t, b, "status.created")
	publishUntilReceived(t, b, in, events.StatusCreated)

	release := make(chan struct{})
	blocked := make(chan events.Event, 1000)
	unsub, err := b.Subscribe("status.created", func(e events.Event) {
		blocked <- e
		<-release
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the bus's Close, so it runs first and Close does
	// not wait on a handler that never returns.
	t.Cleanup(func() { unsub(); close(release) })

	for i := range n {
		if err := b.Publish(t.Context(), events.Event{Topic: events.StatusCreated, Data: fmt.Appendf(nil, `{"n":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		expectEvent(t, in, events.StatusCreated, fmt.Sprintf(`{"n":%d}`, i))
	}
	// The blocked handler took one event and holds it; at most a full
	// buffer waits behind it; the rest were dropped.
	if got := len(blocked); got > 1 {
		t.Fatalf("the blocked handler was called %d times, want at most 1", got)
	}
}

func TestBusClose(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	pub := newBusAt(t, url, prefix, BusOptions{})
	sub := newBusAt(t, url, prefix, BusOptions{})
	in := subscribe(t, sub, ">")
	publishUntilReceived(t, pub, in, events.UserFollowed)

	if err := sub.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if sub.Live() {
		t.Fatal("Live() after Close")
	}
	if err := pub.Publish(t.Context(), events.Event{Topic: events.UserFollowed, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-in:
		t.Fatalf("closed bus delivered %s", e.Topic)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := sub.Subscribe(">", func(events.Event) {}); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("Subscribe after Close: got %v, want ErrClosed", err)
	}
	if err := sub.Publish(t.Context(), events.Event{Topic: "a"}); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("Publish after Close: got %v, want ErrClosed", err)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestBusPrefixIsLiteral gives one deployment a prefix with glob
// characters that, unescaped, would match another deployment's channels.
func TestBusPrefixIsLiteral(t *testing.T) {
	t.Parallel()
	url, base := redistest.Shared(t), redistest.Prefix(t)
	globby := newBusAt(t, url, base+"p[12]:", BusOptions{})
	plain := newBusAt(t, url, base+"p1:", BusOptions{})
	in := subscribe(t, globby, ">")
	publishUntilReceived(t, globby, in, events.StatusCreated)
	if err := plain.Publish(t.Context(), events.Event{Topic: events.StatusDeleted, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := globby.Publish(t.Context(), events.Event{Topic: events.UserFollowed, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// The first Publish was answered before the second was sent, so Redis
	// handled it first: the second event arriving first means the first
	// was never delivered here.
	expectEvent(t, in, events.UserFollowed, `{}`)
}
