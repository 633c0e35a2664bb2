package socialtest

import (
	"slices"
	"testing"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Handles returns two stores over one fresh, empty deployment, as two
// processes would hold them, and the job queue of the first. An engine that
// serves one process at a time returns the same store twice.
type Handles func(t *testing.T) (writer, reader social.Store, queue jobs.Queue)

// RunFreshReads checks that every read is fresh by contract: a status
// deleted through one handle is gone from every read method of the other at
// once, however the reader's caches were filled before, and what is posted
// through one handle is in the other's timelines as soon as it was
// delivered.
func RunFreshReads(t *testing.T, newHandles Handles) {
	writer, reader, queue := newHandles(t)
	e := newEnv(t, func(*testing.T) (social.Store, jobs.Queue) { return writer, queue })
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	l := e.createList(bob, "friends")
	e.addMember(bob, l, alice)
	s1, s2, s3 := e.post(alice, "one"), e.post(alice, "two"), e.post(alice, "three")
	e.drain()
	posted := []social.StatusID{s3.ID, s2.ID, s1.ID}
	pages := map[string]social.Timeline{
		"bob's home":      social.HomeOf(bob.ID),
		"alice's home":    social.HomeOf(alice.ID),
		"alice's profile": social.ProfileOf(alice.ID),
		"bob's list":      social.ListOf(l.ID),
	}
	// Every read through the reader, twice, so that whatever it caches is
	// cached.
	read := func(when string) map[string][]social.StatusID {
		t.Helper()
		got := make(map[string][]social.StatusID)
		for range 2 {
			sts, err := reader.Statuses(e.ctx, posted)
			if err != nil {
				t.Fatalf("%s: Statuses: %v", when, err)
			}
			got["Statuses of several"] = statusIDs(sts)
			one, err := reader.Statuses(e.ctx, []social.StatusID{s2.ID})
			if err != nil {
				t.Fatalf("%s: Statuses: %v", when, err)
			}
			got["Statuses of one"] = statusIDs(one)
			for name, tl := range pages {
				sts, err := reader.TimelinePage(e.ctx, tl, social.Page{Count: all, Page: 1})
				if err != nil {
					t.Fatalf("%s: TimelinePage(%s): %v", when, name, err)
				}
				got["TimelinePage of "+name] = statusIDs(sts)
			}
		}
		return got
	}
	for what, ids := range read("before the delete") {
		want := posted
		if what == "Statuses of one" {
			want = []social.StatusID{s2.ID}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("before the delete, %s = %v, want %v", what, ids, want)
		}
	}

	// The delete's cleanup jobs stay queued: bob's home and list still
	// hold the id, and reads must skip it all the same.
	if err := e.svc.DeleteStatus(e.ctx, alice.ID, s2.ID); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	for what, ids := range read("right after the delete") {
		if slices.Contains(ids, s2.ID) {
			t.Errorf("right after the delete through another handle, %s = %v, still holding %d", what, ids, s2.ID)
		}
	}

	s4 := e.post(alice, "four")
	e.drain()
	for what, ids := range read("after a new post was delivered") {
		if what != "Statuses of several" && what != "Statuses of one" && !slices.Contains(ids, s4.ID) {
			t.Errorf("after a post delivered through another handle, %s = %v, missing %d", what, ids, s4.ID)
		}
	}
}
