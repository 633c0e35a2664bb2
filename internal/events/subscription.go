package events

import (
	"sync"
	"sync/atomic"
)

// DefaultBuffer is how many events a subscription may have waiting for its
// handler unless a bus is configured otherwise.
const DefaultBuffer = 1024

// Subscription is one subscriber's bounded buffer and the goroutine that
// calls its handler, one event at a time, in the order the events were
// offered. Every Bus delivers through Subscriptions, so that every bus
// follows one rule: an event that finds the buffer full is dropped for that
// subscription alone and counted, and a slow or blocked handler delays
// nobody, not even the publisher.
type Subscription struct {
	pattern string
	h       Handler
	queue   chan Event
	quit    chan struct{} // closed by Close
	once    sync.Once     // closes quit

	dropped  atomic.Uint64
	dropping atomic.Bool // whether the last offer was dropped
}

// NewSubscription returns a subscription of h to pattern with room for
// buffer waiting events (DefaultBuffer when buffer is not positive). Its
// handler runs once Run is started.
func NewSubscription(pattern string, h Handler, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Subscription{pattern: pattern, h: h, queue: make(chan Event, buffer), quit: make(chan struct{})}
}

// Pattern is the topic pattern subscribed to.
func (s *Subscription) Pattern() string { return s.pattern }

// Buffer is the number of events the subscription may have waiting.
func (s *Subscription) Buffer() int { return cap(s.queue) }

// Offer queues e without waiting, or drops it when the buffer is full. It
// reports whether e was queued and whether that differs from the previous
// offer (the subscription started dropping, or caught up), for buses that
// log the change once rather than every drop.
func (s *Subscription) Offer(e Event) (queued, changed bool) {
	select {
	case s.queue <- e:
		queued = true
	default:
		s.dropped.Add(1)
	}
	return queued, s.dropping.Swap(!queued) == queued
}

// Dropped is how many events the subscription has dropped.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Run calls the handler for each queued event until Close. No call starts
// after Close has returned.
func (s *Subscription) Run() {
	for {
		select {
		case <-s.quit:
			return
		case e := <-s.queue:
			// select picks at random among ready cases; check quit
			// again so that no call starts after Close.
			select {
			case <-s.quit:
				return
			default:
			}
			s.h(e)
		}
	}
}

// Close ends Run; events still waiting are discarded.
func (s *Subscription) Close() { s.once.Do(func() { close(s.quit) }) }
