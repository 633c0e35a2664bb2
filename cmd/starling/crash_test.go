package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"starling/internal/bench"
	"starling/internal/engine/redis"
	"starling/internal/engine/redis/redistest"
	"starling/internal/engine/sqlite"
	"starling/internal/seed"
	"starling/internal/social"
)

// crashStore is an engine opened by the test itself, to check what the
// processes left behind through the same port they use.
type crashStore interface {
	social.Store
	io.Closer
}

// TestFanoutSurvivesSIGKILL seeds an author with 20,000 followers, has it
// post, kills the process running the fan-out half-way with SIGKILL, and
// lets a new process finish the job: every follower's home ends up holding
// the status exactly once, and no count moved.
func TestFanoutSurvivesSIGKILL(t *testing.T) {
	testFanoutSurvivesStop(t, syscall.SIGKILL)
}

// TestFanoutSurvivesSIGTERM is the same with a graceful stop half-way: the
// process finishes the jobs it is running, leaves the others queued and
// exits 0, and the next process delivers the rest.
func TestFanoutSurvivesSIGTERM(t *testing.T) {
	testFanoutSurvivesStop(t, syscall.SIGTERM)
}

func testFanoutSurvivesStop(t *testing.T, sig syscall.Signal) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testFanoutSurvivesSIGKILL(t, sig, []string{"--data", dir}, func(t *testing.T) crashStore {
			db, err := sqlite.Open(t.Context(), dir, sqlite.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		url, prefix := redistest.Start(t), redistest.Prefix(t)
		testFanoutSurvivesSIGKILL(t, sig, []string{"--redis", url, "--redis-prefix", prefix}, func(t *testing.T) crashStore {
			e, err := redis.Open(t.Context(), url, redis.Options{Prefix: prefix}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return e
		})
	})
}

func testFanoutSurvivesSIGKILL(t *testing.T, sig syscall.Signal, engineArgs []string, open func(*testing.T) crashStore) {
	const (
		followers = 20_000
		// Small chunks and one worker make the fan-out 200 jobs run one
		// after another, long enough to be caught half-way.
		chunk = 100
		jobs  = followers / chunk
	)
	began := time.Now()
	manifestPath := filepath.Join(t.TempDir(), "seed.json")
	seedArgs := append([]string{"seed"}, engineArgs...)
	seedArgs = append(seedArgs, "--users", fmt.Sprint(followers), "--follows-per-user", "1",
		"--celebrity-followers", fmt.Sprint(followers), "--sample", "10", "--manifest", manifestPath, "--quiet")
	if out, err := exec.Command(binary, seedArgs...).CombinedOutput(); err != nil {
		t.Fatalf("starling %v: %v\n%s", seedArgs, err, out)
	}
	t.Logf("seeded after %v", time.Since(began))
	var m bench.Manifest
	if b, err := os.ReadFile(manifestPath); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, b)
	}
	if m.Celebrity.Login != seed.DefaultCelebrity || m.Celebrity.Token == "" || m.Followers != followers || len(m.Sample) != 10 {
		t.Fatalf("manifest = %+v, want the celebrity's token, %d followers and 10 sampled", m, followers)
	}

	// What the replay must not change: the counts of a sample of users.
	store := open(t)
	celeb, err := store.UserByLogin(t.Context(), seed.DefaultCelebrity)
	if err != nil {
		t.Fatal(err)
	}
	if celeb.Followers != followers || celeb.Posts != 0 {
		t.Fatalf("seeded celebrity = %+v, want %d followers and no posts", celeb, followers)
	}
	fans := allFollowers(t, store, celeb.ID)
	if len(fans) != followers {
		t.Fatalf("celebrity's follower set holds %d, want %d", len(fans), followers)
	}
	sample := make([]social.UserID, 300)
	for i := range sample {
		sample[i] = fans[rand.IntN(len(fans))]
	}
	before, err := store.Users(t.Context(), sample)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	serveArgs := func() []string {
		a := append([]string{"serve", "--addr", freeAddr(t)}, engineArgs...)
		return append(a, "--fanout-chunk", fmt.Sprint(chunk), "--workers", "1", "--prefetch", "8", "--job-lease", "3s", "--admins", seed.DefaultCelebrity)
	}
	p := start(t, cheapHashes, serveArgs()...)
	var st status
	p.call(t, "POST", "/api/starling/v1/statuses", m.Celebrity.Token, map[string]string{"message": "to all twenty thousand"}, http.StatusCreated, &st)

	// Half-way: the planning job has enqueued its chunks (until then it
	// is the only job), and a good part of them, but not all, have run.
	planned := false
	waitFor(t, "the fan-out to be half-way", func() bool {
		s := jobStats(t, p, m.Celebrity.Token)
		left := s.Ready + s.Leased
		planned = planned || left > 1
		return planned && left > 0 && left <= jobs*3/4
	})
	if err := p.stop(t, sig); sig == syscall.SIGTERM && err != nil {
		t.Fatalf("a graceful stop half-way through a fan-out: %v, want exit status 0\n%s", err, p.logs)
	}

	// The kill landed half-way: of a sample of the followers, some have
	// the status and some do not. (All of them are checked at the end.)
	probe := make([]social.UserID, 2000)
	for i, j := range rand.Perm(len(fans))[:len(probe)] {
		probe[i] = fans[j]
	}
	store = open(t)
	reached := countHomesWith(t, store, probe, st.ID)
	store.Close()
	if reached == 0 || reached == len(probe) {
		t.Fatalf("after the kill %d of %d sampled homes hold the status; the kill was meant to land half-way", reached, len(probe))
	}
	t.Logf("killed with %d of %d sampled homes reached after %v", reached, len(probe), time.Since(began))

	// A new process takes over the jobs the dead one held once their
	// leases run out, and finishes the fan-out.
	p = start(t, cheapHashes, serveArgs()...)
	waitFor(t, "the fan-out to finish", func() bool {
		s := jobStats(t, p, m.Celebrity.Token)
		return s.Ready+s.Leased+s.Delayed == 0
	})
	if s := jobStats(t, p, m.Celebrity.Token); s.Dead != 0 {
		t.Errorf("jobs after the fan-out: %+v, want no dead jobs", s)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.logs)
	}

	t.Logf("finished after %v", time.Since(began))
	store = open(t)
	defer store.Close()
	var twice, missing atomic.Int64
	forEachConcurrently(fans, func(uid social.UserID) {
		ids, err := store.TimelineIDs(context.Background(), social.HomeOf(uid), social.Page{Count: social.MaxPageCount})
		if err != nil {
			t.Error(err)
			return
		}
		switch n := count(ids, st.ID); {
		case n == 0:
			missing.Add(1)
		case n > 1:
			twice.Add(1)
		}
	})
	if missing.Load() != 0 || twice.Load() != 0 {
		t.Errorf("after the restart, %d homes lack the status and %d hold it more than once; want every one of %d once", missing.Load(), twice.Load(), followers)
	}
	celeb, err = store.User(t.Context(), celeb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if celeb.Followers != followers || celeb.Posts != 1 || celeb.Following != 0 {
		t.Errorf("celebrity after the replay = %+v, want %d followers, 1 post, following 0", celeb, followers)
	}
	if profile, err := store.TimelineIDs(t.Context(), social.ProfileOf(celeb.ID), social.Page{Count: 10}); err != nil || len(profile) != 1 || profile[0] != st.ID {
		t.Errorf("celebrity's profile = %v, %v; want [%d]", profile, err, st.ID)
	}
	after, err := store.Users(t.Context(), sample)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.Followers != b.Followers || a.Following != b.Following || a.Posts != b.Posts {
			t.Errorf("%s: counts before %d/%d/%d, after %d/%d/%d (followers/following/posts)",
				b.Login, b.Followers, b.Following, b.Posts, a.Followers, a.Following, a.Posts)
		}
	}
}

