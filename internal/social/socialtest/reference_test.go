package socialtest_test

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
	"starling/internal/social/socialtest"
)

// TestReference runs the suite against a minimal in-memory engine, so that
// the suite itself is checked without any real engine: a suite that fails
// here is wrong, not the engine under test.
func TestReference(t *testing.T) {
	socialtest.Run(t, func(t *testing.T) (social.Store, jobs.Queue) {
		m := newMemEngine(socialtest.TimelineSize)
		return m, m
	})
}

func TestReferenceFreshReads(t *testing.T) {
	socialtest.RunFreshReads(t, func(t *testing.T) (social.Store, social.Store, jobs.Queue) {
		m := newMemEngine(socialtest.TimelineSize)
		return m, m, m
	})
}

type memUser struct {
	user social.User
	hash string
}

type memJob struct {
	job      jobs.Job
	runAt    time.Time
	leaseEnd time.Time // zero when not leased
	seq      int
}

// memEngine implements both ports over maps under one mutex, which makes
// every method one atomic step, job enqueues included.
type memEngine struct {
	mu        sync.Mutex // guards every field below
	seq       int
	h         int // the timeline size, fixed when made
	users     map[social.UserID]*memUser
	byLogin   map[string]social.UserID
	tokens    map[string]social.Token
	statuses  map[social.StatusID]social.Status
	timelines map[social.Timeline][]social.StatusID // newest first
	followers map[social.UserID]map[social.UserID]time.Time
	following map[social.UserID]map[social.UserID]time.Time
	lists     map[social.ListID]*social.List
	members   map[social.ListID]map[social.UserID]time.Time
	// unfollowed marks who recently unfollowed whom (followee → followers).
	unfollowed map[social.UserID]map[social.UserID]time.Time
	suspended  map[social.UserID]bool
	jobs       map[string]*memJob
	dead       []jobs.DeadJob
	arrived    chan struct{} // closed and replaced when a job is enqueued
}

var (
	_ social.Store = (*memEngine)(nil)
	_ jobs.Queue   = (*memEngine)(nil)
)

func newMemEngine(h int) *memEngine {
	return &memEngine{
		h:     h,
		users: map[social.UserID]*memUser{}, byLogin: map[string]social.UserID{}, tokens: map[string]social.Token{},
		statuses: map[social.StatusID]social.Status{}, timelines: map[social.Timeline][]social.StatusID{},
		followers: map[social.UserID]map[social.UserID]time.Time{}, following: map[social.UserID]map[social.UserID]time.Time{},
		lists: map[social.ListID]*social.List{}, members: map[social.ListID]map[social.UserID]time.Time{},
		unfollowed: map[social.UserID]map[social.UserID]time.Time{}, suspended: map[social.UserID]bool{},
		jobs: map[string]*memJob{}, arrived: make(chan struct{}),
	}
}

func (m *memEngine) next() int64 { m.seq++; return int64(m.seq) }

func (m *memEngine) SetSuspended(ctx context.Context, id social.UserID, suspended bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[id]; !ok {
		return social.ErrUserNotFound
	}
	if suspended {
		m.suspended[id] = true
	} else {
		delete(m.suspended, id)
	}
	return nil
}

func (m *memEngine) SuspendedUsers(ctx context.Context) ([]social.UserID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]social.UserID, 0, len(m.suspended))
	for id := range m.suspended {
		ids = append(ids, id)
	}
	return ids, nil
}

func (m *memEngine) Ping(ctx context.Context) error { return nil }

func (m *memEngine) CreateUser(ctx context.Context, u social.NewUser) (social.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byLogin[strings.ToLower(u.Login)]; ok {
		return social.User{}, social.ErrLoginTaken
	}
	id := social.UserID(len(m.users) + 1)
	m.users[id] = &memUser{user: social.User{ID: id, Login: u.Login, Name: u.Name, Signup: u.Signup}, hash: u.PasswordHash}
	m.byLogin[strings.ToLower(u.Login)] = id
	return m.users[id].user, nil
}

