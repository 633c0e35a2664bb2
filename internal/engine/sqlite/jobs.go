package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"starling/internal/jobs"
)

const (
	maxJobKindLen = 64
	// defaultClaimLease applies when a Claim asks for no lease at all.
	defaultClaimLease = 30 * time.Second
)

var (
	qInsertJob = writeQuery(`INSERT INTO jobs (kind, payload, enqueued, run_at) VALUES (?, ?, ?, ?)`)

	// qAnyClaimable lets an idle Claim look on a reader connection, so
	// that polling for work does not take the write lock.
	qAnyClaimable = readQuery(`SELECT EXISTS (SELECT 1 FROM jobs WHERE claimable_at <= ?)`)
	qClaimable    = writeQuery(`SELECT id FROM jobs WHERE claimable_at <= ? ORDER BY claimable_at, id LIMIT ?`)
	qLeaseJob     = writeQuery(`
UPDATE jobs SET attempts = attempts + 1, leased_until = ?, lease = ?, consumer = ?
WHERE id = ? RETURNING kind, payload, attempts`)

	// Settling a job names its lease: a claim whose lease expired and was
	// claimed again matches no row and learns that it lost the job.
	qCompleteJob = writeQuery(`DELETE FROM jobs WHERE id = ? AND lease = ?`)
	qRetryJob    = writeQuery(`
UPDATE jobs SET run_at = ?, leased_until = NULL, lease = NULL, consumer = NULL, last_error = ?
WHERE id = ? AND lease = ?`)
	qBuryJob    = writeQuery(`DELETE FROM jobs WHERE id = ? AND lease = ? RETURNING kind, payload, attempts`)
	qInsertDead = writeQuery(`
INSERT INTO dead_jobs (id, kind, payload, attempts, reason, died) VALUES (?, ?, ?, ?, ?, ?)`)

	qDeadJobs = readQuery(`
SELECT id, kind, payload, attempts, reason, died FROM dead_jobs ORDER BY died DESC, id DESC LIMIT ?`)
	// An expired lease counts as ready: the job is claimable now.
	qJobStats = readQuery(`
SELECT
	coalesce(sum(claimable_at <= ?1), 0),
	coalesce(sum(claimable_at > ?1 AND leased_until IS NULL), 0),
	coalesce(sum(claimable_at > ?1 AND leased_until IS NOT NULL), 0),
	(SELECT count(*) FROM dead_jobs)
FROM jobs`)
)

// Enqueue adds jobs atomically: all of them or none.
func (db *DB) Enqueue(ctx context.Context, js ...jobs.NewJob) error {
	if len(js) == 0 {
		return nil
	}
	for _, j := range js {
		if err := checkJob(j); err != nil {
			return err
		}
	}
	return db.write(ctx, "enqueue", func(tx *wtx) error {
		return tx.insertJobs(js)
	})
}

func checkJob(j jobs.NewJob) error {
	if len(j.Kind) < 1 || len(j.Kind) > maxJobKindLen {
		return fmt.Errorf("sqlite: job kind %q must be 1–%d bytes", j.Kind, maxJobKindLen)
	}
	return nil
}

// enqueue adds the job a store method was given; a zero job (no kind)
// means the caller wants none.
func (tx *wtx) enqueue(j jobs.NewJob) error {
	if j.Kind == "" {
		return nil
	}
	if err := checkJob(j); err != nil {
		return err
	}
	return tx.insertJobs([]jobs.NewJob{j})
}

func (tx *wtx) insertJobs(js []jobs.NewJob) error {
	now := time.Now()
	for _, j := range js {
		runAt := millisCeil(j.RunAt)
		if j.RunAt.Before(now) {
			runAt = millis(now)
		}
		if _, err := tx.exec(qInsertJob, j.Kind, j.Payload, millis(now), runAt); err != nil {
			return err
		}
		tx.enqueued = true
	}
	return nil
}

