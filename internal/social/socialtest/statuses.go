package socialtest

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

var statusTests = []suiteTest{
	{"PostStatus", testPostStatus},
	{"PostValidation", testPostValidation},
	{"StatusIDsIncrease", testStatusIDsIncrease},
	{"DeleteStatus", testDeleteStatus},
	{"StoreStatusSteps", testStoreStatusSteps},
}

func wantSameStatus(t *testing.T, what string, got, want social.Status) {
	t.Helper()
	sameLoc := got.Location == nil && want.Location == nil ||
		got.Location != nil && want.Location != nil && *got.Location == *want.Location
	if got.ID != want.ID || got.UID != want.UID || got.Login != want.Login ||
		got.Message != want.Message || !got.Posted.Equal(want.Posted) || !sameLoc {
		t.Fatalf("%s: got %s, want %s", what, showStatus(got), showStatus(want))
	}
}

func showStatus(s social.Status) string {
	loc := "nil"
	if s.Location != nil {
		loc = fmt.Sprintf("%+v", *s.Location)
	}
	return fmt.Sprintf("{ID:%d UID:%d Login:%q Message:%q Posted:%v Location:%s}", s.ID, s.UID, s.Login, s.Message, s.Posted, loc)
}

func (e *env) status(id social.StatusID) social.Status {
	e.t.Helper()
	st, err := e.svc.Status(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Status(%d): %v", id, err)
	}
	return st
}

func testPostStatus(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("Alice")
	before := e.clock.Now().Add(-time.Millisecond)
	st, err := e.svc.Post(e.ctx, alice, "  hello, world \n", nil)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	after := e.clock.Now()
	if st.ID <= 0 || st.UID != alice.ID || st.Login != "Alice" || st.Message != "hello, world" || st.Location != nil {
		t.Fatalf("posted status: got %s, want a new id, uid %d, login %q, trimmed message, no location", showStatus(st), alice.ID, "Alice")
	}
	if st.Posted.Before(before) || st.Posted.After(after) {
		t.Fatalf("Posted: got %v, want between %v and %v", st.Posted, before, after)
	}
	wantSameStatus(t, "Status after Post", e.status(st.ID), st)
	// In the author's profile and home at once, before any job runs.
	wantIDs(t, "profile right after Post", e.read(social.ProfileOf(alice.ID)), []social.StatusID{st.ID})
	wantIDs(t, "home right after Post", e.read(social.HomeOf(alice.ID)), []social.StatusID{st.ID})
	e.wantCounts(alice, 0, 0, 1)

	for _, c := range []struct {
		message string
		loc     *social.Location
	}{
		{"line one\nline two", &social.Location{Lat: -33.8688, Lon: 151.2093}},
		{"north east corner", &social.Location{Lat: 90, Lon: 180}},
		{"south west corner", &social.Location{Lat: -90, Lon: -180}},
		{"zero", &social.Location{}},
	} {
		got, err := e.svc.Post(e.ctx, alice, c.message, c.loc)
		if err != nil {
			t.Fatalf("Post(%q): %v", c.message, err)
		}
		if got.Message != c.message || got.Location == nil || *got.Location != *c.loc {
			t.Fatalf("Post(%q, %+v): got %s", c.message, *c.loc, showStatus(got))
		}
		wantSameStatus(t, fmt.Sprintf("Status of %q", c.message), e.status(got.ID), got)
	}
	e.wantCounts(alice, 0, 0, 5)
	e.drain()
}

