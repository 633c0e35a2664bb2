package sqlite

import (
	"fmt"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

// seedUsers inserts n users in one transaction, far faster than n calls to
// CreateUser, and returns their ids.
func seedUsers(b *testing.B, db *DB, n int) []int64 {
	b.Helper()
	_, err := db.w.ExecContext(b.Context(), `
WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
INSERT INTO users (login, login_lower, name, signup) SELECT 'u' || i, 'u' || i, 'user', 0 FROM seq`, n)
	if err != nil {
		b.Fatalf("seeding users: %v", err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}

// seedStatuses inserts n statuses by uid and returns the first new id.
func seedStatuses(b *testing.B, db *DB, uid int64, n int) int64 {
	b.Helper()
	var first int64
	err := db.w.QueryRowContext(b.Context(), `SELECT coalesce(max(id), 0) + 1 FROM statuses`).Scan(&first)
	if err != nil {
		b.Fatalf("reading status ids: %v", err)
	}
	_, err = db.w.ExecContext(b.Context(), `
WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
INSERT INTO statuses (uid, login, message, posted) SELECT ?, 'u', 'benchmark status', 0 FROM seq`, n, uid)
	if err != nil {
		b.Fatalf("seeding statuses: %v", err)
	}
	return first
}

// BenchmarkAddToTimelines measures fan-out: one status into one chunk of
// home timelines per operation. "full" timelines are at the timeline size
// already, so every insert also trims.
func BenchmarkAddToTimelines(b *testing.B) {
	for _, tc := range []struct {
		recipients, h int
		full          bool
	}{
		{recipients: 1000, h: 100, full: true},
		{recipients: 1000, h: 1000, full: false},
		{recipients: 100, h: 1000, full: true},
	} {
		state := "filling"
		if tc.full {
			state = "full"
		}
		b.Run(fmt.Sprintf("recipients=%d/h=%d/%s", tc.recipients, tc.h, state), func(b *testing.B) {
			db := openDir(b, b.TempDir())
			ctx := b.Context()
			owners := seedUsers(b, db, tc.recipients)
			tls := make([]social.Timeline, len(owners))
			for i, id := range owners {
				tls[i] = social.HomeOf(id)
			}
			prefill := 0
			if tc.full {
				prefill = tc.h
			}
			next := seedStatuses(b, db, owners[0], prefill+b.N)
			for range prefill {
				if err := db.AddToTimelines(ctx, next, tls, tc.h); err != nil {
					b.Fatalf("AddToTimelines: %v", err)
				}
				next++
			}
			b.ResetTimer()
			for range b.N {
				if err := db.AddToTimelines(ctx, next, tls, tc.h); err != nil {
					b.Fatalf("AddToTimelines: %v", err)
				}
				next++
			}
			b.ReportMetric(float64(b.N*tc.recipients)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkTimelineIDs reads pages of a full home timeline from parallel
// readers.
func BenchmarkTimelineIDs(b *testing.B) {
	const h = 1000
	db := openDir(b, b.TempDir())
	ctx := b.Context()
	owner := seedUsers(b, db, 1)[0]
	first := seedStatuses(b, db, owner, h)
	_, err := db.w.ExecContext(ctx, `INSERT INTO timeline_entries (kind, owner, sid) SELECT ?, ?, id FROM statuses WHERE id >= ?`,
		storedHome, owner, first)
	if err != nil {
		b.Fatalf("filling the timeline: %v", err)
	}
	for _, tc := range []struct {
		name string
		page social.Page
	}{
		{"page=1", social.Page{Count: social.DefaultCount, Page: 1}},
		{"page=30", social.Page{Count: social.DefaultCount, Page: 30}},
		{"max_id", social.Page{Count: social.DefaultCount, MaxID: first + h/2}},
	} {
		for _, tl := range []social.Timeline{social.HomeOf(owner), social.ProfileOf(owner)} {
			b.Run(fmt.Sprintf("%s/%s", tl.Kind, tc.name), func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						ids, err := db.TimelineIDs(ctx, tl, tc.page)
						if err != nil || len(ids) != social.DefaultCount {
							b.Errorf("TimelineIDs: got %d ids, %v", len(ids), err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkCreateStatus measures posting: the status, the author's home
// and the fan-out job, in one transaction.
func BenchmarkCreateStatus(b *testing.B) {
	db := openDir(b, b.TempDir())
	author := seedUsers(b, db, 1)[0]
	fanout := func(st social.Status) jobs.NewJob {
		return jobs.NewJob{Kind: "social.fanout", Payload: fmt.Appendf(nil, `{"status":%d}`, st.ID)}
	}
	b.ResetTimer()
	for range b.N {
		_, err := db.CreateStatus(b.Context(), social.NewStatus{UID: author, Message: "benchmark", Posted: time.Now()}, 1000, fanout)
		if err != nil {
			b.Fatalf("CreateStatus: %v", err)
		}
	}
}

// BenchmarkJobRoundTrip measures one job's life: enqueue, claim, complete.
func BenchmarkJobRoundTrip(b *testing.B) {
	db := openDir(b, b.TempDir())
	ctx := b.Context()
	job := jobs.NewJob{Kind: "bench", Payload: []byte(`{"n":1}`)}
	b.ResetTimer()
	for range b.N {
		if err := db.Enqueue(ctx, job); err != nil {
			b.Fatalf("Enqueue: %v", err)
		}
		got, err := db.Claim(ctx, jobs.Claim{Consumer: "bench", Max: 1, Lease: time.Minute})
		if err != nil || len(got) != 1 {
			b.Fatalf("Claim: got %d jobs, %v", len(got), err)
		}
		if err := db.Complete(ctx, got[0]); err != nil {
			b.Fatalf("Complete: %v", err)
		}
	}
}
