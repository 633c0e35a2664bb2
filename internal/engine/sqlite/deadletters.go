package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"starling/internal/jobs"
)

var (
	_ jobs.DeadLetters = (*DB)(nil)
	_ jobs.KindCounter = (*DB)(nil)
)

var (
	qTakeDead = writeQuery(`DELETE FROM dead_jobs WHERE id = ? RETURNING kind, payload`)
	qDropDead = writeQuery(`DELETE FROM dead_jobs WHERE id = ?`)

	// An expired lease counts as ready, as in qJobStats; the oldest ready
	// job has waited since its claimable_at.
	qJobStatsByKind = readQuery(`
SELECT kind,
	coalesce(sum(claimable_at <= ?1), 0),
	coalesce(sum(claimable_at > ?1 AND leased_until IS NULL), 0),
	coalesce(sum(claimable_at > ?1 AND leased_until IS NOT NULL), 0),
	0,
	coalesce(min(CASE WHEN claimable_at <= ?1 THEN claimable_at END), 0)
FROM jobs GROUP BY kind
UNION ALL
SELECT kind, 0, 0, 0, count(*), 0 FROM dead_jobs GROUP BY kind`)
)

// Revive moves a dead job back into the queue as a new job of the same
// kind and payload, runnable now.
func (db *DB) Revive(ctx context.Context, id string) error {
	n, ok := parseJobID(id)
	if !ok {
		return jobs.ErrNoDeadJob
	}
	return db.write(ctx, "revive dead job", func(tx *wtx) error {
		var j jobs.NewJob
		err := tx.queryRow(qTakeDead, n).Scan(&j.Kind, &j.Payload)
		if errors.Is(err, sql.ErrNoRows) {
			return jobs.ErrNoDeadJob
		}
		if err != nil {
			return err
		}
		return tx.insertJobs([]jobs.NewJob{j})
	})
}

// Drop deletes a dead job.
func (db *DB) Drop(ctx context.Context, id string) error {
	n, ok := parseJobID(id)
	if !ok {
		return jobs.ErrNoDeadJob
	}
	return db.write(ctx, "drop dead job", func(tx *wtx) error {
		deleted, err := tx.execCount(qDropDead, n)
		if err == nil && deleted == 0 {
			err = jobs.ErrNoDeadJob
		}
		return err
	})
}

// StatsByKind counts the jobs of each kind in one read, in the order of
// the kinds' names.
func (db *DB) StatsByKind(ctx context.Context) ([]jobs.KindStats, error) {
	rows, err := db.readRows(ctx, qJobStatsByKind, millis(time.Now()))
	if err != nil {
		return nil, db.fail("job stats by kind", err)
	}
	defer rows.Close()
	byKind := map[string]*jobs.KindStats{}
	var out []jobs.KindStats
	var order []string
	for rows.Next() {
		var k jobs.KindStats
		var oldest int64
		if err := rows.Scan(&k.Kind, &k.Ready, &k.Delayed, &k.Leased, &k.Dead, &oldest); err != nil {
			return nil, db.fail("job stats by kind", err)
		}
		if oldest > 0 {
			k.OldestReady = fromMillis(oldest)
		}
		if prev, ok := byKind[k.Kind]; ok {
			prev.Ready += k.Ready
			prev.Delayed += k.Delayed
			prev.Leased += k.Leased
			prev.Dead += k.Dead
			if prev.OldestReady.IsZero() {
				prev.OldestReady = k.OldestReady
			}
			continue
		}
		byKind[k.Kind] = &k
		order = append(order, k.Kind)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("job stats by kind", err)
	}
	slices.Sort(order)
	for _, kind := range order {
		out = append(out, *byKind[kind])
	}
	return out, nil
}
