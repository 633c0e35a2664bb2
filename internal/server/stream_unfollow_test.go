package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"starling/internal/jobs"
	"starling/internal/ratelimit"
	"starling/internal/social/socialtest"
)

// A fan-out planned while a user followed the author, delivered after they
// unfollowed, keeps the status out of their home timeline; their live home
// stream must not show it either, while another follower's does. The
// server runs no job workers: the test runs the planning job alone, so
// that the delivery jobs it plans wait while the follower unfollows.
func TestHomeStreamSkipsAStatusDeliveredAfterAnUnfollow(t *testing.T) {
	for _, engine := range []string{"sqlite", "redis"} {
		t.Run(engine, func(t *testing.T) {
			cfg := Config{
				Addr: "127.0.0.1:0", Workers: -1,
				// The two followers' homes make one chunk, the list another:
				// the plan is delivery jobs, not a delivery of its own.
				FanoutChunk: 2,
				RateLimits:  ratelimit.Policies{Post: ratelimit.Unlimited, Stream: ratelimit.Unlimited},
			}
			r := startRunning(t, onEngine(t, engine, cfg))
			token := func(login string) string {
				r.call(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": "password-" + login})
				var tok struct{ Token string }
				json.Unmarshal(r.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": "password-" + login}), &tok)
				return tok.Token
			}
			post := func(token, msg string) int64 {
				var st struct{ ID int64 }
				json.Unmarshal(r.call(t, "POST", "/api/starling/v1/statuses", token, map[string]string{"message": msg}), &st)
				return st.ID
			}
			star, gone, stays, owner := token("star"), token("gone"), token("stays"), token("owner")
			r.call(t, "PUT", "/api/starling/v1/me/following/star", gone, nil)
			r.call(t, "PUT", "/api/starling/v1/me/following/star", stays, nil)
			var l struct{ ID int64 }
			json.Unmarshal(r.call(t, "POST", "/api/starling/v1/lists", owner, map[string]string{"name": "stars"}), &l)
			r.call(t, "PUT", fmt.Sprintf("/api/starling/v1/lists/%d/members/star", l.ID), owner, nil)
			r.runJobs(t, 0)

			goneHome := r.open(t, "/api/starling/v1/streams/home", gone)
			staysHome := r.open(t, "/api/starling/v1/streams/home", stays)
			s := post(star, "planned for both followers")
			r.runJobs(t, 1) // the plan: delivery jobs, held in the queue
			r.call(t, "DELETE", "/api/starling/v1/me/following/star", gone, nil)
			r.runJobs(t, 0) // the deliveries, planned before the unfollow

			if got := nextStatus(t, staysHome); got != s {
				t.Fatalf("the follower's home stream got status %d, want %d", got, s)
			}
			// The unfollower's own next status reaches their home stream
			// at once; the status delivered before it must not come first.
			own := post(gone, "after unfollowing")
			if got := nextStatus(t, goneHome); got != own {
				t.Fatalf("the unfollower's home stream got status %d (the star's is %d), want their own %d", got, s, own)
			}
			var home []struct{ ID int64 }
			if err := json.Unmarshal(r.call(t, "GET", "/api/starling/v1/timelines/home", gone, nil), &home); err != nil {
				t.Fatalf("the unfollower's home timeline: %v", err)
			}
			if len(home) != 1 || home[0].ID != own {
				t.Fatalf("the unfollower's home timeline is %v, want only their own status %d (not the star's %d)", home, own, s)
			}
		})
	}
}

// startRunning starts a server of cfg on a free loopback port.
func startRunning(t *testing.T, cfg Config) *running {
	t.Helper()
	rs := startServerIn(t, cfg)
	return &running{runningServer: rs, base: "http://" + rs.Addr().String()}
}

// runJobs runs the server's jobs on the test's goroutine: n of them, or
// every runnable one when n is zero.
func (r *running) runJobs(t *testing.T, n int) {
	t.Helper()
	q := r.engine.Queue
	if n > 0 {
		q = socialtest.ClaimAtMost(q, n)
	}
	runner := jobs.NewRunner(q, jobs.RunnerConfig{Consumer: "test", Lease: time.Minute}, slog.New(slog.DiscardHandler))
	r.service.RegisterJobs(runner)
	if err := runner.Drain(t.Context()); err != nil {
		t.Fatalf("running jobs: %v", err)
	}
}

// nextStatus reads an SSE stream up to its next status event and returns
// the status's id.
func nextStatus(t *testing.T, br *bufio.Reader) int64 {
	t.Helper()
	event := ""
	for {
		l := readLine(t, br)
		if name, ok := strings.CutPrefix(l, "event: "); ok {
			event = name
			continue
		}
		data, ok := strings.CutPrefix(l, "data: ")
		if !ok || event != "status" {
			continue
		}
		var st struct{ ID int64 }
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			t.Fatalf("status event %q: %v", data, err)
		}
		return st.ID
	}
}
