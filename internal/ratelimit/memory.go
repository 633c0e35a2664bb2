package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

var _ Limiter = (*Memory)(nil)

// MemoryOptions tune a Memory limiter. Zero values mean the defaults.
type MemoryOptions struct {
	// MaxKeys caps the keys held at once; zero means 100,000 (a few MB).
	// When it is reached, the key closest to being idle is dropped,
	// which forgets its recent requests.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

const (
	defaultMaxKeys = 100_000
	shardCount     = 16
	// sweepPerCall is how many keys each Allow inspects for idleness, so
	// that idle keys go away without a goroutine of their own.
	sweepPerCall = 2
	// evictionSample is how many keys are compared when a full shard must
	// drop one that is not idle yet.
	evictionSample = 8
)

// Memory is an in-process Limiter for a single process: the embedded
// engine's. Its memory is bounded: a key is dropped as soon as it is idle
// (its state equals a fresh key's), found by a small sweep on every call,
// and the number of keys is capped.
type Memory struct {
	now    func() time.Time
	start  time.Time // times are kept as durations since start
	seed   maphash.Seed
	perCap int // keys per shard at most
	shards [shardCount]memoryShard
	// nextSweep picks the shard each call sweeps besides its own, so that
	// idle keys go away in every shard even when traffic hits only one.
	nextSweep atomic.Uint32
}

type memoryShard struct {
	mu sync.Mutex // guards tats
	// tats maps a key to its theoretical arrival time, as nanoseconds
	// since Memory.start. A key whose tat is not after now is idle.
	tats map[string]int64
}

// NewMemory returns an empty Memory limiter.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = defaultMaxKeys
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Memory{
		now:    opts.Now,
		start:  opts.Now(),
		seed:   maphash.MakeSeed(),
		perCap: max(1, opts.MaxKeys/shardCount),
	}
	for i := range m.shards {
		m.shards[i].tats = make(map[string]int64)
	}
	return m
}

// Allow implements Limiter. It never fails for a valid limit.
func (m *Memory) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	if limit.Unlimited() {
		return Decision{Allowed: true, Remaining: -1}, nil
	}
	if err := limit.Validate(); err != nil {
		return Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	key = StorageKey(key)
	now := int64(m.now().Sub(m.start))
	s := &m.shards[maphash.String(m.seed, key)%shardCount]
	s.mu.Lock()
	s.sweep(now, key)
	tat, known := s.tats[key]
	d, newTAT := gcra(now, tat, limit)
	if d.Allowed {
		if !known && len(s.tats) >= m.perCap {
			s.evict(now)
		}
		s.tats[key] = newTAT
	}
	s.mu.Unlock()

	// Sweeping another shard is housekeeping: skip it rather than wait
	// for a shard someone else holds.
	other := &m.shards[m.nextSweep.Add(1)%shardCount]
	if other != s && other.mu.TryLock() {
		other.sweep(now, "")
		other.mu.Unlock()
	}
	return d, nil
}

// gcra decides one request at time now for a key whose theoretical arrival
// time is tat (zero for a fresh key), and returns the tat to store when the
// request is allowed.
func gcra(now, tat int64, limit Limit) (Decision, int64) {
	interval := int64(limit.Interval())
	window := interval * int64(limit.BurstSize())
	newTAT := max(tat, now) + interval
	allowAt := newTAT - window
	if now < allowAt {
		return Decision{RetryAfter: time.Duration(allowAt - now)}, 0
	}
	return Decision{Allowed: true, Remaining: int((now - allowAt) / interval)}, newTAT
}

// sweep drops a few idle keys other than keep. Map iteration starts at a
// random place, so successive sweeps visit the whole map over time.
func (s *memoryShard) sweep(now int64, keep string) {
	seen := 0
	for k, tat := range s.tats {
		if seen == sweepPerCall {
			return
		}
		seen++
		if tat <= now && k != keep {
			delete(s.tats, k)
		}
	}
}

// evict drops one key to make room: an idle one if the sample finds one,
// else the sampled key whose state is closest to idle (the smallest tat),
// so that keys under heavy use keep their state.
func (s *memoryShard) evict(now int64) {
	victim, oldest, seen := "", int64(0), 0
	for k, tat := range s.tats {
		if tat <= now {
			delete(s.tats, k)
			return
		}
		if seen == 0 || tat < oldest {
			victim, oldest = k, tat
		}
		if seen++; seen == evictionSample {
			break
		}
	}
	delete(s.tats, victim)
}

// Len returns the number of keys held, for tests and metrics.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}
