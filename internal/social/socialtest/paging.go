package socialtest

import (
	"fmt"
	"testing"

	"starling/internal/social"
)

var pagingTests = []suiteTest{
	{"PagingCountPageMaxID", testPaging},
	{"PagingCountsDeletedEntries", testPagingCountsDeleted},
	{"PagingOutOfRange", testPagingOutOfRange},
}

func testPaging(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("alice")
	s := e.postMany(alice, 12) // s[0] oldest
	r := reversed(s)           // newest first
	for _, c := range []struct {
		p    social.Page
		want []social.StatusID
	}{
		{social.Page{Count: 5, Page: 1}, r[0:5]},
		{social.Page{Count: 5, Page: 2}, r[5:10]},
		{social.Page{Count: 5, Page: 3}, r[10:12]},
		{social.Page{Count: 5, Page: 4}, nil},
		{social.Page{Count: 2}, r[0:2]}, // page 0 means the first
		{social.Page{}, r},              // count defaults to 30
		{social.Page{Count: 1}, r[0:1]},
		{social.Page{Count: social.MaxPageCount}, r},
		{social.Page{Count: 3, MaxID: s[8]}, []social.StatusID{s[7], s[6], s[5]}},
		{social.Page{Count: 3, MaxID: s[1]}, []social.StatusID{s[0]}},
		{social.Page{Count: 3, MaxID: s[0]}, nil},
		{social.Page{MaxID: s[11] + 1000}, r},
	} {
		sts, err := e.svc.ProfileTimeline(e.ctx, "alice", c.p)
		if err != nil {
			t.Fatalf("ProfileTimeline(%+v): %v", c.p, err)
		}
		wantIDs(t, fmt.Sprintf("profile page %+v", c.p), statusIDs(sts), c.want)
		norm, _ := c.p.Normalize(true)
		ids, err := e.store.TimelineIDs(e.ctx, social.ProfileOf(alice.ID), norm)
		if err != nil {
			t.Fatalf("store.TimelineIDs(%+v): %v", norm, err)
		}
		wantIDs(t, fmt.Sprintf("store.TimelineIDs page %+v", norm), ids, c.want)
	}

	// A home timeline pages the same way within its newest H.
	home := r[:timelineSize]
	for _, c := range []struct {
		p    social.Page
		want []social.StatusID
	}{
		{social.Page{Count: 2, Page: 1}, home[0:2]},
		{social.Page{Count: 2, Page: 3}, home[4:5]},
		{social.Page{Count: 2, Page: 4}, nil},
		{social.Page{Count: 2, MaxID: home[1]}, home[2:4]},
	} {
		sts, err := e.svc.Timeline(e.ctx, social.HomeOf(alice.ID), c.p)
		if err != nil {
			t.Fatalf("Timeline(home, %+v): %v", c.p, err)
		}
		wantIDs(t, fmt.Sprintf("home page %+v", c.p), statusIDs(sts), c.want)
	}
	_, err := e.svc.ProfileTimeline(e.ctx, "nobody", social.Page{})
	wantErr(t, "ProfileTimeline(nobody)", err, social.ErrUserNotFound)
}