type jobCounts struct {
	Ready, Delayed, Leased, Dead int64
}

func jobStats(t *testing.T, p *process, adminToken string) jobCounts {
	t.Helper()
	var s jobCounts
	p.call(t, "GET", "/api/starling/v1/admin/jobs/stats", adminToken, nil, http.StatusOK, &s)
	return s
}

func allFollowers(t *testing.T, store social.Store, uid social.UserID) []social.UserID {
	t.Helper()
	var all []social.UserID
	cursor := ""
	for {
		ids, next, err := store.FollowerChunk(t.Context(), uid, cursor, 5000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func countHomesWith(t *testing.T, store social.Store, uids []social.UserID, id social.StatusID) int {
	t.Helper()
	var n atomic.Int64
	forEachConcurrently(uids, func(uid social.UserID) {
		ids, err := store.TimelineIDs(context.Background(), social.HomeOf(uid), social.Page{Count: social.MaxPageCount})
		if err != nil {
			t.Error(err)
			return
		}
		if count(ids, id) > 0 {
			n.Add(1)
		}
	})
	return int(n.Load())
}

// forEachConcurrently calls fn for every uid from a few goroutines, which
// hides the round trips of reading 20,000 timelines one by one.
func forEachConcurrently(uids []social.UserID, fn func(uid social.UserID)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(uids) {
					return
				}
				fn(uids[i])
			}
		})
	}
	wg.Wait()
}

func count(ids []social.StatusID, id social.StatusID) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
