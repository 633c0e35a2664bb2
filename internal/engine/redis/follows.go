package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Follow runs lua/follow.lua: both sets, both counts from the set sizes and
// the copy of b's newest h statuses into a's home, in one step.
func (e *Engine) Follow(ctx context.Context, a, b social.UserID, at time.Time) (bool, error) {
	if a == b {
		return false, social.ErrFollowSelf
	}
	keys := []string{e.userKey(a), e.userKey(b), e.followingKey(a), e.followersKey(b), e.homeKey(a), e.profileKey(b), e.unfollowedKey(b)}
	args := []string{id10(a), id10(b), ms(at), strconv.Itoa(e.opts.TimelineSize)}
	code, err := e.runScript(ctx, "following", e.lua.follow, keys, args)
	return code == codeDone, err
}

// Unfollow runs lua/unfollow.lua: Follow's inverse, which also purges b's
// statuses from a's home and enqueues refill when that leaves it short.
func (e *Engine) Unfollow(ctx context.Context, a, b social.UserID, refill jobs.NewJob) (bool, error) {
	if a == b {
		return false, social.ErrFollowSelf
	}
	keys := []string{e.userKey(a), e.userKey(b), e.followingKey(a), e.followersKey(b), e.homeKey(a), e.profileKey(b), e.jobStreamKey(), e.delayedJobsKey(), e.unfollowedKey(b), e.jobIndexKey()}
	ttl := strconv.FormatInt(social.RecentUnfollowTTL.Milliseconds(), 10)
	args, err := appendJobs([]string{id10(a), id10(b), strconv.Itoa(e.opts.TimelineSize), ttl}, refill)
	if err != nil {
		return false, err
	}
	code, err := e.runScript(ctx, "unfollowing", e.lua.unfollow, keys, args)
	return code == codeDone, err
}

// Followers returns a page of followers:<uid>, newest follow first.
func (e *Engine) Followers(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	return pageOfSet[social.UserID](ctx, e, "reading followers", e.followersKey(uid), p)
}

// Following returns a page of following:<uid>, newest follow first.
func (e *Engine) Following(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	return pageOfSet[social.UserID](ctx, e, "reading followings", e.followingKey(uid), p)
}

// pageOfSet returns a numbered page of a sorted set of ids, highest score
// first.
func pageOfSet[ID ~int64](ctx context.Context, e *Engine, op, key string, p social.Page) ([]ID, error) {
	first, last := pageRange(p)
	members, err := e.client.Do(ctx, e.client.B().Zrange().Key(key).Min(strconv.FormatInt(first, 10)).Max(strconv.FormatInt(last, 10)).Rev().Build()).AsStrSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	return parseIDs[ID](op, members)
}

// FollowerChunk walks followers:<uid> in (score, member) order. The cursor
// is "<score>:<member>:<rank>" of the last follower returned: the score and
// the member name the place exactly, also when many followers share one
// score (lua/follower_chunk.lua explains how), and the rank is a hint.
//
// A fan-out reads every follower this way before it delivers to any, so a
// chunk should cost Redis little. The fast path is one MULTI/EXEC of plain
// commands that checks the hint: the member still has the cursor's score
// and still sits at the cursor's rank, so the members after it in the same
// snapshot are exactly the next ones. Only when the set changed before the
// cursor (a follow or unfollow sorted before it) does the chunk take the
// script, which finds the place by score and member; a script is exact
// always but converts every member into Lua and back, several times the
// cost of a plain range read.
func (e *Engine) FollowerChunk(ctx context.Context, uid social.UserID, cursor string, limit int) ([]social.UserID, string, error) {
	const op = "reading a follower chunk"
	if limit <= 0 {
		return nil, "", fmt.Errorf("redis: %s: limit must be positive, got %d", op, limit)
	}
	key := e.followersKey(uid)
	if cursor == "" {
		ids, next, _, err := e.followerRange(ctx, key, "", "", 0, limit)
		return ids, next, err
	}
	score, member, rank, err := parseFollowerCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	if rank >= 0 {
		ids, next, ok, err := e.followerRange(ctx, key, score, member, rank, limit)
		if err != nil || ok {
			return ids, next, err
		}
	}
	reply, err := e.lua.followerChunk.Exec(ctx, e.client, []string{key}, []string{score, member, strconv.Itoa(limit)}).AsStrSlice()
	if err != nil {
		return nil, "", e.fail(op, err)
	}
	if len(reply) != 3 {
		return nil, "", fmt.Errorf("redis: %s: unexpected reply of %d elements", op, len(reply))
	}
	// The script answers the members joined by commas and, when another
	// chunk follows, the score and rank of the last one.
	ids := make([]social.UserID, 0, min(limit, strings.Count(reply[0], ",")+1))
	last := ""
	for m := range strings.SplitSeq(reply[0], ",") {
		if m == "" {
			continue
		}
		id, err := parseID[social.UserID](op, m)
		if err != nil {
			return nil, "", err
		}
		ids = append(ids, id)
		last = m
	}
	next := ""
	if reply[1] != "" {
		next = reply[1] + ":" + last + ":" + reply[2]
	}
	return ids, next, nil
}