func (m *memEngine) User(ctx context.Context, id social.UserID) (social.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return social.User{}, social.ErrUserNotFound
	}
	return u.user, nil
}

func (m *memEngine) UserByLogin(ctx context.Context, login string) (social.User, error) {
	m.mu.Lock()
	id, ok := m.byLogin[strings.ToLower(login)]
	m.mu.Unlock()
	if !ok {
		return social.User{}, social.ErrUserNotFound
	}
	return m.User(ctx, id)
}

func (m *memEngine) Users(ctx context.Context, ids []social.UserID) ([]social.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []social.User
	for _, id := range ids {
		if u, ok := m.users[id]; ok {
			out = append(out, u.user)
		}
	}
	return out, nil
}

func (m *memEngine) PasswordHash(ctx context.Context, id social.UserID) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return "", social.ErrUserNotFound
	}
	return u.hash, nil
}

func (m *memEngine) CreateToken(ctx context.Context, t social.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[string(t.Hash)] = t
	return nil
}

func (m *memEngine) TokenByHash(ctx context.Context, hash []byte, now time.Time) (social.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[string(hash)]
	if !ok || !now.Before(t.Expires) {
		return social.Token{}, social.ErrInvalidToken
	}
	return t, nil
}

func (m *memEngine) DeleteToken(ctx context.Context, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, string(hash))
	return nil
}

func (m *memEngine) DeleteTokensOf(ctx context.Context, uid social.UserID, keep []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteTokensOf(uid, keep)
	return nil
}

func (m *memEngine) deleteTokensOf(uid social.UserID, keep []byte) {
	for h, t := range m.tokens {
		if t.UID == uid && (keep == nil || h != string(keep)) {
			delete(m.tokens, h)
		}
	}
}

func (m *memEngine) SetPassword(ctx context.Context, uid social.UserID, hash string, keep []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[uid]
	if !ok {
		return social.ErrUserNotFound
	}
	u.hash = hash
	m.deleteTokensOf(uid, keep)
	return nil
}

// addTo puts id into a timeline, keeping it newest first, without
// duplicates, and at most h long when h > 0.
func (m *memEngine) addTo(tl social.Timeline, h int, ids ...social.StatusID) {
	cur := append(slices.Clone(m.timelines[tl]), ids...)
	slices.Sort(cur)
	cur = slices.Compact(cur)
	slices.Reverse(cur)
	if h > 0 && len(cur) > h {
		cur = cur[:h]
	}
	m.timelines[tl] = cur
}

func (m *memEngine) removeFrom(tl social.Timeline, drop func(id social.StatusID) bool) {
	m.timelines[tl] = slices.DeleteFunc(m.timelines[tl], drop)
}

func (m *memEngine) CreateStatus(ctx context.Context, s social.NewStatus, fanout func(social.Status) jobs.NewJob) (social.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[s.UID]
	if !ok {
		return social.Status{}, social.ErrUserNotFound
	}
	st := social.Status{ID: social.StatusID(m.next()), UID: s.UID, Login: u.user.Login, Message: s.Message, Posted: s.Posted, Location: s.Location}
	m.statuses[st.ID] = st
	u.user.Posts++
	m.addTo(social.ProfileOf(s.UID), 0, st.ID)
	m.addTo(social.HomeOf(s.UID), m.h, st.ID)
	m.enqueue(fanout(st))
	return st, nil
}

func (m *memEngine) Statuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []social.Status
	for _, id := range ids {
		if s, ok := m.statuses[id]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memEngine) DeleteStatus(ctx context.Context, uid social.UserID, id social.StatusID, cleanup func(social.Status) jobs.NewJob) (social.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.statuses[id]
	if !ok {
		return social.Status{}, social.ErrStatusNotFound
	}
	if st.UID != uid {
		return social.Status{}, social.ErrForbidden
	}
	delete(m.statuses, id)
	m.users[uid].user.Posts--
	is := func(x social.StatusID) bool { return x == id }
	m.removeFrom(social.ProfileOf(uid), is)
	m.removeFrom(social.HomeOf(uid), is)
	m.enqueue(cleanup(st))
	return st, nil
}

