package timelinecache

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"starling/internal/social"
)

// Depth is how many of a timeline's newest ids the cache keeps: a page of
// the maximum count and then some. Pages that reach deeper are read from
// the store.
const Depth = 256

// Cache keeps timeline heads by a key of the engine's choosing.
type Cache[K comparable] struct {
	max int // bytes

	mu      sync.RWMutex // guards the fields below
	entries map[K]entry
	bytes   int
	tokens  uint64 // tokens handed out so far

	// hits and misses count the pages Page answered and did not, for
	// metrics.
	hits, misses atomic.Uint64
}

// entry is a cached head, or a placeholder (token != 0) while a read
// fills it.
type entry struct {
	token uint64
	// ids are the timeline's newest ids, newest first; complete says they
	// are all it shows.
	ids      []social.StatusID
	complete bool
}

func (e entry) size() int { return 64 + 8*cap(e.ids) }

// New returns a cache holding at most about maxBytes of heads, or nil (a
// cache that is off) when maxBytes is not positive.
func New[K comparable](maxBytes int) *Cache[K] {
	if maxBytes <= 0 {
		return nil
	}
	return &Cache[K]{max: maxBytes, entries: make(map[K]entry)}
}

// Get answers a page of timeline k, newest first: the ids below below
// (math.MaxInt64 for none), from offset on, at most count. It cuts the
// page from the cached head when that holds it. Otherwise, for a page
// within Depth of the top, it reads the head with readHead (the newest
// Depth ids the timeline shows, and whether they are all of them), caches
// it and cuts the page from it. ok is false when the page lies deeper:
// the caller reads it from the store.
func (c *Cache[K]) Get(k K, below social.StatusID, count, offset int, readHead func() (head []social.StatusID, complete bool, err error)) (ids []social.StatusID, ok bool, err error) {
	if c == nil {
		return nil, false, nil
	}
	if ids, ok := c.Page(k, below, count, offset); ok {
		return ids, true, nil
	}
	if below != math.MaxInt64 || offset+count > Depth {
		return nil, false, nil
	}
	token := c.Reserve(k)
	head, complete, err := readHead()
	if err != nil {
		return nil, false, err
	}
	c.Fill(k, token, head, complete)
	ids, ok = Cut(head, complete, below, count, offset)
	return ids, ok, nil
}

// Page answers a page from the cache alone; ok is false when k is not
// cached or the page reaches past its cached head.
func (c *Cache[K]) Page(k K, below social.StatusID, count, offset int) (ids []social.StatusID, ok bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, found := c.entries[k]
	c.mu.RUnlock()
	if !found || e.token != 0 {
		c.misses.Add(1)
		return nil, false
	}
	ids, ok = Cut(e.ids, e.complete, below, count, offset)
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return ids, ok
}

// Counts returns how many pages Page answered from the cache and how many
// it could not, since the cache was made; zero for a cache that is off.
func (c *Cache[K]) Counts() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Cut cuts a page from a head (ids newest first; complete when they are
// all the timeline shows): the ids below below, from offset on, at most
// count. ok is false when the page reaches past an incomplete head. The
// page is a copy.
func Cut(head []social.StatusID, complete bool, below social.StatusID, count, offset int) (ids []social.StatusID, ok bool) {
	// The head holds the newest ids, so the ids below below start at the
	// first one under it.
	start, _ := slices.BinarySearchFunc(head, below, func(id, below social.StatusID) int {
		if id >= below {
			return -1
		}
		return 1
	})
	from := start + offset
	to := from + count
	if to > len(head) && !complete {
		return nil, false
	}
	from, to = min(from, len(head)), min(to, len(head))
	return slices.Clone(head[from:to:to]), true
}

// Reserve leaves a placeholder for a read about to fill k and returns its
// token (0 when the cache is off).
func (c *Cache[K]) Reserve(k K) uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens++
	if old, ok := c.entries[k]; ok {
		c.bytes -= old.size()
	}
	e := entry{token: c.tokens}
	c.entries[k] = e
	c.bytes += e.size()
	return e.token
}

// Fill caches the head read under token, unless k changed since Reserve
// (its placeholder is gone, or taken over by a newer read).
func (c *Cache[K]) Fill(k K, token uint64, head []social.StatusID, complete bool) {
	if c == nil || token == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.entries[k]
	if !ok || old.token != token {
		return
	}
	e := entry{ids: slices.Clip(head), complete: complete}
	c.entries[k] = e
	c.bytes += e.size() - old.size()
	if c.bytes > c.max {
		c.evict(c.max - c.max/8)
	}
}

func (c *Cache[K]) evict(target int) {
	for k, e := range c.entries {
		if c.bytes <= target {
			return
		}
		delete(c.entries, k)
		c.bytes -= e.size()
	}
}

// Forget drops the heads and placeholders of the given timelines, once a
// change to them is visible in the store.
func (c *Cache[K]) Forget(keys ...K) {
	if c == nil || len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if e, ok := c.entries[k]; ok {
			delete(c.entries, k)
			c.bytes -= e.size()
		}
	}
}

// ForgetAll drops every head and placeholder, for when changes may have
// gone unreported (a lost connection to Redis) or affect every timeline.
func (c *Cache[K]) ForgetAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.bytes = 0
}

// Cached reports whether k has a head cached (not a placeholder).
func (c *Cache[K]) Cached(k K) bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[k]
	return ok && e.token == 0
}
