package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/rueidis"

	"starling/internal/seed"
	"starling/internal/social"
)

// Bulk loading (seed.Loader). Users go in with one script per call
// (lua/load_users.lua), which checks every login before it writes, so a
// batch is created whole or not at all. Follows go in as plain ZADDs, one
// per set touched, sent as pipelines (DoMulti) of a few thousand commands,
// a few pipelines at a time; the counts are left behind and set from ZCARD
// by FinishLoad (lua/recount.lua), a range of users per script. A batch of
// follows is not atomic: one that fails half-way leaves some of its sets
// written, which loading it again (ZADD NX) completes.

var _ seed.Loader = (*Engine)(nil)

var (
	loadUsersScript = rueidis.NewLuaScript(mustRead("prelude") + mustRead("load_users"))
	recountScript   = rueidis.NewLuaScript(mustRead("prelude") + mustRead("recount"))
)

const (
	// bulkPipeline bounds the commands of one DoMulti: large enough that
	// round trips cost nothing next to Redis' own work, small enough that
	// neither side buffers much.
	bulkPipeline = 2000
	// bulkPipelinesInFlight is how many pipelines are sent at once.
	bulkPipelinesInFlight = 4
	// recountUsers is how many users one recount script handles; a script
	// blocks the server while it runs, so it is kept to a few milliseconds.
	recountUsers = 500
	// recountScripts is how many recount scripts are sent per pipeline.
	recountScripts = 16
)

// LoadUsers reserves len(users) ids with one INCRBY and creates the users
// with one script, which refuses the whole batch when a login is taken.
// Ids reserved by a refused batch are skipped, as with CreateUser.
func (e *Engine) LoadUsers(ctx context.Context, users []social.NewUser) ([]social.UserID, error) {
	const op = "loading users"
	if len(users) == 0 {
		return []social.UserID{}, nil
	}
	seen := make(map[string]struct{}, len(users))
	for _, u := range users {
		lower := strings.ToLower(u.Login)
		if _, dup := seen[lower]; dup {
			return nil, fmt.Errorf("redis: %s: login %q appears twice: %w", op, u.Login, social.ErrLoginTaken)
		}
		seen[lower] = struct{}{}
	}
	last, err := e.client.Do(ctx, e.client.B().Incrby().Key(e.userIDCounterKey()).Increment(int64(len(users))).Build()).AsInt64()
	if err != nil {
		return nil, e.fail("taking user ids", err)
	}
	first := last - int64(len(users)) + 1
	ids := make([]social.UserID, len(users))
	keys := make([]string, 0, 1+2*len(users))
	args := make([]string, 0, 6*len(users))
	keys = append(keys, e.loginIndexKey())
	for i, u := range users {
		uid := social.UserID(first + int64(i))
		ids[i] = uid
		keys = append(keys, e.userKey(uid), e.authKey(uid))
		args = append(args, strings.ToLower(u.Login), id10(uid), u.Login, u.Name, ms(u.Signup), u.PasswordHash)
	}
	taken, err := loadUsersScript.Exec(ctx, e.client, keys, args).AsInt64()
	if err != nil {
		return nil, e.fail(op, err)
	}
	if taken >= 0 {
		if taken >= int64(len(users)) {
			return nil, fmt.Errorf("redis: %s: script answered index %d of %d users", op, taken, len(users))
		}
		return nil, fmt.Errorf("redis: %s: login %q: %w", op, users[taken].Login, social.ErrLoginTaken)
	}
	return ids, nil
}

