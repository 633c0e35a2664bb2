// Package timelinecache keeps the heads of timelines in process for the
// engines: the newest Depth ids each timeline shows, from which the pages
// near its top are cut without asking the store.
//
// An engine reports every change to a timeline with Forget once the change
// is visible in the store (the embedded engine when the transaction that
// made it committed, the Redis engine when Redis invalidates the
// timeline's key). The race left is a read that began before such a
// change and fills the cache after Forget ran, with what it read before
// the change. Fill tokens close it: a read that misses first leaves a
// placeholder holding a token of its own (Reserve), then reads the store,
// and keeps what it read (Fill) only if its placeholder is still there.
// Forget removes placeholders as well as heads, so a read whose answer may
// predate a change never fills the cache; a read that placed its token
// after a Forget read the store after that change.
//
// The cache is safe for concurrent use. It holds at most about its size
// in bytes; when full, it drops entries in map order, which Go
// randomizes. A nil *Cache is a cache that is off.
package timelinecache
