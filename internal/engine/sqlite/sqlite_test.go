package sqlite

import (
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/jobs/jobstest"
	"starling/internal/social"
	"starling/internal/social/socialtest"
)

func TestSocialConformance(t *testing.T) {
	socialtest.Run(t, func(t *testing.T) (social.Store, jobs.Queue) {
		db := openSized(t, t.TempDir(), socialtest.TimelineSize)
		return db, db
	})
}

// TestFreshReads: one process holds a data directory, so both handles are
// the same store.
func TestFreshReads(t *testing.T) {
	socialtest.RunFreshReads(t, func(t *testing.T) (social.Store, social.Store, jobs.Queue) {
		db := openSized(t, t.TempDir(), socialtest.TimelineSize)
		return db, db, db
	})
}

func TestJobsConformance(t *testing.T) {
	jobstest.Run(t, func(t *testing.T) jobs.Queue {
		return openDir(t, t.TempDir())
	})
}

func TestDeadLettersConformance(t *testing.T) {
	jobstest.RunDeadLetters(t, func(t *testing.T) jobstest.DeadLetterQueue {
		return openDir(t, t.TempDir())
	})
}

// The embedded engine counts jobs by kind, with the wait of the oldest
// ready one.
func TestStatsByKind(t *testing.T) {
	db := openDir(t, t.TempDir())
	before := time.Now().Add(-time.Second)
	err := db.Enqueue(t.Context(), jobs.NewJob{Kind: "a"}, jobs.NewJob{Kind: "a"}, jobs.NewJob{Kind: "b", RunAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.StatsByKind(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("StatsByKind: got %+v, want kinds a and b", got)
	}
	for _, k := range got {
		switch k.Kind {
		case "a":
			if k.Ready != 2 || k.Delayed != 0 || k.OldestReady.Before(before) || k.OldestReady.After(time.Now()) {
				t.Fatalf("kind a: got %+v, want 2 ready since about now", k)
			}
		case "b":
			if k.Ready != 0 || k.Delayed != 1 || !k.OldestReady.IsZero() {
				t.Fatalf("kind b: got %+v, want 1 delayed and no oldest ready", k)
			}
		}
	}
}