// LoadFollows adds each follow to following:<follower> and
// followers:<followee> with ZADD NX, one command per set, so that a follow
// loaded twice keeps its first time. The ids must name users; only that
// they are ids the user counter has handed out is checked.
func (e *Engine) LoadFollows(ctx context.Context, follows []seed.Follow) error {
	const op = "loading follows"
	if len(follows) == 0 {
		return nil
	}
	var top social.UserID
	for _, f := range follows {
		if f.Follower == f.Followee {
			return fmt.Errorf("redis: %s: user %d: %w", op, f.Follower, social.ErrFollowSelf)
		}
		if f.Follower <= 0 || f.Followee <= 0 {
			return fmt.Errorf("redis: %s: follow %d → %d: %w", op, f.Follower, f.Followee, social.ErrUserNotFound)
		}
		top = max(top, f.Follower, f.Followee)
	}
	counter, err := e.client.Do(ctx, e.client.B().Get().Key(e.userIDCounterKey()).Build()).AsInt64()
	if err != nil && !rueidis.IsRedisNil(err) {
		return e.fail(op, err)
	}
	if int64(top) > counter {
		return fmt.Errorf("redis: %s: user %d: %w", op, top, social.ErrUserNotFound)
	}

	// Score and member pairs per set, in the order the follows came.
	following := map[social.UserID][]string{}
	followers := map[social.UserID][]string{}
	// The sets in the order first seen, so that commands go out in a
	// stable order rather than the maps'.
	var followerOrder, followeeOrder []social.UserID
	for _, f := range follows {
		at := ms(f.At)
		if _, ok := following[f.Follower]; !ok {
			followerOrder = append(followerOrder, f.Follower)
		}
		following[f.Follower] = append(following[f.Follower], at, id10(f.Followee))
		if _, ok := followers[f.Followee]; !ok {
			followeeOrder = append(followeeOrder, f.Followee)
		}
		followers[f.Followee] = append(followers[f.Followee], at, id10(f.Follower))
	}
	cmds := make(rueidis.Commands, 0, len(followerOrder)+len(followeeOrder))
	for _, uid := range followerOrder {
		cmds = append(cmds, e.zaddNX(e.followingKey(uid), following[uid]))
	}
	for _, uid := range followeeOrder {
		cmds = append(cmds, e.zaddNX(e.followersKey(uid), followers[uid]))
	}
	return e.doPipelines(ctx, op, cmds)
}

func (e *Engine) zaddNX(key string, pairs []string) rueidis.Completed {
	return e.client.B().Arbitrary("ZADD").Keys(key).Args("NX").Args(pairs...).Build()
}

// doPipelines sends cmds as pipelines of bulkPipeline commands, several at
// once, so that Redis works on one while the replies of another travel
// back and the next is written.
func (e *Engine) doPipelines(ctx context.Context, op string, cmds rueidis.Commands) error {
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	slots := make(chan struct{}, bulkPipelinesInFlight)
	for from := 0; from < len(cmds) && len(errs) == 0; from += bulkPipeline {
		part := cmds[from:min(from+bulkPipeline, len(cmds))]
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for _, res := range e.client.DoMulti(ctx, part...) {
				if err := res.Error(); err != nil {
					select {
					case errs <- e.fail(op, err):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// FinishLoad sets the counts of every id the user counter has handed out
// from ZCARD of its sets, recountUsers users per script.
func (e *Engine) FinishLoad(ctx context.Context) error {
	const op = "recounting follows"
	top, err := e.client.Do(ctx, e.client.B().Get().Key(e.userIDCounterKey()).Build()).AsInt64()
	if rueidis.IsRedisNil(err) {
		return nil // no user was ever created
	}
	if err != nil {
		return e.fail(op, err)
	}
	var execs []rueidis.LuaExec
	flush := func() error {
		for _, res := range recountScript.ExecMulti(ctx, e.client, execs...) {
			if err := res.Error(); err != nil {
				return e.fail(op, err)
			}
		}
		execs = execs[:0]
		return nil
	}
	for from := social.UserID(1); from <= social.UserID(top); from += recountUsers {
		to := min(social.UserID(top), from+recountUsers-1)
		keys := make([]string, 0, 3*(to-from+1))
		for uid := from; uid <= to; uid++ {
			keys = append(keys, e.userKey(uid), e.followersKey(uid), e.followingKey(uid))
		}
		execs = append(execs, rueidis.LuaExec{Keys: keys})
		if len(execs) == recountScripts {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(execs) > 0 {
		return flush()
	}
	return nil
}
