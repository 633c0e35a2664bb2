package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"starling/internal/engine/redis"
	"starling/internal/engine/redis/redistest"
	"starling/internal/events"
	"starling/internal/social"
)

// TestManyProcessesShareRedis runs two API processes without workers and
// one worker process on one Redis: what is written through one API process
// is read through the other, and only the worker process can have done the
// fan-out.
func TestManyProcessesShareRedis(t *testing.T) {
	url := redistest.Start(t)
	env := append([]string{"STARLING_FANOUT_CHUNK=2"}, cheapHashes...)
	a := start(t, env, "serve", "--addr", freeAddr(t), "--redis", url, "--workers", "0")
	b := start(t, env, "serve", "--addr", freeAddr(t), "--redis", url, "--workers", "0")

	ada := a.register(t, "ada")
	fans := map[string]string{}
	for _, login := range []string{"bob", "cy", "dee"} {
		fans[login] = b.register(t, login)
		b.call(t, "PUT", "/api/starling/v1/me/following/ada", fans[login], nil, http.StatusNoContent, nil)
	}
	var u user
	a.call(t, "GET", "/api/starling/v1/users/ada", "", nil, http.StatusOK, &u)
	if u.Followers != 3 {
		t.Fatalf("ada read through the other process: %+v, want 3 followers", u)
	}
	a.call(t, "GET", "/api/starling/v1/users/bob", "", nil, http.StatusOK, &u)
	if u.Following != 1 {
		t.Fatalf("bob read through the other process: %+v, want following 1", u)
	}

	var st status
	a.call(t, "POST", "/api/starling/v1/statuses", ada, map[string]string{"message": "hello from a"}, http.StatusCreated, &st)
	// Neither API process runs workers, so the fan-out waits for one.
	if got := b.home(t, fans["bob"]); len(got) != 0 {
		t.Fatalf("bob's home before any worker ran: %+v, want it empty", got)
	}
	start(t, env, "worker", "--redis", url, "--workers", "2")
	for login, tok := range fans {
		waitFor(t, login+"'s home to get the status", func() bool {
			got := b.home(t, tok)
			return len(got) == 1 && got[0].ID == st.ID
		})
	}

	b.call(t, "DELETE", "/api/starling/v1/me/following/ada", fans["cy"], nil, http.StatusNoContent, nil)
	a.call(t, "GET", "/api/starling/v1/users/ada", "", nil, http.StatusOK, &u)
	if u.Followers != 2 || u.Posts != 1 {
		t.Fatalf("ada after an unfollow through the other process: %+v, want 2 followers and 1 post", u)
	}
	if got := a.home(t, fans["cy"]); len(got) != 0 {
		t.Fatalf("cy's home after unfollowing ada: %+v, want it empty", got)
	}
}

