package seed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"starling/internal/engine/sqlite"
	"starling/internal/seed"
)

// slowFinish is a loader whose FinishLoad waits until released: a counts
// phase that takes long.
type slowFinish struct {
	seed.Loader
	release chan struct{}
}

func (l slowFinish) FinishLoad(ctx context.Context) error {
	select {
	case <-l.release:
	case <-time.After(30 * time.Second):
		return errors.New("FinishLoad was never released: the counts phase reported no progress while it ran")
	}
	return l.Loader.FinishLoad(ctx)
}

// The counts phase, one call that cannot tell how far it is, reports its
// progress with an unknown total while it runs, from Load's goroutine,
// rather than 0 of 1 once before and 1 of 1 after.
func TestCountsPhaseReportsWhileItRuns(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := slowFinish{Loader: db, release: make(chan struct{})}
	var counts []seed.Progress
	_, err = seed.Load(t.Context(), l, seed.Config{
		Users: 20, FollowsPerUser: 3, CelebrityFollowers: 5, PasswordHash: cheapHash(t), Seed: 1,
		Progress: func(p seed.Progress) {
			if p.Phase != seed.PhaseCounts {
				return
			}
			counts = append(counts, p)
			if len(counts) == 3 {
				close(l.release)
			}
		},
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(counts) < 4 {
		t.Fatalf("counts phase reported %d times, want at least 3 while running and 1 at the end", len(counts))
	}
	for i, p := range counts[:len(counts)-1] {
		if p.Total != 0 || p.Done != 0 {
			t.Errorf("report %d while running = %d/%d, want 0/0 (unknown total)", i, p.Done, p.Total)
		}
		if i > 0 && p.Elapsed < counts[i-1].Elapsed {
			t.Errorf("report %d: elapsed went back from %v to %v", i, counts[i-1].Elapsed, p.Elapsed)
		}
	}
	if last := counts[len(counts)-1]; last.Done != last.Total || last.Total == 0 {
		t.Errorf("last report = %d/%d, want done", last.Done, last.Total)
	}
}
