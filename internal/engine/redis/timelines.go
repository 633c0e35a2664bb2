package redis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/engine/timelinecache"
	"starling/internal/social"
)

// refillBatch is how many sources one refill script merges. A batch costs
// Redis at most refillBatch × h sorted-set insertions while it blocks every
// other client, so it stays small; the membership check in each batch makes
// splitting harmless.
const refillBatch = 50

// scanBatch is the COUNT hint of the ZSCAN that lists a refill's sources.
const scanBatch = 500

// statusCacheTTL bounds how long a status stays in the in-process cache.
// Statuses never change and a delete invalidates its cached copy at once,
// so the TTL only lets go of statuses nobody reads any more; the cache's
// size bound (Options.StatusCacheBytes) does that too.
const statusCacheTTL = 10 * time.Minute

// pageCacheTTL bounds how long a timeline head stays in the cache of
// e.reads. Redis invalidates it when its timeline changes, so the TTL only
// lets go of heads nobody reads any more.
const pageCacheTTL = 10 * time.Minute

// Lazy trimming. Trimming a home or list timeline back to h after every
// delivery costs Redis a ZREMRANGEBYRANK per entry, and checking whether a
// trim is due costs a ZCARD; with the Lua call around each, either costs
// about as much as the ZADD itself. Fan-out instead lets a timeline grow
// past h and trims it back to h in one go:
//
//   - a delivery checks the size of a home only with probability
//     1/trimCheckOdds (checkSize: a hash of the home and the status, so a
//     retried delivery checks the same homes), and trims it when it holds
//     more than h + addSlack(h) entries;
//   - reads stop at the newest h (TimelineIDs), and every step that
//     removes entries trims to h first, so what anyone sees is exactly
//     what trimming after every delivery would have kept.
//
// A home thus holds at most h + addSlack(h) entries plus a tail as long as
// the run of deliveries until the next check, geometric with mean
// trimCheckOdds: more than m·trimCheckOdds entries past h + addSlack(h)
// have odds of about e^-m. docs/PERFORMANCE.md says what this saves and
// costs (for h = 1000, about a tenth more memory per full home).
const trimCheckOdds = 8

// addSlack is how many entries past h a timeline may hold before a size
// check trims it: a trim then removes many entries at once, which costs
// much less per entry than trimming a few.
func addSlack(h int) int { return h / 16 }

// checkSize decides whether delivering status id to the timeline with the
// given id (a uid or a list id) checks the timeline's size: for about one
// delivery in trimCheckOdds, spread over timelines and statuses by a hash
// (the splitmix64 finalizer) so that no pattern of ids can skip a timeline
// for long.
func checkSize(timeline, id int64) bool {
	z := uint64(timeline)*0x9e3779b97f4a7c15 ^ uint64(id)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return z%trimCheckOdds == 0
}