// TestRedisOutage stops redis-server under a running process: API calls
// answer 503 promptly, /readyz fails, /healthz does not, and the process
// stays up. Once Redis is back on the same address the process serves
// again without a restart: the API, the job workers (fan-out) and the
// events bus, whose subscription from before the outage gets events
// published after it.
func TestRedisOutage(t *testing.T) {
	srv := redistest.NewServer(t)
	const prefix = "outage:"
	p := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--redis", srv.URL(), "--redis-prefix", prefix, "--workers", "2")

	// A subscriber in this process, under the server's prefix, as another
	// starling process would hold it.
	eng, err := redis.Open(t.Context(), srv.URL(), redis.Options{Prefix: prefix}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	bus := redis.NewBus(eng, redis.BusOptions{})
	t.Cleanup(func() { bus.Close() })
	created := make(chan social.StatusEvent, 100)
	unsub, err := bus.Subscribe(events.StatusCreated, func(e events.Event) {
		var se social.StatusEvent
		if json.Unmarshal(e.Data, &se) == nil {
			created <- se
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	waitFor(t, "the event subscription", bus.Live)

	postAndSee := func(phase string) {
		t.Helper()
		ada, bob := p.register(t, "ada"), p.register(t, "bob")
		p.call(t, "PUT", "/api/starling/v1/me/following/ada", bob, nil, http.StatusNoContent, nil)
		var st status
		p.call(t, "POST", "/api/starling/v1/statuses", ada, map[string]string{"message": phase}, http.StatusCreated, &st)
		waitFor(t, "fan-out "+phase, func() bool {
			got := p.home(t, bob)
			return len(got) == 1 && got[0].ID == st.ID
		})
		select {
		case se := <-created:
			if se.ID != st.ID || se.Message != phase {
				t.Fatalf("event %s: got status %d %q, want %d %q", phase, se.ID, se.Message, st.ID, phase)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no status.created event %s", phase)
		}
	}
	postAndSee("before the outage")

	srv.Stop()
	// "Promptly" is held to a generous bound only: each call must be
	// answered before this client gives up.
	client := &http.Client{Timeout: 5 * time.Second}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/starling/v1/users/ada", ""},
		{"GET", "/api/starling/v1/users/ada/statuses", ""},
		{"POST", "/api/starling/v1/users", `{"login":"eve","name":"Eve","password":"password-eve"}`},
		{"POST", "/api/starling/v1/tokens", `{"login":"ada","password":"password-ada"}`},
		{"GET", "/api/starling/v1/timelines/home", ""},
		{"GET", "/readyz", ""},
	} {
		status, body := rawCall(t, client, c.method, p.base+c.path, c.body, "some-token")
		var e struct{ Error struct{ Code string } }
		if status != http.StatusServiceUnavailable || json.Unmarshal(body, &e) != nil || e.Error.Code != "unavailable" {
			t.Errorf("%s %s with Redis stopped: got %d %s, want 503 with error code unavailable", c.method, c.path, status, body)
		}
	}
	if status, body := rawCall(t, client, "GET", p.base+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("/healthz with Redis stopped: got %d %s, want 200: the process itself is fine", status, body)
	}
	waitFor(t, "the subscriber to notice the outage", func() bool { return !bus.Live() })
	select {
	case err := <-p.done:
		t.Fatalf("starling exited during the outage: %v", err)
	default:
	}

	// The restarted server is empty (redistest keeps nothing on disk), so
	// the users are registered again.
	if err := srv.Restart(); err != nil {
		t.Fatalf("restarting redis-server: %v", err)
	}
	p.waitReady(t)
	waitFor(t, "the subscription to come back", bus.Live)
	postAndSee("after the outage")

	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop after the outage: %v\n%s", err, p.logs)
	}
}

// TestRedisHung pauses redis-server (SIGSTOP), so that connections stay
// open but nothing answers: calls still answer 503 rather than hang, and
// the process serves again, with its data, once Redis resumes.
func TestRedisHung(t *testing.T) {
	srv := redistest.NewServer(t)
	p := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--redis", srv.URL(), "--redis-timeout", "1s")
	ada := p.register(t, "ada")

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Resume() })
	// Generous next to --redis-timeout: it catches a hang, not slowness.
	client := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/api/starling/v1/users/ada", "/api/starling/v1/timelines/home", "/readyz"} {
		if status, body := rawCall(t, client, "GET", p.base+path, "", ada); status != http.StatusServiceUnavailable {
			t.Errorf("GET %s with Redis paused: got %d %s, want 503", path, status, body)
		}
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	p.waitReady(t)
	var me user
	p.call(t, "GET", "/api/starling/v1/me", ada, nil, http.StatusOK, &me)
	if me.Login != "ada" {
		t.Fatalf("after Redis resumed: /me = %+v, want ada", me)
	}
}

// rawCall sends a request and returns the status and body, failing the
// test when no answer comes (the client's timeout included).
func rawCall(t *testing.T, client *http.Client, method, url, body, token string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}
