package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/social"
)

const testH = 5 // timeline size of these tests: small, to reach trimming

func noJob(social.Status) jobs.NewJob { return jobs.NewJob{Kind: "test.noop"} }

func mustUser(t *testing.T, e *Engine, login string) social.User {
	t.Helper()
	u, err := e.CreateUser(t.Context(), social.NewUser{Login: login, Name: "The " + login, PasswordHash: "hash-of-" + login, Signup: time.Now()})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", login, err)
	}
	return u
}

// mustPost creates a status and checks that it carries the login of the
// author's record.
func mustPost(t *testing.T, e *Engine, u social.User, msg string) social.Status {
	t.Helper()
	st, err := e.CreateStatus(t.Context(), social.NewStatus{UID: u.ID, Message: msg, Posted: time.Now()}, noJob)
	if err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	if st.Login != u.Login {
		t.Fatalf("CreateStatus by %s: got login %q, want the user's %q", u.Login, st.Login, u.Login)
	}
	return st
}

func mustFollow(t *testing.T, e *Engine, a, b social.User) {
	t.Helper()
	if _, err := e.Follow(t.Context(), a.ID, b.ID, time.Now()); err != nil {
		t.Fatalf("Follow: %v", err)
	}
}

// deliverOne puts status id into each of tls in one Deliver, as a fan-out
// job does for one status.
func deliverOne(t testing.TB, e *Engine, id social.StatusID, tls ...social.Timeline) {
	t.Helper()
	if _, err := e.Deliver(t.Context(), []social.Delivery{{Status: id, Timelines: tls}}); err != nil {
		t.Fatalf("Deliver(status %d to %v): %v", id, tls, err)
	}
}

// raw runs one command on the engine's connection.
func raw(t *testing.T, e *Engine, build func(b rueidis.Builder) rueidis.Completed) rueidis.RedisResult {
	t.Helper()
	return e.client.Do(t.Context(), build(e.client.B()))
}

func keyType(t *testing.T, e *Engine, key string) string {
	t.Helper()
	typ, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Type().Key(key).Build() }).ToString()
	if err != nil {
		t.Fatalf("TYPE %s: %v", key, err)
	}
	return typ
}

func zmembers(t *testing.T, e *Engine, key string) []string {
	t.Helper()
	m, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Zrange().Key(key).Min("0").Max("-1").Build() }).AsStrSlice()
	if err != nil {
		t.Fatalf("ZRANGE %s: %v", key, err)
	}
	return m
}

func hashOf(t *testing.T, e *Engine, key string) map[string]string {
	t.Helper()
	m, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Hgetall().Key(key).Build() }).AsStrMap()
	if err != nil {
		t.Fatalf("HGETALL %s: %v", key, err)
	}
	return m
}

