package social

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"starling/internal/events"
	"starling/internal/jobs"
)

// Job kinds of the social core.
//
// Posting enqueues one fanout job atomically with the status. The fanout job
// plans the fan-out: it reads the author's audience (followers and the
// lists that contain the author) and, when it is larger than one chunk,
// splits it into deliver jobs of at most FanoutChunk recipients, enqueued
// atomically with the fanout job's acknowledgement. Every deliver job names
// its recipients, so running one twice adds nothing. A planning job reads
// at most FanoutPlanStep followers: for a larger audience it also enqueues
// a fanout job that carries on from its cursor, ahead of its deliver jobs,
// so that delivery starts after the first step instead of after the whole
// audience was read. Deleting works the same way with cleanup and purge.
//
// The fanout and deliver handlers are batch handlers: the jobs of one
// claim (up to the runner's prefetch) are delivered with as few store calls
// as FanoutBatch allows (Store.Deliver), and acknowledged together.
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

// defaultPlanStep is how many followers one planning job reads when
// Config.FanoutPlanStep is zero: a tenth of a million-follower audience,
// read in about a tenth of a second, after which its deliveries start.
const defaultPlanStep = 100_000

// audienceReaders bounds how many audiences a batch of planning jobs reads
// at once.
const audienceReaders = 8

// spreadPayload is the payload of fanout and cleanup jobs. Cursor is empty
// for the first step of a plan; a later step carries on from it and leaves
// the lists, which the first step took, alone.
type spreadPayload struct {
	Status StatusID `json:"status"`
	Author UserID   `json:"author"`
	Cursor string   `json:"cursor,omitempty"`
	// Posted is the status's time in unix ms; zero in jobs enqueued
	// before it was recorded.
	Posted int64 `json:"posted,omitempty"`
}

type deliverPayload struct {
	Status StatusID `json:"status"`
	Author UserID   `json:"author,omitempty"` // zero in jobs planned before it was recorded
	Homes  []UserID `json:"homes,omitempty"`
	Lists  []ListID `json:"lists,omitempty"`
	Posted int64    `json:"posted,omitempty"` // as in spreadPayload
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

func (p deliverPayload) posted() time.Time {
	if p.Posted == 0 {
		return time.Time{}
	}
	return time.UnixMilli(p.Posted)
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
	r.HandleBatch(kindFanout, func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		return s.spread(ctx, batch, kindDeliver, s.deliver)
	})
	r.HandleBatch(kindCleanup, func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		return s.spread(ctx, batch, kindPurge, s.purge)
	})
	r.HandleBatch(kindDeliver, func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		return s.runChunks(ctx, batch, s.deliver)
	})
	r.HandleBatch(kindPurge, func(ctx context.Context, batch []jobs.Job) []jobs.Outcome {
		return s.runChunks(ctx, batch, s.purge)
	})
	r.HandleBatch(kindRefill, s.refill)
}

// applyFunc applies chunks of a fan-out or a cleanup to the store.
type applyFunc func(ctx context.Context, ds []Delivery) error

func (s *Service) deliver(ctx context.Context, ds []Delivery) error {
	skipped, err := s.store.Deliver(ctx, ds)
	if err != nil {
		return err
	}
	s.publishTimelines(ctx, events.TimelineDelivered, ds, skipped)
	if s.cfg.FanoutLag != nil {
		now := s.now()
		for _, d := range ds {
			if !d.Posted.IsZero() {
				s.cfg.FanoutLag(now.Sub(d.Posted))
			}
		}
	}
	return nil
}

func (s *Service) purge(ctx context.Context, ds []Delivery) error {
	for _, d := range ds {
		if err := s.store.RemoveFromTimelines(ctx, d.Status, d.Timelines); err != nil {
			return err
		}
	}
	s.publishTimelines(ctx, events.TimelinePurged, ds, nil)
	return nil
}

// chunkWork is a chunk to apply on behalf of the job at index job of a
// batch.
type chunkWork struct {
	job   int
	chunk deliverPayload
}

// runChunks applies the chunks named by deliver or purge jobs.
func (s *Service) runChunks(ctx context.Context, batch []jobs.Job, apply applyFunc) []jobs.Outcome {
	out := make([]jobs.Outcome, len(batch))
	work := make([]chunkWork, 0, len(batch))
	for i, job := range batch {
		p, err := decode[deliverPayload](job)
		if err != nil {
			out[i].Err = err
			continue
		}
		work = append(work, chunkWork{job: i, chunk: p})
	}
	s.applyChunks(ctx, work, apply, out)
	return out
}

