package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// timeline measures home timeline reads (count 30): readers follow a few
// authors who posted enough to fill a page, then read as fast as they can.
func timeline(ctx context.Context, o Options) (Result, error) {
	clients := o.Clients
	if clients <= 0 {
		clients = 64
	}
	c := newClient(o.URL, clients)
	const authorCount, postsPerAuthor = 8, 5 // 40 statuses: a full page of 30
	logf(o, "timeline: logging in %d readers and %d authors (registering those missing)", clients, authorCount)
	s := &setup{c: c, o: o}
	users, err := scenarioUsers(ctx, s, "timeline", []string{"reader", "author"}, []int{clients, authorCount})
	if err != nil {
		return Result{}, err
	}
	readers, authors := users[0], users[1]
	for _, a := range authors {
		for i := a.Posts; i < postsPerAuthor; i++ {
			if err := s.do(ctx, "POST", "/api/starling/v1/statuses", a.Token, map[string]string{"message": fmt.Sprintf("timeline bench status %d of %s", i, a.Login)}, nil); err != nil {
				return Result{}, fmt.Errorf("posting: %w", err)
			}
		}
	}
	if err := s.follow(ctx, readers, authors); err != nil {
		return Result{}, err
	}
	// Every reader follows the same authors, so every home page is the
	// first one, byte for byte: decoded once here, and only its length
	// checked in the loop.
	tokens := make([]string, len(readers))
	for i, r := range readers {
		tokens[i] = r.Token
	}
	pages, err := newPageReader(c, "/api/starling/v1/timelines/home?count=30", tokens)
	if err != nil {
		return Result{}, err
	}
	defer pages.close()
	var first bytes.Buffer
	if err := c.fetch(ctx, pages.path, readers[0].Token, &first); err != nil {
		return Result{}, err
	}
	var page []json.RawMessage
	if err := json.Unmarshal(first.Bytes(), &page); err != nil {
		return Result{}, err
	}
	pages.want = first.Len()
	bufs := make([]bytes.Buffer, clients)
	rec := &recorder{}
	elapsed := hammer(ctx, o, "timeline", clients, rec, func(ctx context.Context, w int, _ *rand.Rand) error {
		return pages.read(ctx, w, &bufs[w])
	})
	r := finish("timeline", o, clients, elapsed, rec)
	r.Extra["statuses_per_page"] = float64(len(page))
	r.Extra["page_bytes"] = float64(pages.want)
	return r, nil
}

