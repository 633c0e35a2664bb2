package sqlite

import (
	"slices"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// A refill reads what to merge outside the write transaction, so that its
// cost, linear in the followings, does not hold the writer. What changes
// between the read and the write must not leak in: the statuses of an
// account unfollowed, and statuses deleted, in between stay out.
func TestRefillIgnoresChangesSinceItsRead(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	now := time.Now()
	user := func(login string) social.UserID {
		u, err := db.CreateUser(ctx, social.NewUser{Login: login, Name: login, PasswordHash: "x", Signup: now})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	noJob := func(social.Status) jobs.NewJob { return jobs.NewJob{Kind: "test.none", Payload: []byte("{}")} }
	post := func(uid social.UserID) social.StatusID {
		st, err := db.CreateStatus(ctx, social.NewStatus{UID: uid, Message: "m", Posted: now}, noJob)
		if err != nil {
			t.Fatal(err)
		}
		return st.ID
	}
	alice, bob, carol := user("alice"), user("bob"), user("carol")
	c1, c2 := post(carol), post(carol)
	b1, b2 := post(bob), post(bob)
	for _, followee := range []social.UserID{bob, carol} {
		if _, err := db.Follow(ctx, alice, followee, now); err != nil {
			t.Fatal(err)
		}
	}
	db.afterRefillRead = func() {
		if _, err := db.Unfollow(ctx, alice, bob, jobs.NewJob{Kind: "test.none", Payload: []byte("{}")}); err != nil {
			t.Errorf("Unfollow: %v", err)
		}
	}
	if err := db.RefillTimeline(ctx, social.HomeOf(alice)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	got, err := db.TimelineIDs(ctx, social.HomeOf(alice), social.Page{Count: 10, Page: 1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, b1) || slices.Contains(got, b2) {
		t.Fatalf("alice's home %v after the refill holds statuses of bob (%d, %d), unfollowed since the refill's read", got, b1, b2)
	}
	if !slices.Contains(got, c1) || !slices.Contains(got, c2) {
		t.Fatalf("alice's home %v after the refill lacks carol's %d and %d", got, c1, c2)
	}
}
