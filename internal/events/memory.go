package events

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Memory is a Bus within one process. Publish offers the event to each
// matching subscription's buffer without waiting, so that a slow subscriber
// never slows the publisher; each subscription's handler sees events in
// publish order, on a goroutine of its own.
type Memory struct {
	buffer int

	mu     sync.RWMutex // guards subs, next and closed
	subs   map[uint64]*Subscription
	next   uint64
	closed bool

	// gone counts the drops of subscriptions already ended, so that
	// Dropped never goes down.
	gone     atomic.Uint64
	handlers sync.WaitGroup // the subscriptions' Run goroutines
}

var _ Bus = (*Memory)(nil)

// MemoryOptions tunes a Memory bus. Zero values mean the documented
// defaults.
type MemoryOptions struct {
	// Buffer is how many events each subscription may have waiting; zero
	// means DefaultBuffer.
	Buffer int
}

// NewMemory returns an empty in-process bus.
func NewMemory(opts MemoryOptions) *Memory {
	return &Memory{buffer: opts.Buffer, subs: make(map[uint64]*Subscription)}
}

// ErrClosed is returned by a closed bus.
var ErrClosed = errors.New("events: bus closed")

// Publish offers e to the matching subscriptions.
func (m *Memory) Publish(ctx context.Context, e Event) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	for _, s := range m.subs {
		if Match(s.Pattern(), e.Topic) {
			s.Offer(e)
		}
	}
	return nil
}

// Subscribe registers h for events matching pattern.
func (m *Memory) Subscribe(pattern string, h Handler) (func(), error) {
	if !ValidPattern(pattern) {
		return nil, errors.New("events: bad pattern " + pattern)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.next++
	id := m.next
	s := NewSubscription(pattern, h, m.buffer)
	m.subs[id] = s
	m.handlers.Go(s.Run)
	return func() {
		m.mu.Lock()
		if m.subs[id] == s {
			delete(m.subs, id)
			m.gone.Add(s.Dropped())
		}
		m.mu.Unlock()
		s.Close()
	}, nil
}

// Dropped is how many events subscriptions of this bus have dropped.
func (m *Memory) Dropped() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := m.gone.Load()
	for _, s := range m.subs {
		n += s.Dropped()
	}
	return n
}

// Close ends every subscription and waits until no handler is running;
// later calls return ErrClosed. It must not be called from a handler.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	for id, s := range m.subs {
		m.gone.Add(s.Dropped())
		s.Close()
		delete(m.subs, id)
	}
	m.mu.Unlock()
	m.handlers.Wait()
	return nil
}