// testPagingCountsDeletedEntries reads a follower's home while the entries
// of deleted statuses still wait for cleanup: count applies to the entries,
// so a page comes back short rather than reaching further.
func testPagingCountsDeleted(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	s := e.postMany(alice, 5)
	e.drain()
	for _, id := range []social.StatusID{s[3], s[2]} {
		if err := e.svc.DeleteStatus(e.ctx, alice.ID, id); err != nil {
			t.Fatalf("DeleteStatus: %v", err)
		}
	}
	home := social.HomeOf(bob.ID)
	for _, c := range []struct {
		p        social.Page
		entries  []social.StatusID
		statuses []social.StatusID
	}{
		{social.Page{Count: 3, Page: 1}, []social.StatusID{s[4], s[3], s[2]}, []social.StatusID{s[4]}},
		{social.Page{Count: 3, Page: 2}, []social.StatusID{s[1], s[0]}, []social.StatusID{s[1], s[0]}},
		{social.Page{Count: 2, MaxID: s[4]}, []social.StatusID{s[3], s[2]}, nil},
	} {
		sts, err := e.svc.Timeline(e.ctx, home, c.p)
		if err != nil {
			t.Fatalf("Timeline(%+v): %v", c.p, err)
		}
		wantIDs(t, fmt.Sprintf("bob's home page %+v before cleanup", c.p), statusIDs(sts), c.statuses)
		norm, _ := c.p.Normalize(true)
		ids, err := e.store.TimelineIDs(e.ctx, home, norm)
		if err != nil {
			t.Fatalf("store.TimelineIDs: %v", err)
		}
		wantIDs(t, fmt.Sprintf("bob's home entries %+v before cleanup", norm), ids, c.entries)
	}
	// The author's own timelines lost the entries at once.
	sts, err := e.svc.ProfileTimeline(e.ctx, "alice", social.Page{Count: 3})
	if err != nil {
		t.Fatalf("ProfileTimeline: %v", err)
	}
	wantIDs(t, "alice's profile page after the deletes", statusIDs(sts), []social.StatusID{s[4], s[1], s[0]})

	e.drain()
	sts, err = e.svc.Timeline(e.ctx, home, social.Page{Count: 3})
	if err != nil {
		t.Fatalf("Timeline: %v", err)
	}
	wantIDs(t, "bob's home page after cleanup", statusIDs(sts), []social.StatusID{s[4], s[1], s[0]})
}

func testPagingOutOfRange(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	s := e.post(alice, "x").ID
	l := e.createList(alice, "l")
	bad := []struct {
		p     social.Page
		param string
	}{
		{social.Page{Count: -1}, "count"},
		{social.Page{Count: social.MaxPageCount + 1}, "count"},
		{social.Page{Page: -1}, "page"},
		{social.Page{Page: social.MaxPage + 1}, "page"},
		{social.Page{MaxID: -1}, "max_id"},
		{social.Page{MaxID: s, Page: 2}, "page"},
	}
	reads := []struct {
		name  string
		maxID bool // whether the read pages by max_id at all
		read  func(p social.Page) error
	}{
		{"ProfileTimeline", true, func(p social.Page) error { _, err := e.svc.ProfileTimeline(e.ctx, "alice", p); return err }},
		{"home Timeline", true, func(p social.Page) error { _, err := e.svc.Timeline(e.ctx, social.HomeOf(bob.ID), p); return err }},
		{"ListTimeline", true, func(p social.Page) error { _, err := e.svc.ListTimeline(e.ctx, l.ID, p); return err }},
		{"Followers", false, func(p social.Page) error { _, err := e.svc.Followers(e.ctx, "alice", p); return err }},
		{"Following", false, func(p social.Page) error { _, err := e.svc.Following(e.ctx, "bob", p); return err }},
		{"ListMembers", false, func(p social.Page) error { _, err := e.svc.ListMembers(e.ctx, l.ID, p); return err }},
	}
	for _, r := range reads {
		for _, b := range bad {
			param := b.param
			if !r.maxID && b.p.MaxID != 0 {
				param = "max_id"
			}
			wantPageError(t, fmt.Sprintf("%s(%+v)", r.name, b.p), r.read(b.p), param)
		}
		if !r.maxID {
			wantPageError(t, r.name+" with max_id", r.read(social.Page{MaxID: s}), "max_id")
		}
		for _, ok := range []social.Page{{}, {Count: 1}, {Count: social.MaxPageCount, Page: social.MaxPage}} {
			if err := r.read(ok); err != nil {
				t.Fatalf("%s(%+v): got %v, want no error", r.name, ok, err)
			}
		}
	}
}
