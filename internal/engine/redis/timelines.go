package redis

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"

	"starling/internal/social"
)

// refillBatch is how many sources one refill script merges. A batch costs
// Redis at most refillBatch × h sorted-set insertions while it blocks every
// other client, so it stays small; the membership check in each batch makes
// splitting harmless.
const refillBatch = 50

// scanBatch is the COUNT hint of the ZSCAN that lists a refill's sources.
const scanBatch = 500

// TimelineIDs reads a page of a timeline's sorted set, newest first: by rank
// for a numbered page, or by score below MaxID.
func (e *Engine) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]int64, error) {
	key, err := e.timelineKey(tl)
	if err != nil {
		return nil, err
	}
	var cmd rueidis.Completed
	if p.MaxID > 0 {
		count := int64(p.Count)
		if count <= 0 {
			count = social.DefaultCount
		}
		cmd = e.client.B().Zrange().Key(key).Min("("+id10(p.MaxID)).Max("-inf").Byscore().Rev().Limit(0, count).Build()
	} else {
		first, last := pageRange(p)
		cmd = e.client.B().Zrange().Key(key).Min(strconv.FormatInt(first, 10)).Max(strconv.FormatInt(last, 10)).Rev().Build()
	}
	members, err := e.client.Do(ctx, cmd).AsStrSlice()
	if err != nil {
		return nil, e.fail("reading a timeline", err)
	}
	return parseIDs("reading a timeline", members)
}

// AddToTimelines runs one script (lua/add_to_timelines.lua) over all the
// timelines of a chunk: one round trip however many followers the chunk
// names. The script checks that the status still exists first, so a
// delivery that runs after a delete does nothing.
func (e *Engine) AddToTimelines(ctx context.Context, id int64, tls []social.Timeline, h int) error {
	if len(tls) == 0 {
		return nil
	}
	if err := checkTimelineSize(h); err != nil {
		return err
	}
	keys := make([]string, 1, 1+2*len(tls))
	keys[0] = e.statusKey(id)
	homes := 0
	for _, tl := range tls {
		switch tl.Kind {
		case social.Home:
			keys = append(keys, e.homeKey(tl.ID))
			homes++
		case social.ListTimeline:
		default:
			return fmt.Errorf("redis: cannot fan out into a %s timeline", tl.Kind)
		}
	}
	for _, tl := range tls {
		if tl.Kind == social.ListTimeline {
			keys = append(keys, e.listKey(tl.ID), e.listTimelineKey(tl.ID))
		}
	}
	args := []string{id10(id), strconv.Itoa(h), strconv.Itoa(homes)}
	_, err := e.runScript(ctx, "adding to timelines", e.lua.addToTimelines, keys, args)
	return err
}

// RemoveFromTimelines removes id from every timeline in one script.
func (e *Engine) RemoveFromTimelines(ctx context.Context, id int64, tls []social.Timeline) error {
	if len(tls) == 0 {
		return nil
	}
	keys := make([]string, len(tls))
	for i, tl := range tls {
		key, err := e.timelineKey(tl)
		if err != nil {
			return err
		}
		keys[i] = key
	}
	_, err := e.runScript(ctx, "removing from timelines", e.lua.removeFromTimelines, keys, []string{id10(id)})
	return err
}

// RefillTimeline merges the newest h statuses of every source into a home
// or list timeline. The sources (the followed users, or the members) are
// listed with ZSCAN, which returns every element present for the whole
// scan, and merged by batches of refillBatch in lua/refill.lua, which skips
// a source that stopped being one since it was listed. A home's own user is
// merged first, in its own batch.
func (e *Engine) RefillTimeline(ctx context.Context, tl social.Timeline, h int) error {
	if err := checkTimelineSize(h); err != nil {
		return err
	}
	var timeline, owner, sources, self string
	switch tl.Kind {
	case social.Home:
		timeline, owner, sources, self = e.homeKey(tl.ID), e.userKey(tl.ID), e.followingKey(tl.ID), id10(tl.ID)
	case social.ListTimeline:
		timeline, owner, sources = e.listTimelineKey(tl.ID), e.listKey(tl.ID), e.listMembersKey(tl.ID)
	default:
		return fmt.Errorf("redis: cannot refill a %s timeline", tl.Kind)
	}
	merge := func(uids []string) error {
		keys := make([]string, 3, 3+len(uids))
		keys[0], keys[1], keys[2] = timeline, owner, sources
		args := make([]string, 2, 2+len(uids))
		args[0], args[1] = strconv.Itoa(h), self
		for _, uid := range uids {
			n, err := parseInt("refilling a timeline", uid)
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
