package redis

import (
	"context"
	"fmt"
	"strconv"
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
	code, err := e.runScript(ctx, "reviving a dead job", e.lua.revive, []string{e.deadJobsKey(), e.jobStreamKey(), e.delayedJobsKey(), e.jobIndexKey()}, args)
	if err != nil {
		return err
	}
	if code != codeDone {
		return jobs.ErrNoDeadJob
	}
	return nil
}

// Drop deletes the dead entry and its index member (lua/drop.lua).
func (e *Engine) Drop(ctx context.Context, id string) error {
	entryID, d, err := e.deadEntry(ctx, id)
	if err != nil {
		return err
	}
	code, err := e.runScript(ctx, "dropping a dead job", e.lua.dropDead, []string{e.deadJobsKey(), e.jobIndexKey()}, []string{entryID, d.Kind})
	if err != nil {
		return err
	}
	if code != codeDone {
		return jobs.ErrNoDeadJob
	}
	return nil
}

// maxKinds bounds the kinds one StatsByKind answers; a deployment has a
// handful.
const maxKinds = 100

// StatsByKind counts the jobs of each kind from the jobs index in one
// read-only script (lua/stats_by_kind.lua), whose cost grows with the
// number of kinds, not of jobs.
func (e *Engine) StatsByKind(ctx context.Context) ([]jobs.KindStats, error) {
	const op = "counting jobs by kind"
	rows, err := e.lua.statsByKind.Exec(ctx, e.client, []string{e.jobIndexKey()}, []string{strconv.Itoa(maxKinds)}).ToArray()
	if err != nil {
		return nil, e.fail(op, err)
	}
	out := make([]jobs.KindStats, 0, len(rows))
	for _, row := range rows {
		f, err := row.ToArray()
		if err != nil || len(f) != 6 {
			return nil, fmt.Errorf("redis: %s: malformed row", op)
		}
		var k jobs.KindStats
		var n [5]int64
		if k.Kind, err = f[0].ToString(); err != nil {
			return nil, fmt.Errorf("redis: %s: malformed row: %w", op, err)
		}
		for i := range n {
			if n[i], err = f[i+1].AsInt64(); err != nil {
				return nil, fmt.Errorf("redis: %s: malformed row: %w", op, err)
			}
		}
		k.Ready, k.Delayed, k.Leased, k.Dead = n[0], n[1], n[2], n[3]
		if n[4] > 0 && k.Ready > 0 {
			k.OldestReady = time.UnixMilli(n[4])
		}
		out = append(out, k)
	}
	return out, nil
}
