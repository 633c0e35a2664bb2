package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

// running is a server started on a free loopback port.
type running struct {
	srv  *Server
	base string
	stop context.CancelFunc
	done chan error
}

func startServer(t *testing.T, url, prefix string) *running {
	t.Helper()
	cfg := Config{
		Addr: "127.0.0.1:0", RedisURL: url, RedisPrefix: prefix,
		Password:   social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		RateLimits: ratelimit.Policies{Post: ratelimit.Unlimited, Stream: ratelimit.Unlimited},
	}
	ctx, stop := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	r := &running{srv: srv, base: "http://" + srv.Addr().String(), stop: stop, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		<-r.done
	})
	return r
}

func (r *running) call(t *testing.T, method, path, token string, body any) []byte {
	t.Helper()
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
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return data
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
		if l = strings.TrimSuffix(l, "\r\n"); l != "" {
			return l
		}
	}
}

// A status posted through one process reaches the stream clients of
// another, firehose and home alike; stopping a process ends its streams
// with a clean shutdown notice.
func TestStreamsAcrossProcesses(t *testing.T) {
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	a, b := startServer(t, url, prefix), startServer(t, url, prefix)
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

	b.stop()
	select {
	case err := <-b.done:
		b.done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
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
