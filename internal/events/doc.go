// Package events carries notifications between the parts of Starling and
// between processes: the social core publishes what happened (a status was
// created or deleted, a user followed another) and the streaming hub and
// chat rooms subscribe.
//
// Delivery is at most once and in publish order per publisher: events are
// not durable (what must not be lost lives in the store and the job queue),
// so a subscriber that was away may miss some and must recover from the
// store.
//
// Topics are dot-separated words. A pattern matches a topic word by word,
// where "*" matches any one word and a final ">" matches one or more
// remaining words: "status.*" matches "status.created"; ">" matches all.
//
// Concurrency: a Bus is safe for concurrent use. Publish never waits for a
// subscriber: each subscription has a bounded buffer and a goroutine of its
// own that calls its handler, one event at a time, in order. A handler that
// is slow holds up only its own subscription, whose events are dropped (and
// counted) once its buffer is full.
package events
