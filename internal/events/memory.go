package events

import (
	"context"
	"errors"
	"sync"
)

// Memory is a Bus within one process. Publish delivers synchronously, on the
// publisher's goroutine, so handlers see events in publish order.
type Memory struct {
	mu     sync.RWMutex // guards subs and next
	subs   map[uint64]*memorySub
	next   uint64
	closed bool
}

type memorySub struct {
	pattern string
	mu      sync.Mutex // serializes calls of h
	h       Handler
}

var _ Bus = (*Memory)(nil)

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory { return &Memory{subs: make(map[uint64]*memorySub)} }

// ErrClosed is returned by a closed bus.
var ErrClosed = errors.New("events: bus closed")

// Publish delivers e to the matching subscriptions.
func (m *Memory) Publish(ctx context.Context, e Event) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	var matched []*memorySub
	for _, s := range m.subs {
		if Match(s.pattern, e.Topic) {
			matched = append(matched, s)
		}
	}
	m.mu.RUnlock()
	for _, s := range matched {
		s.mu.Lock()
		s.h(e)
		s.mu.Unlock()
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
	m.subs[id] = &memorySub{pattern: pattern, h: h}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, id)
	}, nil
}

// Close drops every subscription; later calls return ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	clear(m.subs)
	return nil
}
