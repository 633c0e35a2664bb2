// Package redis is Starling's Redis engine: the social store, the job
// queue, the events bus and the rate limiter over one Redis server, shared
// by any number of `starling serve` and `starling worker` processes. Every
// multi-key step is one Lua script (lua/); reads are served from in-process
// caches kept exact by RESP3 client tracking.
//
// An Engine is safe for concurrent use. docs/engines/redis.md has the key
// layout and the design of timelines, reads and jobs.
package redis
