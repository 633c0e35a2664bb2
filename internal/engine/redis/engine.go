package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/engine/statuscache"
	"starling/internal/engine/timelinecache"
	"starling/internal/jobs"
	"starling/internal/social"
)

var (
	_ social.Store = (*Engine)(nil)
	_ jobs.Queue   = (*Engine)(nil)
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "starling:"

// consumerGroup is the jobs stream's consumer group. Every worker of every
// process is a consumer in it, so each entry goes to one of them.
const consumerGroup = "starling"

// Options tunes an Engine. Zero values mean the documented defaults.
type Options struct {
	// Prefix is put in front of every key; zero means DefaultPrefix. Two
	// deployments (or two tests) with different prefixes share one Redis
	// without seeing each other.
	Prefix string
	// DialTimeout bounds connecting to Redis; zero means 5s.
	DialTimeout time.Duration
	// IOTimeout is how long a command may wait for its reply before the
	// connection is deemed dead and the call fails with
	// social.ErrUnavailable; zero means 10s. On a connection busy with
	// pipelined traffic rueidis notices a hung server through its periodic
	// PING, which can add up to a couple of seconds.
	IOTimeout time.Duration
	// BlockingPoolSize caps the connections used by Claim calls that wait
	// for jobs, kept apart from the pipelined connection so that a waiting
	// worker never delays other traffic; zero means rueidis' default.
	BlockingPoolSize int
	// StatusCacheBytes bounds the memory of the in-process cache of
	// statuses read in timeline pages (see docs/engines/redis.md, "Reads"); zero means
	// DefaultStatusCacheBytes, negative turns the cache off.
	StatusCacheBytes int
	// TimelineCacheBytes bounds the memory of the in-process cache of
	// timeline heads (see docs/engines/redis.md, "Reads"); zero means
	// DefaultTimelineCacheBytes, negative turns the cache off.
	TimelineCacheBytes int
	// TimelineSize is how many entries home and list timelines keep;
	// zero means social.DefaultTimelineSize. It is fixed for the life of
	// a deployment: the first Open records it in timelines:size, and an
	// Open with another size fails (see recordTimelineSize).
	TimelineSize int
	// ObserveCommand, when set, is told the round trip of every command
	// sent to Redis, by verb (see observedClient for what is left out).
	ObserveCommand func(command string, d time.Duration)
}

// DefaultStatusCacheBytes is the status cache's size when
// Options.StatusCacheBytes is zero: some hundreds of thousands of statuses.
const DefaultStatusCacheBytes = 64 << 20

// DefaultTimelineCacheBytes is the timeline cache's size when
// Options.TimelineCacheBytes is zero: the heads of some tens of thousands
// of timelines.
const DefaultTimelineCacheBytes = 32 << 20

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = 10 * time.Second
	}
	if o.StatusCacheBytes == 0 {
		o.StatusCacheBytes = DefaultStatusCacheBytes
	}
	if o.TimelineCacheBytes == 0 {
		o.TimelineCacheBytes = DefaultTimelineCacheBytes
	}
	if o.TimelineSize == 0 {
		o.TimelineSize = social.DefaultTimelineSize
	}
	return o
}

// readRetries is how many times a read-only command is resent after a
// connection error before the call fails. rueidis would otherwise retry
// them until the context ends, and callers without a deadline would hang
// for the whole of an outage instead of getting ErrUnavailable.
const readRetries = 2

// retryDelay decides whether rueidis resends a read-only command after a
// connection error. A reset connection (a restarted server, a failover) is
// worth a quick retry; a timeout is not, since the retry would wait out the
// same IOTimeout again.
func retryDelay(attempts int, _ rueidis.Completed, err error) time.Duration {
	var nerr net.Error
	if attempts > readRetries || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout() {
		return -1
	}
	return time.Duration(attempts) * 50 * time.Millisecond
}

