package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// On both engines the admin's job counts and the metrics give the queue's
// jobs by kind, and the Redis engine's command round trips are measured.
func TestJobCountsByKindAndRedisLatency(t *testing.T) {
	for _, name := range []string{"sqlite", "redis"} {
		t.Run(name, func(t *testing.T) {
			cfg := onEngine(t, name, Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Workers: -1})
			srv := startServerIn(t, cfg)
			boss := registerAndLogin(t, srv, "boss")
			srv.stop()
			cfg.Admins = []string{"boss"}
			srv = startServerIn(t, cfg)

			// With no workers, a post leaves its fan-out job queued.
			if st, body := httpDo(t, srv, "POST", "/api/starling/v1/statuses", boss, map[string]string{"message": "hello"}); st != http.StatusCreated {
				t.Fatalf("posting: %d %s", st, body)
			}
			st, body := httpDo(t, srv, "GET", "/api/starling/v1/admin/jobs/stats", boss, nil)
			var stats struct {
				Ready int64 `json:"ready"`
				Kinds []struct {
					Kind                         string
					Ready, Delayed, Leased, Dead int64
					OldestReady                  *string `json:"oldest_ready"`
				} `json:"kinds"`
			}
			if st != http.StatusOK || json.Unmarshal(body, &stats) != nil {
				t.Fatalf("job stats: %d %s", st, body)
			}
			if stats.Ready != 1 || len(stats.Kinds) != 1 || stats.Kinds[0].Kind != "social.fanout" ||
				stats.Kinds[0].Ready != 1 || stats.Kinds[0].Delayed+stats.Kinds[0].Leased+stats.Kinds[0].Dead != 0 || stats.Kinds[0].OldestReady == nil {
				t.Fatalf("job stats: %s, want one social.fanout job ready, by kind with its time", body)
			}

			status, metrics := get(t, "http://"+srv.AdminAddr().String()+"/metrics")
			if status != http.StatusOK {
				t.Fatalf("GET /metrics: %d", status)
			}
			for _, want := range []string{
				`starling_jobs_queued{kind="social.fanout",state="ready"} 1`,
				`starling_jobs_queued{kind="social.fanout",state="dead"} 0`,
				`starling_jobs_oldest_ready_age_seconds{kind="social.fanout"}`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			const latency = `starling_redis_command_duration_seconds_count{command=`
			switch {
			case name == "sqlite" && strings.Contains(metrics, latency):
				t.Errorf("/metrics of the embedded engine has Redis round trips")
			case name == "redis" && !strings.Contains(metrics, latency+`"EVALSHA"}`) && !strings.Contains(metrics, latency+`"EVAL"}`):
				t.Errorf("/metrics of the Redis engine lacks the round trips of its scripts")
			case name == "redis" && strings.Contains(metrics, latency+`"XREAD"}`):
				t.Errorf("/metrics times XREAD, which the engine only sends blocking")
			}
		})
	}
}
