package socialtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Engine returns a fresh, empty store and the job queue of the same engine.
// The store keeps timelines of TimelineSize entries.
type Engine func(t *testing.T) (social.Store, jobs.Queue)

// TimelineSize is the timeline size the suite's stores must be opened
// with: small, so that the suite reaches trimming, refills and multi-chunk
// fan-outs with a handful of users.
const TimelineSize = timelineSize

const (
	// timelineSize and fanoutChunk are small so that the suite reaches
	// trimming, refills and multi-chunk fan-outs with a handful of users.
	timelineSize = 5
	fanoutChunk  = 3
	// fanoutPlanStep makes a fan-out to more than two chunks of followers
	// a chain of planning jobs.
	fanoutPlanStep = 2 * fanoutChunk
	// prefetch has the runner claim several jobs at once, so that the
	// batch handlers of fan-out get batches.
	prefetch = 8
	// tokenTTL is short enough to be passed by moving the clock.
	tokenTTL = time.Hour
	// patience bounds every wait for something that must happen; a guard
	// against hanging, never a speed requirement.
	patience  = 20 * time.Second
	pollEvery = 10 * time.Millisecond
	// shortLease is how long a job claimed by a worker that then dies
	// stays hidden.
	shortLease = 200 * time.Millisecond
	// clockSlack allows for engines that store times at millisecond
	// resolution.
	clockSlack = 5 * time.Millisecond
	// all is a page that holds any timeline of the suite whole.
	all = social.MaxPageCount
)

// Run runs every test of the suite, each as a subtest on an engine of its
// own from newEngine.
func Run(t *testing.T, newEngine func(t *testing.T) (social.Store, jobs.Queue)) {
	groups := [][]suiteTest{userTests, sessionTests, limitTests, statusTests, followTests, fanoutTests, pagingTests, listTests, suspensionTests}
	for _, group := range groups {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) { tc.test(t, newEngine) })
		}
	}
}

type suiteTest struct {
	name string
	test func(t *testing.T, newEngine Engine)
}

// env is one subtest's world: an engine, a Service over it with the
// suite's configuration, and a Runner to run the jobs the Service starts.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  social.Store
	queue  jobs.Queue
	svc    *social.Service
	runner *jobs.Runner
	clock  *clock
}