// TestKeyLayout checks the keys of doc.go: names, types and contents.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	p := e.Prefix()
	alice, bob := mustUser(t, e, "Alice"), mustUser(t, e, "bob")
	st := mustPost(t, e, bob, "hello")
	mustFollow(t, e, alice, bob)
	l, err := e.CreateList(ctx, social.NewList{UID: alice.ID, Name: "friends", Created: time.Now()}, 10)
	if err != nil {
		t.Fatalf("CreateList: %v", err)
	}
	if l.Login != "Alice" {
		t.Errorf("CreateList: got login %q, want the owner's %q", l.Login, "Alice")
	}
	if _, err := e.AddListMember(ctx, l.ID, bob.ID, time.Now(), 10); err != nil {
		t.Fatalf("AddListMember: %v", err)
	}
	tokenHash := []byte{0xab, 0xcd}
	if err := e.CreateToken(ctx, social.Token{Hash: tokenHash, UID: alice.ID, Created: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}

	types := map[string]string{
		"users:":                              "hash",
		"user:id:":                            "string",
		fmt.Sprintf("user:%d", alice.ID):      "hash",
		fmt.Sprintf("user:%d:auth", bob.ID):   "string",
		"status:id:":                          "string",
		fmt.Sprintf("status:%d", st.ID):       "hash",
		fmt.Sprintf("profile:%d", bob.ID):     "zset",
		fmt.Sprintf("home:%d", alice.ID):      "zset",
		fmt.Sprintf("followers:%d", bob.ID):   "zset",
		fmt.Sprintf("following:%d", alice.ID): "zset",
		"list:id:":                            "string",
		fmt.Sprintf("lists:%d", alice.ID):     "zset",
		fmt.Sprintf("list:%d", l.ID):          "hash",
		fmt.Sprintf("list:in:%d", l.ID):       "zset",
		fmt.Sprintf("list:out:%d", bob.ID):    "zset",
		fmt.Sprintf("list:statuses:%d", l.ID): "zset",
		"token:abcd":                          "string",
		"jobs":                                "stream",
		"timelines:size":                      "string",
	}
	for key, want := range types {
		if got := keyType(t, e, p+key); got != want {
			t.Errorf("TYPE %s: got %s, want %s", p+key, got, want)
		}
	}

	if got := hashOf(t, e, p+"users:"); got["alice"] != fmt.Sprint(alice.ID) || got["bob"] != fmt.Sprint(bob.ID) {
		t.Errorf("users: got %v, want lower-cased logins to ids", got)
	}
	user := hashOf(t, e, fmt.Sprintf("%suser:%d", p, bob.ID))
	for field, want := range map[string]string{"login": "bob", "name": "The bob", "followers": "1", "following": "0", "posts": "1"} {
		if user[field] != want {
			t.Errorf("user:%d %s: got %q, want %q", bob.ID, field, user[field], want)
		}
	}
	for field, v := range user {
		if strings.Contains(v, "hash-of") {
			t.Errorf("user:%d field %s holds the password hash", bob.ID, field)
		}
	}
	// Statuses and lists take the login from the user's record.
	if got := hashOf(t, e, fmt.Sprintf("%sstatus:%d", p, st.ID)); got["message"] != "hello" || got["uid"] != fmt.Sprint(bob.ID) || got["login"] != "bob" {
		t.Errorf("status:%d: got %v", st.ID, got)
	}
	if got := hashOf(t, e, fmt.Sprintf("%slist:%d", p, l.ID)); got["name"] != "friends" || got["uid"] != fmt.Sprint(alice.ID) || got["login"] != "Alice" {
		t.Errorf("list:%d: got %v", l.ID, got)
	}
	// Timeline scores are status ids; follow scores are times in ms.
	home, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed {
		return b.Zscore().Key(fmt.Sprintf("%shome:%d", p, alice.ID)).Member(fmt.Sprint(st.ID)).Build()
	}).AsFloat64()
	if err != nil || social.StatusID(home) != st.ID {
		t.Errorf("home score of status %d: got %v (%v), want the id", st.ID, home, err)
	}
	followedAt, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed {
		return b.Zscore().Key(fmt.Sprintf("%sfollowers:%d", p, bob.ID)).Member(fmt.Sprint(alice.ID)).Build()
	}).AsFloat64()
	if err != nil || time.Since(time.UnixMilli(int64(followedAt))).Abs() > time.Minute {
		t.Errorf("followers score: got %v (%v), want the follow time in ms", followedAt, err)
	}
	if got := zmembers(t, e, fmt.Sprintf("%slist:statuses:%d", p, l.ID)); !slices.Equal(got, []string{fmt.Sprint(st.ID)}) {
		t.Errorf("list:statuses:%d: got %v, want the member's status", l.ID, got)
	}
	if got, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Get().Key(p + "timelines:size").Build() }).ToString(); err != nil || got != fmt.Sprint(testH) {
		t.Errorf("timelines:size: got %q (%v), want %d", got, err, testH)
	}
	ttl, err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Pttl().Key(p + "token:abcd").Build() }).AsInt64()
	if err != nil || ttl <= 0 || ttl > time.Hour.Milliseconds() {
		t.Errorf("token TTL: got %d ms (%v), want within an hour", ttl, err)
	}
}

func TestUserNeverReadsThePasswordHash(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	u := mustUser(t, e, "carol")
	if err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Del().Key(e.authKey(u.ID)).Build() }).Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.User(t.Context(), u.ID); err != nil {
		t.Fatalf("User without an auth record: %v", err)
	}
	if _, err := e.PasswordHash(t.Context(), u.ID); !errors.Is(err, social.ErrUserNotFound) {
		t.Fatalf("PasswordHash without an auth record: got %v, want ErrUserNotFound", err)
	}
}

func TestDeleteStatusRemovesTheKey(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	a, b := mustUser(t, e, "a"), mustUser(t, e, "b")
	mustFollow(t, e, b, a)
	st := mustPost(t, e, a, "short-lived")
	if _, err := e.DeleteStatus(ctx, b.ID, st.ID, noJob); !errors.Is(err, social.ErrForbidden) {
		t.Fatalf("DeleteStatus by another user: got %v, want ErrForbidden", err)
	}
	if _, err := e.DeleteStatus(ctx, a.ID, st.ID, noJob); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	if n, _ := raw(t, e, func(bl rueidis.Builder) rueidis.Completed { return bl.Exists().Key(e.statusKey(st.ID)).Build() }).AsInt64(); n != 0 {
		t.Fatalf("status key exists after delete")
	}
	if _, err := e.DeleteStatus(ctx, a.ID, st.ID, noJob); !errors.Is(err, social.ErrStatusNotFound) {
		t.Fatalf("second DeleteStatus: got %v, want ErrStatusNotFound", err)
	}
	// A fan-out that runs after the delete adds nothing, not even to a
	// timeline that did not exist.
	other := mustUser(t, e, "c")
	deliverOne(t, e, st.ID, social.HomeOf(b.ID), social.HomeOf(other.ID))
	for _, key := range []string{e.homeKey(b.ID), e.homeKey(other.ID), e.profileKey(a.ID), e.homeKey(a.ID)} {
		if m := zmembers(t, e, key); slices.Contains(m, fmt.Sprint(st.ID)) {
			t.Errorf("%s holds the deleted status", key)
		}
	}
	if u, _ := e.User(ctx, a.ID); u.Posts != 0 {
		t.Errorf("posts after delete: got %d, want 0", u.Posts)
	}
}

