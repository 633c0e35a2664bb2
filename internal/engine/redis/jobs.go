package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/jobs"
)

// Job queue layout (see docs/engines/redis.md): runnable jobs are entries of the jobs
// stream, read through one consumer group; jobs:delayed holds jobs whose
// time has not come, scored by run time; jobs:leases scores each delivered
// entry by the time its lease runs out; jobs:dead is a stream of buried
// jobs; jobs:bykind indexes all of them by kind, state and time, so that
// the jobs of a kind are counted without walking the queue (lua/prelude.lua).

const (
	// defaultLease is used when a Claim names no lease.
	defaultLease = 30 * time.Second
	// dueMoveBatch is how many due delayed jobs one claim moves into the
	// stream; more wait for the next claim, which comes at once while
	// workers are busy.
	dueMoveBatch = 100
	maxKindLen   = 64
)

func (e *Engine) createGroup(ctx context.Context) error {
	err := e.client.Do(ctx, e.client.B().XgroupCreate().Key(e.jobStreamKey()).Group(consumerGroup).Id("0").Mkstream().Build()).Error()
	if err != nil && !rueidis.IsRedisBusyGroup(err) {
		return e.fail("creating the jobs consumer group", err)
	}
	return nil
}

// newJobID returns a job id that stays with the job through retries, unlike
// its stream entry id, which changes each time it re-enters the stream.
func newJobID() string { return rand.Text() }

// appendJobs appends the jobs in the layout the scripts' enqueue_jobs reads:
// their count, then (job id, kind, payload, run at in ms or 0 for now).
func appendJobs(args []string, js ...jobs.NewJob) ([]string, error) {
	args = append(args, strconv.Itoa(len(js)))
	for _, j := range js {
		if len(j.Kind) < 1 || len(j.Kind) > maxKindLen {
			return nil, fmt.Errorf("redis: job kind must be 1–%d bytes, got %d", maxKindLen, len(j.Kind))
		}
		if strings.IndexByte(j.Kind, 0) >= 0 {
			// The jobs index separates a member's parts with NUL.
			return nil, fmt.Errorf("redis: job kind %q holds a NUL byte", j.Kind)
		}
		runAt := "0"
		if !j.RunAt.IsZero() {
			runAt = ms(j.RunAt)
		}
		args = append(args, newJobID(), j.Kind, string(j.Payload), runAt)
	}
	return args, nil
}

// Enqueue adds the jobs in one script, so all of them or none.
func (e *Engine) Enqueue(ctx context.Context, js ...jobs.NewJob) error {
	if len(js) == 0 {
		return nil
	}
	args, err := appendJobs(nil, js...)
	if err != nil {
		return err
	}
	_, err = e.runScript(ctx, "enqueueing jobs", e.lua.enqueue, []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobIndexKey()}, args)
	return err
}

// Claim leases up to c.Max jobs with lua/claim.lua, which moves due delayed
// jobs into the stream, reclaims entries whose lease ran out and reads new
// entries, recording every lease's deadline in the same step. When it
// finds nothing and c.Wait allows, Claim blocks in XREAD on the stream
// (through rueidis' pool of connections for blocking commands, so the
// pipelined connection never waits) until a new entry arrives, the next
// delayed job is due or the next lease runs out, and then tries again.
// XREAD only wakes the claimer; the entry is taken by the script, so no
// entry is ever delivered without a lease deadline.
func (e *Engine) Claim(ctx context.Context, c jobs.Claim) ([]jobs.Job, error) {
	if c.Consumer == "" {
		return nil, fmt.Errorf("redis: claiming jobs: no consumer name")
	}
	lease := c.Lease
	if lease <= 0 {
		lease = defaultLease
	}
	limit := max(c.Max, 1)
	deadline := time.Now().Add(c.Wait)
	for {
		got, wake, last, err := e.claimOnce(ctx, c.Consumer, limit, lease)
		if err != nil {
			return nil, err
		}
		if len(got) > 0 || c.Wait <= 0 {
			return got, nil
		}
		block := time.Until(deadline)
		if block <= 0 {
			return got, nil
		}
		if wake >= 0 && wake < block {
			block = wake
		}
		if err := e.waitForEntry(ctx, last, block); err != nil {
			return nil, err
		}
	}
}

