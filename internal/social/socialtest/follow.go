package socialtest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

var followTests = []suiteTest{
	{"FollowCopiesNewestStatuses", testFollowCopies},
	{"FollowRepeatSelfUnknown", testFollowRepeatSelfUnknown},
	{"FollowSkipsDeletedStatuses", testFollowSkipsDeleted},
	{"UnfollowRemovesStatuses", testUnfollowRemoves},
	{"RefillAfterUnfollow", testRefillAfterUnfollow},
	{"FollowersFollowingNewestFirst", testFollowersNewestFirst},
	{"ConcurrentFollowUnfollow", testConcurrentFollowUnfollow},
}

// testFollowCopies is the classic flow: following copies the followee's
// newest H statuses into the follower's home, merged with what is there and
// trimmed to H, before the call returns.
func testFollowCopies(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	a1 := e.post(alice, "a1").ID
	b := e.postMany(bob, 3)
	a2 := e.post(alice, "a2").ID
	b = append(b, e.postMany(bob, 4)...)
	wantIDs(t, "bob's own home, trimmed to H", e.raw(social.HomeOf(bob.ID)), newest(timelineSize, b...))

	e.follow(alice, bob)
	want := newest(timelineSize, append([]social.StatusID{a1, a2}, b...)...) // b7 b6 b5 b4 a2
	wantIDs(t, "alice's home right after following bob", e.raw(social.HomeOf(alice.ID)), want)
	wantIDs(t, "alice's home as read", e.read(social.HomeOf(alice.ID)), want)
	wantIDs(t, "bob's home is not touched", e.raw(social.HomeOf(bob.ID)), newest(timelineSize, b...))
	e.wantCounts(alice, 0, 1, 2)
	e.wantCounts(bob, 1, 0, 7)
	wantIDs(t, "bob's followers", e.followers(bob), uids(alice))
	wantIDs(t, "alice's following", e.following(alice), uids(bob))

	// bob's next status reaches alice by fan-out.
	b8 := e.post(bob, "b8").ID
	e.drain()
	wantIDs(t, "alice's home after bob posts again", e.raw(social.HomeOf(alice.ID)), newest(timelineSize, append(want, b8)...))
}

func testFollowRepeatSelfUnknown(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("Alice"), e.register("bob")
	b1 := e.post(bob, "b1").ID
	e.follow(alice, bob)
	e.follow(alice, bob)
	if err := e.svc.Follow(e.ctx, alice.ID, "BOB"); err != nil {
		t.Fatalf("Follow again in another letter case: %v", err)
	}
	ok, err := e.store.Follow(e.ctx, alice.ID, bob.ID, e.clock.Now())
	if err != nil || ok {
		t.Fatalf("store.Follow of a pair already following: got %v, %v; want false, nil", ok, err)
	}
	wantIDs(t, "alice's home after repeated follows", e.raw(social.HomeOf(alice.ID)), []social.StatusID{b1})
	e.wantCounts(alice, 0, 1, 0)
	e.wantCounts(bob, 1, 0, 1)

	for _, login := range []string{"Alice", "alice", "ALICE"} {
		wantErr(t, fmt.Sprintf("Follow(self as %q)", login), e.svc.Follow(e.ctx, alice.ID, login), social.ErrFollowSelf)
		wantErr(t, fmt.Sprintf("Unfollow(self as %q)", login), e.svc.Unfollow(e.ctx, alice.ID, login), social.ErrFollowSelf)
	}
	wantErr(t, "Follow(unknown)", e.svc.Follow(e.ctx, alice.ID, "nobody"), social.ErrUserNotFound)
	wantErr(t, "Unfollow(unknown)", e.svc.Unfollow(e.ctx, alice.ID, "nobody"), social.ErrUserNotFound)
	_, err = e.store.Follow(e.ctx, alice.ID, 999, e.clock.Now())
	wantErr(t, "store.Follow of an unknown user", err, social.ErrUserNotFound)
	_, err = e.store.Follow(e.ctx, 999, alice.ID, e.clock.Now())
	wantErr(t, "store.Follow by an unknown user", err, social.ErrUserNotFound)
	e.wantCounts(alice, 0, 1, 0)
	e.wantCounts(bob, 1, 0, 1)
	e.drain()
}

