package jobstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/jobs"
)

// Run runs every test of the suite, each as a subtest on a queue of its own
// from newQueue, which must return a fresh, empty queue. The subtests run
// one after another: several wait out short leases, and running them side by
// side on a small machine would only make those waits longer.
func Run(t *testing.T, newQueue func(t *testing.T) jobs.Queue) {
	tests := []struct {
		name string
		test func(t *testing.T, q jobs.Queue)
	}{
		{"EnqueueClaimComplete", testEnqueueClaimComplete},
		{"ClaimAtMostMax", testClaimAtMostMax},
		{"ConcurrentClaimersGetDistinctJobs", testConcurrentClaimers},
		{"AttemptsCountClaims", testAttemptsCountClaims},
		{"CompleteEnqueuesNext", testCompleteEnqueuesNext},
		{"CompleteMany", testCompleteMany},
		{"StaleLeaseCannotSettle", testStaleLease},
		{"SettledJobCannotSettleAgain", testSettleTwice},
		{"ExpiredLeaseRunsAgain", testExpiredLeaseRunsAgain},
		{"RetryLaterHidesJob", testRetryLater},
		{"DelayedJobs", testDelayedJobs},
		{"BuryAndDead", testBuryAndDead},
		{"Stats", testStats},
		{"StatsByKind", testStatsByKind},
		{"ClaimWaitsForEnqueue", testClaimWaits},
		{"ClaimWaitTimesOutEmpty", testClaimWaitEmpty},
		{"ClaimWaitEndsWithContext", testClaimWaitContext},
		{"RunnerRetriesWithBackoffThenBuries", testRunnerRetriesThenBuries},
		{"RunnerRetrySucceeds", testRunnerRetrySucceeds},
		{"RunnerNextJobs", testRunnerNextJobs},
		{"RunnerPermanentAndUnknownKinds", testRunnerPermanentAndUnknown},
		{"RunnerSurvivesPanics", testRunnerPanics},
		{"RunnerFairDispatch", testRunnerFairDispatch},
		{"RunnerBatchHandler", testRunnerBatchHandler},
		{"RunnerBatchHandlerPanics", testRunnerBatchPanics},
		{"RunnerJobContextEndsWithLease", testRunnerJobContextEndsWithLease},
		{"RunnerStopLeavesRunningJobs", testRunnerStopLeavesRunningJobs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, newQueue(t)) })
	}
}

func testEnqueueClaimComplete(t *testing.T, q jobs.Queue) {
	wantStats(t, q, jobs.Stats{})
	if got := claim(t, q, "c1", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim on an empty queue: got %d jobs, want 0", len(got))
	}
	enqueue(t, q, newJob("greet", "hello"))
	wantStats(t, q, jobs.Stats{Ready: 1})

	j := claimOne(t, q, "c1", longLease)
	wantJob(t, j, "greet", "hello", 1)
	wantStats(t, q, jobs.Stats{Leased: 1})
	if got := claim(t, q, "c2", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim while the only job is leased: got %d jobs, want 0", len(got))
	}
	if err := q.Complete(t.Context(), j); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantStats(t, q, jobs.Stats{})
	if got := claim(t, q, "c1", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim after Complete: got %d jobs, want 0", len(got))
	}

	// Several jobs in one Enqueue, an empty payload among them.
	enqueue(t, q, newJob("a", "1"), newJob("b", "2"), jobs.NewJob{Kind: "c"})
	got := claim(t, q, "c1", 10, longLease)
	if got, want := payloads(got), []string{"", "1", "2"}; !slices.Equal(got, want) {
		t.Fatalf("payloads claimed: got %q, want %q", got, want)
	}
	ids := map[string]bool{}
	for _, j := range got {
		if ids[j.ID] {
			t.Fatalf("job id %q returned twice", j.ID)
		}
		ids[j.ID] = true
		if want := map[string]string{"1": "a", "2": "b", "": "c"}[string(j.Payload)]; j.Kind != want {
			t.Fatalf("kind of payload %q: got %q, want %q", j.Payload, j.Kind, want)
		}
		if err := q.Complete(t.Context(), j); err != nil {
			t.Fatalf("Complete: %v", err)
		}
	}
	wantStats(t, q, jobs.Stats{})
}

