package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// testTimelineSize is the timeline size openDir opens with: small, so that
// trimming is reached with a few posts.
const testTimelineSize = 5

// testLogger sends the engine's warnings to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openDir opens the database in dir with timelines of testTimelineSize
// entries, closed when the test ends unless the test closed it already.
func openDir(t testing.TB, dir string) *DB {
	t.Helper()
	return openSized(t, dir, testTimelineSize)
}

// openSized is openDir with timelines of h entries.
func openSized(t testing.TB, dir string, h int) *DB {
	t.Helper()
	db, err := Open(t.Context(), dir, Options{TimelineSize: h}, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s, timeline size %d): %v", dir, h, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func newUser(t testing.TB, db *DB, login string) social.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), social.NewUser{
		Login: login, Name: "Name of " + login, PasswordHash: "hash-of-" + login,
		Signup: time.Now(),
	})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", login, err)
	}
	return u
}

// reopenAsUpgraded closes db and opens its data directory again with
// timelines of h entries, as if its data had been written before the
// settings table recorded a timeline size (migration "deployment
// settings"): upgrading such a database is the one way to open timelines
// written at another size than the one the store runs with.
func reopenAsUpgraded(t testing.TB, db *DB, h int) *DB {
	t.Helper()
	if _, err := db.w.ExecContext(t.Context(), `DELETE FROM settings`); err != nil {
		t.Fatalf("forgetting the settings: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openSized(t, filepath.Dir(db.path), h)
}

// post creates a status with no fan-out job, and checks that it carries
// the login of the author's record.
func post(t testing.TB, db *DB, author social.User) social.Status {
	t.Helper()
	st, err := db.CreateStatus(t.Context(), social.NewStatus{
		UID: author.ID, Message: "a status", Posted: time.Now(),
	}, nil)
	if err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	if st.Login != author.Login {
		t.Fatalf("CreateStatus by %s: got login %q, want the user's %q", author.Login, st.Login, author.Login)
	}
	return st
}

func follow(t testing.TB, db *DB, a, b social.User) {
	t.Helper()
	if _, err := db.Follow(t.Context(), a.ID, b.ID, time.Now()); err != nil {
		t.Fatalf("Follow(%s, %s): %v", a.Login, b.Login, err)
	}
}

// deliverOne puts status id into each of tls in one Deliver, as a fan-out
// job does for one status.
func deliverOne(t testing.TB, db *DB, id social.StatusID, tls ...social.Timeline) {
	t.Helper()
	if _, err := db.Deliver(t.Context(), []social.Delivery{{Status: id, Timelines: tls}}); err != nil {
		t.Fatalf("Deliver(status %d to %v): %v", id, tls, err)
	}
}

func timelineIDs(t testing.TB, db *DB, tl social.Timeline) []social.StatusID {
	t.Helper()
	ids, err := db.TimelineIDs(t.Context(), tl, social.Page{Count: social.MaxPageCount, Page: 1})
	if err != nil {
		t.Fatalf("TimelineIDs(%s %d): %v", tl.Kind, tl.ID, err)
	}
	return ids
}

func wantIDs[ID ~int64](t testing.TB, what string, got, want []ID) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// newestFirst returns the ids of sts, newest first, at most n of them.
func newestFirst(sts []social.Status, n int) []social.StatusID {
	return newestIDs(idsOf(sts), n)
}

// newestIDs returns the newest n of ids, newest first, without repeats: a
// timeline of size n trimmed eagerly. It sorts ids in place.
func newestIDs(ids []social.StatusID, n int) []social.StatusID {
	slices.Sort(ids)
	slices.Reverse(ids)
	ids = slices.Compact(ids)
	return ids[:min(n, len(ids))]
}

// idsOf returns the ids of sts in their order.
func idsOf(sts []social.Status) []social.StatusID {
	ids := make([]social.StatusID, len(sts))
	for i, st := range sts {
		ids[i] = st.ID
	}
	return ids
}

// heldIDs returns every id a timeline holds, shown or not, newest first,
// after checking the invariants of its layout (timelines.go): stored and
// pending count the ids of the blocks and of recent, every id in recent is
// above top and top at least every id in the blocks, blocks cover
// disjoint ranges that hold their ids, and no id is held twice.
func heldIDs(t testing.TB, db *DB, tl social.Timeline) []social.StatusID {
	t.Helper()
	ctx := t.Context()
	kind, err := storedKind(tl.Kind)
	if err != nil {
		t.Fatal(err)
	}
	owner := tl.ID
	var stored, top, head, pending int64
	var recent string
	err = db.r.QueryRowContext(ctx, `SELECT stored, top, head, pending, recent FROM timelines WHERE kind = ? AND owner = ?`,
		kind, owner).Scan(&stored, &top, &head, &pending, &recent)
	if errors.Is(err, sql.ErrNoRows) {
		if n := countRows(t, db, `SELECT count(*) FROM timeline_blocks WHERE kind = ? AND owner = ?`, kind, owner); n != 0 {
			t.Fatalf("timeline %d/%d: %d blocks and no timelines row", kind, owner, n)
		}
		return nil
	}
	if err != nil {
		t.Fatalf("reading timeline %d/%d: %v", kind, owner, err)
	}
	ids, err := appendIDs(nil, recent)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ids)) != pending {
		t.Fatalf("timeline %d/%d: pending %d, recent holds %d", kind, owner, pending, len(ids))
	}
	for _, id := range ids {
		if id <= top || id > head {
			t.Fatalf("timeline %d/%d: recent id %d not in (top %d, head %d]", kind, owner, id, top, head)
		}
	}
	rows, err := db.r.QueryContext(ctx, `SELECT newest, oldest, n, ids FROM timeline_blocks WHERE kind = ? AND owner = ? ORDER BY newest DESC`, kind, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var inBlocks int64
	below := int64(math.MaxInt64)
	for rows.Next() {
		var newest, oldest, n int64
		var text string
		if err := rows.Scan(&newest, &oldest, &n, &text); err != nil {
			t.Fatal(err)
		}
		block, err := appendIDs(nil, text)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(block)) != n || newest >= below || oldest > newest || newest > top {
			t.Fatalf("timeline %d/%d: block [%d, %d] n %d holds %v (next block above starts at %d, top %d)",
				kind, owner, oldest, newest, n, block, below, top)
		}
		for _, id := range block {
			if id < oldest || id > newest {
				t.Fatalf("timeline %d/%d: id %d outside its block [%d, %d]", kind, owner, id, oldest, newest)
			}
		}
		below = oldest
		inBlocks += n
		ids = append(ids, block...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if inBlocks != stored {
		t.Fatalf("timeline %d/%d: stored %d, blocks hold %d", kind, owner, stored, inBlocks)
	}
	slices.SortFunc(ids, descending)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("timeline %d/%d holds an id twice: %v", kind, owner, ids)
	}
	return statusIDs(ids)
}

// maxHeld bounds how many ids a timeline of size h holds: the blocks keep
// h and up to a block more, and recent up to a block more again.
func maxHeld(h int) int { return (h+flushAt-1)/flushAt*flushAt + 2*flushAt }

// countRows runs a count(*) query.
func countRows(t testing.TB, db *DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.r.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func stats(t testing.TB, q jobs.Queue) jobs.Stats {
	t.Helper()
	s, err := q.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func loginOf(i int) string { return fmt.Sprintf("user%d", i) }
