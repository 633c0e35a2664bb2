package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"starling/internal/accesslog"
	"starling/internal/engine/sqlite"
	"starling/internal/events"
	"starling/internal/httpapi"
	"starling/internal/metrics"
	"starling/internal/social"
)

// BenchmarkHomeTimeline is one GET /api/starling/v1/timelines/home?count=30 as the
// timeline bench sends it, through the API's handler on the embedded
// engine, without the network: what the server spends per request in the
// HTTP layer, the Service and the store.
//
//	go test -run '^$' -bench HomeTimeline -benchmem -count 5 ./internal/httpapi
func BenchmarkHomeTimeline(b *testing.B) { benchHomeTimeline(b, nil) }

// BenchmarkHomeTimelineObserved is BenchmarkHomeTimeline as serve runs it:
// an access line per request (JSON, at info, to nowhere), the HTTP
// metrics and a record for the live access log.
//
//	go test -run '^$' -bench 'HomeTimeline(Observed)?$' -benchmem -count 5 ./internal/httpapi
func BenchmarkHomeTimelineObserved(b *testing.B) {
	bus := events.NewMemory(events.MemoryOptions{})
	defer bus.Close()
	access := accesslog.New(bus, "bench", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); access.Run(ctx) }()
	defer func() { cancel(); <-done }()
	benchHomeTimeline(b, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		c.Metrics = metrics.New()
		c.AccessLog = access
	})
}

func benchHomeTimeline(b *testing.B, configure func(*httpapi.Config)) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, b.TempDir(), sqlite.Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc, err := social.NewService(db, social.Config{Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Register(ctx, "reader", "Reader", "password123"); err != nil {
		b.Fatal(err)
	}
	token, reader, err := svc.Login(ctx, "reader", "password123")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 30 {
		if _, err := svc.Post(ctx, reader, fmt.Sprintf("timeline bench status %d", i), nil); err != nil {
			b.Fatal(err)
		}
	}
	cfg := httpapi.Config{Service: svc, Queue: db}
	if configure != nil {
		configure(&cfg)
	}
	api := httpapi.New(cfg)
	req := httptest.NewRequest("GET", "/api/starling/v1/timelines/home?count=30", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET home: %d %s", rec.Code, rec.Body)
		}
	}
}
