package stream_test

import (
	"context"
	"fmt"
	"testing"

	"starling/internal/events"
	"starling/internal/stream"
)

// Published stream events reach the log in order, those of other topics do
// not, and Close appends everything queued before it returns.
func TestLogBusAppendsStreamEventsInOrder(t *testing.T) {
	log := stream.NewMemoryLog(0)
	b := stream.NewLogBus(events.NewMemory(events.MemoryOptions{}), log, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(context.Background())
	}()
	ctx := context.Background()
	for i := range 1000 {
		topic := events.StatusCreated
		if i%10 == 9 {
			topic = events.UserFollowed
		}
		if err := b.Publish(ctx, events.Event{Topic: topic, Data: fmt.Appendf(nil, `{"n":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close(ctx)
	<-done
	es, _, err := log.Read(ctx, 0, 2000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 900 || b.Dropped() != 0 {
		t.Fatalf("log holds %d entries (%d dropped), want the 900 status events", len(es), b.Dropped())
	}
	n := 0
	for i, e := range es {
		if n%10 == 9 {
			n++
		}
		if want := fmt.Sprintf(`{"n":%d}`, n); string(e.Data) != want || e.Topic != events.StatusCreated {
			t.Fatalf("entry %d = %s %s, want %s", i, e.Topic, e.Data, want)
		}
		n++
	}
	// After Close, publishing still reaches the bus but not the log.
	if err := b.Publish(ctx, events.Event{Topic: events.StatusCreated, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if last, _ := log.Last(ctx); last != 900 {
		t.Fatalf("after Close the log grew to %d", last)
	}
}
