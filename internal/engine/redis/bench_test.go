package redis

import (
	"fmt"
	"testing"
	"time"

	"starling/internal/social"
)

// BenchmarkAddToTimelines delivers statuses to fan-out chunks of 1000 home
// timelines, each already full, so every delivery also trims. One operation
// is one chunk; entries/s counts timeline insertions.
//
//	go test -run '^$' -bench AddToTimelines ./internal/engine/redis/
func BenchmarkAddToTimelines(b *testing.B) {
	const (
		chunk = 1000
		h     = 1000
	)
	e := openTest(b)
	ctx := b.Context()
	author := mustUserB(b, e, "author")
	tls := make([]social.Timeline, chunk)
	for i := range tls {
		tls[i] = social.HomeOf(int64(1_000_000 + i)) // homes need no user record
	}
	// Fill every home to h entries first, so the benchmark measures the
	// steady state of full timelines where every delivery also trims.
	const pool = 2 * h
	ids := make([]int64, pool)
	for i := range ids {
		st, err := e.CreateStatus(ctx, social.NewStatus{UID: author.ID, Login: author.Login, Message: "m", Posted: time.Now()}, h, noJob)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = st.ID
	}
	for _, id := range ids[:h] {
		if err := e.AddToTimelines(ctx, id, tls, h); err != nil {
			b.Fatal(err)
		}
	}
	// The first pass over the rest delivers newer statuses; later passes
	// deliver ids the trim removes again at once: the same work either way.
	next := h
	b.ResetTimer()
	for b.Loop() {
		if err := e.AddToTimelines(ctx, ids[next], tls, h); err != nil {
			b.Fatal(err)
		}
		if next++; next == pool {
			next = h
		}
	}
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkTimelineRead reads the first page (30 statuses) of a full home
// timeline as the Service does: the ids, then the statuses.
//
//	go test -run '^$' -bench TimelineRead ./internal/engine/redis/
func BenchmarkTimelineRead(b *testing.B) {
	const h = 1000
	e := openTest(b)
	ctx := b.Context()
	author := mustUserB(b, e, "author")
	for i := range h {
		if _, err := e.CreateStatus(ctx, social.NewStatus{UID: author.ID, Login: author.Login, Message: fmt.Sprint("status ", i), Posted: time.Now()}, h, noJob); err != nil {
			b.Fatal(err)
		}
	}
	home := social.HomeOf(author.ID)
	page := social.Page{Count: social.DefaultCount, Page: 1}
	// Many readers per core, as HTTP handlers would be: rueidis pipelines
	// their commands onto shared connections.
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ids, err := e.TimelineIDs(ctx, home, page)
			if err != nil {
				b.Error(err)
				return
			}
			sts, err := e.Statuses(ctx, ids)
			if err != nil || len(sts) != social.DefaultCount {
				b.Errorf("read %d statuses, err %v; want %d", len(sts), err, social.DefaultCount)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

func mustUserB(b *testing.B, e *Engine, login string) social.User {
	b.Helper()
	u, err := e.CreateUser(b.Context(), social.NewUser{Login: login, Name: login, PasswordHash: "h", Signup: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	return u
}