func (m *memEngine) TimelinePage(ctx context.Context, tl social.Timeline, p social.Page) ([]social.Status, error) {
	ids, err := m.TimelineIDs(ctx, tl, p)
	if err != nil {
		return nil, err
	}
	return m.Statuses(ctx, ids)
}

func (m *memEngine) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]social.StatusID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.timelines[tl]
	if p.MaxID > 0 {
		i := slices.IndexFunc(ids, func(id social.StatusID) bool { return id < p.MaxID })
		if i < 0 {
			return nil, nil
		}
		ids = ids[i:]
	}
	off := min(p.Offset(), len(ids))
	return slices.Clone(ids[off:min(off+p.Count, len(ids))]), nil
}

func (m *memEngine) exists(tl social.Timeline) bool {
	if tl.Kind == social.ListTimeline {
		return m.lists[social.ListID(tl.ID)] != nil
	}
	return m.users[social.UserID(tl.ID)] != nil
}

func (m *memEngine) Deliver(ctx context.Context, ds []social.Delivery) ([]social.Skipped, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var skipped []social.Skipped
	for _, d := range ds {
		if _, ok := m.statuses[d.Status]; !ok {
			skipped = append(skipped, social.Skipped{Status: d.Status})
			continue
		}
		for _, tl := range d.Timelines {
			if _, gone := m.unfollowed[d.Author][social.UserID(tl.ID)]; gone && tl.Kind == social.Home {
				skipped = append(skipped, social.Skipped{Status: d.Status, Home: social.UserID(tl.ID)})
				continue
			}
			if m.exists(tl) {
				m.addTo(tl, m.h, d.Status)
			}
		}
	}
	return skipped, nil
}

func (m *memEngine) RemoveFromTimelines(ctx context.Context, id social.StatusID, tls []social.Timeline) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tl := range tls {
		m.removeFrom(tl, func(x social.StatusID) bool { return x == id })
	}
	return nil
}

func (m *memEngine) RefillTimeline(ctx context.Context, tl social.Timeline) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sources []social.UserID
	switch tl.Kind {
	case social.Home:
		sources = append(sources, social.UserID(tl.ID))
		for uid := range m.following[social.UserID(tl.ID)] {
			sources = append(sources, uid)
		}
	case social.ListTimeline:
		for uid := range m.members[social.ListID(tl.ID)] {
			sources = append(sources, uid)
		}
	}
	for _, uid := range sources {
		m.addTo(tl, m.h, m.timelines[social.ProfileOf(uid)]...)
	}
	return nil
}

func (m *memEngine) Follow(ctx context.Context, a, b social.UserID, at time.Time) (bool, error) {
	h := m.h
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users[a] == nil || m.users[b] == nil {
		return false, social.ErrUserNotFound
	}
	if _, ok := m.following[a][b]; ok {
		return false, nil
	}
	setAdd(m.following, a, b, at)
	setAdd(m.followers, b, a, at)
	delete(m.unfollowed[b], a)
	m.users[a].user.Following = int64(len(m.following[a]))
	m.users[b].user.Followers = int64(len(m.followers[b]))
	profile := m.timelines[social.ProfileOf(b)]
	m.addTo(social.HomeOf(a), h, profile[:min(h, len(profile))]...)
	return true, nil
}

func (m *memEngine) Unfollow(ctx context.Context, a, b social.UserID, refill jobs.NewJob) (bool, error) {
	h := m.h
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.following[a][b]; !ok {
		return false, nil
	}
	delete(m.following[a], b)
	delete(m.followers[b], a)
	setAdd(m.unfollowed, b, a, time.Now())
	m.users[a].user.Following = int64(len(m.following[a]))
	m.users[b].user.Followers = int64(len(m.followers[b]))
	m.removeFrom(social.HomeOf(a), func(id social.StatusID) bool { return m.statuses[id].UID == b })
	if social.NeedsRefill(int64(len(m.timelines[social.HomeOf(a)])), h) {
		m.enqueue(refill)
	}
	return true, nil
}