// testFollowSkipsDeleted checks that a deleted status left the author's
// profile at once, so that a later follow does not copy it.
func testFollowSkipsDeleted(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	b := e.postMany(bob, 3)
	if err := e.svc.DeleteStatus(e.ctx, bob.ID, b[1]); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	e.follow(alice, bob)
	wantIDs(t, "alice's home after following", e.raw(social.HomeOf(alice.ID)), []social.StatusID{b[2], b[0]})
	e.drain()
	wantIDs(t, "alice's home after cleanup", e.raw(social.HomeOf(alice.ID)), []social.StatusID{b[2], b[0]})
}

func testUnfollowRemoves(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	c1 := e.post(carol, "c1").ID
	b := e.postMany(bob, 2)
	a1 := e.post(alice, "a1").ID
	e.follow(alice, bob)
	e.follow(alice, carol)
	wantIDs(t, "alice's home following two", e.raw(social.HomeOf(alice.ID)), []social.StatusID{a1, b[1], b[0], c1})

	e.unfollow(alice, bob)
	// bob's statuses leave before the call returns; nothing else does.
	wantIDs(t, "alice's home right after unfollowing bob", e.raw(social.HomeOf(alice.ID)), []social.StatusID{a1, c1})
	e.wantCounts(alice, 0, 1, 1)
	e.wantCounts(bob, 0, 0, 2)
	wantIDs(t, "alice's following", e.following(alice), uids(carol))

	e.unfollow(alice, bob)
	ok, err := e.store.Unfollow(e.ctx, alice.ID, bob.ID, jobs.NewJob{Kind: "socialtest.never"})
	if err != nil || ok {
		t.Fatalf("store.Unfollow of a pair not following: got %v, %v; want false, nil", ok, err)
	}
	e.wantCounts(alice, 0, 1, 1)
	e.drain()

	// Fan-out reads the followers when it runs: bob no longer reaches alice.
	b3 := e.post(bob, "b3").ID
	c2 := e.post(carol, "c2").ID
	e.drain()
	home := e.raw(social.HomeOf(alice.ID))
	if count(home, b3) != 0 || count(home, c2) != 1 {
		t.Fatalf("alice's home after bob and carol post: got %v, want carol's %d and not bob's %d", home, c2, b3)
	}
}

// testRefillAfterUnfollow unfollows the account that filled the whole home
// timeline: the refill job then rebuilds it from the remaining followee and
// the user's own statuses, newest H of them.
func testRefillAfterUnfollow(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	a1 := e.post(alice, "a1").ID
	c := e.postMany(carol, 7)
	a2 := e.post(alice, "a2").ID
	b := e.postMany(bob, 5)

	e.follow(alice, carol)
	wantIDs(t, "alice's home after following carol", e.raw(social.HomeOf(alice.ID)), newest(timelineSize, append([]social.StatusID{a1, a2}, c...)...))
	e.follow(alice, bob)
	wantIDs(t, "alice's home after following bob", e.raw(social.HomeOf(alice.ID)), newest(timelineSize, b...))

	e.unfollow(alice, bob)
	wantIDs(t, "alice's home right after unfollowing bob", e.raw(social.HomeOf(alice.ID)), nil)
	e.drain()
	want := newest(timelineSize, append([]social.StatusID{a1, a2}, c...)...) // a2 c7 c6 c5 c4
	wantIDs(t, "alice's home after the refill", e.raw(social.HomeOf(alice.ID)), want)
	wantIDs(t, "alice's home as read after the refill", e.read(social.HomeOf(alice.ID)), want)

	// A refill that runs again changes nothing.
	for range 2 {
		if err := e.store.RefillTimeline(e.ctx, social.HomeOf(alice.ID)); err != nil {
			t.Fatalf("store.RefillTimeline: %v", err)
		}
	}
	wantIDs(t, "alice's home after refilling again", e.raw(social.HomeOf(alice.ID)), want)
}

