package accesslog_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"starling/internal/accesslog"
	"starling/internal/engine"
	"starling/internal/engine/redis/redistest"
	"starling/internal/events"
)

// patience bounds every wait: a guard against hanging, not a speed
// requirement.
const patience = 20 * time.Second

func TestMain(m *testing.M) { redistest.Main(m) }

func startLog(t *testing.T, bus events.Bus, process string) *accesslog.Log {
	t.Helper()
	l := accesslog.New(bus, process, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l
}

func record(prefix string, i int) accesslog.Record {
	return accesslog.Record{RequestID: fmt.Sprintf("%s-%d", prefix, i), Method: "GET", Route: "GET /healthz", Status: 200}
}

// next waits for the next record of w.
func next(t *testing.T, w *accesslog.Watch) accesslog.Record {
	t.Helper()
	select {
	case r, ok := <-w.C:
		if !ok {
			t.Fatal("the watch ended")
		}
		return r
	case <-time.After(patience):
		t.Fatalf("no record within %v", patience)
	}
	return accesslog.Record{}
}

// waitKept adds a record through l and waits until a watcher sees the last one, so
// that the ring holds everything added before.
func waitKept(t *testing.T, l *accesslog.Log, id string) {
	t.Helper()
	_, w := l.Watch()
	defer w.Close()
	l.Add(accesslog.Record{RequestID: id})
	for next(t, w).RequestID != id {
	}
}

// A watcher gets the newest ReplaySize records, oldest first, then the new
// ones as they come; Close ends the watch.
func TestReplayThenLive(t *testing.T) {
	bus := events.NewMemory(events.MemoryOptions{Buffer: 4096})
	t.Cleanup(func() { bus.Close() })
	l := startLog(t, bus, "p")
	for i := range 150 {
		l.Add(record("p", i))
	}
	waitKept(t, l, "sync")
	replay, w := l.Watch()
	if len(replay) != accesslog.ReplaySize {
		t.Fatalf("replay: got %d records, want %d", len(replay), accesslog.ReplaySize)
	}
	if first, last := replay[0].RequestID, replay[len(replay)-1].RequestID; first != "p-51" || last != "sync" {
		t.Fatalf("replay runs from %s to %s, want p-51 to sync", first, last)
	}
	l.Add(record("p", 150))
	if got := next(t, w).RequestID; got != "p-150" {
		t.Fatalf("live record: got %s, want p-150", got)
	}
	l.Close()
	if _, ok := <-w.C; ok {
		t.Fatal("a watch outlived the log's Close")
	}
}

// On Redis, each process's log holds the records of every process.
func TestRecordsOfEveryProcess(t *testing.T) {
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	var logs []*accesslog.Log
	for _, process := range []string{"a", "b"} {
		eng, err := engine.Open(t.Context(), engine.Config{RedisURL: url, RedisPrefix: prefix}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		logs = append(logs, startLog(t, eng.Bus, process))
	}
	// The Redis subscriptions come up asynchronously: add records until
	// the other process's watcher sees one.
	_, w := logs[1].Watch()
	defer w.Close()
	deadline := time.Now().Add(patience)
	for i := 0; ; i++ {
		logs[0].Add(record("a", i))
		select {
		case r := <-w.C:
			if r.Process != "a" {
				t.Fatalf("got a record of %q, want one of process a", r.Process)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("process b saw none of process a's records within %v", patience)
		}
	}
}

// A process that answers many requests publishes them in batches, fewer
// events than records, and another process gets every record, in order.
func TestPublishesInBatches(t *testing.T) {
	bus := events.NewMemory(events.MemoryOptions{Buffer: 4096})
	t.Cleanup(func() { bus.Close() })
	var published atomic.Int64 // events carrying records a-0 … a-(n-1)
	unsubscribe, err := bus.Subscribe(accesslog.Topic+".*", func(e events.Event) {
		if bytes.Contains(e.Data, []byte(`"a-`)) {
			published.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	a, b := startLog(t, bus, "a"), startLog(t, bus, "b")
	_, w := b.Watch()
	defer w.Close()
	// b subscribes in its own goroutine: add records through a until b
	// gets one, so that b hears everything that follows.
	deadline := time.Now().Add(patience)
	for i := 0; ; i++ {
		a.Add(record("sync", i))
		select {
		case <-w.C:
		case <-time.After(20 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("b heard nothing from a within %v", patience)
			}
			continue
		}
		break
	}
	const n = 500
	for i := range n {
		a.Add(record("a", i))
	}
	for i := 0; i < n; {
		got := next(t, w).RequestID
		if strings.HasPrefix(got, "sync-") {
			continue
		}
		if want := fmt.Sprintf("a-%d", i); got != want {
			t.Fatalf("record %d: got %s, want %s", i, got, want)
		}
		i++
	}
	// The counting subscription runs on a goroutine of its own.
	for deadline := time.Now().Add(patience); published.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := published.Load(); got < 1 || got >= n {
		t.Errorf("%d records went out in %d events, want at least 1 and fewer than %d", n, got, n)
	}
}
