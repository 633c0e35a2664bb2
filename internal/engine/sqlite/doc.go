// Package sqlite is Starling's embedded engine: one SQLite database file
// (modernc.org/sqlite, pure Go) that implements the social.Store and
// jobs.Queue ports, for deployments where one machine is enough.
//
// Files by concern: db.go opens the database (pragmas, connection pools,
// prepared statements, error mapping), migrations.go holds the schema as
// numbered steps tracked by PRAGMA user_version, users.go users, passwords
// and tokens, statuses.go and timelines.go statuses and the timelines built
// from them, follows.go and lists.go the social graph, jobs.go the durable
// job queue.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL. A transaction is
// committed once its frames are in the WAL file, which the operating system
// keeps even when the process is killed (kill -9, a panic, an OOM kill), so
// a crashed process loses no committed transaction; on the next open SQLite
// replays the WAL. Only a power loss or kernel crash can roll back the last
// transactions before a checkpoint (never corrupt the file); Options.FullSync
// (synchronous=FULL) closes that gap at the cost of an fsync per commit.
// Every port method is one transaction, and jobs a method enqueues are part
// of it, so what a call acknowledged survives together with the work it
// started.
//
// # Concurrency
//
// A DB is safe for concurrent use. Writes go through a pool of exactly one
// connection, so database/sql queues the writers of this process in turn,
// and each write transaction starts with BEGIN IMMEDIATE, taking SQLite's
// write lock before it reads anything: the checks a method makes (does the
// user exist, is the login free, is the lease still ours) and the changes
// that depend on them can never be interleaved with another writer's.
// Reads go through a separate pool of query_only connections; in WAL mode
// each read sees the latest committed state as one consistent snapshot and
// neither blocks the writer nor is blocked by it.
//
// The data directory belongs to one process at a time: Open takes an
// advisory lock (flock) on its starling.lock file, which the operating
// system releases however the process ends, and a second Open, in this
// process or another, fails with ErrInUse naming the holder's pid. That is
// DESIGN's embedded mode (one process; many processes share Redis), and
// it is what lets the process keep what it read in memory: every change
// to the data passes through this DB, so the caches below are never stale.
// Other programs (the sqlite3 shell, a backup) may still take SQLite's own
// write lock for a while; a writer waits up to Options.BusyTimeout for it
// before a call fails with an error that wraps social.ErrUnavailable.
//
// Posts that arrive while another write commits share the next
// transaction (group commit, group.go): each runs in a savepoint of its
// own, so one that fails rolls back alone, and the pages they all touch
// (the statuses and jobs tables' last pages) reach the WAL once.
//
// A Claim that finds no runnable job waits for one. Work enqueued through
// this DB wakes it at once; delayed jobs coming due and expired leases are
// found by looking again every Options.JobPoll, on a reader connection so
// that idle workers do not contend for the write lock. Close releases
// waiting Claims.
//
// # Caches
//
// Statuses never change once created, so the statuses read are kept in
// process (statusCache, bounded by Options.StatusCacheBytes); DeleteStatus
// forgets them once its transaction committed, and a read racing a delete
// never puts one back (statuscache.go has the argument). The heads of the
// home and list timelines read (their newest 256 ids) are kept too
// (package timelinecache, bounded by Options.TimelineCacheBytes): every
// write transaction records the timelines it changes (wtx.touch) and drops
// them once it committed, and a read that raced such a commit never fills
// the cache (the package's fill tokens).
//
// # Checkpoints
//
// SQLite's own checkpoint (copying the WAL back into the database file,
// with an fsync of both) would run in the committing writer and make the
// writes queued behind it wait. A goroutine with a connection of its own
// checkpoints instead, PASSIVE (never blocking readers or the writer), at
// most every checkpointEvery after writes; the writer checkpoints itself
// only when the WAL reaches walBackstop frames, so that a steady stream of
// writes still lets the WAL start over. Checkpoints move committed data
// only; what is in the WAL is already durable as described above.
//
// # Timelines
//
// A home or list timeline is its row in timelines, whose recent column
// holds its newest ids, and rows of timeline_blocks holding about flushAt
// older ids each, covering disjoint ranges. Fan-out appends an id to the
// recent of a thousand rows that share a few dozen pages, instead of
// writing a row into each timeline's own B-tree page; every flushAt ids a
// timeline's recent becomes a block, and its oldest block goes once the
// others hold the timeline size h. Deliver, the batched fan-out, appends
// all the ids a timeline gets in one call with one row update where they
// all come after what it holds (fan-out delivers in about posting order),
// the rest one id at a time, and flushes once at the end of its
// transaction. Reads show the newest h ids, so
// trimming by whole blocks changes nothing a reader sees, except that an
// id removed from the newest h lets an older one still held move up.
// timelines.go has the details and the reasons. The profile timeline is
// the statuses table itself, read through its (uid, id) index. Deleting a
// status deletes its row, so every read skips it at once; ids left in
// other timelines are purged by the cleanup jobs and are skipped by reads
// until then.
package sqlite