func testClaimAtMostMax(t *testing.T, q jobs.Queue) {
	const total = 10
	for i := range total {
		enqueue(t, q, newJob("k", fmt.Sprint(i)))
	}
	// Without contention a claim takes as many as it may: 3, 3, 3, then 1.
	seen := map[string]bool{}
	for len(seen) < total {
		got := claim(t, q, "c", 3, longLease)
		if want := min(3, total-len(seen)); len(got) != want {
			t.Fatalf("Claim(Max 3) with %d jobs ready: got %d jobs, want %d", total-len(seen), len(got), want)
		}
		for _, j := range got {
			if seen[j.ID] {
				t.Fatalf("job %q claimed twice while leased", j.ID)
			}
			seen[j.ID] = true
		}
	}
	wantStats(t, q, jobs.Stats{Leased: total})
}

// testConcurrentClaimers checks that no job is leased to two consumers at
// once, however many claim at the same moment.
func testConcurrentClaimers(t *testing.T, q jobs.Queue) {
	const (
		total     = 120
		claimers  = 12
		perClaim  = 3
		maxClaims = 10 * total // a claimer that claims this often without finishing is stuck
	)
	batch := make([]jobs.NewJob, total)
	for i := range batch {
		batch[i] = newJob("k", fmt.Sprint(i))
	}
	enqueue(t, q, batch...)

	var (
		mu    sync.Mutex // guards owner
		owner = map[string]string{}
	)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range claimers {
		consumer := fmt.Sprintf("claimer-%d", c)
		wg.Go(func() {
			<-start
			for range maxClaims {
				got, err := q.Claim(t.Context(), jobs.Claim{Consumer: consumer, Max: perClaim, Lease: longLease})
				if err != nil {
					t.Errorf("Claim(%s): %v", consumer, err)
					return
				}
				if len(got) > perClaim {
					t.Errorf("Claim(%s): got %d jobs, want at most %d", consumer, len(got), perClaim)
				}
				mu.Lock()
				for _, j := range got {
					if prev, ok := owner[j.ID]; ok {
						t.Errorf("job %s leased to %s while leased to %s", j.ID, consumer, prev)
					}
					owner[j.ID] = consumer
				}
				// An empty claim may be an engine backing off under
				// contention; stop only when every job is out.
				done := len(owner) >= total
				mu.Unlock()
				if done {
					return
				}
				if len(got) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(owner) != total {
		t.Fatalf("jobs claimed: got %d distinct, want %d", len(owner), total)
	}
	wantStats(t, q, jobs.Stats{Leased: total})
}

func testAttemptsCountClaims(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "p"))
	j := claimOne(t, q, "c1", longLease)
	wantJob(t, j, "k", "p", 1)

	// A retry for now makes the job claimable at once, one attempt on.
	if err := q.Retry(t.Context(), j, time.Now(), "again"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	before := time.Now()
	j = claimAfter(t, q, "c2", shortLease, time.Time{}, "the retry time")
	wantJob(t, j, "k", "p", 2)

	// A lease that runs out counts as an attempt too.
	j = claimAfter(t, q, "c3", longLease, before.Add(shortLease-clockSlack), "the lease ran out")
	wantJob(t, j, "k", "p", 3)
	if err := q.Complete(t.Context(), j); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func testCompleteEnqueuesNext(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("parent", "p"))
	parent := claimOne(t, q, "c", longLease)
	later := time.Now().Add(time.Hour)
	err := q.Complete(t.Context(), parent,
		newJob("child", "c1"), newJob("child", "c2"),
		jobs.NewJob{Kind: "child", Payload: []byte("c3"), RunAt: later})
	if err != nil {
		t.Fatalf("Complete with next jobs: %v", err)
	}
	wantStats(t, q, jobs.Stats{Ready: 2, Delayed: 1})
	got := claim(t, q, "c", 10, longLease)
	if got, want := payloads(got), []string{"c1", "c2"}; !slices.Equal(got, want) {
		t.Fatalf("next jobs claimed: got %q, want %q", got, want)
	}
	for _, j := range got {
		wantJob(t, j, "child", string(j.Payload), 1)
	}
}

// testCompleteMany settles several jobs in one call: the jobs still leased
// are acknowledged with their next jobs, the ones settled already are
// refused one by one and their next jobs are not enqueued.
func testCompleteMany(t *testing.T, q jobs.Queue) {
	if res, err := q.CompleteMany(t.Context(), nil); err != nil || len(res) != 0 {
		t.Fatalf("CompleteMany of nothing: got %v, %v; want no results, nil", res, err)
	}
	enqueue(t, q, newJob("k", "done"), newJob("k", "parent"), newJob("k", "plain"), newJob("k", "buried"))
	got := claim(t, q, "c", 10, longLease)
	if len(got) != 4 {
		t.Fatalf("claimed %d jobs, want 4", len(got))
	}
	by := map[string]jobs.Job{}
	for _, j := range got {
		by[string(j.Payload)] = j
	}
	if err := q.Complete(t.Context(), by["done"]); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if err := q.Bury(t.Context(), by["buried"], "bad"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	later := time.Now().Add(time.Hour)
	cs := []jobs.Completion{
		{Job: by["done"], Next: []jobs.NewJob{newJob("orphan", "o1")}},
		{Job: by["parent"], Next: []jobs.NewJob{newJob("child", "c1"), newJob("child", "c2"), {Kind: "child", Payload: []byte("c3"), RunAt: later}}},
		{Job: by["plain"]},
		{Job: by["buried"], Next: []jobs.NewJob{newJob("orphan", "o2")}},
	}
	res, err := q.CompleteMany(t.Context(), cs)
	if err != nil {
		t.Fatalf("CompleteMany: %v", err)
	}
	if len(res) != len(cs) {
		t.Fatalf("CompleteMany: got %d results for %d jobs", len(res), len(cs))
	}
	for i, want := range []error{jobs.ErrLeaseLost, nil, nil, jobs.ErrLeaseLost} {
		if !errors.Is(res[i], want) || (want == nil && res[i] != nil) {
			t.Fatalf("CompleteMany result %d (%s): got %v, want %v", i, cs[i].Job.Payload, res[i], want)
		}
	}
	wantStats(t, q, jobs.Stats{Ready: 2, Delayed: 1, Dead: 1})
	children := claim(t, q, "c", 10, longLease)
	if got, want := payloads(children), []string{"c1", "c2"}; !slices.Equal(got, want) {
		t.Fatalf("next jobs claimed: got %q, want %q", got, want)
	}
	// Acknowledged jobs stay acknowledged.
	res, err = q.CompleteMany(t.Context(), []jobs.Completion{{Job: by["parent"]}, {Job: children[0]}})
	if err != nil || len(res) != 2 || !errors.Is(res[0], jobs.ErrLeaseLost) || res[1] != nil {
		t.Fatalf("CompleteMany of a completed job and a leased one: got %v, %v; want [ErrLeaseLost nil], nil", res, err)
	}
	wantStats(t, q, jobs.Stats{Delayed: 1, Leased: 1, Dead: 1})
}

// testStaleLease lets a lease run out, has another consumer claim the job,
// and checks that the first consumer can no longer settle it, and that the
// next jobs of its refused Complete are not enqueued (Complete is atomic).
func testStaleLease(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "p"))
	before := time.Now()
	first := claimOne(t, q, "first", shortLease)
	second := claimAfter(t, q, "second", longLease, before.Add(shortLease-clockSlack), "the first lease ran out")
	wantJob(t, second, "k", "p", 2)
	if second.Lease == first.Lease {
		t.Fatalf("second claim got the first claim's lease %q", first.Lease)
	}

	if err := q.Complete(t.Context(), first, newJob("next", "n")); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Complete with a stale lease: got %v, want ErrLeaseLost", err)
	}
	if err := q.Retry(t.Context(), first, time.Now(), "stale"); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Retry with a stale lease: got %v, want ErrLeaseLost", err)
	}
	if err := q.Bury(t.Context(), first, "stale"); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Bury with a stale lease: got %v, want ErrLeaseLost", err)
	}
	// The refused calls changed nothing: the job is still leased to the
	// second consumer, nothing was enqueued and nothing died.
	wantStats(t, q, jobs.Stats{Leased: 1})
	if err := q.Complete(t.Context(), second); err != nil {
		t.Fatalf("Complete by the lease holder: %v", err)
	}
	wantStats(t, q, jobs.Stats{})
	if d := dead(t, q, 10); len(d) != 0 {
		t.Fatalf("dead jobs: got %d, want 0", len(d))
	}
}

