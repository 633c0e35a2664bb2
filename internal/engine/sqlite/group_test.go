package sqlite

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// holdWriter keeps the only writer connection busy in a transaction of
// its own until the returned channel is closed.
func holdWriter(t *testing.T, db *DB) (release chan struct{}) {
	holding, release := make(chan struct{}), make(chan struct{})
	go db.write(t.Context(), "hold", func(*wtx) error {
		close(holding)
		<-release
		return nil
	})
	<-holding
	return release
}

// waitGroup waits until a leader is committing and pending writes wait
// behind it.
func waitGroup(t *testing.T, db *DB, pending int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.group.mu.Lock()
		got, busy := len(db.group.pending), db.group.busy
		db.group.mu.Unlock()
		if busy && got == pending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued (leader busy %v), want %d", got, busy, pending)
		}
		time.Sleep(time.Millisecond)
	}
}

func fanoutJob(st social.Status) jobs.NewJob {
	return jobs.NewJob{Kind: "fanout", Payload: fmt.Appendf(nil, `{"status":%d}`, st.ID)}
}

// Posts that queue behind a busy writer share one transaction; one with an
// unknown author fails alone.
func TestPostsWaitingTogetherShareACommit(t *testing.T) {
	ctx := t.Context()
	db := openDir(t, t.TempDir())
	author := newUser(t, db, "author")

	release := holdWriter(t, db)
	db.group.mu.Lock()
	before := db.group.commits
	db.group.mu.Unlock()

	const n = 6
	type result struct {
		st  social.Status
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	post := func(i int) {
		uid := author.ID
		if i == 3 {
			uid = 999_999 // no such user
		}
		st, err := db.CreateStatus(ctx, social.NewStatus{UID: uid, Message: fmt.Sprint("post ", i), Posted: time.Now()}, fanoutJob)
		results[i] = result{st, err}
	}
	// The first leads and waits for the writer; the others queue behind it.
	wg.Go(func() { post(0) })
	waitGroup(t, db, 0)
	for i := 1; i < n; i++ {
		wg.Go(func() { post(i) })
	}
	waitGroup(t, db, n-1)
	close(release)
	wg.Wait()

	db.group.mu.Lock()
	commits := db.group.commits - before
	db.group.mu.Unlock()
	if commits != 2 {
		t.Errorf("%d posts took %d commits, want 2 (the first alone, then the rest together)", n, commits)
	}
	var ids []social.StatusID
	for i, r := range results {
		if i == 3 {
			if !errors.Is(r.err, social.ErrUserNotFound) {
				t.Errorf("post by an unknown author: %v, want ErrUserNotFound", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("post %d: %v", i, r.err)
		}
		ids = append(ids, r.st.ID)
	}
	u, err := db.User(ctx, author.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Posts != int64(n-1) {
		t.Errorf("author's posts = %d, want %d", u.Posts, n-1)
	}
	profile, err := db.TimelineIDs(ctx, social.ProfileOf(author.ID), social.Page{Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	wantIDs(t, "profile", profile, ids)
	if got := stats(t, db).Ready; got != n-1 {
		t.Errorf("%d fan-out jobs enqueued, want %d", got, n-1)
	}
}

// Many posters at once, some of them unknown: every known post is stored
// once, counted, and has its job; every unknown one changes nothing.
func TestConcurrentPostsGrouped(t *testing.T) {
	ctx := t.Context()
	db := openDir(t, t.TempDir())
	users := []social.User{newUser(t, db, "a"), newUser(t, db, "b"), newUser(t, db, "c")}
	const posters, each = 24, 20
	var mu sync.Mutex
	okBy := map[social.UserID]int64{}
	var failed int
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := range each {
				uid := users[(p+i)%len(users)].ID
				unknown := (p+i)%7 == 0
				if unknown {
					uid = 1_000_000 + social.UserID(p)
				}
				_, err := db.CreateStatus(ctx, social.NewStatus{UID: uid, Message: "m", Posted: time.Now()}, fanoutJob)
				mu.Lock()
				switch {
				case unknown && errors.Is(err, social.ErrUserNotFound):
					failed++
				case !unknown && err == nil:
					okBy[uid]++
				default:
					t.Errorf("post by %d (unknown %v): %v", uid, unknown, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var total int64
	for _, u := range users {
		got, err := db.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Posts != okBy[u.ID] {
			t.Errorf("%s: posts %d, want %d", u.Login, got.Posts, okBy[u.ID])
		}
		total += okBy[u.ID]
	}
	if n := countRows(t, db, `SELECT count(*) FROM statuses`); n != total {
		t.Errorf("%d statuses stored, want %d", n, total)
	}
	if got := stats(t, db).Ready; int64(got) != total {
		t.Errorf("%d jobs enqueued, want %d", got, total)
	}
	if failed == 0 || total+int64(failed) != posters*each {
		t.Errorf("%d posts stored and %d refused, want %d in all with some refused", total, failed, posters*each)
	}
}

// A panic in one grouped write rolls back its transaction, tells the other
// writes in it so, and leaves the writer and the group usable.
func TestPanicInAGroupedWrite(t *testing.T) {
	ctx := t.Context()
	db := openDir(t, t.TempDir())
	author := newUser(t, db, "author")
	release := holdWriter(t, db)

	post := func() error {
		_, err := db.CreateStatus(ctx, social.NewStatus{UID: author.ID, Message: "m", Posted: time.Now()}, nil)
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { post() }) // leads alone, waiting for the writer
	waitGroup(t, db, 0)
	errs := make([]error, 2)
	panicked := make(chan any, 1)
	wg.Go(func() {
		defer func() { panicked <- recover() }()
		db.writeGrouped(ctx, "boom", func(*wtx) error { panic("boom") })
	})
	waitGroup(t, db, 1)
	for i := range errs {
		wg.Go(func() { errs[i] = post() })
	}
	waitGroup(t, db, 3)
	close(release)
	wg.Wait()
	if p := <-panicked; p != "boom" {
		t.Fatalf("the panicking write's caller recovered %v, want boom", p)
	}
	for i, err := range errs {
		if !errors.Is(err, errGroupAborted) {
			t.Errorf("write %d sharing the panicking one's transaction: %v, want errGroupAborted", i, err)
		}
	}
	if err := post(); err != nil {
		t.Fatalf("a post after the panic: %v", err)
	}
	u, err := db.User(ctx, author.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Posts != 2 { // the first post and the last
		t.Fatalf("author's posts = %d, want 2", u.Posts)
	}
}
