package sqlite

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// TestTimelinesMatchEagerTrimming drives home and list timelines through
// random additions (in order, late and repeated), follow copies and
// refills, with the timeline size lowered once (as when a database written
// before the size was recorded is upgraded), and checks every page read
// against a model that trims eagerly to the newest h after each step: with
// nothing removed, what a reader sees must be the same. It also checks the
// stored layout's invariants after every step.
func TestTimelinesMatchEagerTrimming(t *testing.T) {
	h := 40
	db := openSized(t, t.TempDir(), h)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))

	var authors, readers []social.User
	for i := range 3 {
		authors = append(authors, newUser(t, db, fmt.Sprintf("author%d", i)))
	}
	for i := range 4 {
		readers = append(readers, newUser(t, db, fmt.Sprintf("reader%d", i)))
	}
	var lists []social.List
	for i := range 2 {
		l, err := db.CreateList(ctx, social.NewList{UID: readers[i].ID, Name: "l", Created: time.Now()}, 0)
		if err != nil {
			t.Fatalf("CreateList: %v", err)
		}
		lists = append(lists, l)
	}
	// Statuses go in directly: only the calls under test touch timelines.
	authorOf := map[social.StatusID]social.UserID{}
	var sids []social.StatusID
	for i := range 600 {
		a := authors[i%len(authors)]
		var id social.StatusID
		err := db.w.QueryRowContext(ctx, `INSERT INTO statuses (uid, login, message, posted) VALUES (?, ?, 'm', 0) RETURNING id`,
			a.ID, a.Login).Scan(&id)
		if err != nil {
			t.Fatalf("inserting a status: %v", err)
		}
		authorOf[id] = a.ID
		sids = append(sids, id)
	}

	var timelines []social.Timeline
	for _, r := range readers {
		timelines = append(timelines, social.HomeOf(r.ID))
	}
	for _, l := range lists {
		timelines = append(timelines, social.ListOf(l.ID))
	}
	model := map[social.Timeline][]social.StatusID{} // newest first, at most h
	add := func(tl social.Timeline, ids ...social.StatusID) {
		if len(ids) == 1 && slices.Contains(model[tl], ids[0]) {
			return // adding an id again changes nothing, not even the size
		}
		model[tl] = newestIDs(append(slices.Clone(model[tl]), ids...), h)
	}
	follows := map[social.UserID][]social.UserID{} // reader → authors

	next := 0 // index in sids of the next status to fan out in order
	for step := range 500 {
		if step == 300 {
			// Lowering h takes effect at a timeline's next write (as with
			// eager trimming, where the next insert trimmed); one fan-out
			// to every timeline makes that now.
			h = 25
			db = reopenAsUpgraded(t, db, h)
			deliverOne(t, db, sids[next], timelines...)
			for _, tl := range timelines {
				add(tl, sids[next])
			}
			next++
		}
		switch op := rng.IntN(20); {
		case op < 14 && next < len(sids): // fan-out of a status, mostly in order
			sid := sids[next]
			switch rng.IntN(8) {
			case 0: // late: an older status arriving after newer ones
				sid = sids[rng.IntN(next+1)]
			case 1: // repeated
				sid = sids[max(0, next-1-rng.IntN(3))]
			default:
				next++
			}
			var tls []social.Timeline
			for _, tl := range timelines {
				if rng.IntN(3) > 0 {
					tls = append(tls, tl)
				}
			}
			deliverOne(t, db, sid, tls...)
			for _, tl := range tls {
				add(tl, sid)
			}
		case op < 16: // a reader follows an author: the author's newest h are copied
			r, a := readers[rng.IntN(len(readers))], authors[rng.IntN(len(authors))]
			ok, err := db.Follow(ctx, r.ID, a.ID, time.Now())
			if err != nil {
				t.Fatalf("Follow: %v", err)
			}
			if ok {
				follows[r.ID] = append(follows[r.ID], a.ID)
				add(social.HomeOf(r.ID), newestBy(authorOf, a.ID, h)...)
			}
		default: // a refill merges the newest h of the reader and everyone followed
			r := readers[rng.IntN(len(readers))]
			if err := db.RefillTimeline(ctx, social.HomeOf(r.ID)); err != nil {
				t.Fatalf("RefillTimeline: %v", err)
			}
			add(social.HomeOf(r.ID), newestBy(authorOf, r.ID, h)...)
			for _, a := range follows[r.ID] {
				add(social.HomeOf(r.ID), newestBy(authorOf, a, h)...)
			}
		}
		if step%4 != 0 {
			continue // checking after every step makes the test slow under -race
		}
		for _, tl := range timelines {
			held := heldIDs(t, db, tl)
			if len(held) > h+overTrim+2*flushAt {
				t.Fatalf("step %d: %v holds %d ids at size %d", step, tl, len(held), h)
			}
			what := fmt.Sprintf("step %d: %v", step, tl)
			if step%50 == 0 {
				checkPages(t, db, tl, model[tl], what)
			} else {
				wantIDs(t, what, timelineIDs(t, db, tl), append([]social.StatusID{}, model[tl]...))
			}
		}
	}
}