func testSettleTwice(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "1"), newJob("k", "2"), newJob("k", "3"))
	got := claim(t, q, "c", 10, longLease)
	if len(got) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(got))
	}
	ctx := t.Context()
	if err := q.Complete(ctx, got[0]); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if err := q.Bury(ctx, got[1], "bad"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	if err := q.Retry(ctx, got[2], time.Now().Add(time.Hour), "later"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	for i, j := range got {
		if err := q.Complete(ctx, j, newJob("next", "n")); !errors.Is(err, jobs.ErrLeaseLost) {
			t.Fatalf("Complete of settled job %d: got %v, want ErrLeaseLost", i, err)
		}
	}
	wantStats(t, q, jobs.Stats{Delayed: 1, Dead: 1})
}

// testExpiredLeaseRunsAgain is the worker that dies: it claims and never
// settles, and the job is offered again once the lease has run out.
func testExpiredLeaseRunsAgain(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "p"))
	before := time.Now()
	claimOne(t, q, "dies", shortLease)
	j := claimAfter(t, q, "survivor", longLease, before.Add(shortLease-clockSlack), "the lease ran out")
	wantJob(t, j, "k", "p", 2)
	if err := q.Complete(t.Context(), j); err != nil {
		t.Fatalf("Complete after redelivery: %v", err)
	}
	wantStats(t, q, jobs.Stats{})

	// A lease that has not run out keeps the job from everyone else, the
	// same consumer included.
	enqueue(t, q, newJob("k", "q"))
	claimOne(t, q, "holder", longLease)
	if got := claim(t, q, "holder", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim while the job is leased: got %d jobs, want 0", len(got))
	}
	if got := claim(t, q, "other", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim by another consumer while the job is leased: got %d jobs, want 0", len(got))
	}
}

