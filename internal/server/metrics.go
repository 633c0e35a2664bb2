package server

import (
	"time"

	"starling/internal/engine"
	"starling/internal/metrics"
	"starling/internal/stream"
)

// queueStatsTimeout bounds the reading of the job counts at a scrape.
const queueStatsTimeout = 3 * time.Second

// watchEngine registers in reg what the engine counts: queue counts by
// kind, the store's ping, bus drops and reconnects, store errors and the
// caches' hits and misses. (The Redis command round trips are observed as
// they happen, through engine.Config.ObserveRedisCommand.)
func watchEngine(reg *metrics.Registry, eng *engine.Engine) {
	reg.WatchQueue(eng.JobKinds, queueStatsTimeout)
	reg.WatchPing(eng.Store.Ping, queueStatsTimeout)
	reg.CounterFunc("bus_dropped_events_total", "Events this process's bus subscriptions dropped because their buffers were full.",
		func() float64 { return float64(eng.Bus.Dropped()) })
	counter := func(name, help string, read func(engine.Counters) uint64) {
		reg.CounterFunc(name, help, func() float64 { return float64(read(eng.Counters())) })
	}
	counter("bus_reconnects_total", "Redis event subscriptions lost and made again (always 0 on the embedded engine).",
		func(c engine.Counters) uint64 { return c.BusReconnects })
	counter("engine_errors_total", "Store calls that failed for a reason other than the caller's (Redis or SQLite trouble).",
		func(c engine.Counters) uint64 { return c.Errors })
	counter("status_cache_hits_total", "Statuses found in the in-process status cache.",
		func(c engine.Counters) uint64 { return c.StatusCacheHits })
	counter("status_cache_misses_total", "Statuses looked up in the in-process status cache and read from the store.",
		func(c engine.Counters) uint64 { return c.StatusCacheMisses })
	counter("timeline_cache_hits_total", "Timeline pages answered from the in-process timeline cache.",
		func(c engine.Counters) uint64 { return c.TimelineCacheHits })
	counter("timeline_cache_misses_total", "Timeline pages the in-process timeline cache could not answer.",
		func(c engine.Counters) uint64 { return c.TimelineCacheMisses })
}

// watchStreams reports the stream hub's connections and deliveries, read
// in one snapshot a scrape.
func watchStreams(reg *metrics.Registry, hub *stream.Hub) {
	reg.Group([]metrics.Family{
		{Name: "stream_connections", Help: "Stream connections this process serves (chunked, SSE and WebSocket)."},
		{Name: "stream_subscriptions", Help: "Stream subscriptions of those connections (a WebSocket may hold several)."},
		{Name: "stream_buffered_bytes", Help: "Bytes of events waiting to be written to stream clients."},
		{Name: "stream_deliveries_total", Help: "Stream frames handed to clients.", Counter: true},
		{Name: "stream_too_slow_total", Help: "Stream connections ended because the client read too slowly.", Counter: true},
	}, func() []float64 {
		st := hub.Stats()
		return []float64{float64(st.Connections), float64(st.Subscriptions), float64(st.BufferedBytes), float64(st.Delivered), float64(st.TooSlow)}
	})
}