func testPostValidation(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice := e.register("alice")
	maxLen := e.svc.Config().MaxStatusLen
	for _, m := range []string{"", "   \n\t ", strings.Repeat("x", maxLen+1), strings.Repeat("é", maxLen+1), "bad \xff utf-8", "bell \a"} {
		_, err := e.svc.Post(e.ctx, alice, m, nil)
		wantValidation(t, fmt.Sprintf("Post(%q)", m), err, "message")
	}
	for _, loc := range []social.Location{{Lat: 90.0001}, {Lat: -90.5}, {Lon: 180.01}, {Lon: -181}, {Lat: math.NaN()}, {Lon: math.Inf(1)}} {
		_, err := e.svc.Post(e.ctx, alice, "somewhere", &loc)
		wantValidation(t, fmt.Sprintf("Post at %+v", loc), err, "location")
	}
	e.wantCounts(alice, 0, 0, 0)
	wantIDs(t, "profile after refused posts", e.read(social.ProfileOf(alice.ID)), nil)

	// The limit counts characters after trimming.
	long := strings.Repeat("é", maxLen)
	st, err := e.svc.Post(e.ctx, alice, "  "+long+"\n", nil)
	if err != nil {
		t.Fatalf("Post of %d characters: %v", maxLen, err)
	}
	if st.Message != long {
		t.Fatalf("message at the limit: got %d characters, want %d", len([]rune(st.Message)), maxLen)
	}
	wantSameStatus(t, "Status at the limit", e.status(st.ID), st)
	e.wantCounts(alice, 0, 0, 1)
}