func testRetryLater(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "p"))
	j := claimOne(t, q, "c", longLease)
	at := time.Now().Add(300 * time.Millisecond)
	if err := q.Retry(t.Context(), j, at, "boom"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	s := stats(t, q)
	if time.Now().Before(at) {
		if want := (jobs.Stats{Delayed: 1}); s != want {
			t.Fatalf("Stats before the retry time: got %+v, want %+v", s, want)
		}
	}
	j = claimAfter(t, q, "c", longLease, at.Add(-clockSlack), "the retry time")
	wantJob(t, j, "k", "p", 2)
	if d := dead(t, q, 10); len(d) != 0 {
		t.Fatalf("a retried job is not dead: got %d dead jobs, want 0", len(d))
	}
}

func testDelayedJobs(t *testing.T, q jobs.Queue) {
	at := time.Now().Add(300 * time.Millisecond)
	enqueue(t, q, jobs.NewJob{Kind: "later", Payload: []byte("l"), RunAt: at})
	// A run time in the past means now.
	enqueue(t, q, jobs.NewJob{Kind: "past", Payload: []byte("p"), RunAt: time.Now().Add(-time.Hour)})
	s := stats(t, q)
	if time.Now().Before(at) {
		if want := (jobs.Stats{Ready: 1, Delayed: 1}); s != want {
			t.Fatalf("Stats before the run time: got %+v, want %+v", s, want)
		}
	}
	// The first claim gets the job due now; the delayed one comes once its
	// time has come, on a slow machine perhaps in that same first claim.
	got := map[string]jobs.Job{}
	deadline := time.Now().Add(patience)
	for first := true; len(got) < 2; first = false {
		start := time.Now()
		js := claim(t, q, "c", 10, longLease)
		for _, j := range js {
			if j.Kind == "later" && start.Before(at.Add(-clockSlack)) {
				t.Fatalf("delayed job claimed %v before its run time", at.Sub(start))
			}
			got[j.Kind] = j
		}
		if first && got["past"].ID == "" {
			t.Fatalf("first claim: got %d jobs without the one due now", len(js))
		}
		if time.Now().After(deadline) {
			t.Fatalf("delayed job not claimable %v after its run time", patience)
		}
		time.Sleep(pollEvery)
	}
	wantJob(t, got["past"], "past", "p", 1)
	wantJob(t, got["later"], "later", "l", 1)
}