func setAdd[K, M comparable](sets map[K]map[M]time.Time, key K, member M, at time.Time) {
	if sets[key] == nil {
		sets[key] = map[M]time.Time{}
	}
	sets[key][member] = at
}

// page orders a set by time, newest first, and cuts a page from it.
func page[ID ~int64](set map[ID]time.Time, p social.Page) []ID {
	ids := make([]ID, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ID) int {
		return cmp.Or(set[b].Compare(set[a]), cmp.Compare(b, a))
	})
	off := min(p.Offset(), len(ids))
	return ids[off:min(off+p.Count, len(ids))]
}

func (m *memEngine) Followers(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.followers[uid], p), nil
}

func (m *memEngine) Following(ctx context.Context, uid social.UserID, p social.Page) ([]social.UserID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.following[uid], p), nil
}

func (m *memEngine) FollowerChunk(ctx context.Context, uid social.UserID, cursor string, limit int) ([]social.UserID, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	after, _ := strconv.ParseInt(cursor, 10, 64)
	var ids []social.UserID
	for id := range m.followers[uid] {
		if int64(id) > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) <= limit {
		return ids, "", nil
	}
	ids = ids[:limit]
	return ids, strconv.FormatInt(int64(ids[limit-1]), 10), nil
}

func (m *memEngine) CreateList(ctx context.Context, l social.NewList, maxLists int) (social.List, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, x := range m.lists {
		if x.UID == l.UID {
			n++
		}
	}
	if n >= maxLists {
		return social.List{}, social.ErrLimitReached
	}
	owner, ok := m.users[l.UID]
	if !ok {
		return social.List{}, social.ErrUserNotFound
	}
	nl := &social.List{ID: social.ListID(m.next()), UID: l.UID, Login: owner.user.Login, Name: l.Name, Created: l.Created}
	m.lists[nl.ID] = nl
	return *nl, nil
}

func (m *memEngine) List(ctx context.Context, id social.ListID) (social.List, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lists[id]
	if !ok {
		return social.List{}, social.ErrListNotFound
	}
	return *l, nil
}