func testStatusIDsIncrease(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	var last social.StatusID
	for i := range 10 {
		author := []social.User{alice, bob}[i%2]
		st := e.post(author, fmt.Sprint("status ", i))
		if st.ID <= last {
			t.Fatalf("status %d: got id %d, want above the previous %d", i, st.ID, last)
		}
		last = st.ID
	}

	// Concurrent posts get distinct ids, each poster's in its own order,
	// and the posts counter misses none.
	const posters, each = 4, 5
	ids := make([][]social.StatusID, posters)
	var wg sync.WaitGroup
	for p := range posters {
		author := []social.User{alice, bob}[p%2]
		wg.Go(func() {
			for i := range each {
				st, err := e.svc.Post(e.ctx, author, fmt.Sprintf("poster %d says %d", p, i), nil)
				if err != nil {
					t.Errorf("concurrent Post: %v", err)
					return
				}
				ids[p] = append(ids[p], st.ID)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[social.StatusID]bool{}
	for p, own := range ids {
		for i, id := range own {
			if seen[id] {
				t.Fatalf("status id %d given twice", id)
			}
			seen[id] = true
			if id <= last || i > 0 && id <= own[i-1] {
				t.Fatalf("poster %d's status %d: got id %d, want above %d and its previous", p, i, id, last)
			}
		}
	}
	e.wantCounts(alice, 0, 0, 5+posters/2*each)
	e.wantCounts(bob, 0, 0, 5+posters/2*each)
	profile := e.read(social.ProfileOf(alice.ID))
	if len(profile) != 5+posters/2*each {
		t.Fatalf("alice's profile: got %d statuses, want %d", len(profile), 5+posters/2*each)
	}
	for i := 1; i < len(profile); i++ {
		if profile[i] >= profile[i-1] {
			t.Fatalf("profile not newest first: %v", profile)
		}
	}
	e.drain()
}

func testDeleteStatus(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	s1, s2 := e.post(alice, "first"), e.post(alice, "second")
	e.drain()
	wantIDs(t, "bob's home", e.read(social.HomeOf(bob.ID)), []social.StatusID{s2.ID, s1.ID})

	err := e.svc.DeleteStatus(e.ctx, bob.ID, s2.ID)
	wantErr(t, "DeleteStatus by someone else", err, social.ErrForbidden)
	wantSameStatus(t, "Status after a refused delete", e.status(s2.ID), s2)
	e.wantCounts(alice, 1, 0, 2)

	if err := e.svc.DeleteStatus(e.ctx, alice.ID, s2.ID); err != nil {
		t.Fatalf("DeleteStatus by the author: %v", err)
	}
	// Gone from every read at once, before any job runs.
	_, err = e.svc.Status(e.ctx, s2.ID)
	wantErr(t, "Status after delete", err, social.ErrStatusNotFound)
	if got, err := e.store.Statuses(e.ctx, []social.StatusID{s2.ID}); err != nil || len(got) != 0 {
		t.Fatalf("store.Statuses of a deleted status: got %d, err %v; want none", len(got), err)
	}
	wantIDs(t, "alice's profile after delete", e.read(social.ProfileOf(alice.ID)), []social.StatusID{s1.ID})
	wantIDs(t, "alice's home after delete", e.read(social.HomeOf(alice.ID)), []social.StatusID{s1.ID})
	wantIDs(t, "bob's home after delete", e.read(social.HomeOf(bob.ID)), []social.StatusID{s1.ID})
	wantIDs(t, "alice's profile entries after delete", e.raw(social.ProfileOf(alice.ID)), []social.StatusID{s1.ID})
	wantIDs(t, "alice's home entries after delete", e.raw(social.HomeOf(alice.ID)), []social.StatusID{s1.ID})
	e.wantCounts(alice, 1, 0, 1)

	for _, c := range []struct {
		what   string
		uid    social.UserID
		status social.StatusID
	}{
		{"second delete by the author", alice.ID, s2.ID},
		{"delete of a deleted status by someone else", bob.ID, s2.ID},
		{"delete of a status never posted", alice.ID, s2.ID + 1000},
		{"delete of status 0", alice.ID, 0},
	} {
		wantErr(t, c.what, e.svc.DeleteStatus(e.ctx, c.uid, c.status), social.ErrStatusNotFound)
	}
	e.wantCounts(alice, 1, 0, 1)
	e.drain()
	wantIDs(t, "bob's home entries after cleanup", e.raw(social.HomeOf(bob.ID)), []social.StatusID{s1.ID})
}

// testStoreStatusSteps checks Store methods the Service uses in ways that
// cannot fail through it.
func testStoreStatusSteps(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	alice, bob := e.register("alice"), e.register("bob")
	s1, s2, s3 := e.post(alice, "one"), e.post(bob, "two"), e.post(alice, "three")
	e.drain()

	got, err := e.store.Statuses(e.ctx, []social.StatusID{s3.ID, 999, s1.ID, s2.ID})
	if err != nil {
		t.Fatalf("store.Statuses: %v", err)
	}
	wantIDs(t, "store.Statuses in the order asked, unknown ids skipped", statusIDs(got), []social.StatusID{s3.ID, s1.ID, s2.ID})
	wantSameStatus(t, "store.Statuses[0]", got[0], s3)

	enqueued := func(st social.Status) jobs.NewJob { return jobs.NewJob{Kind: "socialtest.never", Payload: []byte("x")} }
	_, err = e.store.CreateStatus(e.ctx, social.NewStatus{UID: 999, Message: "boo", Posted: e.clock.Now()}, enqueued)
	wantErr(t, "store.CreateStatus by an unknown user", err, social.ErrUserNotFound)
	_, err = e.store.DeleteStatus(e.ctx, bob.ID, s1.ID, enqueued)
	wantErr(t, "store.DeleteStatus by someone else", err, social.ErrForbidden)
	_, err = e.store.DeleteStatus(e.ctx, alice.ID, 999, enqueued)
	wantErr(t, "store.DeleteStatus of an unknown status", err, social.ErrStatusNotFound)
	// A refused step enqueues nothing.
	e.wantQueueEmpty()
	e.wantCounts(alice, 0, 0, 2)

	deleted, err := e.store.DeleteStatus(e.ctx, alice.ID, s1.ID, enqueued)
	if err != nil {
		t.Fatalf("store.DeleteStatus: %v", err)
	}
	wantSameStatus(t, "status returned by store.DeleteStatus", deleted, s1)
	held := e.claimPending("inspector", time.Minute)
	if len(held) != 1 || held[0].Kind != "socialtest.never" {
		t.Fatalf("jobs enqueued by store.DeleteStatus: got %d, want the one cleanup job it was given", len(held))
	}
	if err := e.queue.Complete(e.ctx, held[0]); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}
