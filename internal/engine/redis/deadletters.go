package redis

import (
	"context"
	"time"

	"starling/internal/jobs"
)

var (
	_ jobs.DeadLetters = (*Engine)(nil)
	_ jobs.KindCounter = (*Engine)(nil)
)

// deadScanPage is how many dead entries one read looks at while finding a
// job by id.
const deadScanPage = 500

// deadEntry finds the jobs:dead entry of job id: dead jobs are kept in a
// stream by entry id, and looked up by job id only by admins, so a scan
// is good enough.
func (e *Engine) deadEntry(ctx context.Context, id string) (entryID string, d jobs.DeadJob, err error) {
	const op = "finding a dead job"
	start := "-"
	for {
		entries, err := e.client.Do(ctx, e.client.B().Xrange().Key(e.deadJobsKey()).Start(start).End("+").Count(deadScanPage).Build()).AsXRange()
		if err != nil {
			return "", d, e.fail(op, err)
		}
		for _, entry := range entries {
			if f := entry.FieldValues; f["jid"] == id {
				d = jobs.DeadJob{ID: id, Kind: f["kind"], Payload: []byte(f["payload"])}
				return entry.ID, d, nil
			}
		}
		if len(entries) < deadScanPage {
			return "", d, jobs.ErrNoDeadJob
		}
		start = "(" + entries[len(entries)-1].ID
	}
}

// Revive takes the dead entry and enqueues its job again in one script
// (lua/revive.lua), with a new job id.
func (e *Engine) Revive(ctx context.Context, id string) error {
	entryID, d, err := e.deadEntry(ctx, id)
	if err != nil {
		return err
	}
	args, err := appendJobs([]string{entryID}, jobs.NewJob{Kind: d.Kind, Payload: d.Payload})
	if err != nil {
		return err
	}
	code, err := e.runScript(ctx, "reviving a dead job", e.lua.revive, []string{e.deadJobsKey(), e.jobStreamKey(), e.delayedJobsKey()}, args)
	if err != nil {
		return err
	}
	if code != codeDone {
		return jobs.ErrNoDeadJob
	}
	return nil
}

// Drop deletes the dead entry.
func (e *Engine) Drop(ctx context.Context, id string) error {
	entryID, _, err := e.deadEntry(ctx, id)
	if err != nil {
		return err
	}
	n, err := e.client.Do(ctx, e.client.B().Xdel().Key(e.deadJobsKey()).Id(entryID).Build()).AsInt64()
	if err != nil {
		return e.fail("dropping a dead job", err)
	}
	if n == 0 {
		return jobs.ErrNoDeadJob
	}
	return nil
}

// StatsByKind cannot count by kind on Redis, whose queue counts only
// totals cheaply: it answers one KindStats of kind "all" with the totals of
// Stats and the time the longest-waiting ready job became runnable
// (lua/oldest_ready.lua).
func (e *Engine) StatsByKind(ctx context.Context) ([]jobs.KindStats, error) {
	st, err := e.Stats(ctx)
	if err != nil {
		return nil, err
	}
	keys := []string{e.jobStreamKey(), e.delayedJobsKey(), e.jobLeasesKey()}
	ms, err := e.lua.oldestReady.Exec(ctx, e.client, keys, []string{consumerGroup}).AsInt64()
	if err != nil {
		return nil, e.fail("finding the oldest ready job", err)
	}
	k := jobs.KindStats{Kind: jobs.AllKinds, Ready: st.Ready, Delayed: st.Delayed, Leased: st.Leased, Dead: st.Dead}
	if ms > 0 && st.Ready > 0 {
		k.OldestReady = time.UnixMilli(ms)
	}
	return []jobs.KindStats{k}, nil
}
