package socialtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

var fanoutTests = []suiteTest{
	{"FanoutReachesEveryFollowerOnce", testFanoutReachesAll},
	{"TimelinesTrimmedToSize", testTimelinesTrimmed},
	{"FanoutTwiceLeavesOneEntry", testFanoutTwice},
	{"DeleteCleansTimelines", testDeleteCleans},
	{"FanoutAfterDeleteLeavesNoTrace", testFanoutAfterDelete},
	{"WorkerDiesJobRunsAgain", testWorkerDies},
	{"FollowerChunks", testFollowerChunks},
	{"DeliverManyInOneCall", testDeliverMany},
	{"FanoutOfManyPostsBatched", testFanoutBatched},
	{"FanoutPlannedInSteps", testFanoutPlannedInSteps},
	{"NoDeliveryAfterUnfollow", testNoDeliveryAfterUnfollow},
	{"DeliveredEventsLeaveOutUnfollowers", testDeliveredEventsLeaveOutUnfollowers},
}

// fans is more than two chunks of followers, so that every fan-out is
// split into several jobs.
const fans = 7

// audience is a star with fans followers and a list (owned by a user who
// does not follow the star) that contains the star.
type audience struct {
	star, owner social.User
	fans        []social.User
	list        social.List
}

func (e *env) audience() audience {
	e.t.Helper()
	a := audience{star: e.register("star"), owner: e.register("owner"), fans: e.registerMany("fan", fans)}
	for _, f := range a.fans {
		e.follow(f, a.star)
	}
	a.list = e.createList(a.owner, "stars")
	e.addMember(a.owner, a.list, a.star)
	e.drain()
	return a
}

// timelines are every timeline the star's statuses fan out to.
func (a audience) timelines() []social.Timeline {
	tls := []social.Timeline{social.ListOf(a.list.ID)}
	for _, f := range a.fans {
		tls = append(tls, social.HomeOf(f.ID))
	}
	return tls
}

// wantEverywhere checks that each timeline of the audience holds id exactly
// once (times 1) or not at all (times 0).
func (e *env) wantEverywhere(a audience, id social.StatusID, times int, when string) {
	e.t.Helper()
	for _, tl := range a.timelines() {
		if got := count(e.raw(tl), id); got != times {
			e.t.Fatalf("%s: status %d is %d times in %v (%v), want %d", when, id, got, tl, e.raw(tl), times)
		}
	}
}

func testFanoutReachesAll(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	lurker := e.register("lurker")
	s := e.post(a.star, "hello fans").ID
	wantIDs(t, "star's home right after posting", e.raw(social.HomeOf(a.star.ID)), []social.StatusID{s})
	// Fan-out is a job: no follower has the status before it runs.
	e.wantEverywhere(a, s, 0, "before the fan-out ran")

	e.drain()
	e.wantEverywhere(a, s, 1, "after the fan-out ran")
	wantIDs(t, "home of a user who follows nobody", e.raw(social.HomeOf(lurker.ID)), nil)
	wantIDs(t, "owner's home (the list is not a follow)", e.raw(social.HomeOf(a.owner.ID)), nil)

	s2 := e.post(a.star, "again").ID
	e.drain()
	for _, tl := range a.timelines() {
		wantIDs(t, fmt.Sprintf("%v after two posts", tl), e.raw(tl), []social.StatusID{s2, s})
	}
}

func testTimelinesTrimmed(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	own := e.post(a.fans[0], "older than the star's").ID
	s := e.postMany(a.star, 8)
	e.drain()
	want := newest(timelineSize, s...)
	for _, tl := range a.timelines() {
		wantIDs(t, fmt.Sprintf("%v after 8 posts", tl), e.raw(tl), want)
	}
	wantIDs(t, "star's home, trimmed", e.raw(social.HomeOf(a.star.ID)), want)
	wantIDs(t, "star's profile, never trimmed", e.read(social.ProfileOf(a.star.ID)), reversed(s))
	if count(e.raw(social.HomeOf(a.fans[0].ID)), own) != 0 {
		t.Fatalf("fan1's own older status survived trimming")
	}
	wantIDs(t, "fan1's profile keeps its status", e.read(social.ProfileOf(a.fans[0].ID)), []social.StatusID{own})
}

