package sqlite

import (
	"slices"
	"sync"
)

// DefaultTimelineCacheBytes is the timeline cache's size when
// Options.TimelineCacheBytes is zero: the heads of some tens of thousands
// of timelines.
const DefaultTimelineCacheBytes = 32 << 20

// timelineCacheDepth is how many of a timeline's newest ids the cache
// keeps: a page of the maximum count and then some. Pages that reach
// deeper are read from the database.
const timelineCacheDepth = 256

// tlKey names a home or list timeline by its stored kind and owner.
type tlKey struct {
	kind  int
	owner int64
}

// timelineCache keeps the heads of the home and list timelines this
// process has read: the newest timelineCacheDepth ids each shows, so that
// most page reads cost no query.
//
// Every change to a timeline is a write transaction of this DB (the data
// directory is this process's, see lockDir), and each records the
// timelines it touches (wtx.touch); once it has committed, forget drops
// them. The race left is a read that began before such a commit and fills
// the cache after forget ran, with what it read before the commit. Fill
// tokens close it: a read that misses first leaves a placeholder holding a
// token of its own, then reads the database, and keeps what it read only
// if its placeholder is still there. forget removes placeholders as well
// as entries, so a read whose snapshot may predate a commit never fills
// the cache; a read that placed its token after a forget reads a snapshot
// taken after that commit.
//
// forget costs one map lookup per touched timeline whether cached or not,
// so a fan-out of a thousand recipients adds some tens of microseconds to
// its transaction. The cache holds at most about max bytes; when full it
// drops entries in map order, which Go randomizes.
type timelineCache struct {
	max int // bytes; 0 turns the cache off

	mu      sync.RWMutex
	entries map[tlKey]tlEntry
	bytes   int
	tokens  uint64
}

// tlEntry is a cached timeline head, or a placeholder (token != 0) while a
// read fills it.
type tlEntry struct {
	token uint64
	// ids are the timeline's newest ids, newest first; complete says they
	// are all it shows.
	ids      []int64
	complete bool
}

func (e tlEntry) size() int { return 64 + 8*cap(e.ids) }

func newTimelineCache(maxBytes int) *timelineCache {
	c := &timelineCache{max: max(0, maxBytes)}
	if c.max > 0 {
		c.entries = make(map[tlKey]tlEntry)
	}
	return c
}

// page answers a page read from the cache: the ids below below, from
// offset on, at most count. ok is false when the timeline is not cached or
// the page reaches past the cached head.
func (c *timelineCache) page(k tlKey, below int64, count, offset int) (ids []int64, ok bool) {
	if c.max == 0 {
		return nil, false
	}
	c.mu.RLock()
	e, found := c.entries[k]
	c.mu.RUnlock()
	if !found || e.token != 0 {
		return nil, false
	}
	return pageOf(e, below, count, offset)
}

// pageOf cuts a page from a cached head; ids are newest first.
func pageOf(e tlEntry, below int64, count, offset int) ([]int64, bool) {
	// The head holds the newest ids, so the ids below below start at the
	// first one under it.
	start, _ := slices.BinarySearchFunc(e.ids, below, func(id, below int64) int {
		if id >= below {
			return -1
		}
		return 1
	})
	from := start + offset
	to := from + count
	if to > len(e.ids) && !e.complete {
		return nil, false
	}
	from, to = min(from, len(e.ids)), min(to, len(e.ids))
	return slices.Clone(e.ids[from:to:to]), true
}

// reserve leaves a placeholder for a read about to fill k and returns its
// token, or 0 when the cache is off.
func (c *timelineCache) reserve(k tlKey) uint64 {
	if c.max == 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens++
	if old, ok := c.entries[k]; ok {
		c.bytes -= old.size()
	}
	e := tlEntry{token: c.tokens}
	c.entries[k] = e
	c.bytes += e.size()
	return e.token
}

// fill caches the head read under token, unless a write to k committed
// since reserve (its placeholder is gone or taken by a newer read).
func (c *timelineCache) fill(k tlKey, token uint64, ids []int64, complete bool) {
	if token == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.entries[k]
	if !ok || old.token != token {
		return
	}
	e := tlEntry{ids: slices.Clip(ids), complete: complete}
	c.entries[k] = e
	c.bytes += e.size() - old.size()
	if c.bytes > c.max {
		c.evict(c.max - c.max/8)
	}
}

func (c *timelineCache) evict(target int) {
	for k, e := range c.entries {
		if c.bytes <= target {
			return
		}
		delete(c.entries, k)
		c.bytes -= e.size()
	}
}

// forget drops the given timelines' entries and placeholders, once the
// transaction that changed them committed.
func (c *timelineCache) forget(keys []tlKey) {
	if c.max == 0 || len(keys) == 0 {
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

// cached reports whether k has an entry (not a placeholder), for tests.
func (c *timelineCache) cached(k tlKey) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[k]
	return ok && e.token == 0
}
