// Package jobstest is the conformance suite of the jobs.Queue port. Every
// engine's tests call Run with a factory that returns a fresh, empty queue.
//
// The suite checks the queue's own promises (leases, attempts, atomic
// Complete and CompleteMany, retries, delays, dead letters, Stats, waiting
// claims) and the Runner's promises that rest on them (backoff, burying
// after MaxAttempts, follow-up jobs, surviving panics, fair dispatch, batch
// handlers). Beyond the port's "up to Max", it expects a claim that meets no
// contention to take min(Max, runnable) jobs, as a prefetching worker would
// assume.
//
// Timing: leases and delays are a few hundred milliseconds so that waiting
// them out keeps the suite quick. A job must never come back before its
// lease, retry time or run time; the suite checks this only against claims
// that provably started earlier, so a slow machine checks less but never
// fails wrongly. Waits for something that must happen poll with a generous
// deadline; nothing asserts on speed.
//
// The subtests run one after another on their own queues. The package's own
// test runs the suite against a minimal in-memory queue, which keeps the
// suite honest without any engine.
package jobstest
