package redis

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/social"
)

// The benchmarks of this file measure the engine against a redis-server on
// the same machine; docs/PERFORMANCE.md records their numbers and the
// commands that produced them.

var (
	fanoutMillion = flag.Bool("fanout.million", false, "BenchmarkFanout: also fan out to 1,000,000 followers")
	fanoutChunk   = flag.Int("fanout.chunk", 1000, "BenchmarkFanout: recipients per deliver job (--fanout-chunk)")
	fanoutStats   = flag.Bool("fanout.commandstats", false, "BenchmarkFanout: print the server's INFO commandstats of the timed posts")
)

// serverCPU returns the CPU time the server's main thread has used so far.
// Reported per entry, it measures Redis's own cost of an operation, which
// the wall time of a busy machine hides.
func serverCPU(b *testing.B, e *Engine) time.Duration {
	b.Helper()
	info, err := e.client.Do(context.Background(), e.client.B().Info().Section("cpu").Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimSpace(line)
		for _, field := range []string{"used_cpu_user_main_thread:", "used_cpu_sys_main_thread:"} {
			if v, ok := strings.CutPrefix(line, field); ok {
				secs, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatalf("INFO cpu: %s", line)
				}
				total += secs
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

// fakeStatuses takes n status ids from the counter and stores a minimal
// record under each, in pipelines: a benchmark that needs many statuses
// need not pay for CreateStatus one at a time.
func fakeStatuses(b *testing.B, e *Engine, n int) []social.StatusID {
	b.Helper()
	ctx := context.Background()
	last, err := e.client.Do(ctx, e.client.B().Incrby().Key(e.statusIDCounterKey()).Increment(int64(n)).Build()).AsInt64()
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]social.StatusID, n)
	cmds := make(rueidis.Commands, 0, n)
	for i := range ids {
		ids[i] = social.StatusID(last - int64(n) + 1 + int64(i))
		cmds = append(cmds, e.client.B().Hset().Key(e.statusKey(ids[i])).FieldValue().
			FieldValue("uid", "1").FieldValue("login", "author").FieldValue("message", "m").FieldValue("posted", "0").Build())
	}
	for _, res := range e.client.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// fillHomes puts the same n fresh statuses into every home, the way a
// long-running deployment's homes look: skip lists (above 128 entries)
// whose hash tables have finished growing. The first home gets them by
// ZADD; the others are RESTOREd from its DUMP, which is much faster and
// sizes each sorted set's hash table once.
func fillHomes(b *testing.B, e *Engine, uids []social.UserID, n int) {
	b.Helper()
	if n == 0 || len(uids) == 0 {
		return
	}
	ctx := context.Background()
	ids := fakeStatuses(b, e, n)
	pairs := make([]string, 0, 2*n)
	for _, id := range ids {
		pairs = append(pairs, id10(id), id10(id))
	}
	if err := e.client.Do(ctx, e.client.B().Arbitrary("ZADD").Keys(e.homeKey(uids[0])).Args(pairs...).Build()).Error(); err != nil {
		b.Fatal(err)
	}
	dump, err := e.client.Do(ctx, e.client.B().Dump().Key(e.homeKey(uids[0])).Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	for i := 1; i < len(uids); i += batch {
		cmds := make(rueidis.Commands, 0, batch)
		for _, uid := range uids[i:min(i+batch, len(uids))] {
			cmds = append(cmds, e.client.B().Restore().Key(e.homeKey(uid)).Ttl(0).SerializedValue(dump).Replace().Build())
		}
		for _, res := range e.client.DoMulti(ctx, cmds...) {
			if err := res.Error(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAddToTimelines delivers statuses to fan-out chunks of 1000 home
// timelines, each already full (h = 1000) and warmed up by 800 deliveries,
// so every delivery pushes the home past h. Every operation delivers a
// status newer than any in the homes, as a live fan-out does. One operation
// is one chunk, a Deliver of one delivery (what the AddToTimelines of
// earlier versions did; the name stays so that results compare across
// them, see docs/PERFORMANCE.md); entries/s counts timeline insertions,
// server-ns/entry the CPU time Redis spent per insertion.
//
//	go test -run '^$' -bench AddToTimelines -benchtime 400x -count 6 ./internal/engine/redis/
func BenchmarkAddToTimelines(b *testing.B) {
	const (
		chunk = 1000
		h     = 1000
	)
	e := openSized(b, h)
	ctx := b.Context()
	tls := make([]social.Timeline, chunk)
	uids := make([]social.UserID, chunk)
	for i := range tls {
		uids[i] = social.UserID(1_000_000 + i)
		tls[i] = social.HomeOf(uids[i]) // homes need no user record
	}
	fillHomes(b, e, uids, h)
	// Warm up to the steady state of homes that trim lazily: they hold
	// more than h entries after some dozens of deliveries, and the hash
	// table Redis keeps beside each sorted set, which then doubles, has
	// moved to its new size (a step per access) after some hundreds.
	for _, id := range fakeStatuses(b, e, 800) {
		if _, err := e.Deliver(ctx, []social.Delivery{{Status: id, Timelines: tls}}); err != nil {
			b.Fatal(err)
		}
	}
	// The server's CPU also counts the statuses made between deliveries:
	// a thousand HSETs per thousand chunks, next to nothing.
	var ids []social.StatusID
	cpu := serverCPU(b, e)
	b.ResetTimer()
	for b.Loop() {
		if len(ids) == 0 {
			b.StopTimer()
			ids = fakeStatuses(b, e, 1000)
			b.StartTimer()
		}
		if _, err := e.Deliver(ctx, []social.Delivery{{Status: ids[0], Timelines: tls}}); err != nil {
			b.Fatal(err)
		}
		ids = ids[1:]
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64((serverCPU(b, e)-cpu).Nanoseconds())/float64(b.N*chunk), "server-ns/entry")
}

// BenchmarkFanout measures the whole fan-out of one status through
// social.Service and a jobs.Runner of 4 workers, as `starling serve` runs
// it: one operation posts a status and waits until the job queue is empty,
// that is until the status is in every follower's home. The followers'
// homes start with 200 entries (skip lists, as in a live deployment), on a
// server of the benchmark's own; h = 1000 and --fanout-chunk is 1000 unless
// -fanout.chunk says otherwise.
//
//	go test -run '^$' -bench Fanout -benchtime 10x -count 6 ./internal/engine/redis/
//	go test ./internal/engine/redis/ -run '^$' -bench Fanout/followers=1000000 -benchtime 3x -fanout.million
//
// (Flags of the test binary, like -fanout.million, must come after the
// package.)
func BenchmarkFanout(b *testing.B) {
	type size struct{ followers, prefill int }
	// Full homes would take 10 GB for 100,000 followers;
	// BenchmarkAddToTimelines measures deliveries to full homes.
	sizes := []size{{100_000, 200}}
	if *fanoutMillion {
		// A million homes of even 200 entries would not fit in memory;
		// these start empty, so they are small (listpack) sorted sets.
		sizes = append(sizes, size{1_000_000, 0})
	}
	for _, s := range sizes {
		b.Run(fmt.Sprintf("followers=%d/home=%d", s.followers, s.prefill), func(b *testing.B) {
			benchmarkFanout(b, s.followers, s.prefill, *fanoutChunk)
		})
	}
}

func benchmarkFanout(b *testing.B, followers, prefill, chunk int) {
	const h = 1000
	url := redistest.Start(b)
	e := openAt(b, url, Options{Prefix: "bench:", TimelineSize: h})
	ctx := context.Background()
	author := mustUserB(b, e, "author")

	// The followers: ids above the author's, with distinct follow times.
	uids := make([]social.UserID, followers)
	cmds := make(rueidis.Commands, 0, 1000)
	for i := range uids {
		uids[i] = author.ID + 1 + social.UserID(i)
	}
	for i := 0; i < followers; i += 1000 {
		args := make([]string, 0, 2000)
		for j := i; j < min(i+1000, followers); j++ {
			args = append(args, strconv.Itoa(j), id10(uids[j]))
		}
		cmds = append(cmds, e.client.B().Arbitrary("ZADD").Keys(e.followersKey(author.ID)).Args(args...).Build())
	}
	for _, res := range e.client.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			b.Fatal(err)
		}
	}
	fillHomes(b, e, uids, prefill)

	log := testLogger(b)
	svc, err := social.NewService(e, social.Config{FanoutChunk: chunk,
		Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}}, log)
	if err != nil {
		b.Fatal(err)
	}
	runner := jobs.NewRunner(e, jobs.RunnerConfig{Workers: 4, Consumer: "bench"}, log)
	svc.RegisterJobs(runner)
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { runner.Run(rctx) })
	defer func() { stop(); wg.Wait() }()

	last := uids[len(uids)-1]
	if err := e.client.Do(ctx, e.client.B().ConfigResetstat().Build()).Error(); err != nil {
		b.Fatal(err)
	}
	cpu := serverCPU(b, e)
	b.ResetTimer()
	for b.Loop() {
		st, err := svc.Post(ctx, author, "to everyone", nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			s, err := e.Stats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if s.Dead > 0 {
				b.Fatalf("jobs died: %+v", s)
			}
			if s == (jobs.Stats{}) {
				break
			}
			time.Sleep(500 * time.Microsecond)
		}
		b.StopTimer()
		ids, err := e.TimelineIDs(ctx, social.HomeOf(last), social.Page{Count: 1, Page: 1})
		if err != nil || len(ids) != 1 || ids[0] != st.ID {
			b.Fatalf("last follower's home starts with %v (err %v), want status %d", ids, err, st.ID)
		}
		b.StartTimer()
	}
	b.StopTimer()
	// The server's CPU includes the checks above and the Stats polls; both
	// are small next to a fan-out.
	b.ReportMetric(float64(b.N*followers)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64((serverCPU(b, e)-cpu).Nanoseconds())/float64(b.N*followers), "server-ns/entry")
	if *fanoutStats {
		stats, err := e.client.Do(ctx, e.client.B().Info().Section("commandstats").Build()).ToString()
		if err != nil {
			b.Fatal(err)
		}
		// Printed rather than logged: benchmark logs are cut short.
		fmt.Fprintf(os.Stderr, "%s, %d posts:\n%s\n", b.Name(), b.N, stats)
	}
}

// BenchmarkTimelineRead reads the first page (30 statuses) of a full home
// timeline as the Service does: the ids, then the statuses. server-ns/page
// is the CPU time Redis spent per page.
//
//	go test -run '^$' -bench TimelineRead -count 6 ./internal/engine/redis/
func BenchmarkTimelineRead(b *testing.B) {
	const h = 1000
	e := openSized(b, h)
	ctx := b.Context()
	author := mustUserB(b, e, "author")
	for i := range h {
		if _, err := e.CreateStatus(ctx, social.NewStatus{UID: author.ID, Message: fmt.Sprint("status ", i), Posted: time.Now()}, noJob); err != nil {
			b.Fatal(err)
		}
	}
	home := social.HomeOf(author.ID)
	page := social.Page{Count: social.DefaultCount, Page: 1}
	// Many readers per core, as HTTP handlers would be: rueidis pipelines
	// their commands onto shared connections.
	b.SetParallelism(16)
	cpu := serverCPU(b, e)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sts, err := e.TimelinePage(ctx, home, page)
			if err != nil || len(sts) != social.DefaultCount {
				b.Errorf("read %d statuses, err %v; want %d", len(sts), err, social.DefaultCount)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64((serverCPU(b, e)-cpu).Nanoseconds())/float64(b.N), "server-ns/page")
}

// BenchmarkCreateStatus posts statuses one after another (serial: the cost
// of one call, round trips included) and from many goroutines at once
// (parallel: what the server sustains). server-ns/op is the CPU time Redis
// spent per status.
//
//	go test -run '^$' -bench CreateStatus -count 6 ./internal/engine/redis/
func BenchmarkCreateStatus(b *testing.B) {
	const h = 1000
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			e := openSized(b, h)
			ctx := b.Context()
			author := mustUserB(b, e, "author")
			post := func() error {
				_, err := e.CreateStatus(ctx, social.NewStatus{UID: author.ID, Message: "hello, world", Posted: time.Now()}, noJob)
				return err
			}
			cpu := serverCPU(b, e)
			if mode == "serial" {
				for b.Loop() {
					if err := post(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := post(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			b.ReportMetric(float64((serverCPU(b, e)-cpu).Nanoseconds())/float64(b.N), "server-ns/op")
		})
	}
}

func mustUserB(b *testing.B, e *Engine, login string) social.User {
	b.Helper()
	u, err := e.CreateUser(b.Context(), social.NewUser{Login: login, Name: login, PasswordHash: "h", Signup: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	return u
}
