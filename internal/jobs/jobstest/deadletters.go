package jobstest

import (
	"errors"
	"testing"

	"starling/internal/jobs"
)

// DeadLetterQueue is a queue whose dead jobs an admin can revive and drop.
type DeadLetterQueue interface {
	jobs.Queue
	jobs.DeadLetters
}

// RunDeadLetters runs the conformance tests of jobs.DeadLetters, each on a
// fresh, empty queue.
func RunDeadLetters(t *testing.T, newQueue func(t *testing.T) DeadLetterQueue) {
	t.Run("ReviveAndDrop", func(t *testing.T) { testReviveAndDrop(t, newQueue(t)) })
}

func testReviveAndDrop(t *testing.T, q DeadLetterQueue) {
	enqueue(t, q, newJob("k", "revived"), newJob("k", "dropped"))
	for _, j := range claim(t, q, "c", 10, longLease) {
		if err := q.Bury(t.Context(), j, "broken"); err != nil {
			t.Fatalf("Bury: %v", err)
		}
	}
	ids := map[string]string{}
	for _, d := range dead(t, q, 10) {
		ids[string(d.Payload)] = d.ID
	}
	if len(ids) != 2 {
		t.Fatalf("Dead: got %v, want the two buried jobs", ids)
	}
	for _, missing := range []string{"", "nonsense", "12345678"} {
		if err := q.Revive(t.Context(), missing); !errors.Is(err, jobs.ErrNoDeadJob) {
			t.Fatalf("Revive(%q): got %v, want ErrNoDeadJob", missing, err)
		}
		if err := q.Drop(t.Context(), missing); !errors.Is(err, jobs.ErrNoDeadJob) {
			t.Fatalf("Drop(%q): got %v, want ErrNoDeadJob", missing, err)
		}
	}

	if err := q.Revive(t.Context(), ids["revived"]); err != nil {
		t.Fatalf("Revive: %v", err)
	}
	if err := q.Revive(t.Context(), ids["revived"]); !errors.Is(err, jobs.ErrNoDeadJob) {
		t.Fatalf("Revive twice: got %v, want ErrNoDeadJob", err)
	}
	wantStats(t, q, jobs.Stats{Ready: 1, Dead: 1})
	got := claim(t, q, "c", 10, longLease)
	if len(got) != 1 || string(got[0].Payload) != "revived" || got[0].Kind != "k" || got[0].Attempts != 1 {
		t.Fatalf("claim after Revive: got %+v, want the revived job on its first attempt", got)
	}
	if err := q.Complete(t.Context(), got[0]); err != nil {
		t.Fatalf("Complete: %v", err)
	}

	if err := q.Drop(t.Context(), ids["dropped"]); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if err := q.Drop(t.Context(), ids["dropped"]); !errors.Is(err, jobs.ErrNoDeadJob) {
		t.Fatalf("Drop twice: got %v, want ErrNoDeadJob", err)
	}
	wantStats(t, q, jobs.Stats{})
	if d := dead(t, q, 10); len(d) != 0 {
		t.Fatalf("Dead after Drop: got %d jobs, want none", len(d))
	}
}