// claimOnce runs the claim script once. wake is how long until a delayed
// job is due or a lease runs out (negative: nothing scheduled); last is the
// stream's last entry id, to block from.
func (e *Engine) claimOnce(ctx context.Context, consumer string, limit int, lease time.Duration) (got []jobs.Job, wake time.Duration, last string, err error) {
	const op = "claiming jobs"
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey(), e.jobIndexKey()}
	args := []string{consumerGroup, consumer, strconv.Itoa(limit), strconv.FormatInt(max(lease.Milliseconds(), 1), 10), strconv.Itoa(dueMoveBatch)}
	reply, err := e.lua.claim.Exec(ctx, e.client, keys, args).ToArray()
	if err != nil {
		return nil, 0, "", e.fail(op, err)
	}
	if len(reply) != 3 {
		return nil, 0, "", fmt.Errorf("redis: %s: unexpected reply of %d elements", op, len(reply))
	}
	entries, err := reply[0].ToArray()
	if err != nil {
		return nil, 0, "", e.fail(op, err)
	}
	got = make([]jobs.Job, 0, len(entries))
	for _, entry := range entries {
		job, err := parseClaimed(consumer, entry)
		if err != nil {
			return nil, 0, "", err
		}
		got = append(got, job)
	}
	wakeMS, err := reply[1].AsInt64()
	if err != nil {
		return nil, 0, "", e.fail(op, err)
	}
	if last, err = reply[2].ToString(); err != nil {
		return nil, 0, "", e.fail(op, err)
	}
	return got, time.Duration(wakeMS) * time.Millisecond, last, nil
}

// parseClaimed reads one {entry id, delivery count, {field, value, ...}} of
// the claim script's reply.
func parseClaimed(consumer string, m rueidis.RedisMessage) (jobs.Job, error) {
	const op = "claiming jobs"
	parts, err := m.ToArray()
	if err != nil || len(parts) != 3 {
		return jobs.Job{}, fmt.Errorf("redis: %s: malformed entry", op)
	}
	entryID, err1 := parts[0].ToString()
	deliveries, err2 := parts[1].AsInt64()
	kv, err3 := parts[2].AsStrSlice()
	if err1 != nil || err2 != nil || err3 != nil || len(kv)%2 != 0 {
		return jobs.Job{}, fmt.Errorf("redis: %s: malformed entry", op)
	}
	fields := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		fields[kv[i]] = kv[i+1]
	}
	prior, err := strconv.Atoi(fields["attempts"])
	if err != nil {
		return jobs.Job{}, fmt.Errorf("redis: %s: entry %s has no attempts", op, entryID)
	}
	job := jobs.Job{
		ID:       fields["jid"],
		Kind:     fields["kind"],
		Attempts: prior + int(deliveries),
		Lease:    claimLease{entryID: entryID, deliveries: deliveries, consumer: consumer}.String(),
	}
	if p := fields["payload"]; p != "" {
		job.Payload = []byte(p)
	}
	return job, nil
}

// waitForEntry blocks until the stream gets an entry after last, or for d.
func (e *Engine) waitForEntry(ctx context.Context, last string, d time.Duration) error {
	blockMS := max(int64((d+time.Millisecond-1)/time.Millisecond), 1)
	// The deadline lets a dead server be noticed; the margin keeps it from
	// cutting a healthy block short.
	wctx, cancel := context.WithTimeout(ctx, d+e.opts.IOTimeout)
	defer cancel()
	cmd := e.client.B().Xread().Count(1).Block(blockMS).Streams().Key(e.jobStreamKey()).Id(last).Build().UnblockOnCancel()
	err := e.client.Do(wctx, cmd).Error()
	if err == nil || rueidis.IsRedisNil(err) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("redis: waiting for jobs: %w", ctx.Err())
	}
	return e.fail("waiting for jobs", err)
}

// claimLease identifies one claim of a stream entry: the entry, its delivery
// count at the claim and the consumer. Every reclaim raises the delivery
// count, so a lease whose count no longer matches the pending entry's has
// moved on, even when the same consumer reclaimed the entry.
type claimLease struct {
	entryID    string
	deliveries int64
	consumer   string
}

func (l claimLease) String() string {
	return l.entryID + " " + strconv.FormatInt(l.deliveries, 10) + " " + l.consumer
}

func parseLease(s string) (claimLease, error) {
	entryID, rest, ok1 := strings.Cut(s, " ")
	count, consumer, ok2 := strings.Cut(rest, " ")
	deliveries, err := strconv.ParseInt(count, 10, 64)
	if !ok1 || !ok2 || err != nil || entryID == "" || consumer == "" {
		return claimLease{}, fmt.Errorf("redis: malformed lease %q: %w", s, jobs.ErrLeaseLost)
	}
	return claimLease{entryID: entryID, deliveries: deliveries, consumer: consumer}, nil
}

// settle runs one of the settling scripts, whose first four arguments name
// the lease, and maps a refusal to jobs.ErrLeaseLost.
func (e *Engine) settle(ctx context.Context, op string, s *rueidis.Lua, keys []string, job jobs.Job, extra ...string) error {
	l, err := parseLease(job.Lease)
	if err != nil {
		return err
	}
	args := append([]string{consumerGroup, l.entryID, l.consumer, strconv.FormatInt(l.deliveries, 10)}, extra...)
	code, err := e.runScript(ctx, op, s, keys, args)
	if err != nil {
		return err
	}
	if code != codeDone {
		return jobs.ErrLeaseLost
	}
	return nil
}

