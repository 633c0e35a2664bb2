package stream

import (
	"context"
	"sync"
	"time"
)

// MemoryLog is a Log in this process's memory, for tests and tools; the
// engines keep theirs in their store.
type MemoryLog struct {
	retain int

	mu      sync.Mutex // guards entries, last and changed
	entries []Entry
	last    uint64
	changed chan struct{} // closed and replaced by each Append
}

var _ Log = (*MemoryLog)(nil)

// NewMemoryLog returns an empty log keeping the newest retain entries
// (DefaultRetain when retain is not positive).
func NewMemoryLog(retain int) *MemoryLog {
	if retain <= 0 {
		retain = DefaultRetain
	}
	return &MemoryLog{retain: retain, changed: make(chan struct{})}
}

// Append adds an entry.
func (m *MemoryLog) Append(ctx context.Context, topic string, data []byte) (uint64, error) {
	return m.AppendBatch(ctx, []Entry{{Topic: topic, Data: data}})
}

// AppendBatch adds entries in order.
func (m *MemoryLog) AppendBatch(ctx context.Context, batch []Entry) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range batch {
		m.last++
		m.entries = append(m.entries, Entry{ID: m.last, Topic: e.Topic, Data: append([]byte(nil), e.Data...)})
	}
	if len(m.entries) > 2*m.retain {
		m.entries = append(m.entries[:0], m.entries[len(m.entries)-m.retain:]...)
	}
	close(m.changed)
	m.changed = make(chan struct{})
	return m.last, nil
}

// Read returns entries above after, waiting up to wait for one.
func (m *MemoryLog) Read(ctx context.Context, after uint64, limit int, wait time.Duration) ([]Entry, bool, error) {
	var timer <-chan time.Time
	for {
		m.mu.Lock()
		var out []Entry
		for _, e := range m.entries {
			if e.ID > after && len(out) < limit {
				out = append(out, e)
			}
		}
		last, changed := m.last, m.changed
		m.mu.Unlock()
		if len(out) > 0 || wait <= 0 || after > last {
			return out, Gap(after, out, last), nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-changed:
		case <-timer:
			return nil, false, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// Last returns the newest id.
func (m *MemoryLog) Last(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, nil
}