func testFanoutTwice(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s := e.post(a.star, "once").ID
	e.drain()
	// The atomic step of a delivery, applied twice.
	for range 2 {
		skipped, err := e.store.Deliver(e.ctx, []social.Delivery{{Status: s, Author: a.star.ID, Timelines: a.timelines()}})
		if err != nil {
			t.Fatalf("store.Deliver: %v", err)
		}
		wantNoneSkipped(t, "a delivery to followers", skipped)
	}
	e.wantEverywhere(a, s, 1, "after delivering twice by hand")

	// Every job of a fan-out run twice over: the planning job and each
	// delivery it plans.
	s2 := e.post(a.star, "twice").ID
	e.requeue(e.claimPending("duplicator", time.Minute), 2)
	e.drain()
	e.wantEverywhere(a, s2, 1, "after running the fan-out twice")

	// And the same for the cleanup of a delete.
	if err := e.svc.DeleteStatus(e.ctx, a.star.ID, s2); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	e.requeue(e.claimPending("duplicator", time.Minute), 2)
	e.drain()
	e.wantEverywhere(a, s2, 0, "after running the cleanup twice")
	e.wantEverywhere(a, s, 1, "the other status, after the cleanup")
	for range 2 {
		if err := e.store.RemoveFromTimelines(e.ctx, s2, a.timelines()); err != nil {
			t.Fatalf("store.RemoveFromTimelines: %v", err)
		}
	}
	e.wantEverywhere(a, s, 1, "the other status, after removing twice by hand")
}

func testDeleteCleans(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s1, s2 := e.post(a.star, "keep").ID, e.post(a.star, "regret").ID
	e.drain()
	e.wantEverywhere(a, s2, 1, "before the delete")

	if err := e.svc.DeleteStatus(e.ctx, a.star.ID, s2); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	// Every read skips it at once, while the entries still wait for cleanup.
	for _, tl := range a.timelines() {
		wantIDs(t, fmt.Sprintf("%v as read right after the delete", tl), e.read(tl), []social.StatusID{s1})
	}
	lt, err := e.svc.ListTimeline(e.ctx, a.list.ID, social.Page{})
	if err != nil {
		t.Fatalf("ListTimeline: %v", err)
	}
	wantIDs(t, "list timeline right after the delete", statusIDs(lt), []social.StatusID{s1})

	e.drain()
	e.wantEverywhere(a, s2, 0, "after cleanup")
	e.wantEverywhere(a, s1, 1, "the other status, after cleanup")
}