func testBuryAndDead(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "first"), newJob("k", "second"), newJob("k", "alive"))
	got := claim(t, q, "c", 10, longLease)
	if len(got) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(got))
	}
	byPayload := map[string]jobs.Job{}
	for _, j := range got {
		byPayload[string(j.Payload)] = j
	}
	before := time.Now().Add(-time.Second)
	if err := q.Bury(t.Context(), byPayload["first"], "reason one"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	if err := q.Bury(t.Context(), byPayload["second"], "reason two"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	wantStats(t, q, jobs.Stats{Leased: 1, Dead: 2})

	d := dead(t, q, 10)
	if len(d) != 2 {
		t.Fatalf("Dead: got %d jobs, want 2", len(d))
	}
	want := []struct{ payload, reason string }{{"second", "reason two"}, {"first", "reason one"}}
	for i, w := range want {
		dj := d[i]
		if string(dj.Payload) != w.payload || dj.Reason != w.reason || dj.Kind != "k" || dj.Attempts != 1 {
			t.Fatalf("Dead[%d]: got payload %q reason %q kind %q attempts %d, want %q %q %q 1 (newest first)",
				i, dj.Payload, dj.Reason, dj.Kind, dj.Attempts, w.payload, w.reason, "k")
		}
		if dj.ID != byPayload[w.payload].ID {
			t.Fatalf("Dead[%d].ID: got %q, want %q", i, dj.ID, byPayload[w.payload].ID)
		}
		if dj.Died.Before(before) || dj.Died.After(time.Now().Add(time.Second)) {
			t.Fatalf("Dead[%d].Died: got %v, want about now", i, dj.Died)
		}
	}
	if d := dead(t, q, 1); len(d) != 1 || string(d[0].Payload) != "second" {
		t.Fatalf("Dead(1): got %d jobs, want only the newest", len(d))
	}
	// Dead jobs are never offered again.
	if err := q.Complete(t.Context(), byPayload["alive"]); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got := claim(t, q, "c", 10, longLease); len(got) != 0 {
		t.Fatalf("Claim with only dead jobs left: got %d jobs, want 0", len(got))
	}
	wantStats(t, q, jobs.Stats{Dead: 2})
}

func testStats(t *testing.T, q jobs.Queue) {
	enqueue(t, q, newJob("k", "1"), newJob("k", "2"), newJob("k", "3"),
		jobs.NewJob{Kind: "k", Payload: []byte("4"), RunAt: time.Now().Add(time.Hour)})
	wantStats(t, q, jobs.Stats{Ready: 3, Delayed: 1})
	got := claim(t, q, "c", 2, longLease)
	if len(got) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(got))
	}
	wantStats(t, q, jobs.Stats{Ready: 1, Delayed: 1, Leased: 2})
	if err := q.Bury(t.Context(), got[0], "bad"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	wantStats(t, q, jobs.Stats{Ready: 1, Delayed: 1, Leased: 1, Dead: 1})
	if err := q.Retry(t.Context(), got[1], time.Now().Add(time.Hour), "later"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	wantStats(t, q, jobs.Stats{Ready: 1, Delayed: 2, Dead: 1})
	last := claimOne(t, q, "c", longLease)
	if err := q.Complete(t.Context(), last); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantStats(t, q, jobs.Stats{Delayed: 2, Dead: 1})
}

func testClaimWaits(t *testing.T, q jobs.Queue) {
	type result struct {
		jobs []jobs.Job
		err  error
	}
	done := make(chan result, 1)
	go func() {
		got, err := q.Claim(t.Context(), jobs.Claim{Consumer: "waiter", Max: 1, Lease: longLease, Wait: patience})
		done <- result{got, err}
	}()
	// Give the claim time to start waiting; the test holds if it has not.
	time.Sleep(50 * time.Millisecond)
	enqueue(t, q, newJob("k", "wake"))
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("waiting Claim: %v", r.err)
		}
		if len(r.jobs) != 1 {
			t.Fatalf("waiting Claim: got %d jobs, want the one enqueued while it waited", len(r.jobs))
		}
		wantJob(t, r.jobs[0], "k", "wake", 1)
	case <-time.After(patience + 5*time.Second):
		t.Fatalf("waiting Claim did not return a job enqueued while it waited")
	}
}

func testClaimWaitEmpty(t *testing.T, q jobs.Queue) {
	got, err := q.Claim(t.Context(), jobs.Claim{Consumer: "c", Max: 5, Lease: longLease, Wait: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Claim with Wait on an empty queue: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Claim with Wait on an empty queue: got %d jobs, want 0", len(got))
	}
	// A job delayed past the wait is not handed out early either.
	at := time.Now().Add(time.Hour)
	enqueue(t, q, jobs.NewJob{Kind: "k", RunAt: at})
	got, err = q.Claim(t.Context(), jobs.Claim{Consumer: "c", Max: 5, Lease: longLease, Wait: 100 * time.Millisecond})
	if err != nil || len(got) != 0 {
		t.Fatalf("Claim with Wait and only a delayed job: got %d jobs, err %v; want 0, nil", len(got), err)
	}
}

func testClaimWaitContext(t *testing.T, q jobs.Queue) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		got, _ := q.Claim(ctx, jobs.Claim{Consumer: "c", Max: 1, Lease: longLease, Wait: 10 * time.Minute})
		done <- len(got)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("cancelled Claim on an empty queue: got %d jobs, want 0", n)
		}
	case <-time.After(patience):
		t.Fatalf("Claim still waiting %v after its context was cancelled", patience)
	}
	// Nothing was lost or left leased by the cancelled claim.
	enqueue(t, q, newJob("k", "after"))
	wantJob(t, claimOne(t, q, "c", longLease), "k", "after", 1)
}
