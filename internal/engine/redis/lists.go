package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/jobs"
	"starling/internal/social"
)

// listFields are the fields of a list:<id> hash, in the order parseList
// reads them.
var listFields = []string{"uid", "login", "name", "members", "created"}

// deleteListAttempts bounds how often DeleteList re-reads the members when
// they keep changing under it.
const deleteListAttempts = 10

// CreateList takes the next id from list:id: and then, in
// lua/create_list.lua, checks the owner's count against maxLists and adds
// the list. An id taken by a refused creation is skipped.
func (e *Engine) CreateList(ctx context.Context, l social.NewList, maxLists int) (social.List, error) {
	n, err := e.client.Do(ctx, e.client.B().Incr().Key(e.listIDCounterKey()).Build()).AsInt64()
	if err != nil {
		return social.List{}, e.fail("taking a list id", err)
	}
	id := social.ListID(n)
	keys := []string{e.userKey(l.UID), e.listsOfKey(l.UID), e.listKey(id)}
	args := []string{id10(id), id10(l.UID), l.Name, ms(l.Created), strconv.Itoa(maxLists)}
	login, err := e.runNamingScript(ctx, "creating a list", e.lua.createList, keys, args)
	if err != nil {
		return social.List{}, err
	}
	return social.List{ID: id, UID: l.UID, Login: login, Name: l.Name, Created: l.Created.UTC().Truncate(time.Millisecond)}, nil
}

// List returns list id.
func (e *Engine) List(ctx context.Context, id social.ListID) (social.List, error) {
	lists, err := e.lists(ctx, []social.ListID{id})
	if err != nil {
		return social.List{}, err
	}
	if len(lists) == 0 {
		return social.List{}, social.ErrListNotFound
	}
	return lists[0], nil
}

// ListsOf returns the lists in lists:<uid>, scored by id and so oldest
// first.
func (e *Engine) ListsOf(ctx context.Context, uid social.UserID) ([]social.List, error) {
	ids, err := setIDs[social.ListID](ctx, e, "reading a user's lists", e.listsOfKey(uid))
	if err != nil {
		return nil, err
	}
	return e.lists(ctx, ids)
}

// ListsContaining returns list:out:<uid>.
func (e *Engine) ListsContaining(ctx context.Context, uid social.UserID) ([]social.ListID, error) {
	return setIDs[social.ListID](ctx, e, "reading the lists containing a user", e.listsWithKey(uid))
}

func setIDs[ID ~int64](ctx context.Context, e *Engine, op, key string) ([]ID, error) {
	members, err := e.client.Do(ctx, e.client.B().Zrange().Key(key).Min("0").Max("-1").Build()).AsStrSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	return parseIDs[ID](op, members)
}

// lists reads lists in one pipelined round trip, skipping missing ones.
func (e *Engine) lists(ctx context.Context, ids []social.ListID) ([]social.List, error) {
	if len(ids) == 0 {
		return []social.List{}, nil
	}
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		cmds[i] = e.client.B().Hmget().Key(e.listKey(id)).Field(listFields...).Build()
	}
	out := make([]social.List, 0, len(ids))
	for i, res := range e.client.DoMulti(ctx, cmds...) {
		vals, ok, err := hmget(res)
		if err != nil {
			return nil, e.fail("reading lists", err)
		}
		if !ok {
			continue
		}
		l, err := parseList(ids[i], vals)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func parseList(id social.ListID, v []string) (social.List, error) {
	const op = "reading a list"
	l := social.List{ID: id, Login: v[1], Name: v[2]}
	var err error
	if l.UID, err = parseID[social.UserID](op, v[0]); err != nil {
		return social.List{}, err
	}
	if l.Members, err = parseInt(op, v[3]); err != nil {
		return social.List{}, err
	}
	if l.Created, err = fromMS(op, v[4]); err != nil {
		return social.List{}, err
	}
	return l, nil
}

// DeleteList removes the list, its timeline, its members and its entry in
// every member's list:out:<uid>. The script needs those keys declared, so
// the members are read first; lua/delete_list.lua refuses when they changed
// meanwhile, and the read is repeated.
func (e *Engine) DeleteList(ctx context.Context, id social.ListID) error {
	const op = "deleting a list"
	l, err := e.List(ctx, id)
	if err != nil {
		return err
	}
	for range deleteListAttempts {
		members, err := e.client.Do(ctx, e.client.B().Zrange().Key(e.listMembersKey(id)).Min("0").Max("-1").Build()).AsStrSlice()
		if err != nil {
			return e.fail(op, err)
		}
		keys := []string{e.listKey(id), e.listsOfKey(l.UID), e.listMembersKey(id), e.listTimelineKey(id)}
		args := []string{id10(id)}
		for _, m := range members {
			uid, err := parseID[social.UserID](op, m)
			if err != nil {
				return err
			}
			keys = append(keys, e.listsWithKey(uid))
			args = append(args, m)
		}
		code, err := e.runScript(ctx, op, e.lua.deleteList, keys, args)
		if err != nil || code != codeStale {
			return err
		}
		e.log.Debug("redis: list members changed while deleting it; reading them again", "list", id)
	}
	return errors.New("redis: deleting a list: its members kept changing; try again")
}

// AddListMember runs lua/add_list_member.lua: both membership sets, the
// member count and the copy of the member's statuses in one step.
func (e *Engine) AddListMember(ctx context.Context, id social.ListID, uid social.UserID, at time.Time, maxMembers int) (bool, error) {
	keys := []string{e.listKey(id), e.listMembersKey(id), e.listsWithKey(uid), e.listTimelineKey(id), e.profileKey(uid), e.userKey(uid)}
	args := []string{id10(id), id10(uid), ms(at), strconv.Itoa(e.opts.TimelineSize), strconv.Itoa(maxMembers)}
	code, err := e.runScript(ctx, "adding a list member", e.lua.addListMember, keys, args)
	return code == codeDone, err
}

// RemoveListMember runs lua/remove_list_member.lua, AddListMember's
// inverse, which enqueues refill when the purge leaves the list short.
func (e *Engine) RemoveListMember(ctx context.Context, id social.ListID, uid social.UserID, refill jobs.NewJob) (bool, error) {
	keys := []string{e.listKey(id), e.listMembersKey(id), e.listsWithKey(uid), e.listTimelineKey(id), e.profileKey(uid), e.jobStreamKey(), e.delayedJobsKey(), e.jobIndexKey()}
	args, err := appendJobs([]string{id10(id), id10(uid), strconv.Itoa(e.opts.TimelineSize)}, refill)
	if err != nil {
		return false, err
	}
	code, err := e.runScript(ctx, "removing a list member", e.lua.removeListMember, keys, args)
	return code == codeDone, err
}

// ListMembers returns a page of list:in:<id>, most recently added first.
func (e *Engine) ListMembers(ctx context.Context, id social.ListID, p social.Page) ([]social.UserID, error) {
	return pageOfSet[social.UserID](ctx, e, "reading list members", e.listMembersKey(id), p)
}
