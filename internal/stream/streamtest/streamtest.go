// Package streamtest is the conformance suite of the stream.Log port: every
// engine's event log runs it.
package streamtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"starling/internal/stream"
)

// Retain is the retention the factory must give the log it opens, small so
// that trimming is reached quickly. Implementations may keep more, as the
// port allows, but never fewer.
const Retain = 50

// Run runs the suite. newLogs returns two handles on one fresh, empty log
// keeping at least Retain entries: for an in-process log the same value
// twice; for a shared log two connections, as two processes hold.
func Run(t *testing.T, newLogs func(t *testing.T) (writer, reader stream.Log)) {
	ctx := context.Background()
	t.Run("EmptyLog", func(t *testing.T) {
		_, r := newLogs(t)
		if last := last(t, r); last != 0 {
			t.Fatalf("Last of an empty log = %d, want 0", last)
		}
		es, gap, err := r.Read(ctx, 0, 10, 0)
		if err != nil || len(es) != 0 || gap {
			t.Fatalf("Read(0) of an empty log = %v, %v, %v; want nothing, no gap", es, gap, err)
		}
		if _, gap, _ := r.Read(ctx, 5, 10, 0); !gap {
			t.Fatalf("Read(5) of an empty log reports no gap; want one (the reader is ahead of the log)")
		}
	})
	t.Run("ConsecutiveIDsInOrder", func(t *testing.T) {
		w, r := newLogs(t)
		for i := 1; i <= 20; i++ {
			id, err := w.Append(ctx, "status.created", fmt.Appendf(nil, `{"n":%d}`, i))
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if id != uint64(i) {
				t.Fatalf("Append %d got id %d, want %d", i, id, i)
			}
		}
		if l := last(t, r); l != 20 {
			t.Fatalf("Last = %d, want 20", l)
		}
		es, gap, err := r.Read(ctx, 5, 10, 0)
		if err != nil || gap {
			t.Fatalf("Read(5) = gap %v, err %v; want neither", gap, err)
		}
		if len(es) != 10 {
			t.Fatalf("Read(5, limit 10) returned %d entries, want 10", len(es))
		}
		for i, e := range es {
			want := fmt.Sprintf(`{"n":%d}`, i+6)
			if e.ID != uint64(i+6) || e.Topic != "status.created" || string(e.Data) != want {
				t.Fatalf("entry %d = %d %s %s, want %d status.created %s", i, e.ID, e.Topic, e.Data, i+6, want)
			}
		}
		es, _, _ = r.Read(ctx, 20, 10, 0)
		if len(es) != 0 {
			t.Fatalf("Read(20) returned %d entries, want 0", len(es))
		}
	})
	t.Run("BatchInOrder", func(t *testing.T) {
		w, r := newLogs(t)
		if _, err := w.Append(ctx, "status.created", []byte(`{"n":0}`)); err != nil {
			t.Fatalf("Append: %v", err)
		}
		var batch []stream.Entry
		for i := 1; i <= 5; i++ {
			batch = append(batch, stream.Entry{Topic: "timeline.delivered", Data: fmt.Appendf(nil, `{"n":%d}`, i)})
		}
		last, err := w.AppendBatch(ctx, batch)
		if err != nil || last != 6 {
			t.Fatalf("AppendBatch of 5 after 1 = %d, %v; want 6", last, err)
		}
		es, gap, err := r.Read(ctx, 1, 10, 0)
		if err != nil || gap || len(es) != 5 {
			t.Fatalf("Read(1) = %d entries, gap %v, err %v; want the batch", len(es), gap, err)
		}
		for i, e := range es {
			if want := fmt.Sprintf(`{"n":%d}`, i+1); e.ID != uint64(i+2) || e.Topic != "timeline.delivered" || string(e.Data) != want {
				t.Fatalf("entry %d = %d %s %s, want %d %s", i, e.ID, e.Topic, e.Data, i+2, want)
			}
		}
	})
	t.Run("TrimsToAGap", func(t *testing.T) {
		w, r := newLogs(t)
		const n = 20 * Retain
		for i := 0; i < n; i++ {
			if _, err := w.Append(ctx, "status.created", []byte(`{}`)); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
		es, gap, err := r.Read(ctx, 1, 10, 0)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if !gap || len(es) == 0 || es[0].ID == 2 {
			t.Fatalf("Read(1) after %d appends: gap %v, first %v; want a gap (entries trimmed)", n, gap, es)
		}
		es, gap, err = r.Read(ctx, n-Retain, Retain, 0)
		if err != nil || gap || len(es) != Retain || es[0].ID != n-Retain+1 {
			t.Fatalf("Read of the newest %d: %d entries, gap %v, err %v; want them all, no gap", Retain, len(es), gap, err)
		}
	})
	t.Run("ReadWaitsForAppend", func(t *testing.T) {
		w, r := newLogs(t)
		var wg sync.WaitGroup
		var got []stream.Entry
		var rerr error
		wg.Go(func() {
			got, _, rerr = r.Read(ctx, 0, 10, 30*time.Second)
		})
		// Whether the Read has begun waiting or not, it must return the
		// entry: a waiting Read wakes, a later one finds it.
		time.Sleep(20 * time.Millisecond)
		if _, err := w.Append(ctx, "status.deleted", []byte(`{"id":1}`)); err != nil {
			t.Fatalf("Append: %v", err)
		}
		wg.Wait()
		if rerr != nil || len(got) != 1 || got[0].Topic != "status.deleted" {
			t.Fatalf("waiting Read = %v, %v; want the appended entry", got, rerr)
		}
	})
	t.Run("WaitEndsWithContext", func(t *testing.T) {
		_, r := newLogs(t)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, _, err := r.Read(cctx, 0, 10, time.Minute)
			done <- err
		}()
		time.Sleep(10 * time.Millisecond)
		cancel()
		if err := <-done; err == nil {
			t.Fatalf("Read with a canceled context returned no error")
		} else if !errors.Is(err, context.Canceled) {
			t.Fatalf("Read with a canceled context = %v, want context.Canceled", err)
		}
	})
	t.Run("ConcurrentAppendsGetDistinctIDs", func(t *testing.T) {
		w, r := newLogs(t)
		var wg sync.WaitGroup
		ids := make([]uint64, 40)
		for i := range ids {
			wg.Go(func() {
				id, err := w.Append(ctx, "status.created", []byte(`{}`))
				if err != nil {
					t.Errorf("Append: %v", err)
				}
				ids[i] = id
			})
		}
		wg.Wait()
		seen := make(map[uint64]bool)
		for _, id := range ids {
			if id < 1 || id > 40 || seen[id] {
				t.Fatalf("ids %v are not 1..40 each once", ids)
			}
			seen[id] = true
		}
		es, gap, err := r.Read(ctx, 0, 100, 0)
		if err != nil || gap || len(es) != 40 {
			t.Fatalf("Read(0) = %d entries, gap %v, err %v; want 40", len(es), gap, err)
		}
	})
}

func last(t *testing.T, l stream.Log) uint64 {
	t.Helper()
	n, err := l.Last(context.Background())
	if err != nil {
		t.Fatalf("Last: %v", err)
	}
	return n
}