// TimelineIDs reads a page of a timeline's sorted set, newest first: by rank
// for a numbered page, or by score below MaxID. Home and list timelines may
// hold entries past their newest h, left there by the lazy trim of fan-out;
// their reads stop at the newest h, so what a reader sees is exactly what
// trimming after every delivery would have kept:
//
//   - a page by number is a plain ZRANGE by rank, cut at rank h (the
//     deployment's timeline size, fixed at Open) after the reply;
//   - a page below MaxID needs the h-th entry and the range in one
//     snapshot, so lua/timeline_before.lua reads both.
//
// With the timeline cache on, a page near the top comes from the
// timeline's cached head instead (readHead), once the read has caught up
// on Redis's invalidations. Either way a read is as new as a read from
// Redis and leaves every invalidation Redis sent before it applied, so the
// page's statuses are then looked up in the caches safely
// (docs/engines/redis.md, "Reads").
func (e *Engine) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]social.StatusID, error) {
	const op = "reading a timeline"
	key, err := e.timelineKey(tl)
	if err != nil {
		return nil, err
	}
	capped := tl.Kind != social.Profile
	count := int64(p.Count)
	if count <= 0 {
		count = social.DefaultCount
	}
	if e.timelines != nil {
		if err := e.catchUp.wait(ctx); err != nil {
			return nil, e.fail(op, err)
		}
		below := social.StatusID(math.MaxInt64)
		if p.MaxID > 0 {
			below = p.MaxID
		}
		ids, ok, err := e.timelines.Get(tl, below, int(count), p.Offset(), func() ([]social.StatusID, bool, error) {
			return e.readHead(ctx, key, capped)
		})
		if err != nil || ok {
			return ids, err
		}
	}
	if p.MaxID > 0 {
		var res rueidis.RedisResult
		if capped {
			res = e.lua.timelineBefore.Exec(ctx, e.reads, []string{key}, []string{id10(p.MaxID), strconv.FormatInt(count, 10), strconv.Itoa(e.opts.TimelineSize)})
		} else {
			res = e.reads.Do(ctx, e.reads.B().Zrange().Key(key).Min("("+id10(p.MaxID)).Max("-inf").Byscore().Rev().Limit(0, count).Build())
		}
		members, err := res.AsStrSlice()
		if err != nil {
			return nil, e.fail(op, err)
		}
		return parseIDs[social.StatusID](op, members)
	}
	first, last := pageRange(p)
	members, err := e.reads.Do(ctx, e.reads.B().Zrange().Key(key).Min(strconv.FormatInt(first, 10)).Max(strconv.FormatInt(last, 10)).Rev().Build()).AsStrSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	return e.cutAtH(ctx, op, members, first, capped)
}

// cutAtH parses the members of a timeline read from rank first, dropping
// those past rank h of a home or list timeline (see TimelineIDs).
func (e *Engine) cutAtH(ctx context.Context, op string, members []string, first int64, capped bool) ([]social.StatusID, error) {
	if capped && len(members) > 0 {
		h := int64(e.opts.TimelineSize)
		members = members[:max(0, min(int64(len(members)), h-first))]
	}
	return parseIDs[social.StatusID](op, members)
}

// readHead reads the newest timelinecache.Depth ids a timeline shows, and
// whether they are all of them, for the timeline cache. It reads through
// the cache of e.reads (rueidis DoCache), so that Redis tracks the
// timeline's key for that connection and invalidates it, which drops the
// head (Engine.invalidated), when anything changes the timeline.
func (e *Engine) readHead(ctx context.Context, key string, capped bool) ([]social.StatusID, bool, error) {
	cmd := e.reads.B().Zrange().Key(key).Min("0").Max(strconv.Itoa(timelinecache.Depth - 1)).Rev().Cache().ToStaticTTL()
	// ToStaticTTL: timeline keys never expire, so rueidis need not ask for
	// their TTL with each miss.
	members, err := e.reads.DoCache(ctx, cmd, pageCacheTTL).AsStrSlice()
	if err != nil {
		return nil, false, e.fail("reading a timeline", err)
	}
	ids, err := e.cutAtH(ctx, "reading a timeline", members, 0, capped)
	if err != nil {
		return nil, false, err
	}
	// Fewer entries than asked for are all there are; so are the newest h
	// of a capped timeline when h is within the head.
	complete := len(members) < timelinecache.Depth || capped && len(ids) < len(members)
	return ids, complete, nil
}

