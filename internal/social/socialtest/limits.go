package socialtest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

var limitTests = []suiteTest{
	{"RefillsOfOneTimelineCoalesce", testRefillsCoalesce},
	{"FollowingIsCapped", testFollowingIsCapped},
}

// refillCounter counts the refills a Service asks its store for.
type refillCounter struct {
	social.Store
	refills atomic.Int64
}

func (c *refillCounter) RefillTimeline(ctx context.Context, tl social.Timeline) error {
	c.refills.Add(1)
	return c.Store.RefillTimeline(ctx, tl)
}

// Following and unfollowing one account over and over queues a refill of
// the home timeline each time, and each refill reads every followee's
// newest statuses. The queued refills of one timeline run as one: the
// refill jobs of a batch share one refill, and later jobs are skipped when
// a refill started after they were queued. The timeline still ends up
// refilled.
func testRefillsCoalesce(t *testing.T, newEngine Engine) {
	var counter *refillCounter
	e := newEnv(t, func(t *testing.T) (social.Store, jobs.Queue) {
		store, queue := newEngine(t)
		counter = &refillCounter{Store: store}
		return counter, queue
	})
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	c := e.postMany(carol, 3)
	e.postMany(bob, timelineSize)
	e.follow(alice, carol)
	e.follow(alice, bob)
	const rounds = 3 * prefetch // more refill jobs than one batch
	for range rounds {
		e.unfollow(alice, bob)
		e.follow(alice, bob)
	}
	e.unfollow(alice, bob)
	// The refills run a while after they were queued.
	e.clock.Advance(time.Minute)
	e.drain()
	if n := counter.refills.Load(); n != 1 {
		t.Fatalf("%d refill jobs of one timeline ran %d refills, want 1", rounds+1, n)
	}
	wantIDs(t, "alice's home after the refills", e.raw(social.HomeOf(alice.ID)), newest(timelineSize, c...))
}

// A user follows at most MaxFollowing users; following one of them again
// still succeeds, and unfollowing makes room.
func testFollowingIsCapped(t *testing.T, newEngine Engine) {
	const limit = 3
	e := newEnv(t, newEngine, func(c *social.Config) { c.MaxFollowing = limit })
	alice := e.register("alice")
	others := e.registerMany("u", limit+1)
	for _, u := range others[:limit] {
		e.follow(alice, u)
	}
	err := e.svc.Follow(e.ctx, alice.ID, others[limit].Login)
	wantErr(t, "following one more than the limit", err, social.ErrLimitReached)
	if got := e.user(alice).Following; got != limit {
		t.Fatalf("alice follows %d after a refused follow, want %d", got, limit)
	}
	if err := e.svc.Follow(e.ctx, alice.ID, others[1].Login); err != nil {
		t.Fatalf("following again someone already followed at the limit: %v", err)
	}
	e.unfollow(alice, others[0])
	e.follow(alice, others[limit])
}
