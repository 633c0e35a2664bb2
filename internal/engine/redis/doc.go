// Package redis is Starling's Redis engine: it implements social.Store and
// jobs.Queue over one Redis server (6.2 or newer; 7.x is tested) so that any
// number of `starling serve` and `starling worker` processes share one
// state. Open takes a redis:// URL, database number included.
//
// # Key layout
//
// Every key starts with Options.Prefix (default "starling:"). <uid>, <id>
// are decimal ids.
//
//	users:               hash   lower(login) → uid; the login's owner
//	user:id:             string counter of user ids
//	user:<uid>           hash   login, name, followers, following, posts, signup (ms)
//	user:<uid>:auth      string the password hash; never read by User or Users
//	token:<hex sha256>   string "uid created-ms expires-ms", expiring with the token
//	status:id:           string counter of status ids, for the whole deployment
//	status:<id>          hash   uid, login, message, posted (ms), lat and lon (when located)
//	profile:<uid>        zset   every status of uid; member = score = status id
//	home:<uid>           zset   uid's home timeline, newest h read (see Timelines);
//	                            member = score = status id
//	followers:<uid>      zset   who follows uid; score = follow time in ms
//	following:<uid>      zset   whom uid follows; score = follow time in ms
//	list:id:             string counter of list ids
//	lists:<uid>          zset   the lists uid owns; member = score = list id
//	list:<id>            hash   uid (owner), login, name, members (count), created (ms)
//	list:in:<id>         zset   the members of list id; score = time added in ms
//	list:out:<uid>       zset   the lists that have uid as a member; member = score = list id
//	list:statuses:<id>   zset   list id's timeline, newest h read; member = score = status id
//	timelines:size       string h, the size home and list timelines are trimmed to, as
//	                            the last fan-out recorded it
//	jobs                 stream runnable jobs, read through the consumer group "starling";
//	                            fields jid, kind, payload, attempts
//	jobs:delayed         zset   jobs not yet due; score = run time in ms; member = msgpack
//	                            of (jid, kind, payload, attempts)
//	jobs:leases          zset   delivered stream entries; score = the lease's end in ms
//	jobs:dead            stream buried jobs: jid, kind, payload, attempts, reason, died (ms)
//
// DESIGN.md names list:in:<id> and list:out:<uid> without saying which way
// they point; here "in" holds what is in a list (its members) and "out" what
// points out from a user to lists.
//
// # Atomic steps
//
// Each Store method is one atomic step. Single-key steps are single
// commands; every multi-key step is one Lua script (lua/*.lua, each behind a
// shared prelude), which Redis runs without interleaving any other command.
// Ids come from INCR on a counter before the script runs, so an id taken by
// a call that then fails (a login lost to a concurrent registration, a
// missing author) is skipped: ids only ever grow, but may have gaps. Every
// key a script touches is passed in KEYS, never built inside the script.
// Where a step needs keys that depend on data (DeleteList needs each
// member's list:out key), the caller reads the data first and the script
// refuses to run if it changed meanwhile, and the caller reads again.
//
// Methods that enqueue a job (CreateStatus, DeleteStatus, Unfollow,
// RemoveListMember) write it into the jobs stream, or jobs:delayed, inside
// the same script, so the job and the change it finishes cannot be parted.
//
// # Timelines
//
// Home and list timelines show their newest h entries (DESIGN.md §3), but
// fan-out trims them lazily, because trimming after every delivery cost
// Redis as much as the delivery itself: a delivery (Deliver, one script for
// the whole call, with the timelines that get the same statuses grouped so
// that each takes them in one ZADD) checks the size of
// a home for about one delivery in eight (a hash of the home and the
// status picks which) and then trims it to h if it holds more than
// h + h/16 entries. So a timeline may hold some entries past its newest h.
// They are never seen:
//
//   - lua/add_to_timelines.lua records h in timelines:size in the same
//     step as the additions, and TimelineIDs stops at the newest h of a
//     home or list timeline, for pages by number and below max_id alike
//     (lua/timeline_before.lua reads the h-th entry and the page in one
//     snapshot);
//   - every step that removes entries (DeleteStatus, RemoveFromTimelines,
//     Unfollow, RemoveListMember) first trims the timeline to h, so no entry
//     past the newest h moves up into view; steps that merge (Follow,
//     AddListMember, refill) and CreateStatus trim to h exactly.
//
// What any reader sees is therefore exactly what trimming after every
// delivery would have kept. timelines.go explains the numbers, and
// docs/PERFORMANCE.md what they save and cost.
//
// # Reads
//
// Statuses never change, and timelines change only when Redis says so, so
// a process keeps those it reads in memory, with RESP3 client-side caching
// (rueidis DoCache and DoMultiCache; Options.StatusCacheBytes and
// Options.TimelineCacheBytes bound them). Redis remembers which keys a
// connection cached and pushes an invalidation to that connection when
// one changes: a delivery, a removal, a merge or a trim invalidates every
// process's copy of that timeline, and deleting a status deletes its key,
// which invalidates every process's copy of the status. For each read to
// be as new as one made from Redis (a delete vanishes from every read at
// once, and whatever a call changed shows in every read that starts after
// it returned, in any process):
//
//   - timeline reads and the caches use one connection of their own
//     (Engine.reads), on which Redis's invalidations and replies arrive in
//     the order Redis sent them, and rueidis applies each invalidation as
//     it reads it, before the replies behind it;
//   - a timeline read first waits for a round trip on that connection
//     that began after the read did (Engine.catchUp, a barrier), so every
//     invalidation Redis sent before the read began has been applied; then
//     a page near the top is cut from the timeline's cached head, or from
//     a head read on a miss, and its statuses come from the cache.
//     Concurrent reads share those round trips: at most one PING is in
//     flight, and the reads that arrive meanwhile share the next, so at
//     C = 64 one PING serves some twenty pages and Redis does almost no
//     work for a page read. Deeper pages are read from Redis as before;
//   - DeleteStatus, before it returns, catches up too, so the deleting
//     process forgets the status even for a Statuses call with no
//     timeline read before it;
//   - a Statuses call for one id (a status asked for by itself) is not
//     cached: it reads Redis.
//
// A connection that breaks takes its cache with it (rueidis starts the new
// connection with an empty one), so no invalidation can be missed.
//
// In front of rueidis's cache of replies sit the same data parsed:
// Engine.statuses (package statuscache) and Engine.timelines (package
// timelinecache, the newest 256 ids of each timeline read, cut at h), so
// that a page read costs map lookups instead of building commands, cache
// keys and parses. They are fed only by DoCache and DoMultiCache reads of
// e.reads, so Redis tracks every key they hold, and emptied by the same
// invalidations: rueidis hands each one to e.reads' OnInvalidations hook
// (Engine.invalidated) in order with the connection's replies, and hands
// it nil when the connection breaks, which forgets everything. A read that
// raced an invalidation does not fill them (statuscache's epochs,
// timelinecache's tokens). timelines:size is read through the same cache,
// and its invalidation drops every head, which were cut at the h it held.
//
// FollowerChunk reads a fan-out's followers by rank, with plain commands
// in one MULTI/EXEC that check the cursor's rank still holds, and only when
// it moved takes lua/follower_chunk.lua, which finds the place by score and
// member (see follows.go).
//
// # Jobs
//
// Claim runs one script that moves due delayed jobs into the stream,
// reclaims entries whose lease has run out (XCLAIM), reads new entries
// (XREADGROUP) and records each lease's end in jobs:leases. Recording
// deadlines, instead of reclaiming entries idle for longer than the
// claimer's own lease (XAUTOCLAIM's min-idle-time), honours each claim's
// lease whatever lease the next claimer asks for, and delivering and
// recording in one script means no entry is ever pending without a
// deadline. When nothing is ready, Claim waits in XREAD BLOCK from the
// stream's last id (a blocking command, so rueidis runs it on a pooled
// connection of its own rather than the pipelined one) until an entry
// arrives, a delayed job falls due or a lease runs out, then runs the script
// again; the wake-up delivers nothing, so waiting claimers never hold
// entries. A lease names the entry, its delivery count at the claim and
// the consumer; Complete, Retry and Bury check them against XPENDING in
// their script, so a job reclaimed by anyone (the same consumer included,
// as the count rises) cannot be settled with the old lease. Retry and Bury
// re-add the job with attempts = earlier attempts + this entry's deliveries,
// which is how Attempts survives a retry. CompleteMany settles the jobs of
// a worker's batch in one script (lua/complete_many.lua) that does for each
// what lua/complete.lua does for one. Settled entries are deleted from
// the stream, so XLEN counts only ready and leased jobs.
//
// # Errors
//
// Connection failures, timeouts (Options.IOTimeout) and replies of a server
// that cannot serve now (LOADING, BUSY, OOM, READONLY, ...) are returned
// wrapped around social.ErrUnavailable; missing records become the social
// package's sentinels. Read-only commands are retried twice after a reset
// connection, never after a timeout.
//
// # Redis Cluster
//
// Not yet: the scripts of Follow, Unfollow, AddToTimelines and others span
// several users' keys, which one cluster slot cannot hold without hash tags
// that the key names above do not carry. Open therefore talks to a single
// server (or a sentinel-managed primary). The scripts already declare every
// key, so a cluster layout needs new key names and a split of the
// cross-user steps, not new scripts. timelines:size, which every fan-out
// chunk and removal reads, would need a copy per slot, or h would have to
// come from the configuration.
//
// # Concurrency
//
// An Engine is safe for concurrent use. rueidis pipelines the commands of
// concurrent callers onto a few shared connections (and timeline reads onto
// the one of Engine.reads), which is where most of the throughput comes
// from; callers need no pool of their own.
package redis