// Deliver runs one script (lua/add_to_timelines.lua) over every delivery:
// one round trip however many statuses and followers the call names. The
// timelines are grouped by the statuses they get, so that a timeline named
// by several deliveries takes its new entries in one ZADD (a batch of
// posts by authors with followers in common). The script checks that each
// status still exists first, so a delivery that runs after a delete does
// nothing. It trims lazily (see trimCheckOdds): the homes whose size this
// call checks come first in their group, the others after them; list
// timelines are few and always checked. The script also returns what it
// skipped (a missing status, a recent unfollower's home): nothing, and no
// extra work, in the common case.
func (e *Engine) Deliver(ctx context.Context, ds []social.Delivery) ([]social.Skipped, error) {
	h := e.opts.TimelineSize
	authors := make(map[social.StatusID]social.UserID, len(ds))
	for _, d := range ds {
		for _, tl := range d.Timelines {
			if tl.Kind != social.Home && tl.Kind != social.ListTimeline {
				return nil, fmt.Errorf("redis: cannot fan out into a %s timeline", tl.Kind)
			}
		}
		authors[d.Status] = d.Author
	}
	if len(ds) == 1 {
		// One status (a chunk of a large fan-out): one group as it is.
		if len(ds[0].Timelines) == 0 {
			return nil, nil
		}
		return e.deliverGroups(ctx, h, authors, []deliveryGroup{{ids: []social.StatusID{ds[0].Status}, tls: ds[0].Timelines}})
	}
	// Each timeline's statuses, in the order first named.
	var order []social.Timeline
	got := map[social.Timeline][]social.StatusID{}
	for _, d := range ds {
		for _, tl := range d.Timelines {
			ids, ok := got[tl]
			if !ok {
				order = append(order, tl)
			}
			if !slices.Contains(ids, d.Status) {
				got[tl] = append(ids, d.Status)
			}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	// Timelines that get the same statuses form a group.
	var groups []deliveryGroup
	byIDs := map[string]int{}
	var name []byte
	for _, tl := range order {
		ids := got[tl]
		slices.Sort(ids)
		name = name[:0]
		for _, id := range ids {
			name = strconv.AppendInt(append(name, ','), int64(id), 10)
		}
		i, ok := byIDs[string(name)]
		if !ok {
			i = len(groups)
			byIDs[string(name)] = i
			groups = append(groups, deliveryGroup{ids: ids})
		}
		groups[i].tls = append(groups[i].tls, tl)
	}
	return e.deliverGroups(ctx, h, authors, groups)
}

// deliveryGroup is timelines tls that all get statuses ids.
type deliveryGroup struct {
	ids []social.StatusID
	tls []social.Timeline
}

// deliverGroups runs lua/add_to_timelines.lua over groups; authors names
// the author of each status, whose recent unfollowers the script skips. It
// returns what the script skipped.
func (e *Engine) deliverGroups(ctx context.Context, h int, authors map[social.StatusID]social.UserID, groups []deliveryGroup) ([]social.Skipped, error) {
	nkeys, nargs := 0, 2
	for _, g := range groups {
		nkeys += 2*len(g.ids) + 2*len(g.tls)
		nargs += 4 + len(g.ids)
	}
	keys := make([]string, 0, nkeys)
	args := make([]string, 2, nargs)
	args[0], args[1] = strconv.Itoa(h), strconv.Itoa(e.trimSlack(h))
	for _, g := range groups {
		keys, args = e.appendGroup(keys, args, authors, g.ids, g.tls)
	}
	reply, err := e.lua.addToTimelines.Exec(ctx, e.client, keys, args).ToMessage()
	if err != nil {
		return nil, e.fail("adding to timelines", err)
	}
	if reply.IsInt64() {
		return nil, nil // DONE: nothing skipped
	}
	pairs, err := reply.AsIntSlice()
	if err != nil {
		return nil, fmt.Errorf("redis: adding to timelines: reading what was skipped: %w", err)
	}
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("redis: adding to timelines: %d values skipped, want (status, uid) pairs", len(pairs))
	}
	skipped := make([]social.Skipped, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		skipped = append(skipped, social.Skipped{Status: social.StatusID(pairs[i]), Home: social.UserID(pairs[i+1])})
	}
	return skipped, nil
}

// appendGroup appends the keys and arguments of one group of
// lua/add_to_timelines.lua: timelines tls that all get statuses ids.
func (e *Engine) appendGroup(keys, args []string, authors map[social.StatusID]social.UserID, ids []social.StatusID, tls []social.Timeline) ([]string, []string) {
	args = append(args, strconv.Itoa(len(ids)))
	for _, id := range ids {
		// A zero author (a delivery planned before authors were
		// recorded) names unfollowed:0, which never exists.
		keys = append(keys, e.statusKey(id), e.unfollowedKey(authors[id]))
		args = append(args, id10(id))
	}
	homes, lists := 0, 0
	for _, tl := range tls {
		if tl.Kind == social.Home {
			homes++
		} else {
			lists++
		}
	}
	base := len(keys)
	keys = slices.Grow(keys, homes+2*lists)[:base+homes+2*lists]
	checked, unchecked, list := base, base+homes-1, base+homes
	for _, tl := range tls {
		switch {
		case tl.Kind == social.ListTimeline:
			keys[list], keys[list+1] = e.listKey(social.ListID(tl.ID)), e.listTimelineKey(social.ListID(tl.ID))
			list += 2
		case slices.ContainsFunc(ids, func(id social.StatusID) bool { return checkSize(tl.ID, int64(id)) }):
			keys[checked] = e.homeKey(social.UserID(tl.ID))
			checked++
		default:
			keys[unchecked] = e.homeKey(social.UserID(tl.ID))
			unchecked--
		}
	}
	args = append(args, strconv.Itoa(checked-base), strconv.Itoa(homes), strconv.Itoa(lists))
	return keys, args
}

// RemoveFromTimelines removes id from every timeline in one script. Home
// and list timelines are first trimmed to h, so that the removal cannot
// bring back an entry that only the lazy trim of fan-out had kept.
func (e *Engine) RemoveFromTimelines(ctx context.Context, id social.StatusID, tls []social.Timeline) error {
	if len(tls) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tls))
	capped := 0
	// The capped timelines come first; the script trims only those.
	for _, profiles := range []bool{false, true} {
		for _, tl := range tls {
			if (tl.Kind == social.Profile) != profiles {
				continue
			}
			key, err := e.timelineKey(tl)
			if err != nil {
				return err
			}
			keys = append(keys, key)
			if !profiles {
				capped++
			}
		}
	}
	_, err := e.runScript(ctx, "removing from timelines", e.lua.removeFromTimelines, keys, []string{id10(id), strconv.Itoa(capped), strconv.Itoa(e.opts.TimelineSize)})
	return err
}