// Complete acknowledges and deletes the entry and enqueues next, in one
// script (lua/complete.lua) that first checks the lease still holds.
func (e *Engine) Complete(ctx context.Context, job jobs.Job, next ...jobs.NewJob) error {
	args, err := appendJobs(nil, next...)
	if err != nil {
		return err
	}
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey(), e.jobIndexKey()}
	return e.settle(ctx, "completing a job", e.lua.complete, keys, job, args...)
}

// CompleteMany completes several jobs in one script
// (lua/complete_many.lua), which does for each what lua/complete.lua does
// for one and answers a code per job.
func (e *Engine) CompleteMany(ctx context.Context, cs []jobs.Completion) ([]error, error) {
	const op = "completing jobs"
	results := make([]error, len(cs))
	args := []string{consumerGroup, "0"}
	n := 0
	for i, c := range cs {
		l, err := parseLease(c.Job.Lease)
		if err != nil {
			results[i] = jobs.ErrLeaseLost
			continue
		}
		args = append(args, l.entryID, l.consumer, strconv.FormatInt(l.deliveries, 10))
		if args, err = appendJobs(args, c.Next...); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return results, nil
	}
	args[1] = strconv.Itoa(n)
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey(), e.jobIndexKey()}
	codes, err := e.lua.completeMany.Exec(ctx, e.client, keys, args).AsIntSlice()
	if err != nil {
		return nil, e.fail(op, err)
	}
	if len(codes) != n {
		return nil, fmt.Errorf("redis: %s: %d codes for %d jobs", op, len(codes), n)
	}
	next := 0
	for i := range results {
		if results[i] != nil {
			continue
		}
		if codes[next] != codeDone {
			results[i] = jobs.ErrLeaseLost
		}
		next++
	}
	return results, nil
}

// Retry replaces the entry with a new one, due at the given time, that
// carries the attempts made so far (lua/retry.lua). The reason is not kept:
// the runner logs it, and a job that fails for good is buried with its own.
func (e *Engine) Retry(ctx context.Context, job jobs.Job, at time.Time, reason string) error {
	runAt := "0"
	if !at.IsZero() {
		runAt = ms(at)
	}
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey(), e.jobIndexKey()}
	return e.settle(ctx, "retrying a job", e.lua.retry, keys, job, runAt)
}

// Bury moves the entry to the jobs:dead stream with the reason and the
// time (lua/bury.lua).
func (e *Engine) Bury(ctx context.Context, job jobs.Job, reason string) error {
	keys := []string{e.jobStreamKey(), e.jobLeasesKey(), e.deadJobsKey(), e.jobIndexKey()}
	return e.settle(ctx, "burying a job", e.lua.bury, keys, job, reason)
}

// Dead reads the newest entries of jobs:dead.
func (e *Engine) Dead(ctx context.Context, limit int) ([]jobs.DeadJob, error) {
	const op = "listing dead jobs"
	if limit <= 0 {
		return []jobs.DeadJob{}, nil
	}
	entries, err := e.client.Do(ctx, e.client.B().Xrevrange().Key(e.deadJobsKey()).End("+").Start("-").Count(int64(limit)).Build()).AsXRange()
	if err != nil {
		return nil, e.fail(op, err)
	}
	out := make([]jobs.DeadJob, 0, len(entries))
	for _, entry := range entries {
		f := entry.FieldValues
		attempts, err1 := strconv.Atoi(f["attempts"])
		died, err2 := fromMS(op, f["died"])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("redis: %s: malformed entry %s", op, entry.ID)
		}
		d := jobs.DeadJob{ID: f["jid"], Kind: f["kind"], Attempts: attempts, Reason: f["reason"], Died: died}
		if p := f["payload"]; p != "" {
			d.Payload = []byte(p)
		}
		out = append(out, d)
	}
	return out, nil
}

// Stats counts the jobs in one read-only script (lua/stats.lua), so the
// counts are of one moment.
func (e *Engine) Stats(ctx context.Context) (jobs.Stats, error) {
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey(), e.deadJobsKey()}
	counts, err := e.lua.stats.Exec(ctx, e.client, keys, []string{consumerGroup}).AsIntSlice()
	if err != nil {
		return jobs.Stats{}, e.fail("counting jobs", err)
	}
	if len(counts) != 4 {
		return jobs.Stats{}, fmt.Errorf("redis: counting jobs: unexpected reply of %d counts", len(counts))
	}
	return jobs.Stats{Ready: counts[0], Delayed: counts[1], Leased: counts[2], Dead: counts[3]}, nil
}