// Claim leases up to c.Max runnable jobs, oldest claimable first: ready
// ones, delayed ones whose time has come, and leased ones whose lease
// expired. When there are none it waits up to c.Wait, woken at once by
// work added in this process and looking every Options.JobPoll for the
// rest.
func (db *DB) Claim(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	limit := max(c.Max, 1)
	lease := c.Lease
	if lease <= 0 {
		lease = defaultClaimLease
	}
	deadline := time.Now().Add(c.Wait)
	for {
		added := db.jobsAdded.wait()
		got, err := db.claimNow(ctx, c.Consumer, limit, lease)
		if err != nil || len(got) > 0 {
			return got, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		poll := time.NewTimer(min(left, db.opts.JobPoll))
		select {
		case <-added:
		case <-poll.C:
		case <-ctx.Done():
			poll.Stop()
			return nil, ctx.Err()
		case <-db.closing:
			poll.Stop()
			return nil, errors.New("sqlite: claim: database closed")
		}
		poll.Stop()
	}
}

func (db *DB) claimNow(ctx context.Context, consumer string, limit int, lease time.Duration) ([]jobs.Job, error) {
	var due bool
	if err := db.readRow(ctx, qAnyClaimable, millis(time.Now())).Scan(&due); err != nil {
		return nil, db.fail("claim", err)
	}
	if !due {
		return nil, nil
	}
	var claimed []jobs.Job
	err := db.write(ctx, "claim", func(tx *wtx) error {
		claimed = claimed[:0]
		now := time.Now()
		rows, err := tx.query(qClaimable, millis(now), limit)
		if err != nil {
			return err
		}
		ids, err := scanIDs[int64](rows)
		if err != nil {
			return err
		}
		leasedUntil := millisCeil(now.Add(lease))
		for _, id := range ids {
			j := jobs.Job{ID: strconv.FormatInt(id, 10), Lease: rand.Text()}
			if err := tx.queryRow(qLeaseJob, leasedUntil, j.Lease, consumer, id).Scan(&j.Kind, &j.Payload, &j.Attempts); err != nil {
				return err
			}
			claimed = append(claimed, j)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// Complete deletes a job and enqueues next in one transaction, or returns
// jobs.ErrLeaseLost when the job is no longer leased under job.Lease.
func (db *DB) Complete(ctx context.Context, job jobs.Job, next ...jobs.NewJob) error {
	for _, j := range next {
		if err := checkJob(j); err != nil {
			return err
		}
	}
	id, ok := parseJobID(job.ID)
	if !ok {
		return jobs.ErrLeaseLost
	}
	return db.write(ctx, "complete job", func(tx *wtx) error {
		n, err := tx.execCount(qCompleteJob, id, job.Lease)
		if err != nil {
			return err
		}
		if n == 0 {
			return jobs.ErrLeaseLost
		}
		return tx.insertJobs(next)
	})
}

// CompleteMany completes several jobs in one transaction: each job's
// delete and its next jobs, or jobs.ErrLeaseLost for that job alone.
func (db *DB) CompleteMany(ctx context.Context, cs []jobs.Completion) ([]error, error) {
	for _, c := range cs {
		for _, j := range c.Next {
			if err := checkJob(j); err != nil {
				return nil, err
			}
		}
	}
	results := make([]error, len(cs))
	err := db.write(ctx, "complete jobs", func(tx *wtx) error {
		for i, c := range cs {
			results[i] = nil
			id, ok := parseJobID(c.Job.ID)
			if !ok {
				results[i] = jobs.ErrLeaseLost
				continue
			}
			n, err := tx.execCount(qCompleteJob, id, c.Job.Lease)
			if err != nil {
				return err
			}
			if n == 0 {
				results[i] = jobs.ErrLeaseLost
				continue
			}
			if err := tx.insertJobs(c.Next); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// Retry releases a job to run again at the given time, keeping its
// attempts, or returns jobs.ErrLeaseLost.
func (db *DB) Retry(ctx context.Context, job jobs.Job, at time.Time, reason string) error {
	id, ok := parseJobID(job.ID)
	if !ok {
		return jobs.ErrLeaseLost
	}
	return db.write(ctx, "retry job", func(tx *wtx) error {
		runAt := max(millisCeil(at), millis(time.Now()))
		n, err := tx.execCount(qRetryJob, runAt, reason, id, job.Lease)
		if err != nil {
			return err
		}
		if n == 0 {
			return jobs.ErrLeaseLost
		}
		tx.enqueued = true
		return nil
	})
}

// Bury moves a job to the dead letters, or returns jobs.ErrLeaseLost.
func (db *DB) Bury(ctx context.Context, job jobs.Job, reason string) error {
	id, ok := parseJobID(job.ID)
	if !ok {
		return jobs.ErrLeaseLost
	}
	return db.write(ctx, "bury job", func(tx *wtx) error {
		var kind string
		var payload []byte
		var attempts int
		err := tx.queryRow(qBuryJob, id, job.Lease).Scan(&kind, &payload, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return jobs.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(qInsertDead, id, kind, payload, attempts, reason, millis(time.Now()))
		return err
	})
}

// Dead lists up to limit dead jobs, newest first.
func (db *DB) Dead(ctx context.Context, limit int) ([]jobs.DeadJob, error) {
	if limit <= 0 {
		return []jobs.DeadJob{}, nil
	}
	rows, err := db.readRows(ctx, qDeadJobs, limit)
	if err != nil {
		return nil, db.fail("dead jobs", err)
	}
	defer rows.Close()
	dead := []jobs.DeadJob{}
	for rows.Next() {
		var d jobs.DeadJob
		var id, died int64
		if err := rows.Scan(&id, &d.Kind, &d.Payload, &d.Attempts, &d.Reason, &died); err != nil {
			return nil, db.fail("dead jobs", err)
		}
		d.ID, d.Died = strconv.FormatInt(id, 10), fromMillis(died)
		dead = append(dead, d)
	}
	return dead, db.fail("dead jobs", rows.Err())
}

// Stats counts the jobs in each state. A job whose lease has expired
// counts as ready, since any consumer may claim it now.
func (db *DB) Stats(ctx context.Context) (jobs.Stats, error) {
	var s jobs.Stats
	err := db.readRow(ctx, qJobStats, millis(time.Now())).Scan(&s.Ready, &s.Delayed, &s.Leased, &s.Dead)
	return s, db.fail("job stats", err)
}

func parseJobID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
