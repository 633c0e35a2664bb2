package redis

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/social"
)

// TestTwoEnginesShareState stands two engines, as two processes would
// open them, on one prefix, each with its own Service and Runner. Posts made
// through both reach every follower's home exactly once, whichever runner
// runs the fan-out.
func TestTwoEnginesShareState(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	const (
		followers = 12
		posts     = 10 // per engine
		h         = 100
		chunk     = 5 // several deliver jobs per post
	)
	type node struct {
		engine *Engine
		svc    *social.Service
	}
	nodes := make([]node, 2)
	runnerOf := make([]*jobs.Runner, len(nodes))
	for i := range nodes {
		e := openAt(t, url, Options{Prefix: prefix, TimelineSize: h})
		svc, err := social.NewService(e, social.Config{
			FanoutChunk: chunk,
			Password:    social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		}, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		r := jobs.NewRunner(e, jobs.RunnerConfig{Workers: 2, Consumer: fmt.Sprintf("node%d", i), Wait: 100 * time.Millisecond}, testLogger(t))
		svc.RegisterJobs(r)
		nodes[i], runnerOf[i] = node{e, svc}, r
	}
	// Registered after the engines' own cleanups, so it runs before them:
	// the runners stop while their engines are still open.
	ctx, cancel := context.WithCancel(context.Background())
	var runners sync.WaitGroup
	t.Cleanup(func() { cancel(); runners.Wait() })
	for _, r := range runnerOf {
		runners.Go(func() { r.Run(ctx) })
	}

	star, err := nodes[0].svc.Register(t.Context(), "Star", "The star", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[1].svc.Register(t.Context(), "STAR", "Another", "password2"); err == nil {
		t.Fatal("the second engine registered a login the first one holds")
	}
	var fans []social.User
	for i := range followers {
		n := nodes[i%2]
		u, err := n.svc.Register(t.Context(), fmt.Sprint("fan", i), "fan", "password3")
		if err != nil {
			t.Fatal(err)
		}
		if err := n.svc.Follow(t.Context(), u.ID, "star"); err != nil {
			t.Fatal(err)
		}
		fans = append(fans, u)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex // guards posted
	var posted []social.StatusID
	for _, n := range nodes {
		wg.Go(func() {
			for i := range posts {
				st, err := n.svc.Post(t.Context(), star, fmt.Sprint("post ", i), nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				posted = append(posted, st.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.Sort(posted)
	slices.Reverse(posted)

	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := nodes[1].engine.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if s.Dead > 0 {
			t.Fatalf("jobs died: %+v", s)
		}
		if s == (jobs.Stats{}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still pending: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, fan := range fans {
		ids, err := nodes[i%2].engine.TimelineIDs(t.Context(), social.HomeOf(fan.ID), social.Page{Count: h, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, posted) {
			t.Fatalf("%s's home: got %v, want every post once, newest first: %v", fan.Login, ids, posted)
		}
	}
	u, err := nodes[1].svc.User(t.Context(), "star")
	if err != nil || u.Followers != followers || u.Posts != 2*posts {
		t.Fatalf("star: got %+v (%v), want %d followers and %d posts", u, err, followers, 2*posts)
	}
}