// TestTimelinesAfterRemovals removes ids (deleted statuses, purges after
// unfollows) from timelines that hold more than they show, and checks
// that the removed ids are gone, that reads show the newest h of what is
// held, and the layout's invariants.
func TestTimelinesAfterRemovals(t *testing.T) {
	const h = 30
	db := openSized(t, t.TempDir(), h)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, reader := newUser(t, db, "a"), newUser(t, db, "b"), newUser(t, db, "reader")
	follow(t, db, reader, a)
	follow(t, db, reader, b)
	home := social.HomeOf(reader.ID)
	var posted []social.Status
	for range 300 {
		author := a
		if rng.IntN(3) == 0 {
			author = b
		}
		st := post(t, db, author)
		posted = append(posted, st)
		deliverOne(t, db, st.ID, home)
		if rng.IntN(4) == 0 {
			// A cleanup job removing some status, held or not.
			gone := posted[rng.IntN(len(posted))]
			if err := db.RemoveFromTimelines(ctx, gone.ID, []social.Timeline{home}); err != nil {
				t.Fatalf("RemoveFromTimelines: %v", err)
			}
			if slices.Contains(heldIDs(t, db, home), gone.ID) {
				t.Fatalf("id %d still held after its removal", gone.ID)
			}
		}
		held := heldIDs(t, db, home)
		wantIDs(t, "home", timelineIDs(t, db, home), held[:min(h, len(held))])
		if len(posted)%20 == 0 {
			checkPages(t, db, home, held[:min(h, len(held))], "home")
		}
	}
	if _, err := db.Unfollow(ctx, reader.ID, b.ID, jobs.NewJob{Kind: "social.refill"}); err != nil {
		t.Fatalf("Unfollow: %v", err)
	}
	held := heldIDs(t, db, home)
	for _, id := range held {
		if id == 0 || statusAuthor(t, db, id) == b.ID {
			t.Fatalf("status %d of b still held after unfollowing b", id)
		}
	}
	checkPages(t, db, home, held[:min(h, len(held))], "home after unfollowing b")
}

// checkPages reads a timeline by pages of several sizes and by max_id
// from several places, and compares each page with the one cut from want
// (the ids shown, newest first).
func checkPages(t *testing.T, db *DB, tl social.Timeline, want []social.StatusID, what string) {
	t.Helper()
	for _, count := range []int{1, 7, 30} {
		for page := 1; (page-1)*count <= len(want); page++ {
			got, err := db.TimelineIDs(t.Context(), tl, social.Page{Count: count, Page: page})
			if err != nil {
				t.Fatalf("%s: TimelineIDs: %v", what, err)
			}
			from := min((page-1)*count, len(want))
			if !slices.Equal(got, want[from:min(from+count, len(want))]) {
				t.Fatalf("%s: page %d of %d: got %v, want %v (all %v)", what, page, count, got, want[from:min(from+count, len(want))], want)
			}
		}
	}
	// max_id (which pages by itself: Page is ignored with it): each shown
	// id, and just above it (ids between shown ones, such as ids held but
	// not shown, or never there).
	for i, id := range want {
		for _, below := range []social.StatusID{id, id + 1} {
			got, err := db.TimelineIDs(t.Context(), tl, social.Page{Count: 5, MaxID: below})
			if err != nil {
				t.Fatalf("%s: TimelineIDs: %v", what, err)
			}
			start := i + 1 // the ids below id
			if below == id+1 {
				start = i // id itself is below id+1
			}
			if exp := want[start:min(start+5, len(want))]; !slices.Equal(got, exp) {
				t.Fatalf("%s: below %d: got %v, want %v (all %v)", what, below, got, exp, want)
			}
		}
	}
}

// newestBy returns the newest n statuses of author among those in
// authorOf.
func newestBy(authorOf map[social.StatusID]social.UserID, author social.UserID, n int) []social.StatusID {
	var ids []social.StatusID
	for id, a := range authorOf {
		if a == author {
			ids = append(ids, id)
		}
	}
	return newestIDs(ids, n)
}

func statusAuthor(t *testing.T, db *DB, id social.StatusID) social.UserID {
	t.Helper()
	sts, err := db.Statuses(t.Context(), []social.StatusID{id})
	if err != nil || len(sts) != 1 {
		t.Fatalf("Statuses(%d): %v, %v", id, sts, err)
	}
	return sts[0].UID
}

