package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/jobs"
	"starling/internal/social"
)

// statusFields are the fields of a status:<id> hash, in the order
// parseStatus reads them. lat and lon are absent when the status has no
// location.
var statusFields = []string{"uid", "login", "message", "posted", "lat", "lon"}

// CreateStatus takes the next id from status:id: and then, in one script
// (lua/create_status.lua), stores the status, counts it in the author's
// posts, adds it to the author's profile and home and enqueues the fan-out
// job. Ids come from one counter for the whole deployment, so they grow
// with creation order across every process. An id taken for an author that
// turns out not to exist is skipped.
func (e *Engine) CreateStatus(ctx context.Context, s social.NewStatus, fanout func(social.Status) jobs.NewJob) (social.Status, error) {
	n, err := e.client.Do(ctx, e.client.B().Incr().Key(e.statusIDCounterKey()).Build()).AsInt64()
	if err != nil {
		return social.Status{}, e.fail("taking a status id", err)
	}
	id := social.StatusID(n)
	st := social.Status{
		ID:       id,
		UID:      s.UID,
		Message:  s.Message,
		Posted:   s.Posted.UTC().Truncate(time.Millisecond),
		Location: s.Location,
	}
	lat, lon := "", ""
	if s.Location != nil {
		lat = strconv.FormatFloat(s.Location.Lat, 'g', -1, 64)
		lon = strconv.FormatFloat(s.Location.Lon, 'g', -1, 64)
	}
	keys := []string{e.userKey(s.UID), e.statusKey(id), e.profileKey(s.UID), e.homeKey(s.UID), e.jobStreamKey(), e.delayedJobsKey(), e.jobIndexKey()}
	args := []string{id10(id), strconv.Itoa(e.opts.TimelineSize), id10(s.UID), s.Message, ms(s.Posted), lat, lon}
	args, err = appendJobs(args, fanout(st))
	if err != nil {
		return social.Status{}, err
	}
	st.Login, err = e.runNamingScript(ctx, "creating a status", e.lua.createStatus, keys, args)
	if errors.Is(err, errIDTaken) {
		return social.Status{}, errors.New("redis: creating a status: id " + id10(id) + " is taken; was status:id: reset?")
	}
	if err != nil {
		return social.Status{}, err
	}
	return st, nil
}

// Statuses reads the statuses as Redis holds them when the call begins,
// whoever changed them and from whichever process.
//
// A single id goes to Redis: one round trip, as a cache miss would cost.
// Several ids are looked up in the in-process caches after a round trip on
// e.reads (e.catchUp) that began after this call did: Redis queues the
// invalidations of every change it made before that round trip ahead of its
// reply, so by then the caches have forgotten whatever changed (docs/engines/redis.md,
// "Reads"). Concurrent calls share one round trip.
func (e *Engine) Statuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	if len(ids) == 0 {
		return []social.Status{}, nil
	}
	if len(ids) == 1 || e.statuses == nil {
		return e.readStatuses(ctx, e.client, ids)
	}
	if err := e.catchUp.wait(ctx); err != nil {
		return nil, e.fail("reading statuses", err)
	}
	return e.cachedStatuses(ctx, ids)
}

// TimelinePage reads a page of a timeline (TimelineIDs) and the statuses it
// names, skipping deleted ones. TimelineIDs has made a round trip on e.reads
// that began after the call did, so the statuses come from the caches with
// no second one.
func (e *Engine) TimelinePage(ctx context.Context, tl social.Timeline, p social.Page) ([]social.Status, error) {
	ids, err := e.TimelineIDs(ctx, tl, p)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []social.Status{}, nil
	}
	if e.statuses == nil {
		return e.readStatuses(ctx, e.client, ids)
	}
	return e.cachedStatuses(ctx, ids)
}

// cachedStatuses looks ids up in e.statuses, reading the missing ones
// through e.reads. The caller has made e.reads catch up.
func (e *Engine) cachedStatuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	return e.statuses.Get(ids, func(missing []social.StatusID) ([]social.Status, error) {
		return e.readStatuses(ctx, e.reads, missing)
	})
}