func TestAddToDeletedListIsNoop(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	owner, member := mustUser(t, e, "owner"), mustUser(t, e, "member")
	l, err := e.CreateList(ctx, social.NewList{UID: owner.ID, Name: "l", Created: time.Now()}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddListMember(ctx, l.ID, member.ID, time.Now(), 10); err != nil {
		t.Fatal(err)
	}
	st := mustPost(t, e, member, "x")
	if err := e.DeleteList(ctx, l.ID); err != nil {
		t.Fatalf("DeleteList: %v", err)
	}
	deliverOne(t, e, st.ID, social.ListOf(l.ID))
	if err := e.RefillTimeline(ctx, social.ListOf(l.ID)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	for _, key := range []string{e.listKey(l.ID), e.listTimelineKey(l.ID), e.listMembersKey(l.ID)} {
		if typ := keyType(t, e, key); typ != "none" {
			t.Errorf("%s after DeleteList: type %s, want none", key, typ)
		}
	}
	if ids, _ := e.ListsContaining(ctx, member.ID); len(ids) != 0 {
		t.Errorf("ListsContaining after DeleteList: got %v, want none", ids)
	}
	if ls, _ := e.ListsOf(ctx, owner.ID); len(ls) != 0 {
		t.Errorf("ListsOf after DeleteList: got %d lists, want none", len(ls))
	}
}

func TestConcurrentRegistrationsOfOneLogin(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		login := []byte("racer")
		for j := range login {
			if i>>j&1 == 1 {
				login[j] -= 'a' - 'A'
			}
		}
		wg.Go(func() {
			_, errs[i] = e.CreateUser(context.Background(), social.NewUser{Login: string(login), Name: "r", PasswordHash: "h", Signup: time.Now()})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, social.ErrLoginTaken):
			t.Fatalf("CreateUser: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("registrations that succeeded: got %d, want 1", won)
	}
	if _, err := e.UserByLogin(t.Context(), "RACER"); err != nil {
		t.Fatalf("UserByLogin: %v", err)
	}
}

func TestConcurrentFollowsKeepCountsExact(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	users := make([]social.User, 10)
	for i := range users {
		users[i] = mustUser(t, e, fmt.Sprintf("u%d", i))
	}
	var wg sync.WaitGroup
	for i := range 200 {
		a, b := users[i%len(users)], users[(i*7+3)%len(users)]
		if a.ID == b.ID {
			continue
		}
		wg.Go(func() {
			var err error
			if i%3 == 0 {
				_, err = e.Unfollow(ctx, a.ID, b.ID, jobs.NewJob{Kind: "test.refill"})
			} else {
				_, err = e.Follow(ctx, a.ID, b.ID, time.Now())
			}
			if err != nil {
				t.Errorf("follow/unfollow: %v", err)
			}
		})
	}
	wg.Wait()
	for _, u := range users {
		got, err := e.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := int64(len(zmembers(t, e, e.followersKey(u.ID)))); got.Followers != n {
			t.Errorf("%s followers: count %d, set %d", u.Login, got.Followers, n)
		}
		if n := int64(len(zmembers(t, e, e.followingKey(u.ID)))); got.Following != n {
			t.Errorf("%s following: count %d, set %d", u.Login, got.Following, n)
		}
	}
}

// TestFollowerChunkWithTies walks followers that share one follow time, and
// removes the cursor's follower half-way: every follower present throughout
// is returned exactly once.
func TestFollowerChunkWithTies(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	star := mustUser(t, e, "star")
	at := time.UnixMilli(1_700_000_000_000)
	var want []social.UserID
	for i := range 40 {
		u := mustUser(t, e, fmt.Sprintf("fan%d", i))
		when := at
		if i%4 == 0 {
			when = at.Add(time.Millisecond) // a second score among the ties
		}
		if _, err := e.Follow(ctx, u.ID, star.ID, when); err != nil {
			t.Fatal(err)
		}
		want = append(want, u.ID)
	}
	seen := map[social.UserID]int{}
	cursor, removed := "", social.UserID(0)
	for chunks := 0; ; chunks++ {
		ids, next, err := e.FollowerChunk(ctx, star.ID, cursor, 7)
		if err != nil {
			t.Fatalf("FollowerChunk: %v", err)
		}
		if len(ids) > 7 {
			t.Fatalf("chunk of %d, want at most 7", len(ids))
		}
		for _, id := range ids {
			seen[id]++
		}
		if chunks == 2 {
			// The follower the cursor names leaves.
			removed = ids[len(ids)-1]
			if _, err := e.Unfollow(ctx, removed, star.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
				t.Fatal(err)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("follower %d returned %d times, want once", id, seen[id])
		}
	}
	if removed == 0 {
		t.Fatal("the walk ended before a follower was removed")
	}
	if ids, next, err := e.FollowerChunk(ctx, star.ID, "", 100); err != nil || len(ids) != 39 || next != "" {
		t.Fatalf("FollowerChunk of everyone: got %d ids, next %q, err %v; want 39, \"\", nil", len(ids), next, err)
	}
}

// TestRefillSkipsUnfollowed checks that a refill does not bring back the
// statuses of a user unfollowed since the refill was planned.
func TestRefillSkipsUnfollowed(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	me, kept, dropped := mustUser(t, e, "me"), mustUser(t, e, "kept"), mustUser(t, e, "dropped")
	mine := mustPost(t, e, me, "mine")
	var keptIDs []social.StatusID
	for i := range 3 {
		keptIDs = append(keptIDs, mustPost(t, e, kept, fmt.Sprint("kept ", i)).ID)
	}
	for range 3 {
		mustPost(t, e, dropped, "dropped")
	}
	mustFollow(t, e, me, kept)
	mustFollow(t, e, me, dropped)
	if _, err := e.Unfollow(ctx, me.ID, dropped.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
		t.Fatal(err)
	}
	// Empty the home, as if it had been trimmed away, and refill it.
	if err := raw(t, e, func(b rueidis.Builder) rueidis.Completed { return b.Del().Key(e.homeKey(me.ID)).Build() }).Error(); err != nil {
		t.Fatal(err)
	}
	if err := e.RefillTimeline(ctx, social.HomeOf(me.ID)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	got, err := e.TimelineIDs(ctx, social.HomeOf(me.ID), social.Page{Count: 100, Page: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []social.StatusID{keptIDs[2], keptIDs[1], keptIDs[0], mine.ID}
	if !slices.Equal(got, want) {
		t.Fatalf("home after refill: got %v, want %v", got, want)
	}
}

func TestUnfollowEnqueuesRefillWhenShort(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	a, b := mustUser(t, e, "a"), mustUser(t, e, "b")
	for range testH {
		mustPost(t, e, b, "b")
	}
	mustFollow(t, e, a, b)
	if _, err := e.Unfollow(ctx, a.ID, b.ID, jobs.NewJob{Kind: "test.refill", Payload: []byte("home")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Claim(ctx, jobs.Claim{Consumer: "c", Max: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The posts enqueued no-op jobs; the refill is among them.
	var refills int
	for _, j := range got {
		if j.Kind == "test.refill" {
			refills++
		}
	}
	if refills != 1 {
		t.Fatalf("refill jobs after an unfollow that emptied the home: got %d, want 1", refills)
	}
	if ids, _ := e.TimelineIDs(ctx, social.HomeOf(a.ID), social.Page{Count: 100, Page: 1}); len(ids) != 0 {
		t.Fatalf("home after unfollow: got %v, want empty", ids)
	}
}

// TestDatabaseNumber checks that the URL's database number is used.
func TestDatabaseNumber(t *testing.T) {
	t.Parallel()
	url := redistest.Shared(t)
	prefix := redistest.Prefix(t)
	db3 := openAt(t, strings.TrimSuffix(url, "/0")+"/3", Options{Prefix: prefix, TimelineSize: testH})
	db0 := openAt(t, url, Options{Prefix: prefix, TimelineSize: testH})
	u := mustUser(t, db3, "indb3")
	if _, err := db0.User(t.Context(), u.ID); !errors.Is(err, social.ErrUserNotFound) {
		t.Fatalf("user of db 3 read through db 0: got %v, want ErrUserNotFound", err)
	}
	if _, err := db3.User(t.Context(), u.ID); err != nil {
		t.Fatalf("User in db 3: %v", err)
	}
}

func TestOpenRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/x", "redis://user:secret@[::1"} {
		_, err := Open(t.Context(), url, Options{}, nil)
		if err == nil {
			t.Errorf("Open(%q): got no error", url)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): error %q shows the password", url, err)
		}
	}
}