func newEnv(t *testing.T, newEngine Engine, tune ...func(*social.Config)) *env {
	t.Helper()
	store, queue := newEngine(t)
	clk := &clock{}
	cfg := social.Config{
		FanoutChunk:    fanoutChunk,
		FanoutPlanStep: fanoutPlanStep,
		TokenTTL:       tokenTTL,
		Password:       social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		Now:            clk.Now,
	}
	for _, f := range tune {
		f(&cfg)
	}
	log := testLog(t)
	svc, err := social.NewService(store, cfg, log)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	// Retries come back after a backoff that Drain does not wait for, so a
	// failing job shows up in drain's check of the queue.
	runner := jobs.NewRunner(queue, jobs.RunnerConfig{Consumer: "socialtest", Lease: time.Minute, Prefetch: prefetch}, log)
	svc.RegisterJobs(runner)
	return &env{t: t, ctx: t.Context(), store: store, queue: queue, svc: svc, runner: runner, clock: clk}
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// runnerLog is the logger of runners a test makes besides the env's own.
func (e *env) runnerLog() *slog.Logger { return testLog(e.t) }

// clock is the Service's time: real time moved on by the tests.
type clock struct {
	mu     sync.Mutex // guards offset
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// drain runs every pending job and checks that all of them succeeded:
// nothing is left ready, leased, waiting for a retry or dead.
func (e *env) drain() {
	e.t.Helper()
	if err := e.runner.Drain(e.ctx); err != nil {
		e.t.Fatalf("Drain: %v", err)
	}
	e.wantQueueEmpty()
}

func (e *env) wantQueueEmpty() {
	e.t.Helper()
	s, err := e.queue.Stats(e.ctx)
	if err != nil {
		e.t.Fatalf("Stats: %v", err)
	}
	if s == (jobs.Stats{}) {
		return
	}
	d, _ := e.queue.Dead(e.ctx, 10)
	var reasons []string
	for _, j := range d {
		reasons = append(reasons, fmt.Sprintf("%s (%d attempts): %s", j.Kind, j.Attempts, j.Reason))
	}
	e.t.Fatalf("queue after running every job: got %+v, want it empty; dead jobs: %q", s, reasons)
}

func (e *env) queueStats() jobs.Stats {
	e.t.Helper()
	s, err := e.queue.Stats(e.ctx)
	if err != nil {
		e.t.Fatalf("Stats: %v", err)
	}
	return s
}

// claimPending claims every job runnable now for consumer.
func (e *env) claimPending(consumer string, lease time.Duration) []jobs.Job {
	e.t.Helper()
	var out []jobs.Job
	for {
		got, err := e.queue.Claim(e.ctx, jobs.Claim{Consumer: consumer, Max: 100, Lease: lease})
		if err != nil {
			e.t.Fatalf("Claim: %v", err)
		}
		if len(got) == 0 {
			return out
		}
		out = append(out, got...)
	}
}

// requeue enqueues copies copies of each held job and acknowledges the
// originals, as if a worker had run each of them and another worker would
// run them again: at-least-once delivery at its worst.
func (e *env) requeue(held []jobs.Job, copies int) {
	e.t.Helper()
	for _, j := range held {
		var again []jobs.NewJob
		for range copies {
			again = append(again, jobs.NewJob{Kind: j.Kind, Payload: j.Payload})
		}
		if err := e.queue.Enqueue(e.ctx, again...); err != nil {
			e.t.Fatalf("Enqueue: %v", err)
		}
		if err := e.queue.Complete(e.ctx, j); err != nil {
			e.t.Fatalf("Complete: %v", err)
		}
	}
}

func password(login string) string { return "secret-of-" + login }

func (e *env) register(login string) social.User {
	e.t.Helper()
	u, err := e.svc.Register(e.ctx, login, "The "+login, password(login))
	if err != nil {
		e.t.Fatalf("Register(%q): %v", login, err)
	}
	return u
}

// registerMany registers login1, login2, ... loginN.
func (e *env) registerMany(prefix string, n int) []social.User {
	e.t.Helper()
	us := make([]social.User, n)
	for i := range us {
		us[i] = e.register(fmt.Sprintf("%s%d", prefix, i+1))
	}
	return us
}

// user returns the current state of a user.
func (e *env) user(u social.User) social.User {
	e.t.Helper()
	got, err := e.svc.UserByID(e.ctx, u.ID)
	if err != nil {
		e.t.Fatalf("UserByID(%d): %v", u.ID, err)
	}
	return got
}

func (e *env) post(author social.User, message string) social.Status {
	e.t.Helper()
	st, err := e.svc.Post(e.ctx, author, message, nil)
	if err != nil {
		e.t.Fatalf("Post by %s: %v", author.Login, err)
	}
	return st
}

// postMany posts n statuses by author and returns their ids, oldest first.
func (e *env) postMany(author social.User, n int) []social.StatusID {
	e.t.Helper()
	ids := make([]social.StatusID, n)
	for i := range ids {
		ids[i] = e.post(author, fmt.Sprintf("%s says %d", author.Login, i+1)).ID
	}
	return ids
}

func (e *env) follow(a, b social.User) {
	e.t.Helper()
	if err := e.svc.Follow(e.ctx, a.ID, b.Login); err != nil {
		e.t.Fatalf("%s follows %s: %v", a.Login, b.Login, err)
	}
}

func (e *env) unfollow(a, b social.User) {
	e.t.Helper()
	if err := e.svc.Unfollow(e.ctx, a.ID, b.Login); err != nil {
		e.t.Fatalf("%s unfollows %s: %v", a.Login, b.Login, err)
	}
}

func (e *env) createList(owner social.User, name string) social.List {
	e.t.Helper()
	l, err := e.svc.CreateList(e.ctx, owner, name)
	if err != nil {
		e.t.Fatalf("CreateList(%q): %v", name, err)
	}
	return l
}

func (e *env) addMember(owner social.User, l social.List, member social.User) {
	e.t.Helper()
	if err := e.svc.AddListMember(e.ctx, owner.ID, l.ID, member.Login); err != nil {
		e.t.Fatalf("add %s to list %d: %v", member.Login, l.ID, err)
	}
}

func (e *env) removeMember(owner social.User, l social.List, member social.User) {
	e.t.Helper()
	if err := e.svc.RemoveListMember(e.ctx, owner.ID, l.ID, member.Login); err != nil {
		e.t.Fatalf("remove %s from list %d: %v", member.Login, l.ID, err)
	}
}

func (e *env) list(id social.ListID) social.List {
	e.t.Helper()
	l, err := e.svc.List(e.ctx, id)
	if err != nil {
		e.t.Fatalf("List(%d): %v", id, err)
	}
	return l
}

// read returns the ids of a timeline's statuses as a reader sees them:
// deleted ones skipped.
func (e *env) read(tl social.Timeline) []social.StatusID {
	e.t.Helper()
	sts, err := e.svc.Timeline(e.ctx, tl, social.Page{Count: all})
	if err != nil {
		e.t.Fatalf("Timeline(%v): %v", tl, err)
	}
	return statusIDs(sts)
}

// raw returns the ids a timeline holds, deleted ones included.
func (e *env) raw(tl social.Timeline) []social.StatusID {
	e.t.Helper()
	ids, err := e.store.TimelineIDs(e.ctx, tl, social.Page{Count: all, Page: 1})
	if err != nil {
		e.t.Fatalf("TimelineIDs(%v): %v", tl, err)
	}
	return ids
}

func (e *env) followers(u social.User) []social.UserID {
	e.t.Helper()
	us, err := e.svc.Followers(e.ctx, u.Login, social.Page{Count: all})
	if err != nil {
		e.t.Fatalf("Followers(%s): %v", u.Login, err)
	}
	return userIDs(us)
}

func (e *env) following(u social.User) []social.UserID {
	e.t.Helper()
	us, err := e.svc.Following(e.ctx, u.Login, social.Page{Count: all})
	if err != nil {
		e.t.Fatalf("Following(%s): %v", u.Login, err)
	}
	return userIDs(us)
}

func (e *env) members(l social.List) []social.UserID {
	e.t.Helper()
	us, err := e.svc.ListMembers(e.ctx, l.ID, social.Page{Count: all})
	if err != nil {
		e.t.Fatalf("ListMembers(%d): %v", l.ID, err)
	}
	return userIDs(us)
}

// wantCounts checks a user's counters against the sizes of the sets they
// count, and against the given numbers.
func (e *env) wantCounts(u social.User, followers, following, posts int64) {
	e.t.Helper()
	got := e.user(u)
	if got.Followers != followers || got.Following != following || got.Posts != posts {
		e.t.Fatalf("%s counts: got followers %d following %d posts %d, want %d %d %d",
			u.Login, got.Followers, got.Following, got.Posts, followers, following, posts)
	}
	if n := int64(len(e.followers(u))); n != got.Followers {
		e.t.Fatalf("%s: followers count %d, but the followers set has %d", u.Login, got.Followers, n)
	}
	if n := int64(len(e.following(u))); n != got.Following {
		e.t.Fatalf("%s: following count %d, but the following set has %d", u.Login, got.Following, n)
	}
}

func statusIDs(sts []social.Status) []social.StatusID {
	ids := make([]social.StatusID, len(sts))
	for i, s := range sts {
		ids[i] = s.ID
	}
	return ids
}

func userIDs(us []social.User) []social.UserID {
	ids := make([]social.UserID, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func uids(us ...social.User) []social.UserID { return userIDs(us) }

// newest returns ids, given oldest first, as a timeline lists them: newest
// first, at most n.
func newest[ID ~int64](n int, ids ...ID) []ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out[:min(n, len(out))]
}

func reversed[ID ~int64](ids []ID) []ID {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func wantIDs[ID ~int64](t *testing.T, what string, got, want []ID) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func wantValidation(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *social.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s: got error %v, want a *social.ValidationError of %s", what, err, field)
	}
	if ve.Field != field {
		t.Fatalf("%s: got a validation error of %q, want one of %q", what, ve.Field, field)
	}
}

func wantPageError(t *testing.T, what string, err error, param string) {
	t.Helper()
	var pe *social.PageError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: got error %v, want a *social.PageError of %s", what, err, param)
	}
	if pe.Param != param {
		t.Fatalf("%s: got a paging error of %q, want one of %q", what, pe.Param, param)
	}
}

// eventually polls cond until it holds, failing after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(pollEvery)
	}
}

// count returns how often id occurs in ids.
func count[ID ~int64](ids []ID, id ID) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