// Engine is the Redis engine: a social.Store and a jobs.Queue over one
// Redis server, shared by any number of processes.
type Engine struct {
	client rueidis.Client
	// reads serves timeline pages: the ids and then the statuses, which it
	// caches in process (RESP3 client-side caching). It is a client of one
	// connection, so that Redis's invalidations of cached keys and the
	// replies of its reads arrive in order; see docs/engines/redis.md, "Reads". It is
	// client itself when both caches are off.
	reads rueidis.Client
	// catchUp applies the invalidations Redis has sent e.reads so far:
	// its round trips go through e.reads.
	catchUp barrier
	// timelines holds the heads of the timelines read, parsed, in front of
	// the cache of e.reads; the invalidations of e.reads clear them (see
	// docs/engines/redis.md, "Reads"). Nil when the timeline cache is off.
	timelines *timelinecache.Cache[social.Timeline]
	// statuses holds the statuses of timeline pages, parsed, in front of
	// the cache of e.reads; the invalidations of e.reads clear it (see
	// docs/engines/redis.md, "Reads"). Nil when the status cache is off.
	statuses *statuscache.Cache
	opts     Options
	log      *slog.Logger
	lua      *scripts
	// errors counts the failures fail saw, for metrics.
	errors atomic.Uint64
	// trimSlack is how far past h a fan-out lets a timeline grow before it
	// trims it back (see addSlack); tests replace it to reach the slack
	// with small timelines.
	trimSlack func(h int) int
}

// Open connects to the Redis server named by a redis:// (or rediss://) URL,
// e.g. redis://user:password@127.0.0.1:6379/0, and prepares the job
// stream's consumer group. It fails with social.ErrUnavailable when the
// server cannot be reached.
func Open(ctx context.Context, rawURL string, opts Options, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	// url.Parse errors quote the whole URL, password included; report only
	// what was wrong.
	if _, err := url.Parse(rawURL); err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redis: malformed URL: %w", err)
	}
	copt, err := rueidis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: bad URL: %w", err)
	}
	// The scripts span several users' keys, which Redis Cluster would
	// reject; until the keys carry hash tags the engine speaks to one
	// server (or a sentinel-managed primary) only.
	copt.ForceSingleClient = copt.Sentinel.MasterSet == ""
	copt.Dialer.Timeout = opts.DialTimeout
	copt.ConnWriteTimeout = opts.IOTimeout
	copt.BlockingPoolSize = opts.BlockingPoolSize
	if copt.ClientName == "" {
		copt.ClientName = "starling"
	}
	copt.RetryDelay = retryDelay
	// Only e.reads caches; without tracking on them, the other connections
	// cost Redis nothing for the cache, and DoCache on them is a plain Do.
	copt.DisableCache = true
	client, err := rueidis.NewClient(copt)
	if err != nil {
		return nil, fmt.Errorf("redis: connecting to %s: %w: %w", strings.Join(copt.InitAddress, ","), social.ErrUnavailable, err)
	}
	client = observed(client, opts.ObserveCommand)
	e := &Engine{client: client, reads: client, opts: opts, log: log, lua: loadedScripts, trimSlack: addSlack}
	if err := e.checkServer(ctx); err != nil {
		client.Close()
		return nil, err
	}
	if err := e.createGroup(ctx); err != nil {
		client.Close()
		return nil, err
	}
	if err := e.recordTimelineSize(ctx); err != nil {
		client.Close()
		return nil, err
	}
	if opts.StatusCacheBytes > 0 || opts.TimelineCacheBytes > 0 {
		// One connection (a multiplex of 2^0): see docs/engines/redis.md, "Reads".
		copt.PipelineMultiplex = -1
		copt.DisableCache = false
		copt.CacheSizeEachConn = 0
		if opts.StatusCacheBytes > 0 {
			// The parsed statuses in e.statuses take most of the budget;
			// rueidis's own cache of replies behind it only serves what
			// that one dropped.
			e.statuses = statuscache.New(opts.StatusCacheBytes - opts.StatusCacheBytes/8)
			copt.CacheSizeEachConn += max(1<<20, opts.StatusCacheBytes/8)
		}
		if opts.TimelineCacheBytes > 0 {
			// The same split for the heads of timelines.
			e.timelines = timelinecache.New[social.Timeline](opts.TimelineCacheBytes - opts.TimelineCacheBytes/8)
			copt.CacheSizeEachConn += max(1<<20, opts.TimelineCacheBytes/8)
		}
		copt.OnInvalidations = e.invalidated
		copt.ClientName += "-reads"
		// Nagle's algorithm on this one connection: the commands of
		// concurrent page reads then share TCP segments while earlier
		// ones await Redis's replies, which carry the ACKs at once. It
		// measured about 5–10% more pages per second at C = 64 and no
		// slower at C = 1 (docs/PERFORMANCE.md).
		copt.DisableTCPNoDelay = true
		if e.reads, err = rueidis.NewClient(copt); err != nil {
			client.Close()
			return nil, fmt.Errorf("redis: connecting to %s: %w: %w", strings.Join(copt.InitAddress, ","), social.ErrUnavailable, err)
		}
		e.reads = observed(e.reads, opts.ObserveCommand)
	}
	e.catchUp.roundTrip = func(ctx context.Context) error {
		return e.reads.Do(ctx, e.reads.B().Ping().Build()).Error()
	}
	log.Debug("redis: engine open", "addr", copt.InitAddress, "db", copt.SelectDB, "prefix", opts.Prefix)
	return e, nil
}

