package statuscache

import (
	"sync"
	"sync/atomic"

	"starling/internal/social"
)

// Cache is an in-process cache of statuses by id, safe for concurrent
// use. The zero value is not usable; a nil *Cache is a cache that is off.
type Cache struct {
	max int // bytes

	mu     sync.RWMutex
	byID   map[social.StatusID]social.Status
	bytes  int
	epochs uint64 // Forget and ForgetAll calls so far

	// hits and misses count the ids Lookup found and did not, for metrics.
	hits, misses atomic.Uint64
}

// New returns a cache holding at most about maxBytes of statuses, or nil
// (a cache that is off) when maxBytes is not positive.
func New(maxBytes int) *Cache {
	if maxBytes <= 0 {
		return nil
	}
	return &Cache{max: maxBytes, byID: make(map[social.StatusID]social.Status)}
}

// Get returns the statuses with the given ids, in that order and skipping
// ids that name no status: from the cache where it holds them, and from
// read, called once with the ids it does not, for the others, which it then
// caches (Add). read returns the statuses it found, in any order.
func (c *Cache) Get(ids []social.StatusID, read func(missing []social.StatusID) ([]social.Status, error)) ([]social.Status, error) {
	if len(ids) == 0 {
		return []social.Status{}, nil
	}
	sts := make([]social.Status, len(ids))
	missing, epoch := c.Lookup(ids, sts)
	if len(missing) > 0 {
		found, err := read(missing)
		if err != nil {
			return nil, err
		}
		byID := make(map[social.StatusID]social.Status, len(found))
		for _, st := range found {
			byID[st.ID] = st
		}
		for i, id := range ids {
			if st, ok := byID[id]; ok && sts[i].ID == 0 {
				sts[i] = st
			}
		}
		c.Add(epoch, found...)
	}
	out := sts[:0]
	for _, st := range sts {
		if st.ID != 0 {
			out = append(out, st)
		}
	}
	return out, nil
}

// Lookup copies the cached statuses among ids into the same positions of
// sts (len(sts) == len(ids)), leaving the others alone, and returns the ids
// it did not find with the epoch that Add needs. Callers must not modify
// what the cached statuses point to (their Location).
func (c *Cache) Lookup(ids []social.StatusID, sts []social.Status) (missing []social.StatusID, epoch uint64) {
	if c == nil {
		return ids, 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, id := range ids {
		if st, ok := c.byID[id]; ok {
			sts[i] = st
		} else {
			missing = append(missing, id)
		}
	}
	c.hits.Add(uint64(len(ids) - len(missing)))
	c.misses.Add(uint64(len(missing)))
	return missing, c.epochs
}

// Counts returns how many ids lookups found in the cache and how many they
// did not, since the cache was made; zero for a cache that is off.
func (c *Cache) Counts() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Add caches statuses read from the store after the Lookup that returned
// epoch, unless a Forget came in between.
func (c *Cache) Add(epoch uint64, sts ...social.Status) {
	if c == nil || len(sts) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs != epoch {
		return
	}
	for _, st := range sts {
		if _, ok := c.byID[st.ID]; ok {
			continue
		}
		c.byID[st.ID] = st
		c.bytes += Size(st)
	}
	if c.bytes > c.max {
		c.evict(c.max - c.max/8)
	}
}

// evict drops entries until the cache holds at most target bytes.
func (c *Cache) evict(target int) {
	for id, st := range c.byID {
		if c.bytes <= target {
			return
		}
		delete(c.byID, id)
		c.bytes -= Size(st)
	}
}

// Forget drops the given statuses, once their deletion is done.
func (c *Cache) Forget(ids ...social.StatusID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if st, ok := c.byID[id]; ok {
			delete(c.byID, id)
			c.bytes -= Size(st)
		}
	}
	c.epochs++
}

// ForgetAll empties the cache, for when deletes may have gone unreported
// (a lost connection to Redis).
func (c *Cache) ForgetAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.byID)
	c.bytes = 0
	c.epochs++
}

// Len is the number of cached statuses.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byID)
}

// Bytes is the estimated memory the cached statuses take.
func (c *Cache) Bytes() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}

// Size estimates the memory a cached status takes: the map entry and
// struct, its two strings and its location.
func Size(st social.Status) int {
	n := 160 + len(st.Login) + len(st.Message)
	if st.Location != nil {
		n += 16
	}
	return n
}
