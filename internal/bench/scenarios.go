package bench

import (
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
	prefix := runPrefix("timeline")
	logf(o, "timeline: registering %d readers and 8 authors", clients)
	readers, err := c.register(ctx, prefix+"r", clients)
	if err != nil {
		return Result{}, err
	}
	authors, err := c.register(ctx, prefix+"a", 8)
	if err != nil {
		return Result{}, err
	}
	for i := range 40 {
		a := authors[i%len(authors)]
		if err := c.do(ctx, "POST", "/api/v1/statuses", a.Token, map[string]string{"message": fmt.Sprintf("timeline bench status %d", i)}, nil); err != nil {
			return Result{}, fmt.Errorf("posting: %w", err)
		}
	}
	if err := c.follow(ctx, readers, authors); err != nil {
		return Result{}, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/api/v1/timelines/home?count=30", readers[0].Token, nil, &raw); err != nil {
		return Result{}, err
	}
	var page []json.RawMessage
	if err := json.Unmarshal(raw, &page); err != nil {
		return Result{}, err
	}
	rec := &recorder{}
	elapsed := hammer(ctx, o, "timeline", clients, rec, func(ctx context.Context, w int, _ *rand.Rand) error {
		var sts []json.RawMessage
		if err := c.do(ctx, "GET", "/api/v1/timelines/home?count=30", readers[w].Token, nil, &sts); err != nil {
			return err
		}
		if len(sts) != len(page) {
			return fmt.Errorf("home page holds %d statuses, want %d", len(sts), len(page))
		}
		return nil
	})
	r := finish("timeline", o, clients, elapsed, rec)
	r.Extra["statuses_per_page"] = float64(len(page))
	r.Extra["page_bytes"] = float64(len(raw))
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
	prefix := runPrefix("post")
	logf(o, "post: registering %d authors and %d followers", clients, followers)
	authors, err := c.register(ctx, prefix+"a", clients)
	if err != nil {
		return Result{}, err
	}
	fans, err := c.register(ctx, prefix+"f", followers)
	if err != nil {
		return Result{}, err
	}
	if err := c.follow(ctx, fans, authors); err != nil {
		return Result{}, err
	}
	last := make([]atomic.Int64, clients)
	rec := &recorder{}
	elapsed := hammer(ctx, o, "post", clients, rec, func(ctx context.Context, w int, rng *rand.Rand) error {
		var st statusID
		msg := fmt.Sprintf("post bench %d from %d", rng.Uint32(), w)
		if err := c.do(ctx, "POST", "/api/v1/statuses", authors[w].Token, map[string]string{"message": msg}, &st); err != nil {
			return err
		}
		last[w].Store(st.ID)
		return nil
	})
	r := finish("post", o, clients, elapsed, rec)

	// Fan-out has caught up when a follower's home holds every author's
	// last status; the job backlog is bounded if that happens soon.
	want := make([]int64, 0, clients)
	for i := range last {
		if id := last[i].Load(); id > 0 {
			want = append(want, id)
		}
	}
	start := time.Now()
	deadline := start.Add(max(o.Duration, 30*time.Second))
	probe := fans[len(fans)-1]
	for {
		var sts []statusID
		if err := c.do(ctx, "GET", "/api/v1/timelines/home?count=200", probe.Token, nil, &sts); err != nil {
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
	r.Extra["followers_per_author"] = float64(followers)
	r.Extra["timeline_entries_per_second"] = r.PerSec * float64(followers)
	return r, nil
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
// until every sampled follower's home timeline holds the status.
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
	if err := c.do(ctx, "POST", "/api/v1/statuses", m.Celebrity.Token, map[string]string{"message": "fanout bench " + start.Format(time.RFC3339Nano)}, &st); err != nil {
		return Result{}, fmt.Errorf("celebrity posting: %w", err)
	}
	posted := time.Since(start)

	ctx, cancel := context.WithTimeout(ctx, max(o.Duration, 10*time.Second))
	defer cancel()
	rec := &recorder{} // time from post until each sampled follower had it
	var next atomic.Int64
	var wg sync.WaitGroup
	stop := progress(ctx, o, "fanout", rec)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(m.Sample) {
					return
				}
				for ctx.Err() == nil {
					var sts []statusID
					err := c.do(ctx, "GET", "/api/v1/timelines/home?count=30", m.Sample[i].Token, nil, &sts)
					if err == nil && holdsAll(sts, []int64{st.ID}) {
						rec.add(time.Since(start))
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if ctx.Err() != nil {
					rec.fail()
				}
			}
		})
	}
	wg.Wait()
	stop()
	found, missing := rec.counts()
	lat := rec.summary()
	r := Result{
		Scenario: "fanout", URL: o.URL, Clients: clients,
		Seconds: lat.Max / 1000, Requests: found, Errors: missing, Latency: lat,
		Extra: map[string]float64{
			"followers":       float64(m.Followers),
			"sampled":         float64(len(m.Sample)),
			"post_ms":         ms(posted),
			"fanout_seconds":  lat.Max / 1000,
			"entries_per_sec": float64(m.Followers) / (lat.Max / 1000),
		},
	}
	if missing > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d sampled followers never got the status within the duration", missing))
		r.Extra["entries_per_sec"] = 0
	}
	r.PerSec = r.Extra["entries_per_sec"]
	return r, nil
}
