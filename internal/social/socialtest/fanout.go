package socialtest

import (
	"errors"
	"fmt"
	"slices"
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
func (e *env) wantEverywhere(a audience, id int64, times int, when string) {
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
	wantIDs(t, "star's home right after posting", e.raw(social.HomeOf(a.star.ID)), []int64{s})
	// Fan-out is a job: no follower has the status before it runs.
	e.wantEverywhere(a, s, 0, "before the fan-out ran")

	e.drain()
	e.wantEverywhere(a, s, 1, "after the fan-out ran")
	wantIDs(t, "home of a user who follows nobody", e.raw(social.HomeOf(lurker.ID)), nil)
	wantIDs(t, "owner's home (the list is not a follow)", e.raw(social.HomeOf(a.owner.ID)), nil)

	s2 := e.post(a.star, "again").ID
	e.drain()
	for _, tl := range a.timelines() {
		wantIDs(t, fmt.Sprintf("%v after two posts", tl), e.raw(tl), []int64{s2, s})
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
	wantIDs(t, "fan1's profile keeps its status", e.read(social.ProfileOf(a.fans[0].ID)), []int64{own})
}

func testFanoutTwice(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	a := e.audience()
	s := e.post(a.star, "once").ID
	e.drain()
	// The atomic step of a delivery, applied twice.
	for range 2 {
		if err := e.store.AddToTimelines(e.ctx, s, a.timelines(), timelineSize); err != nil {
			t.Fatalf("store.AddToTimelines: %v", err)
		}
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
		wantIDs(t, fmt.Sprintf("%v as read right after the delete", tl), e.read(tl), []int64{s1})
	}
	lt, err := e.svc.ListTimeline(e.ctx, a.list.ID, social.Page{})
	if err != nil {
		t.Fatalf("ListTimeline: %v", err)
	}
	wantIDs(t, "list timeline right after the delete", statusIDs(lt), []int64{s1})

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
	if err := e.store.AddToTimelines(e.ctx, s, a.timelines(), timelineSize); err != nil {
		t.Fatalf("store.AddToTimelines of a deleted status: %v", err)
	}
	e.wantEverywhere(a, s, 0, "after delivering a deleted status by hand")
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
	var got []int64
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
