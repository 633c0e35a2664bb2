package redis

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"starling/internal/jobs"
)

func claimN(t *testing.T, e *Engine, consumer string, lease time.Duration) []jobs.Job {
	t.Helper()
	got, err := e.Claim(t.Context(), jobs.Claim{Consumer: consumer, Max: 10, Lease: lease})
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return got
}

// claimEventually polls until a claim returns one job.
func claimEventually(t *testing.T, e *Engine, consumer string, lease time.Duration) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if got := claimN(t, e, consumer, lease); len(got) == 1 {
			return got[0]
		} else if len(got) > 1 {
			t.Fatalf("claimed %d jobs, want 1", len(got))
		}
		if time.Now().After(deadline) {
			t.Fatal("no job became claimable")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReclaimBySameConsumer lets a lease run out and has the same consumer
// claim the job again: the first claim's lease is stale all the same.
func TestReclaimBySameConsumer(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	if err := e.Enqueue(t.Context(), jobs.NewJob{Kind: "k", Payload: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	first := claimEventually(t, e, "w", 50*time.Millisecond)
	second := claimEventually(t, e, "w", time.Minute)
	if second.ID != first.ID || second.Attempts != 2 {
		t.Fatalf("reclaimed job: got id %q attempts %d, want %q 2", second.ID, second.Attempts, first.ID)
	}
	if err := e.Complete(t.Context(), first, jobs.NewJob{Kind: "next"}); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("Complete with the stale lease: got %v, want ErrLeaseLost", err)
	}
	if err := e.Complete(t.Context(), second); err != nil {
		t.Fatalf("Complete with the current lease: %v", err)
	}
	if s, _ := e.Stats(t.Context()); s != (jobs.Stats{}) {
		t.Fatalf("Stats: got %+v, want empty (the stale Complete enqueued nothing)", s)
	}
}

// TestAttemptsSurviveRetries mixes retries and expired leases: each claim
// counts once, whichever way the job came back.
func TestAttemptsSurviveRetries(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	if err := e.Enqueue(ctx, jobs.NewJob{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	j := claimEventually(t, e, "w", time.Minute)
	id := j.ID
	for want := 2; want <= 5; want++ {
		if want%2 == 0 {
			if err := e.Retry(ctx, j, time.Now(), "again"); err != nil {
				t.Fatalf("Retry: %v", err)
			}
			j = claimEventually(t, e, "w", 30*time.Millisecond)
		} else {
			j = claimEventually(t, e, "w", time.Minute) // after the 30ms lease ran out
		}
		if j.Attempts != want || j.ID != id {
			t.Fatalf("claim %d: got attempts %d id %q, want %d %q", want, j.Attempts, j.ID, want, id)
		}
	}
	if err := e.Bury(ctx, j, "enough"); err != nil {
		t.Fatal(err)
	}
	d, err := e.Dead(ctx, 10)
	if err != nil || len(d) != 1 || d[0].Attempts != 5 || d[0].ID != id || d[0].Reason != "enough" {
		t.Fatalf("Dead: got %+v, %v; want the job with 5 attempts", d, err)
	}
}

// TestClaimRecreatesRemovedStream removes the jobs stream, consumer group
// and all, as a FLUSHDB would, and checks that the queue works on.
func TestClaimRecreatesRemovedStream(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	if err := e.client.Do(ctx, e.client.B().Del().Key(e.jobStreamKey()).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if got := claimN(t, e, "w", time.Minute); len(got) != 0 {
		t.Fatalf("Claim on a removed stream: got %d jobs", len(got))
	}
	if err := e.Enqueue(ctx, jobs.NewJob{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	if j := claimEventually(t, e, "w", time.Minute); j.Attempts != 1 {
		t.Fatalf("attempts: got %d, want 1", j.Attempts)
	}
}

// TestWaitingClaimWakesForDelayedJob checks that a waiting Claim picks up a
// delayed job when it falls due, not only when a new entry arrives.
func TestWaitingClaimWakesForDelayedJob(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	at := time.Now().Add(100 * time.Millisecond)
	if err := e.Enqueue(t.Context(), jobs.NewJob{Kind: "k", RunAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Claim(t.Context(), jobs.Claim{Consumer: "w", Max: 1, Lease: time.Minute, Wait: time.Minute})
	if err != nil || len(got) != 1 {
		t.Fatalf("waiting Claim: got %d jobs, %v; want the delayed job", len(got), err)
	}
	if time.Now().Before(at.Add(-5 * time.Millisecond)) {
		t.Fatal("delayed job handed out before its time")
	}
}

func TestMalformedLease(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	for _, l := range []string{"", "1-0", "1-0 x w", "1-0 1"} {
		if err := e.Complete(t.Context(), jobs.Job{ID: "j", Kind: "k", Lease: l}); !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("Complete with lease %q: got %v, want ErrLeaseLost", l, err)
		}
	}
	// A lease of an entry that never existed is lost too.
	if err := e.Complete(t.Context(), jobs.Job{ID: "j", Kind: "k", Lease: "1-0 1 w"}); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("Complete of an unknown entry: got %v, want ErrLeaseLost", err)
	}
}

func TestJobLayout(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	if err := e.Enqueue(ctx, jobs.NewJob{Kind: "now"}, jobs.NewJob{Kind: "later", RunAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	j := claimEventually(t, e, "w", time.Minute)
	for key, want := range map[string]string{
		e.jobStreamKey():   "stream",
		e.delayedJobsKey(): "zset",
		e.jobLeasesKey():   "zset",
	} {
		if got := keyType(t, e, key); got != want {
			t.Errorf("TYPE %s: got %s, want %s", key, got, want)
		}
	}
	if err := e.Bury(ctx, j, "r"); err != nil {
		t.Fatal(err)
	}
	if got := keyType(t, e, e.deadJobsKey()); got != "stream" {
		t.Errorf("TYPE %s: got %s, want stream", e.deadJobsKey(), got)
	}
	n, err := e.client.Do(ctx, e.client.B().Xlen().Key(e.jobStreamKey()).Build()).AsInt64()
	if err != nil || n != 0 {
		t.Errorf("stream length after settling: got %d (%v), want 0: settled entries are deleted", n, err)
	}
	if m := zmembers(t, e, e.jobLeasesKey()); len(m) != 0 {
		t.Errorf("leases after settling: got %v, want none", m)
	}
	// The index holds one member per job: kind, state, time and id,
	// separated by NUL.
	if got := keyType(t, e, e.jobIndexKey()); got != "zset" {
		t.Errorf("TYPE %s: got %s, want zset", e.jobIndexKey(), got)
	}
	var states []string
	for _, m := range zmembers(t, e, e.jobIndexKey()) {
		parts := strings.Split(m, "\x00")
		if len(parts) != 4 || len(parts[2]) != 16 {
			t.Fatalf("index member %q: want kind, state, 16-digit ms and id", m)
		}
		states = append(states, parts[0]+" "+parts[1])
	}
	if want := []string{"later d", "now x"}; !slices.Equal(states, want) {
		t.Errorf("index after burying one job: got %q, want %q", states, want)
	}
}

// TestKindWithNULRefused: the index separates a member's parts with NUL.
func TestKindWithNULRefused(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	if err := e.Enqueue(t.Context(), jobs.NewJob{Kind: "a\x00b"}); err == nil {
		t.Fatal("Enqueue of a kind holding NUL: got nil error")
	}
	if st, err := e.Stats(t.Context()); err != nil || st != (jobs.Stats{}) {
		t.Fatalf("Stats after the refused enqueue: %+v, %v; want none", st, err)
	}
}
