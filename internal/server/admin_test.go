package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
)

// runTestServer starts a server on loopback with cheap password hashing
// and stops it at the end of the test.
func runTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Password.Time, cfg.Password.MemoryKiB, cfg.Password.Threads = 1, 64, 1
	srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// Metrics and profiles are served on the admin listener and never on the
// public one.
func TestMetricsAndProfilesOnlyOnTheAdminListener(t *testing.T) {
	srv := runTestServer(t, Config{AdminAddr: "127.0.0.1:0", Workers: -1})
	public, admin := "http://"+srv.Addr().String(), "http://"+srv.AdminAddr().String()
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if status, _ := get(t, public+path); status != http.StatusNotFound {
			t.Errorf("public GET %s: %d, want 404", path, status)
		}
	}
	if status, _ := get(t, public+"/api/starling/v1/users/nobody"); status != http.StatusNotFound {
		t.Fatalf("GET of an unknown user: %d, want 404", status)
	}
	// With no workers, a post leaves its fan-out job in the queue.
	ada, err := srv.Service().Register(t.Context(), "ada", "Ada", "password of ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service().Post(t.Context(), ada, "hello", nil); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, admin+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("admin GET /metrics: %d", status)
	}
	for _, want := range []string{
		`starling_http_requests_total{code="4xx",route="GET /api/starling/v1/users/{login}"} 1`,
		`starling_http_requests_total{code="4xx",route="unmatched"}`,
		`starling_http_request_duration_seconds_bucket{route="GET /api/starling/v1/users/{login}",le="+Inf"} 1`,
		`starling_jobs_queued{kind="social.fanout",state="ready"} 1`,
		`starling_jobs_oldest_ready_age_seconds{kind="social.fanout"}`,
		`starling_jobs_stats_up 1`,
		`starling_bus_dropped_events_total 0`,
		`starling_engine_errors_total`,
		`starling_store_up 1`,
		`starling_stream_connections 0`,
		`starling_stream_too_slow_total 0`,
		`starling_chat_waiters 0`,
		`starling_store_ping_seconds`,
		`starling_status_cache_hits_total`,
		`starling_timeline_cache_misses_total`,
		`starling_fanout_lag_seconds_count`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// docs/OPERATIONS.md lists every metric of Starling's own.
	doc, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(body, "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE starling_")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		short := strings.TrimSuffix(strings.TrimSuffix(name, "_hits_total"), "_misses_total")
		if !strings.Contains(string(doc), "`starling_"+name+"`") && !strings.Contains(string(doc), "`starling_"+short+"_hits_total`") {
			t.Errorf("docs/OPERATIONS.md does not list starling_%s", name)
		}
	}
	if status, body := get(t, admin+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("admin GET /debug/pprof/: %d %.200s, want the profile index", status, body)
	}
}

// An admin listener on an address other machines reach serves metrics but
// no profiles.
func TestNoProfilesOffLoopback(t *testing.T) {
	srv := runTestServer(t, Config{AdminAddr: "0.0.0.0:0", Workers: -1})
	_, port, _ := strings.Cut(srv.AdminAddr().String(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(srv.AdminAddr().String(), ":")
	}
	admin := "http://127.0.0.1:" + port
	if status, _ := get(t, admin+"/metrics"); status != http.StatusOK {
		t.Fatalf("GET /metrics: %d, want 200", status)
	}
	if status, _ := get(t, admin+"/debug/pprof/"); status != http.StatusNotFound {
		t.Fatalf("GET /debug/pprof/ off loopback: %d, want 404", status)
	}
}