// applyChunks applies the chunks of a batch in as few calls as FanoutBatch
// allows: a call names at most FanoutBatch timelines, except that a chunk
// is never split. When a call of several chunks fails, each is tried alone,
// so that one bad chunk fails only its own job.
func (s *Service) applyChunks(ctx context.Context, work []chunkWork, apply applyFunc, out []jobs.Outcome) {
	for len(work) > 0 {
		n, size := 0, 0
		for n < len(work) {
			tls := len(work[n].chunk.Homes) + len(work[n].chunk.Lists)
			if n > 0 && size+tls > s.cfg.FanoutBatch {
				break
			}
			size += tls
			n++
		}
		call := work[:n]
		work = work[n:]
		ds := make([]Delivery, len(call))
		for i, w := range call {
			ds[i] = Delivery{Status: w.chunk.Status, Author: w.chunk.Author, Timelines: w.chunk.timelines(), Posted: w.chunk.posted()}
		}
		err := apply(ctx, ds)
		if err == nil {
			continue
		}
		if len(call) == 1 {
			out[call[0].job].Err = err
			continue
		}
		for i, w := range call {
			if err := apply(ctx, ds[i:i+1]); err != nil {
				out[w.job].Err = err
			}
		}
	}
}

// spread plans the fan-outs (or cleanups) of a batch of planning jobs. The
// audiences are read side by side; a plan of a single chunk is applied at
// once, together with the other single chunks of the batch; a larger one
// becomes jobs of chunkKind (and a planning job for the rest), returned to
// be enqueued with the acknowledgement of its planning job.
func (s *Service) spread(ctx context.Context, batch []jobs.Job, chunkKind string, apply applyFunc) []jobs.Outcome {
	out := make([]jobs.Outcome, len(batch))
	inline := make([]*deliverPayload, len(batch))
	var wg sync.WaitGroup
	sem := make(chan struct{}, audienceReaders)
	for i, job := range batch {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := decode[spreadPayload](job)
			if err == nil {
				inline[i], out[i].Next, err = s.plan(ctx, job.Kind, p, chunkKind)
			}
			out[i].Err = err
		})
	}
	wg.Wait()
	var work []chunkWork
	for i, c := range inline {
		if c != nil && out[i].Err == nil {
			work = append(work, chunkWork{job: i, chunk: *c})
		}
	}
	s.applyChunks(ctx, work, apply, out)
	return out
}

// plan runs one step of the plan of a fan-out or cleanup: it reads up to
// the plan step's followers from p.Cursor on (and, in the first step, the
// lists containing the author) and cuts them into chunks. It returns the
// one chunk to apply at once when the audience was that small, or else the
// jobs to enqueue: the next planning step first, when followers are left,
// then a job of chunkKind per chunk.
func (s *Service) plan(ctx context.Context, kind string, p spreadPayload, chunkKind string) (*deliverPayload, []jobs.NewJob, error) {
	chunk := s.cfg.FanoutChunk
	step := s.planStep()
	var chunks []deliverPayload
	cur := deliverPayload{Status: p.Status, Author: p.Author, Posted: p.Posted}
	flush := func() {
		chunks = append(chunks, cur)
		cur = deliverPayload{Status: p.Status, Author: p.Author, Posted: p.Posted}
	}
	cursor, read, rest := p.Cursor, 0, ""
	for {
		ids, next, err := s.store.FollowerChunk(ctx, p.Author, cursor, min(max(chunk, followerReadBatch), step-read))
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			cur.Homes = append(cur.Homes, id)
			if len(cur.Homes) == chunk {
				flush()
			}
		}
		read += len(ids)
		if next == "" {
			break
		}
		if read >= step {
			rest = next
			break
		}
		cursor = next
	}
	if p.Cursor == "" {
		lists, err := s.store.ListsContaining(ctx, p.Author)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range lists {
			cur.Lists = append(cur.Lists, id)
			if len(cur.Homes)+len(cur.Lists) == chunk {
				flush()
			}
		}
	}
	if len(cur.Homes)+len(cur.Lists) > 0 {
		flush()
	}
	if rest == "" {
		switch len(chunks) {
		case 0:
			return nil, nil, nil
		case 1:
			return &chunks[0], nil, nil
		}
	}
	next := make([]jobs.NewJob, 0, len(chunks)+1)
	if rest != "" {
		// First, so that a worker picks it up before the chunks and the
		// plan stays ahead of the deliveries.
		next = append(next, newJob(kind, spreadPayload{Status: p.Status, Author: p.Author, Cursor: rest, Posted: p.Posted}))
	}
	for _, c := range chunks {
		next = append(next, newJob(chunkKind, c))
	}
	return nil, next, nil
}

// planStep is how many followers one planning job reads: FanoutPlanStep
// rounded up to whole chunks.
func (s *Service) planStep() int {
	step := s.cfg.FanoutPlanStep
	if step <= 0 {
		step = defaultPlanStep
	}
	chunk := s.cfg.FanoutChunk
	return (step + chunk - 1) / chunk * chunk
}
