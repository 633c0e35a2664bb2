package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/ratelimit"
	"starling/internal/social"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// running is a server started on a free loopback port, with its base URL.
type running struct {
	runningServer
	base string
}

func startRedisServer(t *testing.T, url, prefix string) *running {
	t.Helper()
	return startRunning(t, Config{
		Addr: "127.0.0.1:0", RedisURL: url, RedisPrefix: prefix,
		Password:   social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		RateLimits: ratelimit.Policies{Post: ratelimit.Unlimited, Stream: ratelimit.Unlimited},
	})
}

func (r *running) call(t *testing.T, method, path, token string, body any) []byte {
	t.Helper()
	data, err := r.try(method, path, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// try sends a request and returns the answer's body, or an error for a
// failed request or an answer of 300 and above.
func (r *running) try(method, path, token string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return data, nil
}

func (r *running) open(t *testing.T, path, token string) *bufio.Reader {
	t.Helper()
	req, _ := http.NewRequest("GET", r.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", path, err, res)
	}
	t.Cleanup(func() { res.Body.Close() })
	return bufio.NewReader(res.Body)
}

func readLine(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if l = strings.TrimRight(l, "\r\n"); l != "" {
			return l
		}
	}
}

// A status posted through one process reaches the stream clients of
// another, firehose and home alike; stopping a process ends its streams
// with a clean shutdown notice.
func TestStreamsAcrossProcesses(t *testing.T) {
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	a, b := startRedisServer(t, url, prefix), startRedisServer(t, url, prefix)
	token := func(login string) string {
		a.call(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": "password-" + login})
		var tok struct{ Token string }
		json.Unmarshal(a.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": "password-" + login}), &tok)
		return tok.Token
	}
	ann, bob := token("ann"), token("bob")
	a.call(t, "PUT", "/api/starling/v1/me/following/ann", bob, nil)

	firehose := b.open(t, "/statuses/firehose.json?identifier=watcher", "")
	home := b.open(t, "/api/starling/v1/streams/home", bob)
	var st struct {
		ID      int64
		Message string
	}
	json.Unmarshal(a.call(t, "POST", "/api/starling/v1/statuses", ann, map[string]string{"message": "across processes"}), &st)

	if l := readLine(t, firehose); !strings.HasPrefix(l, fmt.Sprintf(`{"id":%d,`, st.ID)) {
		t.Fatalf("firehose on the other process got %s, want status %d", l, st.ID)
	}
	for {
		l := readLine(t, home)
		if strings.HasPrefix(l, "data: ") {
			if !strings.HasPrefix(l, fmt.Sprintf(`data: {"id":%d,`, st.ID)) {
				t.Fatalf("home stream on the other process got %s, want status %d", l, st.ID)
			}
			break
		}
	}

	stopped := make(chan struct{})
	go func() {
		b.stop() // reports an error of Run
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	if l := readLine(t, firehose); l != `{"disconnect":{"code":"shutdown"}}` {
		t.Fatalf("at shutdown the stream got %q, want the shutdown notice", l)
	}
	if rest, err := io.ReadAll(firehose); err != nil || len(rest) != 0 {
		t.Fatalf("after the notice: %q, %v; want a clean end", rest, err)
	}
}

// Redis stops answering for a while under a running stream, then comes back
// with its data: nothing retained is missed, the stream carries on, and an
// SSE client that reconnects with its last event id gets exactly what it
// missed. Then Redis restarts empty: the hub reads the new log from its
// start, so a status posted afterwards still reaches the live stream.
func TestStreamsSurviveRedisOutages(t *testing.T) {
	rs := redistest.NewServer(t)
	a := startRedisServer(t, rs.URL(), "o:")
	register := func(login string) string {
		a.call(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": "password-" + login})
		var tok struct{ Token string }
		json.Unmarshal(a.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": "password-" + login}), &tok)
		return tok.Token
	}
	post := func(token, msg string) int64 {
		var st struct{ ID int64 }
		json.Unmarshal(a.call(t, "POST", "/api/starling/v1/statuses", token, map[string]string{"message": msg}), &st)
		return st.ID
	}
	ann := register("ann")
	live := a.open(t, "/statuses/firehose.json?identifier=live", "")
	sse := a.open(t, "/api/starling/v1/streams/firehose", "")
	first := post(ann, "before the outage")
	readLine(t, live)
	var lastID string
	for {
		l := readLine(t, sse)
		if id, ok := strings.CutPrefix(l, "id: "); ok {
			lastID = id
		}
		if strings.HasPrefix(l, "data: ") {
			break
		}
	}

	if err := rs.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the hub's reads fail meanwhile
	if err := rs.Resume(); err != nil {
		t.Fatal(err)
	}
	second := post(ann, "after the outage")
	if l := readLine(t, live); !strings.HasPrefix(l, fmt.Sprintf(`{"id":%d,`, second)) {
		t.Fatalf("after the outage the stream got %s, want status %d", l, second)
	}

	// Resuming from the first status's event gets the second, and only it.
	req, _ := http.NewRequest("GET", a.base+"/api/starling/v1/streams/firehose", nil)
	req.Header.Set("Last-Event-ID", lastID)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("resuming: %v %v", err, res)
	}
	defer res.Body.Close()
	resumed := bufio.NewReader(res.Body)
	for {
		l := readLine(t, resumed)
		if strings.HasPrefix(l, "data: ") {
			if !strings.HasPrefix(l, fmt.Sprintf(`data: {"id":%d,`, second)) {
				t.Fatalf("resumed after status %d with %s, want status %d", first, l, second)
			}
			break
		}
	}

	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	// The users are gone with Redis's data: register again once it answers.
	var tok struct{ Token string }
	deadline := time.Now().Add(30 * time.Second)
	for tok.Token == "" {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not come back")
		}
		if _, err := a.try("POST", "/api/starling/v1/users", "", map[string]string{"login": "ann", "name": "ann", "password": "password-ann"}); err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		json.Unmarshal(a.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "ann", "password": "password-ann"}), &tok)
	}
	third := post(tok.Token, "after the restart")
	if l := readLine(t, live); !strings.HasPrefix(l, fmt.Sprintf(`{"id":%d,`, third)) {
		t.Fatalf("after the restart the stream got %s, want status %d", l, third)
	}
}
