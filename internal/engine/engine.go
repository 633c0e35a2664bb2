package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"starling/internal/chat"
	"starling/internal/engine/redis"
	"starling/internal/engine/sqlite"
	"starling/internal/events"
	"starling/internal/jobs"
	"starling/internal/ratelimit"
	"starling/internal/seed"
	"starling/internal/social"
	"starling/internal/stream"
)

// DefaultRedisPrefix starts every Redis key and channel unless configured
// otherwise.
const DefaultRedisPrefix = redis.DefaultPrefix

// Config selects and tunes an engine. Zero values mean the documented
// defaults of each engine.
type Config struct {
	// RedisURL selects the Redis engine; empty selects the embedded one.
	RedisURL string
	// RedisPrefix starts every Redis key and channel; zero means
	// redis.DefaultPrefix.
	RedisPrefix string
	// RedisTimeout bounds a Redis command's wait for its reply and a
	// connection's handshake; zero means the Redis engine's default.
	RedisTimeout time.Duration
	// DataDir is the embedded engine's directory; zero means "./data".
	DataDir string
	// StatusCacheBytes and TimelineCacheBytes bound the engine's read
	// caches; zero means the engine's default, negative turns one off.
	StatusCacheBytes   int
	TimelineCacheBytes int
	// TimelineSize is how many entries home and list timelines keep; zero
	// means social.DefaultTimelineSize. It is fixed for the life of a
	// deployment: Open refuses a size other than the one the data was
	// written with.
	TimelineSize int
	// ObserveRedisCommand, when set, is told the round trip of each
	// command the Redis engine sends, by command verb (blocking reads and
	// client-side cache hits left out); the embedded engine never calls it.
	ObserveRedisCommand func(command string, d time.Duration)
}

// Engine is everything an opened engine provides. Close it once its users
// have stopped.
type Engine struct {
	// Name is "sqlite" or "redis", for logs.
	Name  string
	Store social.Store
	Queue jobs.Queue
	// DeadLetters revives and drops the queue's dead jobs (admin tools).
	DeadLetters jobs.DeadLetters
	// JobKinds counts the queue's jobs by kind (metrics, admin tools).
	JobKinds jobs.KindCounter
	Bus      events.Bus
	Limiter  ratelimit.Limiter
	Loader   seed.Loader
	// EventLog is the retained log of stream events that every process's
	// stream hub reads.
	EventLog stream.Log
	// Chat is the durable history of chat rooms.
	Chat chat.History
	// Defaults is the job tuning that suits the engine.
	Defaults Defaults
	// Counters reads the engine's running counts, for metrics.
	Counters func() Counters

	closeBus   func() error
	closeStore func() error
}

// Counters are an engine's running counts since it opened.
type Counters struct {
	// Errors counts store calls that failed for a reason other than the
	// caller's (a domain error such as social.ErrNotFound is no failure).
	Errors uint64
	// The in-process caches: ids found and not (statuses), pages answered
	// and not (timeline heads).
	StatusCacheHits, StatusCacheMisses     uint64
	TimelineCacheHits, TimelineCacheMisses uint64
	// BusReconnects counts the Redis event subscriptions lost and made
	// again; always zero on the embedded engine.
	BusReconnects uint64
}

// counterSource is what both concrete engines provide for Counters.
type counterSource interface {
	Errors() uint64
	CacheCounts() (statusHits, statusMisses, timelineHits, timelineMisses uint64)
}

func countersOf(src counterSource, reconnects func() uint64) func() Counters {
	return func() Counters {
		var c Counters
		c.Errors = src.Errors()
		c.StatusCacheHits, c.StatusCacheMisses, c.TimelineCacheHits, c.TimelineCacheMisses = src.CacheCounts()
		if reconnects != nil {
			c.BusReconnects = reconnects()
		}
		return c
	}
}

// Defaults is the tuning an engine does best with, used where the operator
// sets nothing.
type Defaults struct {
	// Workers is the number of in-process job workers.
	Workers int
	// Prefetch is how many unsettled jobs one worker holds, and so the
	// largest batch a job handler gets.
	Prefetch int
	// FanoutBatchChunks is how many fan-out chunks one delivery call
	// carries at most (social.Config.FanoutBatch is this times the chunk).
	FanoutBatchChunks int
}

// Open opens the engine cfg selects.
//
// The embedded engine serves one process, so its bus is in-process and its
// rate limits are counted in memory. It has one writer: more workers add no
// write throughput and deliver statuses out of order, which costs timeline
// appends their fast path, so one worker with batches of 64 does more; and a
// delivery call is one transaction whose cost grows with the timelines it
// touches, not with the entries, so calls of 8 chunks pay for far fewer
// commits while keeping a transaction to some tens of milliseconds.
//
// The Redis engine is shared by many processes, so its bus is Redis pub/sub
// and its rate limits are counted in Redis. Several workers keep several
// round trips in flight; 16 jobs a worker keep batches useful without one
// worker holding a large share of a big fan-out's chunks; and a delivery
// call is one script every other client waits behind, so it carries one
// chunk.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.RedisURL != "" {
		opts := redis.Options{
			Prefix: cfg.RedisPrefix, DialTimeout: cfg.RedisTimeout, IOTimeout: cfg.RedisTimeout,
			StatusCacheBytes: cfg.StatusCacheBytes, TimelineCacheBytes: cfg.TimelineCacheBytes,
			TimelineSize: cfg.TimelineSize, ObserveCommand: cfg.ObserveRedisCommand,
		}
		e, err := redis.Open(ctx, cfg.RedisURL, opts, log)
		if err != nil {
			return nil, fmt.Errorf("engine: opening redis: %w", err)
		}
		bus := redis.NewBus(e, redis.BusOptions{})
		return &Engine{
			Name: "redis", Store: e, Queue: e, DeadLetters: e, JobKinds: e, Bus: bus, Limiter: e.RateLimiter(), Loader: e,
			EventLog:   e.EventLog(stream.DefaultRetain),
			Chat:       e.Chat(0),
			Defaults:   Defaults{Workers: 4, Prefetch: 16, FanoutBatchChunks: 1},
			Counters:   countersOf(e, bus.Reconnects),
			closeBus:   bus.Close,
			closeStore: e.Close,
		}, nil
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "./data"
	}
	db, err := sqlite.Open(ctx, dir, sqlite.Options{
		StatusCacheBytes: cfg.StatusCacheBytes, TimelineCacheBytes: cfg.TimelineCacheBytes, TimelineSize: cfg.TimelineSize,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("engine: opening embedded store: %w", err)
	}
	bus := events.NewMemory(events.MemoryOptions{})
	return &Engine{
		Name: "sqlite", Store: db, Queue: db, DeadLetters: db, JobKinds: db, Bus: bus,
		Limiter:    ratelimit.NewMemory(ratelimit.MemoryOptions{}),
		Loader:     db,
		EventLog:   db.EventLog(stream.DefaultRetain),
		Chat:       db.Chat(0),
		Defaults:   Defaults{Workers: 1, Prefetch: 64, FanoutBatchChunks: 8},
		Counters:   countersOf(db, nil),
		closeBus:   bus.Close,
		closeStore: db.Close,
	}, nil
}

// Close closes the bus, then the store. Call it after everything that uses
// them has stopped.
func (e *Engine) Close() error {
	return errors.Join(e.closeBus(), e.closeStore())
}