// TestLoweredSizeTrimsBlocks lowers the timeline size far below what a
// home holds (a database written before the size was recorded, upgraded
// and opened with a smaller one): the next flush trims it to about the new
// size at once rather than a block per flush.
func TestLoweredSizeTrimsBlocks(t *testing.T) {
	db := openSized(t, t.TempDir(), 250)
	author, reader := newUser(t, db, "author"), newUser(t, db, "reader")
	home := social.HomeOf(reader.ID)
	var sts []social.Status
	deliver := func() {
		t.Helper()
		st := post(t, db, author)
		sts = append(sts, st)
		deliverOne(t, db, st.ID, home)
	}
	for range 300 {
		deliver()
	}
	if held := heldIDs(t, db, home); len(held) < 250 {
		t.Fatalf("home holds %d ids at size 250", len(held))
	}
	db = reopenAsUpgraded(t, db, 3)
	for range flushAt {
		deliver()
		wantIDs(t, "home at size 3", timelineIDs(t, db, home), newestFirst(sts, 3))
	}
	if held := heldIDs(t, db, home); len(held) > maxHeld(3) {
		t.Fatalf("home at size 3 holds %d ids after a flush, want at most %d", len(held), maxHeld(3))
	}
}

// TestUpgradeFromEntryRows opens a database written by the first schema
// (a row per timeline entry, counted by triggers) and checks that its
// timelines read the same after the upgrade and take new entries.
func TestUpgradeFromEntryRows(t *testing.T) {
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(migrations[0].sql)
	exec(`PRAGMA user_version = 1`)
	exec(`INSERT INTO users (login, login_lower, name, signup) VALUES ('a', 'a', 'a', 0), ('b', 'b', 'b', 0)`)
	exec(`WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 100)
INSERT INTO statuses (uid, login, message, posted) SELECT 1, 'a', 'm', 0 FROM seq`)
	exec(`INSERT INTO lists (uid, login, name, created) VALUES (2, 'b', 'l', 0)`)
	// Home of b: the newest 70 (the size was 70); home of a: 3; the list: 10.
	exec(`INSERT INTO timeline_entries (kind, owner, sid) SELECT 1, 2, id FROM statuses WHERE id > 30`)
	exec(`INSERT INTO timeline_entries (kind, owner, sid) VALUES (1, 1, 5), (1, 1, 50), (1, 1, 99)`)
	exec(`INSERT INTO timeline_entries (kind, owner, sid) SELECT 2, 1, id FROM statuses WHERE id % 10 = 0`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	// The old schema kept no timeline size; this first Open records 40.
	db := openSized(t, dir, 40)
	ctx := t.Context()
	seq := func(from, to, step social.StatusID) []social.StatusID {
		var ids []social.StatusID
		for id := from; id >= to; id -= step {
			ids = append(ids, id)
		}
		return ids
	}
	checks := []struct {
		tl   social.Timeline
		want []social.StatusID
	}{
		{social.HomeOf(2), seq(100, 31, 1)},
		{social.HomeOf(1), []social.StatusID{99, 50, 5}},
		{social.ListOf(1), seq(100, 10, 10)},
	}
	for _, c := range checks {
		wantIDs(t, fmt.Sprintf("%s %d after the upgrade", c.tl.Kind, c.tl.ID), heldIDs(t, db, c.tl), c.want)
		checkPages(t, db, c.tl, c.want, fmt.Sprintf("%s %d after the upgrade", c.tl.Kind, c.tl.ID))
	}
	// The next write brings the size in: b's home now shows its newest 40.
	var next social.StatusID
	if err := db.w.QueryRowContext(ctx, `INSERT INTO statuses (uid, login, message, posted) VALUES (1, 'a', 'm', 0) RETURNING id`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	deliverOne(t, db, next, social.HomeOf(2))
	want := append([]social.StatusID{next}, seq(100, 62, 1)...)
	checkPages(t, db, social.HomeOf(2), want, "b's home after a write at size 40")
	heldIDs(t, db, social.HomeOf(2))
}

func TestAppendIDs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int64
		bad  bool
	}{
		{"", nil, false},
		{",1", []int64{1}, false},
		{",12,345,6", []int64{12, 345, 6}, false},
		{",9223372036854775807", []int64{9223372036854775807}, false},
		{"1", nil, true},
		{",", nil, true},
		{",1,", nil, true},
		{",,1", nil, true},
		{",1a", nil, true},
		{",-1", nil, true},
		{",9223372036854775808", nil, true},
	} {
		got, err := appendIDs(nil, c.in)
		if (err != nil) != c.bad || !slices.Equal(got, c.want) {
			t.Errorf("appendIDs(%q) = %v, %v", c.in, got, err)
		}
	}
}
