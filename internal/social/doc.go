// Package social is Starling's social core: users, statuses, follows, lists
// and the timelines built from them.
//
// It holds the domain types and their validation, the Store port that engines
// implement (internal/engine/sqlite, internal/engine/redis) and the Service,
// which carries out each use case over a Store and registers the durable jobs
// (fan-out, cleanup, refill) that finish the work a call starts.
//
// The Store's methods are the atomic steps of the domain rules: each
// one either happens entirely or not at all, also under concurrent calls from
// many processes. The Service composes them and owns every rule that needs no
// atomicity (validation, authorization, paging).
//
// Concurrency: a Service is safe for concurrent use; it holds no mutable state
// of its own.
package social
