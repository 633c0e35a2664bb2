package sqlite

import (
	"slices"
	"sync"
	"testing"

	"starling/internal/social"
)

func TestStatusCacheServesReadsAndForgetsDeletes(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := openDir(t, dir)
	author := newUser(t, db, "author")
	var ids []social.StatusID
	for range 10 {
		ids = append(ids, post(t, db, author).ID)
	}
	slices.Reverse(ids)
	query := append([]social.StatusID{ids[3], 999_999}, ids...) // a repeat and an unknown id

	first, err := db.Statuses(ctx, query)
	if err != nil {
		t.Fatalf("Statuses: %v", err)
	}
	if got := db.statuses.Len(); got != len(ids) {
		t.Fatalf("cache holds %d statuses after the first read, want %d", got, len(ids))
	}
	second, err := db.Statuses(ctx, query)
	if err != nil {
		t.Fatalf("Statuses (cached): %v", err)
	}
	want := append([]social.StatusID{ids[3]}, ids...)
	wantIDs(t, "first read", idsOf(first), want)
	if !slices.EqualFunc(first, second, equalStatus) {
		t.Fatalf("cached read differs:\n%+v\n%+v", first, second)
	}

	if _, err := db.DeleteStatus(ctx, author.ID, ids[3], nil); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	after, err := db.Statuses(ctx, query)
	if err != nil {
		t.Fatalf("Statuses after delete: %v", err)
	}
	wantIDs(t, "after delete", idsOf(after), slices.Concat(ids[:3], ids[4:]))

	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A database without the cache agrees with the cached answers.
	uncached, err := Open(ctx, dir, Options{StatusCacheBytes: -1, TimelineSize: testTimelineSize}, testLogger(t))
	if err != nil {
		t.Fatalf("Open without cache: %v", err)
	}
	defer uncached.Close()
	plain, err := uncached.Statuses(ctx, query)
	if err != nil {
		t.Fatalf("Statuses (uncached): %v", err)
	}
	if !slices.EqualFunc(plain, after, equalStatus) {
		t.Fatalf("cached read differs from the database:\n%+v\n%+v", after, plain)
	}
	if got := uncached.statuses.Len(); got != 0 {
		t.Fatalf("a disabled cache holds %d statuses", got)
	}
}

func equalStatus(a, b social.Status) bool {
	if (a.Location == nil) != (b.Location == nil) || a.Location != nil && *a.Location != *b.Location {
		return false
	}
	return a.ID == b.ID && a.UID == b.UID && a.Login == b.Login && a.Message == b.Message && a.Posted.Equal(b.Posted)
}

func TestStatusCacheStaysWithinItsBound(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, t.TempDir(), Options{StatusCacheBytes: 4096}, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	author := newUser(t, db, "author")
	var ids []social.StatusID
	for range 200 {
		ids = append(ids, post(t, db, author).ID)
	}
	for range 3 {
		sts, err := db.Statuses(ctx, ids)
		if err != nil {
			t.Fatalf("Statuses: %v", err)
		}
		wantIDs(t, "bounded cache read", idsOf(sts), ids)
		bytes, n := db.statuses.Bytes(), db.statuses.Len()
		if bytes > 4096 || n == 0 || n >= len(ids) {
			t.Fatalf("cache holds %d statuses in %d bytes, want some, within 4096 bytes", n, bytes)
		}
	}
}

// Reads racing deletes: once the deletes have returned, no read shows a
// deleted status.
func TestStatusCacheUnderConcurrentDeletes(t *testing.T) {
	ctx := t.Context()
	db := openDir(t, t.TempDir())
	author := newUser(t, db, "author")
	var ids []social.StatusID
	for range 60 {
		ids = append(ids, post(t, db, author).ID)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.Statuses(ctx, ids); err != nil {
					t.Errorf("Statuses: %v", err)
					return
				}
			}
		})
	}
	deleted := map[social.StatusID]bool{}
	for i, id := range ids {
		if i%2 == 1 {
			continue
		}
		deleted[id] = true
		if _, err := db.DeleteStatus(ctx, author.ID, id, nil); err != nil {
			t.Fatalf("DeleteStatus(%d): %v", id, err)
		}
	}
	close(stop)
	readers.Wait()
	sts, err := db.Statuses(ctx, ids)
	if err != nil {
		t.Fatalf("Statuses: %v", err)
	}
	for _, st := range sts {
		if deleted[st.ID] {
			t.Fatalf("deleted status %d is still read", st.ID)
		}
	}
	if len(sts) != len(ids)/2 {
		t.Fatalf("read %d statuses, want %d", len(sts), len(ids)/2)
	}
}
