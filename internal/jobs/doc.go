// Package jobs is Starling's durable job queue: the Queue port that engines
// implement and the Runner that leases jobs from it and hands them to handlers.
//
// Delivery is at least once. A claimed job is leased to one consumer until it
// is completed, retried, buried or its lease runs out; an expired lease makes
// the job claimable again, so a worker that dies loses nothing. Handlers must
// therefore be idempotent. A handler may return follow-up jobs; Complete
// enqueues them in the same atomic step that acknowledges the job, so a crash
// either keeps the job (and reruns it) or keeps its follow-ups, never neither.
//
// A kind may have a batch handler instead (Runner.HandleBatch): the jobs of
// that kind among those a worker claims at once (up to its prefetch) are
// handed over together, so that the handler can do their work in few store
// calls, and the Runner acknowledges those that succeeded with one
// Queue.CompleteMany. Each job still succeeds, retries or dies on its own
// outcome; a batch whose handler panics is run again job by job.
//
// Concurrency: Queue implementations are safe for concurrent use by many
// consumers, in one process or many. A Runner owns its worker goroutines;
// Run returns after they have finished the jobs they hold.
package jobs
