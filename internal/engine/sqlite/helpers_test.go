package sqlite

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// testTimelineSize is small so that trimming is reached with a few posts.
const testTimelineSize = 5

// testLogger sends the engine's warnings to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openDir opens the database in dir, closed when the test ends unless the
// test closed it already.
func openDir(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dir, Options{}, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
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

// post creates a status with no fan-out job.
func post(t testing.TB, db *DB, author social.User, h int) social.Status {
	t.Helper()
	st, err := db.CreateStatus(t.Context(), social.NewStatus{
		UID: author.ID, Login: author.Login, Message: "a status", Posted: time.Now(),
	}, h, nil)
	if err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	return st
}

func follow(t testing.TB, db *DB, a, b social.User, h int) {
	t.Helper()
	if _, err := db.Follow(t.Context(), a.ID, b.ID, time.Now(), h); err != nil {
		t.Fatalf("Follow(%s, %s): %v", a.Login, b.Login, err)
	}
}

func timelineIDs(t testing.TB, db *DB, tl social.Timeline) []int64 {
	t.Helper()
	ids, err := db.TimelineIDs(t.Context(), tl, social.Page{Count: social.MaxPageCount, Page: 1})
	if err != nil {
		t.Fatalf("TimelineIDs(%s %d): %v", tl.Kind, tl.ID, err)
	}
	return ids
}

func wantIDs(t testing.TB, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// newestFirst returns the ids of sts, newest first, at most n of them.
func newestFirst(sts []social.Status, n int) []int64 {
	ids := make([]int64, 0, len(sts))
	for _, st := range sts {
		ids = append(ids, st.ID)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids[:min(n, len(ids))]
}

// storedSize reads a timeline's count from the side table.
func storedSize(t testing.TB, db *DB, kind int, owner int64) int64 {
	t.Helper()
	var n int64
	err := db.r.QueryRowContext(t.Context(),
		`SELECT coalesce((SELECT size FROM timeline_sizes WHERE kind = ? AND owner = ?), 0)`, kind, owner).Scan(&n)
	if err != nil {
		t.Fatalf("reading timeline size: %v", err)
	}
	return n
}

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
