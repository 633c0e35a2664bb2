package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	db, err := Open(ctx, dir, Options{TimelineSize: testTimelineSize}, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	alice, bob := newUser(t, db, "Alice"), newUser(t, db, "bob")
	follow(t, db, alice, bob)
	sts := []social.Status{post(t, db, bob), post(t, db, bob)}
	loc := &social.Location{Lat: 52.5, Lon: 13.4}
	located, err := db.CreateStatus(ctx, social.NewStatus{UID: alice.ID, Message: "here", Posted: time.Now(), Location: loc}, nil)
	if err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	list, err := db.CreateList(ctx, social.NewList{UID: alice.ID, Name: "friends", Created: time.Now()}, 10)
	if err != nil {
		t.Fatalf("CreateList: %v", err)
	}
	if _, err := db.AddListMember(ctx, list.ID, bob.ID, time.Now(), 10); err != nil {
		t.Fatalf("AddListMember: %v", err)
	}
	token := social.Token{Hash: []byte("token-hash"), UID: alice.ID, Created: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := db.CreateToken(ctx, token); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := db.Enqueue(ctx, jobs.NewJob{Kind: "pending", Payload: []byte("p1")},
		jobs.NewJob{Kind: "later", Payload: []byte("p2"), RunAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	wantAlice, err := db.User(ctx, alice.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	wantHome := timelineIDs(t, db, social.HomeOf(alice.ID))
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = openDir(t, dir)
	if got, err := db.User(ctx, alice.ID); err != nil || got != wantAlice {
		t.Fatalf("User after reopening: got %+v, %v; want %+v", got, err, wantAlice)
	}
	if got, err := db.UserByLogin(ctx, "BOB"); err != nil || got.ID != bob.ID || got.Followers != 1 || got.Posts != 2 {
		t.Fatalf("UserByLogin(BOB) after reopening: got %+v, %v", got, err)
	}
	if hash, err := db.PasswordHash(ctx, bob.ID); err != nil || hash != "hash-of-bob" {
		t.Fatalf("PasswordHash after reopening: got %q, %v", hash, err)
	}
	got, err := db.Statuses(ctx, []social.StatusID{sts[0].ID, sts[1].ID, located.ID})
	if err != nil {
		t.Fatalf("Statuses: %v", err)
	}
	if want := []social.Status{sts[0], sts[1], located}; !statusesEqual(got, want) {
		t.Fatalf("Statuses after reopening: got %+v, want %+v", got, want)
	}
	wantIDs(t, "home after reopening", timelineIDs(t, db, social.HomeOf(alice.ID)), wantHome)
	wantIDs(t, "profile after reopening", timelineIDs(t, db, social.ProfileOf(bob.ID)), newestFirst(sts, 10))
	wantIDs(t, "list timeline after reopening", timelineIDs(t, db, social.ListOf(list.ID)), newestFirst(sts, 10))
	following, err := db.Following(ctx, alice.ID, social.Page{Count: 10, Page: 1})
	if err != nil {
		t.Fatalf("Following: %v", err)
	}
	wantIDs(t, "following after reopening", following, []social.UserID{bob.ID})
	if l, err := db.List(ctx, list.ID); err != nil || l.Members != 1 || l.Name != "friends" || l.Login != "Alice" {
		t.Fatalf("List after reopening: got %+v, %v", l, err)
	}
	if tok, err := db.TokenByHash(ctx, token.Hash, time.Now()); err != nil || tok.UID != alice.ID {
		t.Fatalf("TokenByHash after reopening: got %+v, %v", tok, err)
	}
	if s := stats(t, db); s != (jobs.Stats{Ready: 1, Delayed: 1}) {
		t.Fatalf("Stats after reopening: got %+v, want 1 ready and 1 delayed", s)
	}
	claimed, err := db.Claim(ctx, jobs.Claim{Consumer: "c", Max: 10, Lease: time.Minute})
	if err != nil || len(claimed) != 1 || claimed[0].Kind != "pending" || !bytes.Equal(claimed[0].Payload, []byte("p1")) {
		t.Fatalf("Claim after reopening: got %+v, %v", claimed, err)
	}
	// Ids keep increasing across restarts, also past a deleted newest status.
	if _, err := db.DeleteStatus(ctx, alice.ID, located.ID, nil); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	if next := post(t, db, bob); next.ID <= located.ID {
		t.Fatalf("status id after reopening and deleting the newest: got %d, want above %d", next.ID, located.ID)
	}
}

// TestTimelineSizeIsFixed: the first Open of a data directory records the
// timeline size; a later Open with the same size works, and one with
// another (zero standing for social.DefaultTimelineSize) fails with
// ErrSettingsMismatch naming both, and records nothing.
func TestTimelineSizeIsFixed(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	const size = 17
	db := openSized(t, dir, size)
	newUser(t, db, "kept")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, other := range []int{size + 6, 0} {
		db, err := Open(ctx, dir, Options{TimelineSize: other}, testLogger(t))
		if err == nil {
			db.Close()
			t.Fatalf("Open with timeline size %d of a directory written at %d succeeded, want ErrSettingsMismatch", other, size)
		}
		if !errors.Is(err, ErrSettingsMismatch) {
			t.Fatalf("Open with timeline size %d of a directory written at %d: got %v, want ErrSettingsMismatch", other, size, err)
		}
		want := other
		if want == 0 {
			want = social.DefaultTimelineSize
		}
		// The path may hold digits of its own.
		msg := strings.ReplaceAll(err.Error(), dir, "<dir>")
		for _, n := range []int{size, want} {
			if !regexp.MustCompile(fmt.Sprintf(`(^|\D)%d(\D|$)`, n)).MatchString(msg) {
				t.Errorf("mismatch error %q does not name size %d", msg, n)
			}
		}
	}
	if db, err := Open(ctx, dir, Options{TimelineSize: -1}, testLogger(t)); err == nil {
		db.Close()
		t.Fatalf("Open with timeline size -1 succeeded, want an error")
	}
	db = openSized(t, dir, size)
	if _, err := db.UserByLogin(ctx, "kept"); err != nil {
		t.Fatalf("user after reopening with the same size: %v", err)
	}
	var recorded string
	if err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'timeline_size'`).Scan(&recorded); err != nil || recorded != fmt.Sprint(size) {
		t.Fatalf("recorded timeline size after the refused opens: got %q, %v; want %d", recorded, err, size)
	}
}

func statusesEqual(a, b []social.Status) bool {
	return slices.EqualFunc(a, b, func(x, y social.Status) bool {
		if (x.Location == nil) != (y.Location == nil) || x.Location != nil && *x.Location != *y.Location {
			return false
		}
		x.Location, y.Location = nil, nil
		return x == y
	})
}

func TestMigrationsRunOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))

	db, err := Open(t.Context(), dir, Options{}, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var version int
	if err := db.w.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatalf("user_version: %v", err)
	}
	if version != len(migrations) {
		t.Fatalf("user_version after Open: got %d, want %d", version, len(migrations))
	}
	if got := strings.Count(logs.String(), "schema migrated"); got != len(migrations) {
		t.Fatalf("migrations logged on a new database: got %d, want %d", got, len(migrations))
	}
	newUser(t, db, "kept")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	logs.Reset()
	db, err = Open(t.Context(), dir, Options{}, log)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	if strings.Contains(logs.String(), "schema migrated") {
		t.Fatalf("reopening migrated again: %s", logs.String())
	}
	if _, err := db.UserByLogin(t.Context(), "kept"); err != nil {
		t.Fatalf("user after reopening: %v", err)
	}
	// A file from a newer build is refused rather than misread.
	if _, err := db.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatalf("setting user_version: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if db, err := Open(t.Context(), dir, Options{}, log); err == nil {
		db.Close()
		t.Fatalf("Open of a database with a newer schema succeeded, want an error")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestOpenCreatesDirectoryAndWAL(t *testing.T) {
	// Characters that mean something in a URI must stay part of the path.
	dir := filepath.Join(t.TempDir(), "nested", "data ?dir#1%20")
	db := openDir(t, dir)
	if want := filepath.Join(dir, FileName); db.path != want {
		t.Fatalf("database path: got %s, want %s", db.path, want)
	}
	if _, err := os.Stat(db.path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	if err := db.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode: got %q, want wal", mode)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestWriteLockHeldElsewhere shows that a write transaction takes SQLite's
// write lock at BEGIN, and that a writer that cannot get it in time fails
// with social.ErrUnavailable.
// Another program (the sqlite3 shell, a backup tool) may hold SQLite's
// write lock on the file for a while.
func TestWriteLockHeldElsewhere(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(t.Context(), dir, Options{BusyTimeout: 50 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	holder, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { holder.Close() })
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE: %v", err)
	}
	_, err = db.CreateUser(t.Context(), social.NewUser{Login: "blocked", Name: "n", PasswordHash: "h", Signup: time.Now()})
	if !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("CreateUser while another handle holds the write lock: got %v, want ErrUnavailable", err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping while another handle holds the write lock: %v", err)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatalf("ROLLBACK: %v", err)
	}
	newUser(t, db, "unblocked")
}

func TestHomeTimelineCapped(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	h := testTimelineSize
	reader, author := newUser(t, db, "reader"), newUser(t, db, "author")
	follow(t, db, reader, author)

	var sts []social.Status
	for range 3 * h {
		st := post(t, db, author)
		sts = append(sts, st)
		// What a fan-out job does for the one follower.
		deliverOne(t, db, st.ID, social.HomeOf(reader.ID), social.ProfileOf(author.ID))
		// Trimming goes by blocks, so a home holds a little more than it
		// shows, but never more than that.
		if held := heldIDs(t, db, social.HomeOf(reader.ID)); len(held) > maxHeld(h) {
			t.Fatalf("home after %d posts holds %d ids, want at most %d", len(sts), len(held), maxHeld(h))
		}
		wantIDs(t, "reader's home", timelineIDs(t, db, social.HomeOf(reader.ID)), newestFirst(sts, h))
	}
	wantIDs(t, "reader's home", timelineIDs(t, db, social.HomeOf(reader.ID)), newestFirst(sts, h))
	wantIDs(t, "author's own home", timelineIDs(t, db, social.HomeOf(author.ID)), newestFirst(sts, h))
	wantIDs(t, "author's profile (uncapped)", timelineIDs(t, db, social.ProfileOf(author.ID)), newestFirst(sts, len(sts)))
	if held := heldIDs(t, db, social.HomeOf(reader.ID)); !slices.Equal(held[:h], newestFirst(sts, h)) {
		t.Fatalf("home holds %v, want the newest %v first", held, newestFirst(sts, h))
	}

	// An old status arriving late does not push out newer ones.
	deliverOne(t, db, sts[0].ID, social.HomeOf(reader.ID))
	wantIDs(t, "home after a late old status", timelineIDs(t, db, social.HomeOf(reader.ID)), newestFirst(sts, h))

	// Following copies the newest h, trimmed.
	late := newUser(t, db, "late")
	follow(t, db, late, author)
	wantIDs(t, "home copied on follow", timelineIDs(t, db, social.HomeOf(late.ID)), newestFirst(sts, h))

	// Paging by max_id and by page.
	all := newestFirst(sts, h)
	got, err := db.TimelineIDs(ctx, social.HomeOf(reader.ID), social.Page{Count: 2, MaxID: all[1]})
	if err != nil {
		t.Fatalf("TimelineIDs(max_id): %v", err)
	}
	wantIDs(t, "page below max_id", got, all[2:4])
	got, err = db.TimelineIDs(ctx, social.HomeOf(reader.ID), social.Page{Count: 2, Page: 3})
	if err != nil {
		t.Fatalf("TimelineIDs(page 3): %v", err)
	}
	wantIDs(t, "page 3", got, all[4:])

	// A smaller timeline size (a database from before the size was
	// recorded, upgraded and opened with another) trims on the next insert.
	db = reopenAsUpgraded(t, db, 2)
	st := post(t, db, author)
	sts = append(sts, st)
	deliverOne(t, db, st.ID, social.HomeOf(reader.ID))
	wantIDs(t, "home after lowering h", timelineIDs(t, db, social.HomeOf(reader.ID)), newestFirst(sts, 2))
	// Paging by max_id stays within the newest 2 too (0: no max_id).
	for _, below := range []social.StatusID{0, sts[len(sts)-1].ID, sts[len(sts)-2].ID} {
		got, err := db.TimelineIDs(ctx, social.HomeOf(reader.ID), social.Page{Count: 10, MaxID: below})
		if err != nil {
			t.Fatalf("TimelineIDs(max_id %d): %v", below, err)
		}
		var want []social.StatusID
		for _, id := range newestFirst(sts, 2) {
			if below == 0 || id < below {
				want = append(want, id)
			}
		}
		wantIDs(t, fmt.Sprintf("home below %d after lowering h", below), got, want)
	}
	if held := heldIDs(t, db, social.HomeOf(reader.ID)); len(held) > maxHeld(2) {
		t.Fatalf("home after lowering h holds %d ids, want at most %d", len(held), maxHeld(2))
	}
}

func TestDeliverAfterDeleteDoesNothing(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	reader, author := newUser(t, db, "reader"), newUser(t, db, "author")
	st := post(t, db, author)
	if _, err := db.DeleteStatus(ctx, reader.ID, st.ID, nil); !errors.Is(err, social.ErrForbidden) {
		t.Fatalf("DeleteStatus by another user: got %v, want ErrForbidden", err)
	}
	if _, err := db.DeleteStatus(ctx, author.ID, st.ID, nil); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	if _, err := db.DeleteStatus(ctx, author.ID, st.ID, nil); !errors.Is(err, social.ErrStatusNotFound) {
		t.Fatalf("second DeleteStatus: got %v, want ErrStatusNotFound", err)
	}
	deliverOne(t, db, st.ID, social.HomeOf(reader.ID))
	wantIDs(t, "reader's home", timelineIDs(t, db, social.HomeOf(reader.ID)), []social.StatusID{})
	wantIDs(t, "author's home", timelineIDs(t, db, social.HomeOf(author.ID)), []social.StatusID{})
	wantIDs(t, "author's profile", timelineIDs(t, db, social.ProfileOf(author.ID)), []social.StatusID{})
	if u, err := db.User(ctx, author.ID); err != nil || u.Posts != 0 {
		t.Fatalf("author after delete: got %+v, %v; want 0 posts", u, err)
	}
}

func TestConcurrentFollowCountsEqualSetSizes(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	const users, workers, ops = 8, 8, 60
	var us []social.User
	for i := range users {
		us = append(us, newUser(t, db, loginOf(i)))
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				a, b := us[rnd.IntN(users)], us[rnd.IntN(users)]
				if a.ID == b.ID {
					continue
				}
				var err error
				if rnd.IntN(2) == 0 {
					_, err = db.Follow(ctx, a.ID, b.ID, time.Now())
				} else {
					_, err = db.Unfollow(ctx, a.ID, b.ID, jobs.NewJob{Kind: "refill"})
				}
				if err != nil {
					t.Errorf("follow/unfollow: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, u := range us {
		got, err := db.User(ctx, u.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		followers := countRows(t, db, `SELECT count(*) FROM follows WHERE followee = ?`, u.ID)
		following := countRows(t, db, `SELECT count(*) FROM follows WHERE follower = ?`, u.ID)
		if got.Followers != followers || got.Following != following {
			t.Errorf("%s: counts followers %d following %d, sets hold %d and %d",
				u.Login, got.Followers, got.Following, followers, following)
		}
		ids, err := db.Followers(ctx, u.ID, social.Page{Count: social.MaxPageCount, Page: 1})
		if err != nil || int64(len(ids)) != followers {
			t.Errorf("%s: Followers returned %d ids (%v), want %d", u.Login, len(ids), err, followers)
		}
	}
}

func TestConcurrentRegistrationsOfOneLogin(t *testing.T) {
	db := openDir(t, t.TempDir())
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			login := []byte("starling")
			for j := range login {
				if (i>>(j%6))&1 == 1 {
					login[j] -= 'a' - 'A'
				}
			}
			_, errs[i] = db.CreateUser(t.Context(), social.NewUser{Login: string(login), Name: "n", PasswordHash: "h", Signup: time.Now()})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, social.ErrLoginTaken):
			t.Errorf("CreateUser: got %v, want nil or ErrLoginTaken", err)
		}
	}
	if created != 1 {
		t.Fatalf("registrations that succeeded: got %d, want 1", created)
	}
	if n := countRows(t, db, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("users stored: got %d, want 1", n)
	}
}

func TestUnfollowPurgesAndEnqueuesRefill(t *testing.T) {
	const h = 4
	db := openSized(t, t.TempDir(), h)
	ctx := t.Context()
	a, b, c := newUser(t, db, "a"), newUser(t, db, "b"), newUser(t, db, "c")
	follow(t, db, a, b)
	follow(t, db, a, c)
	// What fan-out jobs do for a.
	deliver := func(st social.Status) {
		t.Helper()
		deliverOne(t, db, st.ID, social.HomeOf(a.ID))
	}
	bs := []social.Status{post(t, db, b)}
	deliver(bs[0])
	var cs []social.Status
	for range h {
		cs = append(cs, post(t, db, c))
		deliver(cs[len(cs)-1])
	}
	wantIDs(t, "home before unfollowing", timelineIDs(t, db, social.HomeOf(a.ID)), newestFirst(cs, h))

	refill := jobs.NewJob{Kind: "social.refill", Payload: []byte(`{"kind":1}`)}
	if ok, err := db.Unfollow(ctx, a.ID, c.ID, refill); err != nil || !ok {
		t.Fatalf("Unfollow: got %v, %v; want true", ok, err)
	}
	// c's statuses are gone at once. b's, which the home still held past
	// its newest h, moves into view (as the refill would bring it back).
	wantIDs(t, "home after unfollowing", timelineIDs(t, db, social.HomeOf(a.ID)), newestFirst(bs, h))
	if s := stats(t, db); s.Ready != 1 {
		t.Fatalf("jobs after an unfollow that left the home short: got %+v, want 1 ready", s)
	}
	if ok, err := db.Unfollow(ctx, a.ID, c.ID, refill); err != nil || ok {
		t.Fatalf("second Unfollow: got %v, %v; want false", ok, err)
	}
	if s := stats(t, db); s.Ready != 1 {
		t.Fatalf("jobs after a repeated unfollow: got %+v, want still 1 ready", s)
	}

	// b posted more that never reached a's home; the refill brings the
	// newest h and no more.
	for range h {
		bs = append(bs, post(t, db, b))
	}
	if err := db.RefillTimeline(ctx, social.HomeOf(a.ID)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	wantIDs(t, "home after refill", timelineIDs(t, db, social.HomeOf(a.ID)), newestFirst(bs, h))
	wantIDs(t, "ids held after refill", heldIDs(t, db, social.HomeOf(a.ID)), newestFirst(bs, h))
	// A refill also brings in the user's own statuses.
	own := post(t, db, a)
	if err := db.RefillTimeline(ctx, social.HomeOf(a.ID)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	wantIDs(t, "home after own post and refill", timelineIDs(t, db, social.HomeOf(a.ID)), newestFirst(append(slices.Clone(bs), own), h))
}

func TestListsMembershipAndTimeline(t *testing.T) {
	const h = 3
	db := openSized(t, t.TempDir(), h)
	ctx := t.Context()
	owner, m1, m2 := newUser(t, db, "owner"), newUser(t, db, "m1"), newUser(t, db, "m2")
	var m1s, m2s []social.Status
	for range h {
		m1s = append(m1s, post(t, db, m1))
		m2s = append(m2s, post(t, db, m2))
	}
	l, err := db.CreateList(ctx, social.NewList{UID: owner.ID, Name: "l", Created: time.Now()}, 1)
	if err != nil {
		t.Fatalf("CreateList: %v", err)
	}
	if _, err := db.CreateList(ctx, social.NewList{UID: owner.ID, Name: "l2", Created: time.Now()}, 1); !errors.Is(err, social.ErrLimitReached) {
		t.Fatalf("CreateList over the limit: got %v, want ErrLimitReached", err)
	}
	for _, m := range []social.User{m1, m2} {
		if ok, err := db.AddListMember(ctx, l.ID, m.ID, time.Now(), 2); err != nil || !ok {
			t.Fatalf("AddListMember(%s): got %v, %v", m.Login, ok, err)
		}
	}
	if ok, err := db.AddListMember(ctx, l.ID, m1.ID, time.Now(), 2); err != nil || ok {
		t.Fatalf("AddListMember again: got %v, %v; want false, nil", ok, err)
	}
	if _, err := db.AddListMember(ctx, l.ID, owner.ID, time.Now(), 2); !errors.Is(err, social.ErrLimitReached) {
		t.Fatalf("AddListMember to a full list: got %v, want ErrLimitReached", err)
	}
	if _, err := db.AddListMember(ctx, l.ID+100, m1.ID, time.Now(), 2); !errors.Is(err, social.ErrListNotFound) {
		t.Fatalf("AddListMember to a missing list: got %v, want ErrListNotFound", err)
	}
	both := append(slices.Clone(m1s), m2s...)
	wantIDs(t, "list timeline", timelineIDs(t, db, social.ListOf(l.ID)), newestFirst(both, h))
	// The list carries its owner's login, from the owner's record.
	if l.Login != "owner" {
		t.Fatalf("CreateList: got login %q, want the owner's %q", l.Login, "owner")
	}
	if got, err := db.List(ctx, l.ID); err != nil || got.Members != 2 || got.Login != "owner" {
		t.Fatalf("List: got %+v, %v", got, err)
	}
	if ids, err := db.ListsContaining(ctx, m1.ID); err != nil || !slices.Equal(ids, []social.ListID{l.ID}) {
		t.Fatalf("ListsContaining: got %v, %v", ids, err)
	}

	if ok, err := db.RemoveListMember(ctx, l.ID, m2.ID, jobs.NewJob{Kind: "social.refill"}); err != nil || !ok {
		t.Fatalf("RemoveListMember: got %v, %v", ok, err)
	}
	if s := stats(t, db); s.Ready != 1 {
		t.Fatalf("jobs after the list went short: got %+v, want 1 ready", s)
	}
	if err := db.RefillTimeline(ctx, social.ListOf(l.ID)); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	wantIDs(t, "list timeline after removal and refill", timelineIDs(t, db, social.ListOf(l.ID)), newestFirst(m1s, h))

	if err := db.DeleteList(ctx, l.ID); err != nil {
		t.Fatalf("DeleteList: %v", err)
	}
	if err := db.DeleteList(ctx, l.ID); !errors.Is(err, social.ErrListNotFound) {
		t.Fatalf("second DeleteList: got %v, want ErrListNotFound", err)
	}
	// A fan-out planned before the delete does not revive the list.
	deliverOne(t, db, m1s[0].ID, social.ListOf(l.ID))
	if held := heldIDs(t, db, social.ListOf(l.ID)); len(held) != 0 {
		t.Fatalf("ids held by a deleted list: %v, want none", held)
	}
	if ids, err := db.ListsContaining(ctx, m1.ID); err != nil || len(ids) != 0 {
		t.Fatalf("ListsContaining after DeleteList: got %v, %v", ids, err)
	}
}

func TestFollowerChunkWalksEveryFollowerOnce(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	star := newUser(t, db, "star")
	var want []social.UserID
	for i := range 20 {
		u := newUser(t, db, loginOf(i))
		follow(t, db, u, star)
		want = append(want, u.ID)
	}
	for _, limit := range []int{1, 7, 10, 20, 50} {
		var got []social.UserID
		cursor, chunks := "", 0
		for {
			ids, next, err := db.FollowerChunk(ctx, star.ID, cursor, limit)
			if err != nil {
				t.Fatalf("FollowerChunk: %v", err)
			}
			if len(ids) > limit {
				t.Fatalf("FollowerChunk(limit %d) returned %d ids", limit, len(ids))
			}
			got = append(got, ids...)
			chunks++
			if next == "" {
				break
			}
			cursor = next
		}
		wantIDs(t, fmt.Sprintf("followers walked %d at a time", limit), got, want)
		if wantChunks := (len(want) + limit - 1) / limit; chunks != wantChunks {
			t.Fatalf("chunks of %d: got %d, want %d", limit, chunks, wantChunks)
		}
	}
}

func TestExpiredLeaseIsClaimableAgain(t *testing.T) {
	db := openDir(t, t.TempDir())
	ctx := t.Context()
	if err := db.Enqueue(ctx, jobs.NewJob{Kind: "k", Payload: []byte("x")}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	const lease = 100 * time.Millisecond
	claimedAt := time.Now()
	first, err := db.Claim(ctx, jobs.Claim{Consumer: "dies", Max: 1, Lease: lease})
	if err != nil || len(first) != 1 {
		t.Fatalf("Claim: got %v, %v; want one job", first, err)
	}
	if got, err := db.Claim(ctx, jobs.Claim{Consumer: "other", Max: 1, Lease: time.Minute}); err != nil || len(got) != 0 {
		t.Fatalf("Claim during the lease: got %v, %v; want none", got, err)
	}
	// Waiting claims notice the expiry by polling.
	second, err := db.Claim(ctx, jobs.Claim{Consumer: "other", Max: 1, Lease: time.Minute, Wait: 10 * time.Second})
	if err != nil || len(second) != 1 {
		t.Fatalf("Claim after the lease: got %v, %v; want one job", second, err)
	}
	if early := lease - time.Since(claimedAt); early > 0 {
		t.Fatalf("job claimed again %v before its lease ended", early)
	}
	if second[0].ID != first[0].ID || second[0].Attempts != 2 || second[0].Lease == first[0].Lease {
		t.Fatalf("second claim: got %+v, want job %s at attempt 2 with a new lease", second[0], first[0].ID)
	}
	if err := db.Complete(ctx, first[0]); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Complete with the expired lease: got %v, want ErrLeaseLost", err)
	}
	if err := db.Complete(ctx, second[0]); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if s := stats(t, db); s != (jobs.Stats{}) {
		t.Fatalf("Stats after Complete: got %+v, want empty", s)
	}
}

// TestClaimSeesOtherProcessesJobs opens the file twice, as a server and a
// separate worker process would: jobs enqueued through one reach a Claim
// waiting on the other.
func TestCloseReleasesWaitingClaim(t *testing.T) {
	db, err := Open(t.Context(), t.TempDir(), Options{}, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Claim(context.WithoutCancel(t.Context()), jobs.Claim{Consumer: "c", Max: 1, Lease: time.Minute, Wait: time.Minute})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("Claim after Close: got nil error, want one")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Claim still waiting after Close")
	}
	if err := db.Ping(t.Context()); !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Ping after Close: got %v, want ErrUnavailable", err)
	}
}