func testFollowersNewestFirst(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	star := e.register("star")
	fans := e.registerMany("fan", 7)
	for _, f := range fans {
		e.clock.Advance(time.Second)
		e.follow(f, star)
	}
	page := func(p social.Page) []social.UserID {
		t.Helper()
		us, err := e.svc.Followers(e.ctx, "STAR", p)
		if err != nil {
			t.Fatalf("Followers(%+v): %v", p, err)
		}
		return userIDs(us)
	}
	f := uids(fans...)
	wantIDs(t, "followers page 1 of 3", page(social.Page{Count: 3, Page: 1}), []social.UserID{f[6], f[5], f[4]})
	wantIDs(t, "followers page 2 of 3", page(social.Page{Count: 3, Page: 2}), []social.UserID{f[3], f[2], f[1]})
	wantIDs(t, "followers page 3 of 3", page(social.Page{Count: 3, Page: 3}), []social.UserID{f[0]})
	wantIDs(t, "followers page 4 of 3", page(social.Page{Count: 3, Page: 4}), nil)
	wantIDs(t, "followers, default page", page(social.Page{}), []social.UserID{f[6], f[5], f[4], f[3], f[2], f[1], f[0]})
	e.wantCounts(star, 7, 0, 0)

	// Following again after unfollowing counts from the new time.
	e.clock.Advance(time.Second)
	e.unfollow(fans[2], star)
	e.follow(fans[2], star)
	wantIDs(t, "followers after fan3 follows again", page(social.Page{Count: 3}), []social.UserID{f[2], f[6], f[5]})

	others := e.registerMany("idol", 3)
	for _, o := range others {
		e.clock.Advance(time.Second)
		e.follow(fans[0], o)
	}
	us, err := e.svc.Following(e.ctx, "fan1", social.Page{Count: all})
	if err != nil {
		t.Fatalf("Following: %v", err)
	}
	wantIDs(t, "fan1 follows, newest first", userIDs(us), append(reversed(uids(others...)), star.ID))
	if got := us[len(us)-1]; got.Login != "star" || got.Followers != 7 {
		t.Fatalf("star as listed in fan1's following: got %+v, want login star with 7 followers", got)
	}
	e.wantCounts(fans[0], 0, 4, 0)
	_, err = e.svc.Following(e.ctx, "nobody", social.Page{})
	wantErr(t, "Following(nobody)", err, social.ErrUserNotFound)
	_, err = e.svc.Followers(e.ctx, "nobody", social.Page{})
	wantErr(t, "Followers(nobody)", err, social.ErrUserNotFound)
}

// testConcurrentFollowUnfollow races follows and unfollows of one pair.
// Whatever the order, the counts must equal the set sizes, both sides must
// agree, and the follower's home must match the outcome.
func testConcurrentFollowUnfollow(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	b := e.postMany(bob, 3)
	const calls = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			<-start
			var err error
			if i%2 == 0 {
				err = e.svc.Follow(e.ctx, alice.ID, "bob")
			} else {
				err = e.svc.Unfollow(e.ctx, alice.ID, "bob")
			}
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	following, followers := e.following(alice), e.followers(bob)
	if len(following) != len(followers) || len(following) > 1 {
		t.Fatalf("after the race: alice follows %v, bob's followers are %v; want both empty or both one", following, followers)
	}
	n := int64(len(following))
	e.wantCounts(alice, 0, n, 0)
	e.wantCounts(bob, n, 0, 3)
	home := e.raw(social.HomeOf(alice.ID))
	if n == 1 {
		wantIDs(t, "alice's home while following bob", home, newest(timelineSize, b...))
	} else {
		wantIDs(t, "alice's home while not following bob", home, nil)
	}

	e.follow(alice, bob)
	e.wantCounts(alice, 0, 1, 0)
	e.wantCounts(bob, 1, 0, 3)
	e.unfollow(alice, bob)
	e.wantCounts(alice, 0, 0, 0)
	e.wantCounts(bob, 0, 0, 3)
	e.drain()
	wantIDs(t, "alice's home at the end", e.raw(social.HomeOf(alice.ID)), nil)
}