// testFanoutAfterDelete holds the fan-out of a status until its delete and
// cleanup have run, then lets it run: it must put the status nowhere.
func testFanoutAfterDelete(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s := e.post(a.star, "gone before it spread").ID
	held := e.claimPending("slow-worker", time.Minute)
	if len(held) != 1 {
		t.Fatalf("jobs pending after one post: got %d, want 1 (its fan-out)", len(held))
	}
	if err := e.svc.DeleteStatus(e.ctx, a.star.ID, s); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	// The cleanup runs while the fan-out is still held.
	if err := e.runner.Drain(e.ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	wantIDs(t, "star's home after cleanup", e.raw(social.HomeOf(a.star.ID)), nil)
	e.requeue(held, 1)
	e.drain() // the fan-out, late
	e.wantEverywhere(a, s, 0, "after a fan-out that ran after the delete")
	wantIDs(t, "star's home", e.raw(social.HomeOf(a.star.ID)), nil)
	skipped, err := e.store.Deliver(e.ctx, []social.Delivery{{Status: s, Timelines: a.timelines()}})
	if err != nil {
		t.Fatalf("store.Deliver of a deleted status: %v", err)
	}
	e.wantEverywhere(a, s, 0, "after delivering a deleted status by hand")
	wantSkipped(t, "a delivery of a deleted status", skipped, []social.Skipped{{Status: s}})
}

// testWorkerDies has a worker claim the fan-out of a status and vanish
// without settling it. Once the lease runs out the job runs again and the
// status reaches everyone, once.
func testWorkerDies(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s := e.post(a.star, "survives a crash").ID
	before := time.Now()
	lost, err := e.queue.Claim(e.ctx, jobs.Claim{Consumer: "doomed", Max: 10, Lease: shortLease})
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(lost) != 1 {
		t.Fatalf("jobs pending after one post: got %d, want 1 (its fan-out)", len(lost))
	}
	if err := e.runner.Drain(e.ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if time.Since(before) < shortLease-clockSlack {
		// The lease cannot have run out yet, so nothing can have run.
		e.wantEverywhere(a, s, 0, "while the dead worker's lease lasts")
	}
	eventually(t, "the fan-out to run again after the lease", func() bool {
		if err := e.runner.Drain(e.ctx); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		return e.queueStats() == jobs.Stats{}
	})
	e.wantEverywhere(a, s, 1, "after the fan-out ran again")
	if err := e.queue.Complete(e.ctx, lost[0]); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Complete by the worker that lost its lease: got %v, want ErrLeaseLost", err)
	}
}

// testFollowerChunks checks the store's follower cursor, which fan-out
// relies on to visit every follower once however large the audience.
func testFollowerChunks(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	var got []social.UserID
	cursor := ""
	for calls := 1; ; calls++ {
		ids, next, err := e.store.FollowerChunk(e.ctx, a.star.ID, cursor, 3)
		if err != nil {
			t.Fatalf("FollowerChunk(%q): %v", cursor, err)
		}
		if len(ids) > 3 {
			t.Fatalf("FollowerChunk with limit 3: got %d ids", len(ids))
		}
		got = append(got, ids...)
		if next == "" {
			break
		}
		if calls > fans {
			t.Fatalf("FollowerChunk still returns a cursor after %d calls for %d followers", calls, fans)
		}
		cursor = next
	}
	slices.Sort(got)
	wantIDs(t, "followers visited by chunks", got, uids(a.fans...))

	ids, next, err := e.store.FollowerChunk(e.ctx, a.owner.ID, "", 3)
	if err != nil || len(ids) != 0 || next != "" {
		t.Fatalf("FollowerChunk of a user without followers: got %v, %q, %v; want none, \"\", nil", ids, next, err)
	}
}

// testDeliverMany checks Store.Deliver, the delivery of several statuses in
// one call: each reaches its own timelines once, a deleted status and a
// deleted list are skipped, and delivering again adds nothing.
func testDeliverMany(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	other := e.register("other")
	doomedList := e.createList(other, "doomed")
	s1 := e.post(a.star, "one").ID
	s2 := e.post(a.star, "two").ID
	gone := e.post(a.star, "gone").ID
	s3 := e.post(other, "three").ID
	if err := e.svc.DeleteStatus(e.ctx, a.star.ID, gone); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	if err := e.svc.DeleteList(e.ctx, other.ID, doomedList.ID); err != nil {
		t.Fatalf("DeleteList: %v", err)
	}
	e.drain()
	fans := a.timelines()
	ds := []social.Delivery{
		{Status: s1, Timelines: fans},
		{Status: gone, Timelines: fans},
		{Status: s2, Timelines: fans[:3]},
		{Status: s3, Timelines: []social.Timeline{social.HomeOf(a.fans[0].ID), social.ListOf(doomedList.ID)}},
		{Status: s2, Timelines: fans[3:]},
		{Status: s3},
	}
	for range 2 {
		skipped, err := e.store.Deliver(e.ctx, ds)
		if err != nil {
			t.Fatalf("store.Deliver: %v", err)
		}
		wantSkipped(t, "deliveries of several statuses, one deleted", skipped, []social.Skipped{{Status: gone}})
		e.wantEverywhere(a, s1, 1, "after delivering several statuses at once")
		e.wantEverywhere(a, s2, 1, "a status delivered in two parts of one call")
		e.wantEverywhere(a, gone, 0, "a deleted status delivered with others")
		if got := count(e.raw(social.HomeOf(a.fans[0].ID)), s3); got != 1 {
			t.Fatalf("status %d is %d times in fan1's home, want 1", s3, got)
		}
		wantIDs(t, "timeline of a deleted list", e.raw(social.ListOf(doomedList.ID)), nil)
	}
	if skipped, err := e.store.Deliver(e.ctx, nil); err != nil || skipped != nil {
		t.Fatalf("store.Deliver of nothing: got %v, %v; want nil, nil", skipped, err)
	}
}

// testFanoutBatched has several authors post several statuses each before
// any job runs, so that the runner hands the fan-outs to the handlers in
// batches, a deleted status among them: every status reaches each of its
// author's audiences once, and the deleted one none.
func testFanoutBatched(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	small := e.register("small")
	fan := e.register("smallfan")
	e.follow(fan, small)
	e.drain()
	var stars, smalls []social.StatusID
	for i := range 4 {
		stars = append(stars, e.post(a.star, fmt.Sprintf("star %d", i)).ID)
		smalls = append(smalls, e.post(small, fmt.Sprintf("small %d", i)).ID)
	}
	gone := e.post(small, "deleted before its fan-out").ID
	if err := e.svc.DeleteStatus(e.ctx, small.ID, gone); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	e.drain()
	for _, id := range stars {
		e.wantEverywhere(a, id, 1, "after batched fan-outs")
	}
	wantIDs(t, "home of the small author's fan", e.raw(social.HomeOf(fan.ID)), newest(timelineSize, smalls...))
	if got := count(e.raw(social.HomeOf(fan.ID)), gone); got != 0 {
		t.Fatalf("deleted status is %d times in the fan's home, want 0", got)
	}
}

// testFanoutPlannedInSteps checks that a fan-out to more followers than
// FanoutPlanStep is planned by a chain of planning jobs: the first one
// leaves a planning job for the rest besides its chunks, and the chain,
// run to its end, reaches everyone once.
func testFanoutPlannedInSteps(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s := e.post(a.star, "planned in steps").ID
	first := e.claimPending("planner", time.Minute)
	if len(first) != 1 {
		t.Fatalf("jobs pending after one post: got %d, want 1 (its fan-out)", len(first))
	}
	e.requeue(first, 1)
	one := jobs.NewRunner(&claimBudget{Queue: e.queue, left: 1}, jobs.RunnerConfig{Consumer: "one-job", Lease: time.Minute}, e.runnerLog())
	e.svc.RegisterJobs(one)
	if err := one.Drain(e.ctx); err != nil {
		t.Fatalf("Drain of the first planning job: %v", err)
	}
	next := e.claimPending("inspector", time.Minute)
	planners := 0
	for _, j := range next {
		if j.Kind == first[0].Kind {
			planners++
		}
	}
	if planners != 1 || len(next) < 2 {
		t.Fatalf("jobs after the first planning step of %d followers (plan step %d): got %d, %d of them planning; want chunks and one planning job for the rest",
			fans, fanoutPlanStep, len(next), planners)
	}
	e.requeue(next, 1)
	e.drain()
	e.wantEverywhere(a, s, 1, "after the chain of planning jobs")
}

// ClaimAtMost returns q handing out at most n jobs in all, so that a
// Runner's Drain over it runs just that many.
func ClaimAtMost(q jobs.Queue, n int) jobs.Queue { return &claimBudget{Queue: q, left: n} }

// claimBudget is ClaimAtMost's queue.
type claimBudget struct {
	jobs.Queue
	mu   sync.Mutex // guards left
	left int
}

func (q *claimBudget) Claim(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c.Max = min(max(c.Max, 1), q.left)
	if c.Max == 0 {
		return nil, nil
	}
	got, err := q.Queue.Claim(ctx, c)
	q.left -= len(got)
	return got, err
}

// testNoDeliveryAfterUnfollow interleaves a fan-out with an unfollow: the
// delivery was planned while a fan still followed the star, and runs after
// the fan unfollowed. The status must not come back into the fan's home
// after the unfollow's purge, and Deliver reports that home as skipped;
// everyone else still gets it, and following again lets later statuses
// through with nothing skipped.
func testNoDeliveryAfterUnfollow(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	gone, stays := a.fans[0], a.fans[1]
	s := e.post(a.star, "planned for every fan").ID
	// The fan-out waits in the queue; its deliveries name every fan.
	held := e.claimPending("planner", time.Minute)
	planned := []social.Delivery{{Status: s, Author: a.star.ID, Timelines: a.timelines()}}

	e.unfollow(gone, a.star)
	for range 2 {
		skipped, err := e.store.Deliver(e.ctx, planned)
		if err != nil {
			t.Fatalf("store.Deliver planned before the unfollow: %v", err)
		}
		wantSkipped(t, "a delivery planned before the unfollow", skipped, []social.Skipped{{Status: s, Home: gone.ID}})
		if got := count(e.raw(social.HomeOf(gone.ID)), s); got != 0 {
			t.Fatalf("a delivery planned before the unfollow put status %d back into the unfollower's home: %v", s, e.raw(social.HomeOf(gone.ID)))
		}
		if got := count(e.raw(social.HomeOf(stays.ID)), s); got != 1 {
			t.Fatalf("status %d is %d times in a follower's home, want 1", s, got)
		}
		if got := count(e.raw(social.ListOf(a.list.ID)), s); got != 1 {
			t.Fatalf("status %d is %d times in a list with the star, want 1", s, got)
		}
	}
	// The planned fan-out itself, late, reads today's followers.
	e.requeue(held, 1)
	e.drain()
	if got := count(e.raw(social.HomeOf(gone.ID)), s); got != 0 {
		t.Fatalf("the late fan-out put status %d into the unfollower's home", s)
	}

	// Several statuses in one call, as batched fan-out jobs deliver them:
	// another author's status to the same home is not skipped.
	other := e.register("other")
	e.follow(gone, other)
	s2 := e.post(other, "from someone still followed").ID
	e.drain()
	batch := append(slices.Clone(planned), social.Delivery{Status: s2, Author: other.ID, Timelines: []social.Timeline{social.HomeOf(gone.ID), social.HomeOf(stays.ID)}})
	skipped, err := e.store.Deliver(e.ctx, batch)
	if err != nil {
		t.Fatalf("store.Deliver of a batch planned before the unfollow: %v", err)
	}
	wantSkipped(t, "a batch with a delivery planned before the unfollow", skipped, []social.Skipped{{Status: s, Home: gone.ID}})
	if got := count(e.raw(social.HomeOf(gone.ID)), s); got != 0 {
		t.Fatalf("a batch planned before the unfollow put status %d back into the unfollower's home", s)
	}

	// Following again lifts the mark: nothing is skipped any more, and new
	// statuses arrive as before.
	e.follow(gone, a.star)
	skipped, err = e.store.Deliver(e.ctx, planned)
	if err != nil {
		t.Fatalf("store.Deliver after following again: %v", err)
	}
	wantNoneSkipped(t, "a delivery after the unfollower followed again", skipped)
	s3 := e.post(a.star, "after following again").ID
	e.drain()
	e.wantEverywhere(a, s3, 1, "after the unfollower followed again")
}

// wantSkipped checks what a Deliver reported skipped, in any order and
// with repeats merged, against want.
func wantSkipped(t *testing.T, what string, got, want []social.Skipped) {
	t.Helper()
	order := func(x, y social.Skipped) int {
		return cmp.Or(cmp.Compare(x.Status, y.Status), cmp.Compare(x.Home, y.Home))
	}
	got = slices.Compact(slices.SortedFunc(slices.Values(got), order))
	want = slices.SortedFunc(slices.Values(want), order)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: Deliver skipped %v, want %v", what, got, want)
	}
}

// wantNoneSkipped checks that a Deliver reported nothing skipped, with a
// nil slice: the common case allocates nothing for it.
func wantNoneSkipped(t *testing.T, what string, got []social.Skipped) {
	t.Helper()
	if got != nil {
		t.Fatalf("%s: Deliver skipped %v, want nil", what, got)
	}
}
