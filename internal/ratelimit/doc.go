// Package ratelimit is the port through which Starling limits how often a
// client or a user may do something: register, log in, post, follow, send
// chat messages or open streams.
//
// A Limiter answers one question, atomically: may one more request under
// this key go through now, given this Limit? Both implementations use the
// generic cell rate algorithm (GCRA): each key keeps one number, its
// theoretical arrival time, so a key costs a few bytes and a decision costs
// one read and one write. A Limit of Rate requests per Per with a Burst of B
// lets B requests through at once, then one every Per/Rate; a refused
// request consumes nothing and is told how long to wait (Decision.RetryAfter).
//
// Implementations: Memory (in this package) serves one process and is what
// the embedded engine uses; the Redis engine's RateLimiter
// (internal/engine/redis) shares the state of every key among all the
// processes of a deployment. ratelimittest is the conformance suite both pass.
//
// Keys name a policy and a subject ("post:uid:42", "login:ip:192.0.2.7"). A
// key must be used with one Limit only: the stored state is measured in the
// Limit's interval, so sharing a key between two limits mixes units.
//
// Concurrency: every Limiter is safe for concurrent use.
package ratelimit
