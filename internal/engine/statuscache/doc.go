// Package statuscache keeps statuses in process, by id, for the engines.
// A status never changes once created; the only way one goes away is a
// delete, which the engine reports with Forget (the embedded engine when
// its transaction committed, the Redis engine when Redis invalidates the
// status's key), so a cached status is never stale for longer than the
// delete takes to be reported.
//
// What remains is the race between a delete and a read that started
// before it: the read may have found the status in the store and Add it
// after Forget ran. Every Forget therefore starts a new epoch, and Add
// keeps a read's statuses only when no Forget came since the read's
// Lookup; a read that loses that race simply does not fill the cache. A
// read answered from the cache just before a delete may still show the
// status, as it would if it had finished a moment earlier.
//
// The cache holds at most about its size in bytes (Size estimates each
// status). When full, it drops entries in map order, which Go randomizes:
// random eviction, which for timelines, read newest first, keeps most of
// what is read again.
package statuscache