// RefillTimeline merges the newest h statuses of every source into a home
// or list timeline. The sources (the followed users, or the members) are
// listed with ZSCAN, which returns every element present for the whole
// scan, and merged by batches of refillBatch in lua/refill.lua, which skips
// a source that stopped being one since it was listed. A home's own user is
// merged first, in its own batch.
func (e *Engine) RefillTimeline(ctx context.Context, tl social.Timeline) error {
	h := e.opts.TimelineSize
	var timeline, owner, sources, self string
	switch tl.Kind {
	case social.Home:
		uid := social.UserID(tl.ID)
		timeline, owner, sources, self = e.homeKey(uid), e.userKey(uid), e.followingKey(uid), id10(uid)
	case social.ListTimeline:
		id := social.ListID(tl.ID)
		timeline, owner, sources = e.listTimelineKey(id), e.listKey(id), e.listMembersKey(id)
	default:
		return fmt.Errorf("redis: cannot refill a %s timeline", tl.Kind)
	}
	merge := func(uids []string) error {
		keys := make([]string, 3, 3+len(uids))
		keys[0], keys[1], keys[2] = timeline, owner, sources
		args := make([]string, 2, 2+len(uids))
		args[0], args[1] = strconv.Itoa(h), self
		for _, uid := range uids {
			n, err := parseID[social.UserID]("refilling a timeline", uid)
			if err != nil {
				return err
			}
			keys = append(keys, e.profileKey(n))
			args = append(args, uid)
		}
		_, err := e.runScript(ctx, "refilling a timeline", e.lua.refill, keys, args)
		return err
	}
	if self != "" {
		if err := merge([]string{self}); err != nil {
			return err
		}
	}
	var batch []string
	cursor := uint64(0)
	for {
		entry, err := e.client.Do(ctx, e.client.B().Zscan().Key(sources).Cursor(cursor).Count(scanBatch).Build()).AsScanEntry()
		if err != nil {
			return e.fail("listing a timeline's sources", err)
		}
		// ZSCAN answers member, score, member, score, ...
		for i := 0; i < len(entry.Elements); i += 2 {
			batch = append(batch, entry.Elements[i])
			if len(batch) == refillBatch {
				if err := merge(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if entry.Cursor == 0 {
			break
		}
		cursor = entry.Cursor
	}
	if len(batch) > 0 {
		return merge(batch)
	}
	return nil
}
