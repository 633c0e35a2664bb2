package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/stream"
)

// EventLog is the stream.Log of the Redis engine: a Redis Stream capped with
// XADD MAXLEN ~ (which keeps at least the newest retain entries) whose
// entry ids are "<n>-0" for the consecutive event numbers n that a counter
// hands out in the same script. Every process's hub reads it with XREAD
// BLOCK: that is the process's one subscription, and a hub that lost Redis
// for a while reads on from where it was.
type EventLog struct {
	e       *Engine
	retain  string
	logKey  string
	seqKey  string
	appendS *rueidis.Lua
}

var _ stream.Log = (*EventLog)(nil)

// appendEventScript numbers and appends events: ARGV is the retention,
// then a topic and its data for each event. Should the counter have been
// lost while the stream was kept, it continues from the stream's newest
// entry instead of failing on a smaller id.
const appendEventScript = `
local count = (#ARGV - 1) / 2
local n = redis.call('INCRBY', KEYS[2], count) - count
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if top[1] then
  local newest = tonumber(string.match(top[1][1], '^(%d+)'))
  if newest > n then
    n = newest
    redis.call('SET', KEYS[2], n + count)
  end
end
for i = 1, count do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], (n + i) .. '-0', 't', ARGV[2 * i], 'd', ARGV[2 * i + 1])
end
return n + count
`

// EventLog returns the engine's stream event log keeping at least the
// newest retain entries (stream.DefaultRetain when retain is not
// positive).
func (e *Engine) EventLog(retain int) *EventLog {
	if retain <= 0 {
		retain = stream.DefaultRetain
	}
	return &EventLog{
		e: e, retain: strconv.Itoa(retain),
		logKey: e.key("eventlog"), seqKey: e.key("eventlog:seq"),
		appendS: rueidis.NewLuaScript(appendEventScript),
	}
}

// Append numbers and adds an entry in one script.
func (l *EventLog) Append(ctx context.Context, topic string, data []byte) (uint64, error) {
	return l.AppendBatch(ctx, []stream.Entry{{Topic: topic, Data: data}})
}

// AppendBatch numbers and adds entries in one script.
func (l *EventLog) AppendBatch(ctx context.Context, batch []stream.Entry) (uint64, error) {
	args := make([]string, 0, 1+2*len(batch))
	args = append(args, l.retain)
	for _, e := range batch {
		args = append(args, e.Topic, string(e.Data))
	}
	n, err := l.appendS.Exec(ctx, l.e.client, []string{l.logKey, l.seqKey}, args).AsInt64()
	if err != nil {
		return 0, l.e.fail("appending events", err)
	}
	return uint64(n), nil
}

// Read returns entries above after: XRANGE from after, or, when there are
// none and wait is positive, XREAD BLOCK for up to wait.
func (l *EventLog) Read(ctx context.Context, after uint64, limit int, wait time.Duration) ([]stream.Entry, bool, error) {
	client := l.e.client
	start := strconv.FormatUint(after, 10) + "-0"
	xs, err := client.Do(ctx, client.B().Xrange().Key(l.logKey).Start("("+start).End("+").Count(int64(limit)).Build()).AsXRange()
	if err != nil {
		return nil, false, l.e.fail("reading events", err)
	}
	if len(xs) == 0 && wait > 0 {
		blockMS := max(int64(wait/time.Millisecond), 1)
		wctx, cancel := context.WithTimeout(ctx, wait+l.e.opts.IOTimeout)
		defer cancel()
		cmd := client.B().Xread().Count(int64(limit)).Block(blockMS).Streams().Key(l.logKey).Id(start).Build().UnblockOnCancel()
		res, err := client.Do(wctx, cmd).AsXRead()
		switch {
		case err == nil:
			xs = res[l.logKey]
		case rueidis.IsRedisNil(err):
		case ctx.Err() != nil:
			return nil, false, fmt.Errorf("redis: reading events: %w", ctx.Err())
		default:
			return nil, false, l.e.fail("waiting for events", err)
		}
	}
	entries, err := parseEntries(xs)
	if err != nil {
		return nil, false, err
	}
	if len(entries) > 0 {
		return entries, stream.Gap(after, entries, 0), nil
	}
	last, err := l.Last(ctx)
	return nil, stream.Gap(after, nil, last), err
}

func parseEntries(xs []rueidis.XRangeEntry) ([]stream.Entry, error) {
	out := make([]stream.Entry, 0, len(xs))
	for _, x := range xs {
		n, _, _ := strings.Cut(x.ID, "-")
		id, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis: reading events: malformed entry id %q", x.ID)
		}
		out = append(out, stream.Entry{ID: id, Topic: x.FieldValues["t"], Data: []byte(x.FieldValues["d"])})
	}
	return out, nil
}

// Last returns the newest event number assigned.
func (l *EventLog) Last(ctx context.Context) (uint64, error) {
	client := l.e.client
	n, err := client.Do(ctx, client.B().Get().Key(l.seqKey).Build()).AsUint64()
	if rueidis.IsRedisNil(err) {
		return 0, nil
	}
	if err != nil {
		return 0, l.e.fail("reading the last event id", err)
	}
	return n, nil
}