// post measures posting: authors with o.Followers followers each post as
// fast as they can; then it measures how long fan-out takes to catch up.
func post(ctx context.Context, o Options) (Result, error) {
	clients := o.Clients
	if clients <= 0 {
		clients = 16
	}
	followers := o.Followers
	if followers <= 0 {
		followers = 100
	}
	c := newClient(o.URL, clients)
	c.adminToken = o.AdminToken
	logf(o, "post: logging in %d authors and %d followers (registering those missing)", clients, followers)
	s := &setup{c: c, o: o}
	users, err := scenarioUsers(ctx, s, "post", []string{"author", "fan"}, []int{clients, followers})
	if err != nil {
		return Result{}, err
	}
	authors, fans := users[0], users[1]
	if err := s.follow(ctx, fans, authors); err != nil {
		return Result{}, err
	}
	last := make([]atomic.Int64, clients)
	rec := &recorder{}
	watch := watchBacklog(ctx, c)
	elapsed := hammer(ctx, o, "post", clients, rec, func(ctx context.Context, w int, rng *rand.Rand) error {
		var st statusID
		msg := fmt.Sprintf("post bench %d from %d", rng.Uint32(), w)
		if err := c.do(ctx, "POST", "/api/starling/v1/statuses", authors[w].Token, map[string]string{"message": msg}, &st); err != nil {
			return err
		}
		last[w].Store(st.ID)
		return nil
	})
	r := finish("post", o, clients, elapsed, rec)
	during := watch.stop()
	// The backlog as posting ended, and how long the workers took to
	// empty the queue after that, measured beside the catch-up below.
	type drain struct {
		seconds float64
		err     error
	}
	drained := make(chan drain, 1)
	if during.samples > 0 {
		r.Extra["job_backlog_max"] = float64(during.max)
		r.Extra["job_backlog_mean"] = float64(during.sum) / float64(during.samples)
		r.Extra["job_backlog_at_end"] = float64(during.last)
		go func() {
			err := waitBacklogEmpty(ctx, c, during.ended.Add(max(o.Duration, 30*time.Second)))
			drained <- drain{time.Since(during.ended).Seconds(), err}
		}()
	} else {
		r.Notes = append(r.Notes, "job backlog not reported: pass -admin-token (a token of one of the server's admins) to read the job counts")
		close(drained)
	}

	// Fan-out has caught up when a follower's home holds every author's
	// last status.
	want := make([]int64, 0, clients)
	for i := range last {
		if id := last[i].Load(); id > 0 {
			want = append(want, id)
		}
	}
	start := during.ended
	deadline := start.Add(max(o.Duration, 30*time.Second))
	probe := fans[len(fans)-1]
	for {
		var sts []statusID
		if err := c.do(ctx, "GET", "/api/starling/v1/timelines/home?count=200", probe.Token, nil, &sts); err != nil {
			return r, err
		}
		if holdsAll(sts, want) {
			r.Extra["fanout_catchup_seconds"] = time.Since(start).Seconds()
			break
		}
		if time.Now().After(deadline) {
			r.Notes = append(r.Notes, "fan-out had not caught up when the bench stopped waiting")
			r.Extra["fanout_catchup_seconds"] = -1
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d, ok := <-drained; ok {
		if d.err != nil {
			r.Notes = append(r.Notes, "job backlog: "+d.err.Error())
			d.seconds = -1
		}
		r.Extra["job_backlog_drain_seconds"] = d.seconds
	}
	r.Extra["followers_per_author"] = float64(followers)
	r.Extra["timeline_entries_per_second"] = r.PerSec * float64(followers)
	return r, nil
}

// backlogSampleEvery is how often the post scenario reads the job counts.
const backlogSampleEvery = 250 * time.Millisecond

// jobCounts is what the admin job stats tell about the job queue.
type jobCounts struct {
	Ready, Delayed, Leased int64
}

// backlog reads the job backlog (ready, delayed and leased jobs) from the
// admin job stats; ok is false without an admin token.
func backlog(ctx context.Context, c *client) (n int64, ok bool, err error) {
	if c.adminToken == "" {
		return 0, false, nil
	}
	var r jobCounts
	if err := c.do(ctx, "GET", "/api/starling/v1/admin/jobs/stats", c.adminToken, nil, &r); err != nil {
		return 0, false, err
	}
	return r.Ready + r.Delayed + r.Leased, true, nil
}

// backlogWatch samples the job backlog while a load runs.
type backlogWatch struct {
	done  chan struct{}
	stats chan backlogStats
}

type backlogStats struct {
	samples, sum, max, last int64
	ended                   time.Time // when sampling stopped
}

// sample reads the backlog once; a failed read is left out.
func (st *backlogStats) sample(ctx context.Context, c *client) {
	if n, ok, err := backlog(ctx, c); err == nil && ok {
		st.samples++
		st.sum += n
		st.max = max(st.max, n)
		st.last = n
	}
}

func watchBacklog(ctx context.Context, c *client) *backlogWatch {
	w := &backlogWatch{done: make(chan struct{}), stats: make(chan backlogStats, 1)}
	go func() {
		var st backlogStats
		t := time.NewTicker(backlogSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
			case <-w.done:
			case <-t.C:
				st.sample(ctx, c)
				continue
			}
			st.sample(ctx, c)
			st.ended = time.Now()
			w.stats <- st
			return
		}
	}()
	return w
}

// stop ends the sampling and returns what it saw, with the backlog as the
// load ended as the last sample.
func (w *backlogWatch) stop() backlogStats {
	close(w.done)
	return <-w.stats
}

// waitBacklogEmpty polls the admin job stats until no job is ready, delayed or leased.
func waitBacklogEmpty(ctx context.Context, c *client, deadline time.Time) error {
	for {
		n, ok, err := backlog(ctx, c)
		if err != nil {
			return err
		}
		if !ok || n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still pending when the bench stopped waiting", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func holdsAll(sts []statusID, want []int64) bool {
	ids := make([]int64, len(sts))
	for i, s := range sts {
		ids[i] = s.ID
	}
	for _, w := range want {
		if !slices.Contains(ids, w) {
			return false
		}
	}
	return true
}

// Manifest is what `starling seed` writes for the fanout scenario: the
// celebrity's credentials and a uniform sample of followers to check.
type Manifest struct {
	Celebrity Account   `json:"celebrity"`
	Followers int       `json:"followers"`
	Sample    []Account `json:"sample"`
}

// fanout has the seeded celebrity post once and measures how long it takes
// until each sampled follower's home timeline holds the status.
//
// The clients check the sample in rounds: each round reads, once, the home
// of every sampled follower that has not shown the status yet, the
// followers split among the clients. A follower's time to visibility is
// the time from the post to the answer that first held the status, which
// is later than the status arrived by up to one round. So the report gives
// the round's duration beside the result (round_ms_mean), and the first
// round's as the measurement's floor (measurement_floor_ms): the slowest
// follower cannot be measured sooner than that, however fast fan-out is.
func fanout(ctx context.Context, o Options) (Result, error) {
	if o.Manifest == "" {
		return Result{}, fmt.Errorf("bench: fanout needs --manifest, the file `starling seed` wrote")
	}
	b, err := os.ReadFile(o.Manifest)
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Result{}, fmt.Errorf("bench: reading manifest: %w", err)
	}
	if m.Celebrity.Token == "" || len(m.Sample) == 0 {
		return Result{}, fmt.Errorf("bench: manifest %s has no celebrity token or no sample", o.Manifest)
	}
	clients := o.Clients
	if clients <= 0 {
		clients = 16
	}
	c := newClient(o.URL, clients)
	var st statusID
	start := time.Now()
	if err := c.do(ctx, "POST", "/api/starling/v1/statuses", m.Celebrity.Token, map[string]string{"message": "fanout bench " + start.Format(time.RFC3339Nano)}, &st); err != nil {
		return Result{}, fmt.Errorf("celebrity posting: %w", err)
	}
	posted := time.Since(start)

	ctx, cancel := context.WithTimeout(ctx, max(o.Duration, 10*time.Second))
	defer cancel()
	visible := &recorder{} // time from the post until each sampled follower had it
	checks := &recorder{}  // failed checks, by kind
	stop := progress(ctx, o, "fanout", visible)
	pending := make([]int, len(m.Sample))
	for i := range pending {
		pending[i] = i
	}
	var rounds []time.Duration
	for len(pending) > 0 && ctx.Err() == nil {
		roundStart := time.Now()
		seen := make([]bool, len(pending))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(clients, len(pending)) {
			wg.Go(func() {
				for {
					k := int(next.Add(1)) - 1
					if k >= len(pending) || ctx.Err() != nil {
						return
					}
					var sts []statusID
					err := c.do(ctx, "GET", "/api/starling/v1/timelines/home?count=30", m.Sample[pending[k]].Token, nil, &sts)
					switch {
					case err == nil && holdsAll(sts, []int64{st.ID}):
						visible.add(time.Since(start))
						seen[k] = true
					case err != nil && ctx.Err() == nil:
						checks.fail(err)
					}
				}
			})
		}
		wg.Wait()
		if ctx.Err() == nil {
			rounds = append(rounds, time.Since(roundStart))
		}
		still := pending[:0]
		for k, i := range pending {
			if !seen[k] {
				still = append(still, i)
			}
		}
		pending = still
	}
	stop()
	found, _ := visible.counts()
	missing := int64(len(pending))
	lat := visible.summary()
	kinds, notes := checks.failures()
	if kinds == nil {
		kinds = map[string]int64{}
	}
	if missing > 0 {
		kinds["not visible within the duration"] = missing
	}
	r := Result{
		Scenario: "fanout", URL: o.URL, Clients: clients,
		Seconds: lat.Max / 1000, Requests: found, Errors: missing, ErrorsByKind: kinds, Latency: lat,
		Extra: map[string]float64{
			"followers":       float64(m.Followers),
			"sampled":         float64(len(m.Sample)),
			"post_ms":         ms(posted),
			"fanout_seconds":  lat.Max / 1000,
			"entries_per_sec": float64(m.Followers) / (lat.Max / 1000),
			"rounds":          float64(len(rounds)),
		},
		Notes: notes,
	}
	if len(rounds) > 0 {
		var sum time.Duration
		for _, d := range rounds {
			sum += d
		}
		r.Extra["measurement_floor_ms"] = ms(rounds[0])
		r.Extra["round_ms_mean"] = ms(sum / time.Duration(len(rounds)))
		r.Notes = append(r.Notes, fmt.Sprintf("times to visibility are late by up to one round of checks (%.1f ms on average); none can be under the first round's %.1f ms", ms(sum/time.Duration(len(rounds))), ms(rounds[0])))
	}
	if missing > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d sampled followers never got the status within the duration", missing))
		r.Extra["entries_per_sec"] = 0
	}
	r.PerSec = r.Extra["entries_per_sec"]
	return r, nil
}
