package sqlite

import (
	"testing"

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
