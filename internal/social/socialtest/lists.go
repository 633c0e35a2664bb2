package socialtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

var listTests = []suiteTest{
	{"CreateList", testCreateList},
	{"ListOwnerOnly", testListOwnerOnly},
	{"ListAddMemberCopiesStatuses", testListAddMember},
	{"ListRemoveMemberPurgesAndRefills", testListRemoveMember},
	{"ListFanout", testListFanout},
	{"ListMembersNewestFirst", testListMembersNewestFirst},
	{"DeleteList", testDeleteList},
	{"ListLimits", testListLimits},
}

func wantSameList(t *testing.T, what string, got, want social.List) {
	t.Helper()
	if got.ID != want.ID || got.UID != want.UID || got.Login != want.Login || got.Name != want.Name ||
		got.Members != want.Members || !got.Created.Equal(want.Created) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func listIDs(ls []social.List) []social.ListID {
	ids := make([]social.ListID, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return ids
}

func (e *env) listsContaining(u social.User) []social.ListID {
	e.t.Helper()
	ids, err := e.store.ListsContaining(e.ctx, u.ID)
	if err != nil {
		e.t.Fatalf("store.ListsContaining(%s): %v", u.Login, err)
	}
	// The port promises no order.
	slices.Sort(ids)
	return ids
}

// wantMembers checks a list's member count against its member set and the
// given members, newest first.
func (e *env) wantMembers(l social.List, want ...social.User) {
	e.t.Helper()
	got := e.list(l.ID)
	members := e.members(l)
	wantIDs(e.t, fmt.Sprintf("members of list %d", l.ID), members, uids(want...))
	if got.Members != int64(len(members)) {
		e.t.Fatalf("list %d: member count %d, but the member set has %d", l.ID, got.Members, len(members))
	}
}

func testCreateList(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("Alice"), e.register("bob")
	before := e.clock.Now().Add(-time.Millisecond)
	l1, err := e.svc.CreateList(e.ctx, alice, "  Friends ")
	if err != nil {
		t.Fatalf("CreateList: %v", err)
	}
	if l1.ID <= 0 || l1.Name != "Friends" || l1.UID != alice.ID || l1.Login != "Alice" || l1.Members != 0 ||
		l1.Created.Before(before) || l1.Created.After(e.clock.Now()) {
		t.Fatalf("created list: got %+v, want a new id, trimmed name, owner %d %q, no members, created now", l1, alice.ID, "Alice")
	}
	wantSameList(t, "List", e.list(l1.ID), l1)
	long := strings.Repeat("é", social.MaxListNameLen)
	l2 := e.createList(alice, long)
	if l2.Name != long || l2.ID <= l1.ID {
		t.Fatalf("second list: got id %d name %q, want an id above %d and the name as given", l2.ID, l2.Name, l1.ID)
	}
	for _, name := range []string{"", "   ", strings.Repeat("n", social.MaxListNameLen+1), "tab\tin name", "\xff"} {
		_, err := e.svc.CreateList(e.ctx, alice, name)
		wantValidation(t, fmt.Sprintf("CreateList(%q)", name), err, "name")
	}

	ls, err := e.svc.ListsOf(e.ctx, "ALICE")
	if err != nil {
		t.Fatalf("ListsOf: %v", err)
	}
	wantIDs(t, "alice's lists, oldest first", listIDs(ls), []social.ListID{l1.ID, l2.ID})
	wantSameList(t, "ListsOf[0]", ls[0], l1)
	if ls, err := e.svc.ListsOf(e.ctx, bob.Login); err != nil || len(ls) != 0 {
		t.Fatalf("ListsOf(bob): got %d lists, err %v; want none", len(ls), err)
	}
	_, err = e.svc.ListsOf(e.ctx, "nobody")
	wantErr(t, "ListsOf(nobody)", err, social.ErrUserNotFound)
	for _, id := range []social.ListID{0, -1, l2.ID + 1000} {
		_, err := e.svc.List(e.ctx, id)
		wantErr(t, fmt.Sprintf("List(%d)", id), err, social.ErrListNotFound)
		_, err = e.svc.ListTimeline(e.ctx, id, social.Page{})
		wantErr(t, fmt.Sprintf("ListTimeline(%d)", id), err, social.ErrListNotFound)
		_, err = e.svc.ListMembers(e.ctx, id, social.Page{})
		wantErr(t, fmt.Sprintf("ListMembers(%d)", id), err, social.ErrListNotFound)
	}
}

func testListOwnerOnly(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	c1 := e.post(carol, "c1").ID
	l := e.createList(alice, "mine")
	wantErr(t, "AddListMember by another user", e.svc.AddListMember(e.ctx, bob.ID, l.ID, "carol"), social.ErrForbidden)
	e.wantMembers(l)
	e.addMember(alice, l, carol)
	wantErr(t, "RemoveListMember by another user", e.svc.RemoveListMember(e.ctx, bob.ID, l.ID, "carol"), social.ErrForbidden)
	wantErr(t, "DeleteList by another user", e.svc.DeleteList(e.ctx, bob.ID, l.ID), social.ErrForbidden)
	// Anyone may read it.
	e.wantMembers(l, carol)
	sts, err := e.svc.ListTimeline(e.ctx, l.ID, social.Page{})
	if err != nil {
		t.Fatalf("ListTimeline: %v", err)
	}
	wantIDs(t, "list timeline", statusIDs(sts), []social.StatusID{c1})

	missing := l.ID + 1000
	wantErr(t, "AddListMember to a missing list", e.svc.AddListMember(e.ctx, alice.ID, missing, "carol"), social.ErrListNotFound)
	wantErr(t, "RemoveListMember from a missing list", e.svc.RemoveListMember(e.ctx, alice.ID, missing, "carol"), social.ErrListNotFound)
	wantErr(t, "DeleteList of a missing list", e.svc.DeleteList(e.ctx, alice.ID, missing), social.ErrListNotFound)
	wantErr(t, "AddListMember of an unknown user", e.svc.AddListMember(e.ctx, alice.ID, l.ID, "nobody"), social.ErrUserNotFound)
	e.wantMembers(l, carol)
}

func testListAddMember(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, carol, dave := e.register("alice"), e.register("carol"), e.register("dave")
	c := e.postMany(carol, 7)
	l := e.createList(alice, "watch")
	e.addMember(alice, l, carol)
	// Copied before the call returns, trimmed to H.
	wantIDs(t, "list right after adding carol", e.raw(social.ListOf(l.ID)), newest(timelineSize, c...))
	e.wantMembers(l, carol)
	wantIDs(t, "lists containing carol", e.listsContaining(carol), []social.ListID{l.ID})

	e.addMember(alice, l, carol)
	ok, err := e.store.AddListMember(e.ctx, l.ID, carol.ID, e.clock.Now(), 100)
	if err != nil || ok {
		t.Fatalf("store.AddListMember of a member: got %v, %v; want false, nil", ok, err)
	}
	e.wantMembers(l, carol)
	wantIDs(t, "list after adding carol again", e.raw(social.ListOf(l.ID)), newest(timelineSize, c...))

	d1 := e.post(dave, "d1").ID
	e.drain()
	e.clock.Advance(time.Second)
	e.addMember(alice, l, dave)
	wantIDs(t, "list after adding dave", e.raw(social.ListOf(l.ID)), newest(timelineSize, append(c, d1)...))
	e.wantMembers(l, dave, carol)
	// A list is not a follow: nobody's home changed.
	wantIDs(t, "alice's home", e.raw(social.HomeOf(alice.ID)), nil)
	e.wantCounts(alice, 0, 0, 0)
}

func testListRemoveMember(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	b := e.postMany(bob, 2)
	c := e.postMany(carol, 5)
	l := e.createList(alice, "watch")
	e.addMember(alice, l, bob)
	e.clock.Advance(time.Second)
	e.addMember(alice, l, carol)
	wantIDs(t, "list with bob and carol", e.raw(social.ListOf(l.ID)), newest(timelineSize, c...))

	e.removeMember(alice, l, carol)
	// Purged before the call returns; carol's statuses had pushed bob's out.
	wantIDs(t, "list right after removing carol", e.raw(social.ListOf(l.ID)), nil)
	e.wantMembers(l, bob)
	wantIDs(t, "lists containing carol", e.listsContaining(carol), nil)
	e.drain()
	wantIDs(t, "list after the refill", e.raw(social.ListOf(l.ID)), reversed(b))

	e.removeMember(alice, l, carol)
	ok, err := e.store.RemoveListMember(e.ctx, l.ID, carol.ID, jobs.NewJob{Kind: "socialtest.never"})
	if err != nil || ok {
		t.Fatalf("store.RemoveListMember of a non-member: got %v, %v; want false, nil", ok, err)
	}
	e.wantMembers(l, bob)
	e.removeMember(alice, l, bob)
	e.wantMembers(l)
	e.drain()
	wantIDs(t, "list without members after the refill", e.raw(social.ListOf(l.ID)), nil)

	// Statuses of former members no longer arrive.
	e.post(carol, "c6")
	e.drain()
	wantIDs(t, "list after a former member posts", e.raw(social.ListOf(l.ID)), nil)
}

func testListFanout(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob, carol, dave := e.register("alice"), e.register("bob"), e.register("carol"), e.register("dave")
	followers := e.registerMany("f", 4)
	for _, f := range followers {
		e.follow(f, carol)
	}
	l1 := e.createList(alice, "carol and dave")
	e.addMember(alice, l1, carol)
	e.addMember(alice, l1, dave)
	l2 := e.createList(bob, "just carol")
	e.addMember(bob, l2, carol)
	l3 := e.createList(bob, "just dave")
	e.addMember(bob, l3, dave)
	e.drain()

	// 4 followers and 2 lists: more than one chunk of recipients.
	s := e.post(carol, "to my lists").ID
	for _, l := range []social.List{l1, l2} {
		if count(e.raw(social.ListOf(l.ID)), s) != 0 {
			t.Fatalf("list %q holds the status before the fan-out ran", l.Name)
		}
	}
	e.drain()
	for _, l := range []social.List{l1, l2} {
		if got := count(e.raw(social.ListOf(l.ID)), s); got != 1 {
			t.Fatalf("list %q holds the status %d times after the fan-out, want 1", l.Name, got)
		}
	}
	for _, f := range followers {
		if got := count(e.raw(social.HomeOf(f.ID)), s); got != 1 {
			t.Fatalf("%s's home holds the status %d times, want 1", f.Login, got)
		}
	}
	wantIDs(t, "list without carol", e.raw(social.ListOf(l3.ID)), nil)

	// Deleting purges it from the lists too.
	if err := e.svc.DeleteStatus(e.ctx, carol.ID, s); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	wantIDs(t, "list as read right after the delete", e.read(social.ListOf(l1.ID)), nil)
	e.drain()
	for _, l := range []social.List{l1, l2} {
		if got := count(e.raw(social.ListOf(l.ID)), s); got != 0 {
			t.Fatalf("list %q holds the deleted status %d times after cleanup, want 0", l.Name, got)
		}
	}
}

func testListMembersNewestFirst(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("alice")
	ms := e.registerMany("m", 4)
	l := e.createList(alice, "four")
	for _, m := range ms {
		e.clock.Advance(time.Second)
		e.addMember(alice, l, m)
	}
	e.wantMembers(l, ms[3], ms[2], ms[1], ms[0])
	for _, c := range []struct {
		p    social.Page
		want []social.UserID
	}{
		{social.Page{Count: 3, Page: 1}, uids(ms[3], ms[2], ms[1])},
		{social.Page{Count: 3, Page: 2}, uids(ms[0])},
		{social.Page{Count: 3, Page: 3}, nil},
	} {
		us, err := e.svc.ListMembers(e.ctx, l.ID, c.p)
		if err != nil {
			t.Fatalf("ListMembers(%+v): %v", c.p, err)
		}
		wantIDs(t, fmt.Sprintf("members page %+v", c.p), userIDs(us), c.want)
	}
	e.removeMember(alice, l, ms[2])
	e.wantMembers(l, ms[3], ms[1], ms[0])
	e.drain()
}

func testDeleteList(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, carol := e.register("alice"), e.register("carol")
	e.post(carol, "c1")
	keep := e.createList(alice, "keep")
	e.addMember(alice, keep, carol)
	doomed := e.createList(alice, "doomed")
	e.addMember(alice, doomed, carol)
	wantIDs(t, "lists containing carol", e.listsContaining(carol), []social.ListID{keep.ID, doomed.ID})

	if err := e.svc.DeleteList(e.ctx, alice.ID, doomed.ID); err != nil {
		t.Fatalf("DeleteList: %v", err)
	}
	_, err := e.svc.List(e.ctx, doomed.ID)
	wantErr(t, "List after DeleteList", err, social.ErrListNotFound)
	_, err = e.svc.ListTimeline(e.ctx, doomed.ID, social.Page{})
	wantErr(t, "ListTimeline after DeleteList", err, social.ErrListNotFound)
	_, err = e.svc.ListMembers(e.ctx, doomed.ID, social.Page{})
	wantErr(t, "ListMembers after DeleteList", err, social.ErrListNotFound)
	wantErr(t, "second DeleteList", e.svc.DeleteList(e.ctx, alice.ID, doomed.ID), social.ErrListNotFound)
	wantErr(t, "AddListMember to a deleted list", e.svc.AddListMember(e.ctx, alice.ID, doomed.ID, "carol"), social.ErrListNotFound)
	ls, err := e.svc.ListsOf(e.ctx, "alice")
	if err != nil {
		t.Fatalf("ListsOf: %v", err)
	}
	wantIDs(t, "alice's lists after the delete", listIDs(ls), []social.ListID{keep.ID})
	wantIDs(t, "lists containing carol after the delete", e.listsContaining(carol), []social.ListID{keep.ID})
	if ids, err := e.store.TimelineIDs(e.ctx, social.ListOf(doomed.ID), social.Page{Count: all, Page: 1}); err == nil && len(ids) != 0 {
		t.Fatalf("timeline of a deleted list: got %v, want it gone", ids)
	}

	// Later statuses of its former member go to the remaining list only.
	c2 := e.post(carol, "c2").ID
	e.drain()
	if got := count(e.raw(social.ListOf(keep.ID)), c2); got != 1 {
		t.Fatalf("remaining list holds the new status %d times, want 1", got)
	}
	e.wantMembers(keep, carol)
}

func testListLimits(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine, func(c *social.Config) { c.MaxLists = 2; c.MaxListMembers = 2 })
	alice := e.register("alice")
	ms := e.registerMany("m", 3)
	l := e.createList(alice, "one")
	e.createList(alice, "two")
	_, err := e.svc.CreateList(e.ctx, alice, "three")
	wantErr(t, "CreateList beyond MaxLists", err, social.ErrLimitReached)
	ls, _ := e.svc.ListsOf(e.ctx, "alice")
	if len(ls) != 2 {
		t.Fatalf("alice's lists: got %d, want 2", len(ls))
	}
	e.clock.Advance(time.Second)
	e.addMember(alice, l, ms[0])
	e.clock.Advance(time.Second)
	e.addMember(alice, l, ms[1])
	wantErr(t, "AddListMember beyond MaxListMembers", e.svc.AddListMember(e.ctx, alice.ID, l.ID, ms[2].Login), social.ErrLimitReached)
	e.wantMembers(l, ms[1], ms[0])
	// Room made, room taken.
	e.removeMember(alice, l, ms[0])
	e.addMember(alice, l, ms[2])
	e.wantMembers(l, ms[2], ms[1])
	e.drain()
}
