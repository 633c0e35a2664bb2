package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Follow runs lua/follow.lua: both sets, both counts from the set sizes and
// the copy of b's newest h statuses into a's home, in one step.
func (e *Engine) Follow(ctx context.Context, a, b int64, at time.Time, h int) (bool, error) {
	if a == b {
		return false, social.ErrFollowSelf
	}
	if err := checkTimelineSize(h); err != nil {
		return false, err
	}
	keys := []string{e.userKey(a), e.userKey(b), e.followingKey(a), e.followersKey(b), e.homeKey(a), e.profileKey(b)}
	args := []string{id10(a), id10(b), ms(at), strconv.Itoa(h)}
	code, err := e.runScript(ctx, "following", e.lua.follow, keys, args)
	return code == codeDone, err
}

// Unfollow runs lua/unfollow.lua: Follow's inverse, which also purges b's
// statuses from a's home and enqueues refill when that leaves it short.
func (e *Engine) Unfollow(ctx context.Context, a, b int64, h int, refill jobs.NewJob) (bool, error) {
	if a == b {
		return false, social.ErrFollowSelf
	}
	if err := checkTimelineSize(h); err != nil {
		return false, err
	}
	keys := []string{e.userKey(a), e.userKey(b), e.followingKey(a), e.followersKey(b), e.homeKey(a), e.profileKey(b), e.jobStreamKey(), e.delayedJobsKey()}
	args, err := appendJobs([]string{id10(a), id10(b), strconv.Itoa(h)}, refill)
	if err != nil {
		return false, err
	}
	code, err := e.runScript(ctx, "unfollowing", e.lua.unfollow, keys, args)
	return code == codeDone, err
}

// Followers returns a page of followers:<uid>, newest follow first.
func (e *Engine) Followers(ctx context.Context, uid int64, p social.Page) ([]int64, error) {
	return e.pageOfSet(ctx, "reading followers", e.followersKey(uid), p)
}

// Following returns a page of following:<uid>, newest follow first.
func (e *Engine) Following(ctx context.Context, uid int64, p social.Page) ([]int64, error) {
	return e.pageOfSet(ctx, "reading followings", e.followingKey(uid), p)
}

// pageOfSet returns a numbered page of a sorted set of ids, highest score
// first.
func (e *Engine) pageOfSet(ctx context.Context, op, key string, p social.Page) ([]int64, error) {
	first, last := pageRange(p)
	members, err := e.client.Do(ctx, e.client.B().Zrange().Key(key).Min(strconv.FormatInt(first, 10)).Max(strconv.FormatInt(last, 10)).Rev().Build()).AsStrSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	return parseIDs(op, members)
}

// FollowerChunk walks followers:<uid> in (score, member) order with
// lua/follower_chunk.lua. The cursor is "<score>:<member>" of the last
// follower returned; see the script for why that stays exact.
func (e *Engine) FollowerChunk(ctx context.Context, uid int64, cursor string, limit int) ([]int64, string, error) {
	const op = "reading a follower chunk"
	if limit <= 0 {
		return nil, "", fmt.Errorf("redis: %s: limit must be positive, got %d", op, limit)
	}
	score, member := "", ""
	if cursor != "" {
		var ok bool
		score, member, ok = strings.Cut(cursor, ":")
		if _, err := strconv.ParseFloat(score, 64); !ok || err != nil || member == "" {
			return nil, "", fmt.Errorf("redis: %s: malformed cursor %q", op, cursor)
		}
	}
	reply, err := e.lua.followerChunk.Exec(ctx, e.client, []string{e.followersKey(uid)}, []string{score, member, strconv.Itoa(limit)}).AsStrSlice()
	if err != nil {
		return nil, "", e.fail(op, err)
	}
	// The script answers member, score, ... for up to limit+1 followers;
	// the extra one only tells that another chunk follows.
	n := min(len(reply)/2, limit)
	ids := make([]int64, n)
	for i := range n {
		if ids[i], err = parseInt(op, reply[2*i]); err != nil {
			return nil, "", err
		}
	}
	next := ""
	if len(reply)/2 > limit {
		next = reply[2*n-1] + ":" + reply[2*n-2]
	}
	return ids, next, nil
}
