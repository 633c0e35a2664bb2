package bench_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"starling/internal/bench"
	"starling/internal/ratelimit"
	"starling/internal/server"
	"starling/internal/social"
)

// The chat scenario, over every transport against a real server, sees
// every message once and in order, and reads the server's memory.
func TestChatScenario(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		RateLimits: ratelimit.Policies{Chat: ratelimit.Unlimited},
		Password:   social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
	}, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	url := "http://" + srv.Addr().String()
	for _, transport := range bench.ChatTransports {
		t.Run(transport, func(t *testing.T) {
			r, err := bench.Run(ctx, "chat", bench.Options{URL: url, Waiters: 8, Rate: 40, Duration: 500 * time.Millisecond,
				Transport: transport, ServerPID: os.Getpid()})
			if err != nil {
				t.Fatalf("chat: %v", err)
			}
			if r.Requests < 5 || r.Errors != 0 {
				t.Fatalf("posted %d with %d errors", r.Requests, r.Errors)
			}
			for _, k := range []string{"lost", "duplicated", "out_of_order", "unexpected"} {
				if r.Extra[k] != 0 {
					t.Errorf("%s = %v, want 0 (%+v)", k, r.Extra[k], r)
				}
			}
			if r.Extra["deliveries"] < float64(8*r.Requests) || r.Extra["server_rss_held_mib"] <= 0 {
				t.Errorf("deliveries %v for %d messages to 8 waiters; rss %v", r.Extra["deliveries"], r.Requests, r.Extra["server_rss_held_mib"])
			}
		})
	}
}