// readStatuses reads statuses from Redis in one pipelined round trip:
// through the cache of e.reads (rueidis DoMultiCache) when c is e.reads,
// plainly otherwise. Ids that name no status are skipped.
func (e *Engine) readStatuses(ctx context.Context, c rueidis.Client, ids []social.StatusID) ([]social.Status, error) {
	var results []rueidis.RedisResult
	if c == e.reads && e.reads != e.client {
		// ToStaticTTL: status keys never expire, so rueidis need not ask
		// for their TTL with each miss.
		cmds := make([]rueidis.CacheableTTL, len(ids))
		for i, id := range ids {
			cmds[i] = rueidis.CT(c.B().Hmget().Key(e.statusKey(id)).Field(statusFields...).Cache().ToStaticTTL(), statusCacheTTL)
		}
		results = c.DoMultiCache(ctx, cmds...)
	} else {
		cmds := make(rueidis.Commands, len(ids))
		for i, id := range ids {
			cmds[i] = c.B().Hmget().Key(e.statusKey(id)).Field(statusFields...).Build()
		}
		results = c.DoMulti(ctx, cmds...)
	}
	out := make([]social.Status, 0, len(ids))
	for i, res := range results {
		vals, ok, err := hmget(res)
		if err != nil {
			return nil, e.fail("reading statuses", err)
		}
		if !ok {
			continue
		}
		st, err := parseStatus(ids[i], vals)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// invalidated is e.reads' OnInvalidations hook: rueidis calls it, in order
// with the replies of that connection, with the keys Redis invalidated, or
// with nil when the whole cache goes (a flush, a broken connection). A
// status key drops that status, a timeline key that timeline's head.
func (e *Engine) invalidated(keys []rueidis.RedisMessage) {
	if keys == nil {
		e.statuses.ForgetAll()
		e.timelines.ForgetAll()
		return
	}
	var ids []social.StatusID
	var tls []social.Timeline
	for _, m := range keys {
		key, err := m.ToString()
		if err != nil {
			continue
		}
		if id, ok := idIn(key, e.statusKey(0)); ok {
			ids = append(ids, social.StatusID(id))
		} else if tl, ok := e.timelineOf(key); ok {
			tls = append(tls, tl)
		}
	}
	if len(ids) > 0 {
		// Only when there are statuses to drop: every Forget starts an
		// epoch, which keeps the reads in flight from filling the cache.
		e.statuses.Forget(ids...)
	}
	e.timelines.Forget(tls...)
}

// timelineOf names the timeline whose sorted set key is.
func (e *Engine) timelineOf(key string) (social.Timeline, bool) {
	for _, tl := range []social.Timeline{social.HomeOf(0), social.ProfileOf(0), social.ListOf(0)} {
		empty, err := e.timelineKey(tl)
		if err != nil {
			continue
		}
		if id, ok := idIn(key, empty); ok {
			tl.ID = id
			return tl, true
		}
	}
	return social.Timeline{}, false
}

// idIn returns the id in key when key is idKey with another id in place
// of its 0.
func idIn(key, idKey string) (int64, bool) {
	prefix := idKey[:len(idKey)-1]
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// flushInvalidations makes this process's caches forget what Redis has
// invalidated so far (see barrier): Redis queued the invalidation of a
// deleted status on e.reads' connection while it ran the delete. A delete
// calls it before it returns, so that the status is gone from every read
// of this process at once, even from a Statuses call that no TimelineIDs
// preceded. A failure is only logged: the connection it would have
// flushed is broken, and rueidis drops a broken connection's cache with it.
func (e *Engine) flushInvalidations(ctx context.Context) {
	if e.reads == e.client {
		return
	}
	if err := e.catchUp.wait(ctx); err != nil {
		e.log.Debug("redis: flushing cache invalidations", "err", err)
	}
}

func parseStatus(id social.StatusID, v []string) (social.Status, error) {
	const op = "reading a status"
	st := social.Status{ID: id, Login: v[1], Message: v[2]}
	var err error
	if st.UID, err = parseID[social.UserID](op, v[0]); err != nil {
		return social.Status{}, err
	}
	if st.Posted, err = fromMS(op, v[3]); err != nil {
		return social.Status{}, err
	}
	if v[4] != "" {
		lat, err1 := strconv.ParseFloat(v[4], 64)
		lon, err2 := strconv.ParseFloat(v[5], 64)
		if err := errors.Join(err1, err2); err != nil {
			return social.Status{}, errors.New("redis: reading a status: malformed location")
		}
		st.Location = &social.Location{Lat: lat, Lon: lon}
	}
	return st, nil
}

// DeleteStatus reads the status to build its cleanup job, then removes it
// in one script (lua/delete_status.lua) that checks again that it exists
// and is uid's, so two concurrent deletes cannot both succeed.
func (e *Engine) DeleteStatus(ctx context.Context, uid social.UserID, id social.StatusID, cleanup func(social.Status) jobs.NewJob) (social.Status, error) {
	sts, err := e.Statuses(ctx, []social.StatusID{id})
	if err != nil {
		return social.Status{}, err
	}
	if len(sts) == 0 {
		return social.Status{}, social.ErrStatusNotFound
	}
	st := sts[0]
	if st.UID != uid {
		return social.Status{}, social.ErrForbidden
	}
	keys := []string{e.statusKey(id), e.userKey(uid), e.profileKey(uid), e.homeKey(uid), e.jobStreamKey(), e.delayedJobsKey(), e.jobIndexKey()}
	args, err := appendJobs([]string{id10(id), id10(uid), strconv.Itoa(e.opts.TimelineSize)}, cleanup(st))
	if err != nil {
		return social.Status{}, err
	}
	if _, err := e.runScript(ctx, "deleting a status", e.lua.deleteStatus, keys, args); err != nil {
		return social.Status{}, err
	}
	e.flushInvalidations(ctx)
	return st, nil
}
