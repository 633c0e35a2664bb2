// Package accesslog is the live access log: a record of every request a
// process answered, shared through the events bus (under Topic) so that
// on Redis each process sees the requests of all, and kept as a ring of the
// newest ReplaySize records for watchers that join later.
//
// Add never blocks the request that calls it: records wait in a bounded
// queue for the Log's goroutine, and are dropped (and counted) when it is
// full. That goroutine keeps each record at once and publishes them in
// batches, one event at most every few milliseconds however many requests
// the process answers. Each watcher has a bounded buffer of its own;
// a watcher too slow to keep up loses records, never slows anyone.
//
// Concurrency: a Log is safe for concurrent use. Run owns its goroutine
// and returns when its context ends; Close ends every watch.
package accesslog
