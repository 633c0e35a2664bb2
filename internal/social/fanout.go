package social

import (
	"context"
	"encoding/json"
	"fmt"

	"starling/internal/jobs"
)

// Job kinds of the social core.
//
// Posting enqueues one fanout job atomically with the status. The fanout job
// reads the author's audience (followers and the lists that contain the
// author) and, when it is larger than one chunk, splits it into deliver jobs
// of at most FanoutChunk recipients, enqueued atomically with the fanout
// job's acknowledgement. Every deliver job names its recipients, so running
// one twice adds nothing. Deleting works the same way with cleanup and purge.
const (
	kindFanout  = "social.fanout"
	kindDeliver = "social.deliver"
	kindCleanup = "social.cleanup"
	kindPurge   = "social.purge"
	kindRefill  = "social.refill"
)

// followerReadBatch is how many follower ids one store read returns while a
// fan-out is planned; larger than a chunk so that a big audience costs few
// round trips.
const followerReadBatch = 10_000

type spreadPayload struct {
	Status int64 `json:"status"`
	Author int64 `json:"author"`
}

type deliverPayload struct {
	Status int64   `json:"status"`
	Homes  []int64 `json:"homes,omitempty"`
	Lists  []int64 `json:"lists,omitempty"`
}

func (p deliverPayload) timelines() []Timeline {
	tls := make([]Timeline, 0, len(p.Homes)+len(p.Lists))
	for _, uid := range p.Homes {
		tls = append(tls, HomeOf(uid))
	}
	for _, id := range p.Lists {
		tls = append(tls, ListOf(id))
	}
	return tls
}

type refillPayload struct {
	Kind TimelineKind `json:"kind"`
	ID   int64        `json:"id"`
}

func newJob(kind string, payload any) jobs.NewJob {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("social: encoding %s payload: %v", kind, err)) // payloads are plain structs
	}
	return jobs.NewJob{Kind: kind, Payload: b}
}

func decode[T any](job jobs.Job) (T, error) {
	var v T
	if err := json.Unmarshal(job.Payload, &v); err != nil {
		return v, jobs.Permanent(fmt.Errorf("social: decoding %s payload: %w", job.Kind, err))
	}
	return v, nil
}

// RegisterJobs registers the handlers of the social core's jobs.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(kindFanout, func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		return s.spread(ctx, job, kindDeliver, func(ctx context.Context, p deliverPayload) error {
			return s.store.AddToTimelines(ctx, p.Status, p.timelines(), s.cfg.TimelineSize)
		})
	})
	r.Handle(kindCleanup, func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		return s.spread(ctx, job, kindPurge, func(ctx context.Context, p deliverPayload) error {
			return s.store.RemoveFromTimelines(ctx, p.Status, p.timelines())
		})
	})
	r.Handle(kindDeliver, func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		p, err := decode[deliverPayload](job)
		if err != nil {
			return nil, err
		}
		return nil, s.store.AddToTimelines(ctx, p.Status, p.timelines(), s.cfg.TimelineSize)
	})
	r.Handle(kindPurge, func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		p, err := decode[deliverPayload](job)
		if err != nil {
			return nil, err
		}
		return nil, s.store.RemoveFromTimelines(ctx, p.Status, p.timelines())
	})
	r.Handle(kindRefill, func(ctx context.Context, job jobs.Job) ([]jobs.NewJob, error) {
		p, err := decode[refillPayload](job)
		if err != nil {
			return nil, err
		}
		if p.Kind != Home && p.Kind != ListTimeline {
			return nil, jobs.Permanent(fmt.Errorf("social: cannot refill a %s timeline", p.Kind))
		}
		return nil, s.store.RefillTimeline(ctx, Timeline{p.Kind, p.ID}, s.cfg.TimelineSize)
	})
}

// spread splits the audience of a status (the author's followers and the
// lists containing the author) into chunks. A single chunk is applied at
// once; more become jobs of the given kind, returned to be enqueued with the
// acknowledgement of the planning job.
func (s *Service) spread(ctx context.Context, job jobs.Job, chunkKind string, apply func(context.Context, deliverPayload) error) ([]jobs.NewJob, error) {
	p, err := decode[spreadPayload](job)
	if err != nil {
		return nil, err
	}
	chunk := s.cfg.FanoutChunk
	var chunks []deliverPayload
	cur := deliverPayload{Status: p.Status}
	flush := func() {
		chunks = append(chunks, cur)
		cur = deliverPayload{Status: p.Status}
	}
	cursor := ""
	for {
		ids, next, err := s.store.FollowerChunk(ctx, p.Author, cursor, max(chunk, followerReadBatch))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			cur.Homes = append(cur.Homes, id)
			if len(cur.Homes) == chunk {
				flush()
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	lists, err := s.store.ListsContaining(ctx, p.Author)
	if err != nil {
		return nil, err
	}
	for _, id := range lists {
		cur.Lists = append(cur.Lists, id)
		if len(cur.Homes)+len(cur.Lists) == chunk {
			flush()
		}
	}
	if len(cur.Homes)+len(cur.Lists) > 0 {
		flush()
	}
	switch len(chunks) {
	case 0:
		return nil, nil
	case 1:
		return nil, apply(ctx, chunks[0])
	}
	next := make([]jobs.NewJob, len(chunks))
	for i, c := range chunks {
		next[i] = newJob(chunkKind, c)
	}
	return next, nil
}
