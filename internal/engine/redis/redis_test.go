package redis

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/jobs/jobstest"
	"starling/internal/social"
	"starling/internal/social/socialtest"
)

// Every test of the package shares one redis-server; each engine gets a key
// prefix of its own, so tests run in parallel without seeing each other.
func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// openTest opens an engine on the shared server under a fresh prefix, with
// timelines of testH entries.
func openTest(t testing.TB) *Engine {
	t.Helper()
	return openSized(t, testH)
}

// openSuite opens an engine for the social conformance suite, whose stores
// keep timelines of socialtest.TimelineSize entries.
func openSuite(t testing.TB) *Engine {
	t.Helper()
	return openSized(t, socialtest.TimelineSize)
}

// openSized opens an engine on the shared server under a fresh prefix, with
// timelines of h entries.
func openSized(t testing.TB, h int) *Engine {
	t.Helper()
	return openAt(t, redistest.Shared(t), Options{Prefix: redistest.Prefix(t), TimelineSize: h})
}

func openAt(t testing.TB, url string, opts Options) *Engine {
	t.Helper()
	e, err := Open(context.Background(), url, opts, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestSocialConformance(t *testing.T) {
	t.Parallel()
	socialtest.Run(t, func(t *testing.T) (social.Store, jobs.Queue) {
		e := openSuite(t)
		return e, e
	})
}

// TestFreshReads reads through one engine what another, as a second
// process would, changed; with every cache on and with none.
func TestFreshReads(t *testing.T) {
	t.Parallel()
	for name, cacheBytes := range map[string]int{"cached": 1 << 20, "uncached": -1} {
		t.Run(name, func(t *testing.T) {
			socialtest.RunFreshReads(t, func(t *testing.T) (social.Store, social.Store, jobs.Queue) {
				url, prefix := redistest.Shared(t), redistest.Prefix(t)
				opts := Options{Prefix: prefix, StatusCacheBytes: cacheBytes, TimelineCacheBytes: cacheBytes, TimelineSize: socialtest.TimelineSize}
				w, r := openAt(t, url, opts), openAt(t, url, opts)
				return w, r, w
			})
		})
	}
}

func TestJobsConformance(t *testing.T) {
	t.Parallel()
	jobstest.Run(t, func(t *testing.T) jobs.Queue {
		return openTest(t)
	})
}

func TestDeadLettersConformance(t *testing.T) {
	t.Parallel()
	jobstest.RunDeadLetters(t, func(t *testing.T) jobstest.DeadLetterQueue {
		return openTest(t)
	})
}