func (m *memEngine) ListsOf(ctx context.Context, uid social.UserID) ([]social.List, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []social.List
	for _, l := range m.lists {
		if l.UID == uid {
			out = append(out, *l)
		}
	}
	slices.SortFunc(out, func(a, b social.List) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memEngine) ListsContaining(ctx context.Context, uid social.UserID) ([]social.ListID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []social.ListID
	for id, set := range m.members {
		if _, ok := set[uid]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func (m *memEngine) DeleteList(ctx context.Context, id social.ListID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lists[id] == nil {
		return social.ErrListNotFound
	}
	delete(m.lists, id)
	delete(m.members, id)
	delete(m.timelines, social.ListOf(id))
	return nil
}

func (m *memEngine) AddListMember(ctx context.Context, id social.ListID, uid social.UserID, at time.Time, maxMembers int) (bool, error) {
	h := m.h
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lists[id]
	if l == nil {
		return false, social.ErrListNotFound
	}
	if m.users[uid] == nil {
		return false, social.ErrUserNotFound
	}
	if _, ok := m.members[id][uid]; ok {
		return false, nil
	}
	if len(m.members[id]) >= maxMembers {
		return false, social.ErrLimitReached
	}
	setAdd(m.members, id, uid, at)
	l.Members = int64(len(m.members[id]))
	profile := m.timelines[social.ProfileOf(uid)]
	m.addTo(social.ListOf(id), h, profile[:min(h, len(profile))]...)
	return true, nil
}

func (m *memEngine) RemoveListMember(ctx context.Context, id social.ListID, uid social.UserID, refill jobs.NewJob) (bool, error) {
	h := m.h
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lists[id]
	if l == nil {
		return false, social.ErrListNotFound
	}
	if _, ok := m.members[id][uid]; !ok {
		return false, nil
	}
	delete(m.members[id], uid)
	l.Members = int64(len(m.members[id]))
	m.removeFrom(social.ListOf(id), func(x social.StatusID) bool { return m.statuses[x].UID == uid })
	if social.NeedsRefill(int64(len(m.timelines[social.ListOf(id)])), h) {
		m.enqueue(refill)
	}
	return true, nil
}

func (m *memEngine) ListMembers(ctx context.Context, id social.ListID, p social.Page) ([]social.UserID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return page(m.members[id], p), nil
}

// The queue half.

func (m *memEngine) enqueue(js ...jobs.NewJob) {
	for _, nj := range js {
		id := strconv.FormatInt(m.next(), 10)
		m.jobs[id] = &memJob{job: jobs.Job{ID: id, Kind: nj.Kind, Payload: bytes.Clone(nj.Payload)}, runAt: nj.RunAt, seq: m.seq}
	}
	if len(js) > 0 {
		close(m.arrived)
		m.arrived = make(chan struct{})
	}
}

func (m *memEngine) Enqueue(ctx context.Context, js ...jobs.NewJob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.enqueue(js...)
	return nil
}

func (m *memEngine) Claim(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	deadline := time.Now().Add(c.Wait)
	for {
		m.mu.Lock()
		got := m.claimNow(c)
		arrived := m.arrived
		m.mu.Unlock()
		wait := time.Until(deadline)
		if len(got) > 0 || wait <= 0 {
			return got, nil
		}
		timer := time.NewTimer(min(wait, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-arrived:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (m *memEngine) claimNow(c jobs.Claim) []jobs.Job {
	now := time.Now()
	var runnable []*memJob
	for _, j := range m.jobs {
		if !j.runAt.After(now) && !j.leaseEnd.After(now) {
			runnable = append(runnable, j)
		}
	}
	slices.SortFunc(runnable, func(a, b *memJob) int { return a.seq - b.seq })
	var out []jobs.Job
	for _, j := range runnable[:min(len(runnable), c.Max)] {
		j.job.Attempts++
		j.job.Lease = strconv.FormatInt(m.next(), 10)
		j.leaseEnd = now.Add(c.Lease)
		out = append(out, j.job)
	}
	return out
}

func (m *memEngine) held(job jobs.Job) (*memJob, error) {
	j, ok := m.jobs[job.ID]
	if !ok || j.job.Lease != job.Lease || j.leaseEnd.IsZero() {
		return nil, jobs.ErrLeaseLost
	}
	return j, nil
}

func (m *memEngine) Complete(ctx context.Context, job jobs.Job, next ...jobs.NewJob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.held(job); err != nil {
		return err
	}
	delete(m.jobs, job.ID)
	m.enqueue(next...)
	return nil
}

func (m *memEngine) CompleteMany(ctx context.Context, cs []jobs.Completion) ([]error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	results := make([]error, len(cs))
	for i, c := range cs {
		if _, err := m.held(c.Job); err != nil {
			results[i] = err
			continue
		}
		delete(m.jobs, c.Job.ID)
		m.enqueue(c.Next...)
	}
	return results, nil
}

func (m *memEngine) Retry(ctx context.Context, job jobs.Job, at time.Time, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, err := m.held(job)
	if err != nil {
		return err
	}
	j.leaseEnd, j.runAt, j.job.Lease = time.Time{}, at, ""
	return nil
}

func (m *memEngine) Bury(ctx context.Context, job jobs.Job, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, err := m.held(job)
	if err != nil {
		return err
	}
	delete(m.jobs, job.ID)
	m.dead = append(m.dead, jobs.DeadJob{ID: j.job.ID, Kind: j.job.Kind, Payload: j.job.Payload, Attempts: j.job.Attempts, Reason: reason, Died: time.Now()})
	return nil
}

func (m *memEngine) Dead(ctx context.Context, limit int) ([]jobs.DeadJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.dead)
	slices.Reverse(out)
	return out[:min(len(out), limit)], nil
}

func (m *memEngine) Stats(ctx context.Context) (jobs.Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	s := jobs.Stats{Dead: int64(len(m.dead))}
	for _, j := range m.jobs {
		switch {
		case !j.leaseEnd.IsZero():
			s.Leased++
		case j.runAt.After(now):
			s.Delayed++
		default:
			s.Ready++
		}
	}
	return s, nil
}