// minServerVersion is the oldest Redis with every command the engine uses
// (ZRANGE ... BYSCORE REV LIMIT, XPENDING with a range, XCLAIM replies
// without deleted entries).
var minServerVersion = [2]int{6, 2}

func (e *Engine) checkServer(ctx context.Context) error {
	info, err := e.client.Do(ctx, e.client.B().Info().Section("server").Build()).ToString()
	if err != nil {
		return e.fail("reading server info", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:")
		if !ok {
			continue
		}
		major, rest, _ := strings.Cut(v, ".")
		minor, _, _ := strings.Cut(rest, ".")
		maj, err1 := strconv.Atoi(major)
		mnr, err2 := strconv.Atoi(minor)
		if err1 == nil && err2 == nil && (maj < minServerVersion[0] || maj == minServerVersion[0] && mnr < minServerVersion[1]) {
			return fmt.Errorf("redis: server version %s is older than %d.%d", v, minServerVersion[0], minServerVersion[1])
		}
		return nil
	}
	return nil // a server that hides its version gets the benefit of the doubt
}

// Close closes the connections. Calls in flight fail with ErrUnavailable.
func (e *Engine) Close() error {
	if e.reads != e.client {
		e.reads.Close()
	}
	e.client.Close()
	return nil
}

// Prefix returns the prefix of every key the engine uses.
func (e *Engine) Prefix() string { return e.opts.Prefix }

// Ping reports whether Redis answers.
func (e *Engine) Ping(ctx context.Context) error {
	if err := e.client.Do(ctx, e.client.B().Ping().Build()).Error(); err != nil {
		return e.fail("ping", err)
	}
	return nil
}

// Keys. Each function names one key of the layout in docs/engines/redis.md.

func id10[ID ~int64](id ID) string { return strconv.FormatInt(int64(id), 10) }

func (e *Engine) key(parts ...string) string {
	return e.opts.Prefix + strings.Join(parts, "")
}

// idKey returns the key of the record kind has for id, e.g. "home:42"
// under the prefix, with a single allocation: a fan-out names a thousand
// of them per delivery.
func (e *Engine) idKey(kind string, id int64) string {
	return idKey(e, kind, id)
}

func idKey[ID ~int64](e *Engine, kind string, id ID) string {
	var b strings.Builder
	b.Grow(len(e.opts.Prefix) + len(kind) + 20)
	b.WriteString(e.opts.Prefix)
	b.WriteString(kind)
	var digits [20]byte
	b.Write(strconv.AppendInt(digits[:0], int64(id), 10))
	return b.String()
}

func (e *Engine) loginIndexKey() string                   { return e.key("users:") }
func (e *Engine) userIDCounterKey() string                { return e.key("user:id:") }
func (e *Engine) userKey(uid social.UserID) string        { return idKey(e, "user:", uid) }
func (e *Engine) authKey(uid social.UserID) string        { return e.key("user:", id10(uid), ":auth") }
func (e *Engine) tokenKey(hash []byte) string             { return e.key("token:", fmt.Sprintf("%x", hash)) }
func (e *Engine) userTokensKey(uid social.UserID) string  { return e.key("user:", id10(uid), ":tokens") }
func (e *Engine) statusIDCounterKey() string              { return e.key("status:id:") }
func (e *Engine) statusKey(id social.StatusID) string     { return idKey(e, "status:", id) }
func (e *Engine) profileKey(uid social.UserID) string     { return idKey(e, "profile:", uid) }
func (e *Engine) homeKey(uid social.UserID) string        { return idKey(e, "home:", uid) }
func (e *Engine) followersKey(uid social.UserID) string   { return idKey(e, "followers:", uid) }
func (e *Engine) followingKey(uid social.UserID) string   { return idKey(e, "following:", uid) }
func (e *Engine) unfollowedKey(uid social.UserID) string  { return idKey(e, "unfollowed:", uid) }
func (e *Engine) listIDCounterKey() string                { return e.key("list:id:") }
func (e *Engine) listsOfKey(uid social.UserID) string     { return idKey(e, "lists:", uid) }
func (e *Engine) listKey(id social.ListID) string         { return idKey(e, "list:", id) }
func (e *Engine) listMembersKey(id social.ListID) string  { return idKey(e, "list:in:", id) }
func (e *Engine) listsWithKey(uid social.UserID) string   { return idKey(e, "list:out:", uid) }
func (e *Engine) listTimelineKey(id social.ListID) string { return idKey(e, "list:statuses:", id) }
func (e *Engine) jobStreamKey() string                    { return e.key("jobs") }
func (e *Engine) delayedJobsKey() string                  { return e.key("jobs:delayed") }
func (e *Engine) jobLeasesKey() string                    { return e.key("jobs:leases") }
func (e *Engine) deadJobsKey() string                     { return e.key("jobs:dead") }
func (e *Engine) jobIndexKey() string                     { return e.key("jobs:bykind") }
func (e *Engine) timelineSizeKey() string                 { return e.key("timelines:size") }
func (e *Engine) suspendedKey() string                    { return e.key("suspended") }

// timelineKey returns the sorted set of a timeline.
func (e *Engine) timelineKey(tl social.Timeline) (string, error) {
	switch tl.Kind {
	case social.Home:
		return e.homeKey(social.UserID(tl.ID)), nil
	case social.Profile:
		return e.profileKey(social.UserID(tl.ID)), nil
	case social.ListTimeline:
		return e.listTimelineKey(social.ListID(tl.ID)), nil
	}
	return "", fmt.Errorf("redis: unknown timeline kind %d", tl.Kind)
}

// Errors.

// Script status codes; the prelude of lua/ defines the same numbers.
const (
	codeDone       = 1
	codeUnchanged  = 0
	codeNoUser     = -1
	codeNoStatus   = -2
	codeForbidden  = -3
	codeLoginTaken = -4
	codeNoList     = -5
	codeLimit      = -6
	codeIDTaken    = -7
	codeStale      = -8
)

// codeErrors maps the scripts' refusals to the social package's errors.
var codeErrors = map[int64]error{
	codeNoUser:     social.ErrUserNotFound,
	codeNoStatus:   social.ErrStatusNotFound,
	codeForbidden:  social.ErrForbidden,
	codeLoginTaken: social.ErrLoginTaken,
	codeNoList:     social.ErrListNotFound,
	codeLimit:      social.ErrLimitReached,
}

// runScript runs a script that answers with a status code and returns the
// code, or the social error it stands for.
func (e *Engine) runScript(ctx context.Context, op string, s *rueidis.Lua, keys, args []string) (int64, error) {
	code, err := s.Exec(ctx, e.client, keys, args).AsInt64()
	if err != nil {
		return 0, e.fail(op, err)
	}
	if err, ok := codeErrors[code]; ok {
		return code, err
	}
	return code, nil
}

// transientReplies are the error replies of a server that cannot serve now
// but may soon: loading its data set, busy with a script, a replica without
// its primary, out of memory or unable to persist.
var transientReplies = []string{"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "MISCONF", "OOM", "NOREPLICAS"}

// transientReply reports whether an error reply is one of transientReplies.
// The error code is the reply's first word: BUSY is transient, BUSYGROUP and
// BUSYKEY are not.
func transientReply(msg string) bool {
	code, _, _ := strings.Cut(msg, " ")
	return slices.Contains(transientReplies, code)
}

// fail wraps an error of operation op. Connection failures, timeouts and a
// closed client become social.ErrUnavailable (the original stays in the
// chain); error replies stay errors of their own, since retrying them
// cannot help.
func (e *Engine) fail(op string, err error) error {
	e.errors.Add(1)
	if rerr, ok := rueidis.IsRedisErr(err); ok {
		if transientReply(rerr.Error()) {
			return fmt.Errorf("redis: %s: %w: %w", op, social.ErrUnavailable, err)
		}
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return fmt.Errorf("redis: %s: %w: %w", op, social.ErrUnavailable, err)
}

// Errors is how many Redis calls failed (domain errors such as
// social.ErrNotFound are not counted: they are not failures of Redis).
func (e *Engine) Errors() uint64 { return e.errors.Load() }

// CacheCounts returns the hits and misses of the in-process status and
// timeline caches since the engine opened.
func (e *Engine) CacheCounts() (statusHits, statusMisses, timelineHits, timelineMisses uint64) {
	statusHits, statusMisses = e.statuses.Counts()
	timelineHits, timelineMisses = e.timelines.Counts()
	return statusHits, statusMisses, timelineHits, timelineMisses
}

// Small reply helpers.

func parseInt(op, s string) (int64, error) { return parseID[int64](op, s) }

// parseID parses a decimal id.
func parseID[ID ~int64](op, s string) (ID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis: %s: malformed number %q", op, s)
	}
	return ID(n), nil
}

// parseIDs parses sorted-set members that are decimal ids.
func parseIDs[ID ~int64](op string, members []string) ([]ID, error) {
	ids := make([]ID, len(members))
	for i, m := range members {
		n, err := parseID[ID](op, m)
		if err != nil {
			return nil, err
		}
		ids[i] = n
	}
	return ids, nil
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func fromMS(op, s string) (time.Time, error) {
	n, err := parseInt(op, s)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(n).UTC(), nil
}

// hmget turns the reply of HMGET into strings, with ok false when the first
// field (one every record has) is missing, that is when there is no record.
func hmget(res rueidis.RedisResult) (vals []string, ok bool, err error) {
	arr, err := res.ToArray()
	if err != nil {
		return nil, false, err
	}
	vals = make([]string, len(arr))
	for i, m := range arr {
		if m.IsNil() {
			if i == 0 {
				return nil, false, nil
			}
			continue
		}
		if vals[i], err = m.ToString(); err != nil {
			return nil, false, err
		}
	}
	return vals, true, nil
}

// pageRange returns the first and last rank (inclusive) of a page of a
// newest-first sequence paged by number. The Service normalizes pages; a
// zero count still means the default here so that a direct caller gets a
// page rather than everything.
func pageRange(p social.Page) (first, last int64) {
	if p.Count <= 0 {
		p.Count = social.DefaultCount
	}
	first = int64(p.Offset())
	return first, first + int64(p.Count) - 1
}

// ErrSettingsMismatch is returned by Open when the deployment under the
// prefix was created with settings other than those given; the message
// names both.
var ErrSettingsMismatch = errors.New("redis: the deployment was created with other settings")

// recordTimelineSize records the deployment's timeline size in
// timelines:size when none is recorded, and refuses to open when another
// one is: timelines are trimmed to it as they are written, and the scripts
// that remove entries read it, so every process must use the same.
func (e *Engine) recordTimelineSize(ctx context.Context) error {
	h := e.opts.TimelineSize
	if h <= 0 {
		return fmt.Errorf("redis: timeline size must be positive, got %d", h)
	}
	key := e.timelineSizeKey()
	cmds := rueidis.Commands{
		e.client.B().Set().Key(key).Value(strconv.Itoa(h)).Nx().Build(),
		e.client.B().Get().Key(key).Build(),
	}
	res := e.client.DoMulti(ctx, cmds...)
	if err := res[0].Error(); err != nil && !rueidis.IsRedisNil(err) {
		return e.fail("recording the timeline size", err)
	}
	got, err := res[1].ToString()
	if err != nil {
		return e.fail("reading the timeline size", err)
	}
	if got != strconv.Itoa(h) {
		return fmt.Errorf("%w: the deployment under prefix %q keeps timelines of %s entries, and this process was started with --timeline-size %d; start it with --timeline-size %s",
			ErrSettingsMismatch, e.opts.Prefix, got, h, got)
	}
	return nil
}

// runNamingScript runs a script that answers the login of the user it
// wrote for (a string) on success, or one of the status codes.
func (e *Engine) runNamingScript(ctx context.Context, op string, s *rueidis.Lua, keys, args []string) (string, error) {
	msg, err := s.Exec(ctx, e.client, keys, args).ToMessage()
	if err != nil {
		return "", e.fail(op, err)
	}
	if msg.IsInt64() {
		code, _ := msg.AsInt64()
		if code == codeIDTaken {
			return "", errIDTaken
		}
		if err, ok := codeErrors[code]; ok {
			return "", err
		}
		return "", fmt.Errorf("redis: %s: unexpected status code %d", op, code)
	}
	return msg.ToString()
}

// errIDTaken is what runNamingScript answers for codeIDTaken.
var errIDTaken = errors.New("redis: id taken")
