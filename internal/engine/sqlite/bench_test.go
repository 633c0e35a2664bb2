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
func seedUsers(b *testing.B, db *DB, n int) []social.UserID {
	b.Helper()
	_, err := db.w.ExecContext(b.Context(), `
WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
INSERT INTO users (login, login_lower, name, signup) SELECT 'u' || i, 'u' || i, 'user', 0 FROM seq`, n)
	if err != nil {
		b.Fatalf("seeding users: %v", err)
	}
	ids := make([]social.UserID, n)
	for i := range ids {
		ids[i] = social.UserID(i + 1)
	}
	return ids
}

// seedStatuses inserts n statuses by uid and returns the first new id.
func seedStatuses(b *testing.B, db *DB, uid social.UserID, n int) social.StatusID {
	b.Helper()
	var first social.StatusID
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

// fillTimelines leaves the timelines of kind owned by owners as a long
// run of fan-outs of statuses first, first+1, ... at timeline size h
// would: blocks of flushAt ids holding the newest h and up to a block
// more (as many as trimming by blocks keeps), and some pending ids,
// staggered across owners (the owner at index i has (flushAt/2 + 13·i) %
// flushAt of them) the way flushes spread out in a steady state; setting
// all timelines to one phase would make every owner flush in the same
// call. Blocks go in block by block across owners, in the order flushes
// write them, so the B-tree pages are shaped as after real fan-outs. It
// returns the first status id it did not use and checkpoints, so that
// the benchmark starts with an empty WAL.
func fillTimelines(b *testing.B, db *DB, kind int, owners []social.UserID, first social.StatusID, h int) social.StatusID {
	b.Helper()
	ctx := b.Context()
	stored := (h + flushAt - 1) / flushAt * flushAt
	used := stored + flushAt // ids: the blocks' and up to a block pending
	var have int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM statuses WHERE id >= ?`, first).Scan(&have); err != nil || have < used {
		b.Fatalf("filling timelines: %d statuses from %d, need %d (%v)", have, first, used, err)
	}
	ids := make([]int64, stored)
	for i := range ids {
		ids[i] = int64(first) + int64(stored-1-i)
	}
	_, err := db.w.ExecContext(ctx, `
INSERT INTO timeline_blocks (kind, owner, newest, oldest, n, ids)
SELECT ?1, o.value, k.value ->> 0, k.value ->> 1, k.value ->> 2, k.value ->> 3
FROM json_each(?3) k CROSS JOIN json_each(?2) o ORDER BY k.value ->> 0, o.key`, kind, jsonIDs(owners), blocksJSON(ids))
	if err != nil {
		b.Fatalf("filling timelines: %v", err)
	}
	// ?1 kind, ?2 owners, ?3 h, ?4 stored, ?5 first pending id, ?6 flushAt.
	const pending = `((?6 / 2 + 13 * o.key) % ?6)`
	_, err = db.w.ExecContext(ctx, `
INSERT INTO timelines (kind, owner, keep, stored, top, head, pending, recent)
SELECT ?1, o.value, ?3, ?4, ?5 - 1, CASE WHEN `+pending+` > 0 THEN ?5 + `+pending+` - 1 ELSE 0 END, `+pending+`,
	coalesce((SELECT group_concat(',' || id, '') FROM (SELECT id FROM statuses
		WHERE id >= ?5 AND id < ?5 + `+pending+` ORDER BY id)), '')
FROM json_each(?2) o`, kind, jsonIDs(owners), h, stored, first+social.StatusID(stored), flushAt)
	if err != nil {
		b.Fatalf("filling timelines: %v", err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatalf("checkpointing: %v", err)
	}
	return first + social.StatusID(used)
}

// BenchmarkAddToTimelines measures fan-out: one status into one chunk of
// home timelines per operation, a Deliver of one delivery (what the
// AddToTimelines of earlier versions did; the name stays so that results
// compare across them, see docs/PERFORMANCE.md). "full" timelines are at
// the timeline size already (see fillTimelines), so adding to them also
// trims.
func BenchmarkAddToTimelines(b *testing.B) {
	for _, tc := range []struct {
		recipients, h int
		full          bool
	}{
		{recipients: 1000, h: 1000, full: true},
		{recipients: 1000, h: 100, full: true},
		{recipients: 1000, h: 1000, full: false},
		{recipients: 100, h: 1000, full: true},
	} {
		state := "filling"
		if tc.full {
			state = "full"
		}
		b.Run(fmt.Sprintf("recipients=%d/h=%d/%s", tc.recipients, tc.h, state), func(b *testing.B) {
			db := openSized(b, b.TempDir(), tc.h)
			ctx := b.Context()
			owners := seedUsers(b, db, tc.recipients)
			tls := make([]social.Timeline, len(owners))
			for i, id := range owners {
				tls[i] = social.HomeOf(id)
			}
			next := seedStatuses(b, db, owners[0], 2*tc.h+b.N)
			if tc.full {
				next = fillTimelines(b, db, storedHome, owners, next, tc.h)
			}
			b.ResetTimer()
			cpu := processCPU()
			for range b.N {
				if _, err := db.Deliver(ctx, []social.Delivery{{Status: next, Timelines: tls}}); err != nil {
					b.Fatalf("Deliver: %v", err)
				}
				next++
			}
			reportCPU(b, processCPU()-cpu)
			b.ReportMetric(float64(b.N*tc.recipients)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// reportCPU reports the CPU time the process used per operation (all
// threads, so background checkpoints count too). On a shared machine the
// wall-clock figures swing with whatever else runs; this one much less.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkTimelineIDs reads pages of a full home timeline from parallel
// readers.
func BenchmarkTimelineIDs(b *testing.B) {
	const h = 1000
	db := openSized(b, b.TempDir(), h)
	ctx := b.Context()
	owner := seedUsers(b, db, 1)[0]
	first := seedStatuses(b, db, owner, 2*h)
	fillTimelines(b, db, storedHome, []social.UserID{owner}, first, h)
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
				cpu := processCPU()
				defer func() { reportCPU(b, processCPU()-cpu) }()
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

// BenchmarkStatuses reads the statuses of a page of ids from parallel
// readers, as a timeline read does after TimelineIDs.
func BenchmarkStatuses(b *testing.B) {
	db := openDir(b, b.TempDir())
	owner := seedUsers(b, db, 1)[0]
	first := seedStatuses(b, db, owner, 1000)
	ids := make([]social.StatusID, social.DefaultCount)
	for i := range ids {
		ids[i] = first + 999 - social.StatusID(i)*3 // newest first, as a timeline page
	}
	b.ResetTimer()
	cpu := processCPU()
	defer func() { reportCPU(b, processCPU()-cpu) }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sts, err := db.Statuses(b.Context(), ids)
			if err != nil || len(sts) != len(ids) {
				b.Errorf("Statuses: got %d statuses, %v", len(sts), err)
				return
			}
		}
	})
}

// BenchmarkCreateStatus measures posting: the status, the author's home
// and the fan-out job, in one transaction.
func BenchmarkCreateStatus(b *testing.B) {
	db := openSized(b, b.TempDir(), 1000)
	author := seedUsers(b, db, 1)[0]
	fanout := func(st social.Status) jobs.NewJob {
		return jobs.NewJob{Kind: "social.fanout", Payload: fmt.Appendf(nil, `{"status":%d}`, st.ID)}
	}
	b.ResetTimer()
	cpu := processCPU()
	defer func() { reportCPU(b, processCPU()-cpu) }()
	for range b.N {
		_, err := db.CreateStatus(b.Context(), social.NewStatus{UID: author, Message: "benchmark", Posted: time.Now()}, fanout)
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