// parseFollowerCursor splits a cursor of FollowerChunk; rank is -1 when the
// cursor has none (cursors of earlier versions named only score and member).
func parseFollowerCursor(cursor string) (score, member string, rank int64, err error) {
	score, rest, ok := strings.Cut(cursor, ":")
	member, hint, hasHint := strings.Cut(rest, ":")
	rank = -1
	if hasHint {
		if rank, err = strconv.ParseInt(hint, 10, 64); err != nil || rank < 0 {
			ok = false
		}
	}
	if _, err := strconv.ParseFloat(score, 64); !ok || err != nil || member == "" {
		return "", "", 0, fmt.Errorf("malformed cursor %q", cursor)
	}
	return score, member, rank, nil
}

// followerRange reads the chunk after the follower at the given rank (from
// the start when member is empty) in one MULTI/EXEC, and reports ok false,
// having read nothing useful, when that follower is no longer there with
// that score.
func (e *Engine) followerRange(ctx context.Context, key, score, member string, rank int64, limit int) (ids []social.UserID, next string, ok bool, err error) {
	const op = "reading a follower chunk"
	b := e.client.B()
	// With a cursor the range starts at the cursor's own member, which
	// proves the ranks did not move; without one, at the first follower.
	first, skip := rank, int64(1)
	if member == "" {
		first, skip = 0, 0
	}
	lastRank := first + skip + int64(limit) - 1 // the last follower returned
	cmds := make(rueidis.Commands, 0, 5)
	cmds = append(cmds, b.Multi().Build())
	if member != "" {
		cmds = append(cmds, b.Zscore().Key(key).Member(member).Build())
	}
	cmds = append(cmds,
		// One past the chunk, to tell whether another follows.
		b.Zrange().Key(key).Min(strconv.FormatInt(first, 10)).Max(strconv.FormatInt(lastRank+1, 10)).Build(),
		b.Zrange().Key(key).Min(strconv.FormatInt(lastRank, 10)).Max(strconv.FormatInt(lastRank, 10)).Withscores().Build(),
		b.Exec().Build())
	res := e.client.DoMulti(ctx, cmds...)
	replies, err := res[len(res)-1].ToArray()
	if err != nil {
		return nil, "", false, e.fail(op, err)
	}
	if len(replies) != len(cmds)-2 {
		return nil, "", false, fmt.Errorf("redis: %s: unexpected reply of %d elements", op, len(replies))
	}
	if member != "" {
		current, err := replies[0].ToString()
		if rueidis.IsRedisNil(err) {
			return nil, "", false, nil // the member left
		}
		if err != nil {
			return nil, "", false, e.fail(op, err)
		}
		if !sameScore(current, score) {
			return nil, "", false, nil // it followed again since
		}
		replies = replies[1:]
	}
	members, err := replies[0].AsStrSlice()
	if err != nil {
		return nil, "", false, e.fail(op, err)
	}
	if member != "" && (len(members) == 0 || members[0] != member) {
		return nil, "", false, nil // followers came or went before it
	}
	members = members[skip:]
	more := len(members) > limit
	if more {
		members = members[:limit]
	}
	if ids, err = parseIDs[social.UserID](op, members); err != nil {
		return nil, "", false, err
	}
	if more {
		tail, err := replies[1].AsZScores()
		if err != nil || len(tail) != 1 || tail[0].Member != members[len(members)-1] {
			return nil, "", false, fmt.Errorf("redis: %s: inconsistent reply", op)
		}
		next = strconv.FormatFloat(tail[0].Score, 'f', -1, 64) + ":" + tail[0].Member + ":" + strconv.FormatInt(lastRank, 10)
	}
	return ids, next, true, nil
}

// sameScore compares two sorted-set scores as Redis formats them.
func sameScore(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}
