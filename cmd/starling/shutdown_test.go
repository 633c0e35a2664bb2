package main

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
)

// SIGTERM with an admin watching the live access log: the stream ends with
// its end event, and the process exits 0.
func TestSIGTERMEndsStreams(t *testing.T) {
	addr, data := freeAddr(t), t.TempDir()
	p := start(t, cheapHashes, "serve", "--addr", addr, "--data", data)
	token := p.register(t, "boss")
	p.stop(t, syscall.SIGTERM)
	p = start(t, cheapHashes, "serve", "--addr", addr, "--data", data, "--admins", "boss")

	req, err := http.NewRequestWithContext(t.Context(), "GET", p.base+"/api/starling/v1/admin/accesslog?format=sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("opening the access log: %d", res.StatusCode)
	}
	body := bufio.NewReader(res.Body)
	// The replay holds the readiness probes of start: the stream is live.
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the access log: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM with a stream open: %v, want exit status 0\n%s", err, p.logs)
	}
	rest, _ := io.ReadAll(body)
	if !strings.Contains(string(rest), "event: end") {
		t.Fatalf("the stream ended with %q, want its end event", rest)
	}
}

// On Redis, an admin watching one process's live access log sees the
// requests another process answers.
func TestAccessLogOfEveryProcess(t *testing.T) {
	url, prefix := redistest.Start(t), redistest.Prefix(t)
	engineArgs := []string{"--redis", url, "--redis-prefix", prefix}
	a := start(t, cheapHashes, append([]string{"serve", "--addr", freeAddr(t)}, engineArgs...)...)
	token := a.register(t, "boss")
	a.stop(t, syscall.SIGTERM)
	a = start(t, cheapHashes, append([]string{"serve", "--addr", freeAddr(t), "--admins", "boss"}, engineArgs...)...)
	b := start(t, cheapHashes, append([]string{"serve", "--addr", freeAddr(t), "--admins", "boss"}, engineArgs...)...)

	req, err := http.NewRequestWithContext(t.Context(), "GET", a.base+"/api/starling/v1/admin/accesslog?format=jsonl", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		body := bufio.NewReader(res.Body)
		for {
			line, err := body.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case lines <- line:
			case <-t.Context().Done():
				return
			}
		}
	}()
	// b's subscription comes up on its own time: ask b for a user until a
	// shows the request.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r, err := http.Get(b.base + "/api/starling/v1/users/nobody")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		id := r.Header.Get("X-Request-Id")
		wait := time.After(200 * time.Millisecond)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatal("the access log ended")
				}
				if strings.Contains(line, `"request_id":"`+id+`"`) {
					if !strings.Contains(line, `"route":"GET /api/starling/v1/users/{login}"`) {
						t.Fatalf("record %s lacks the route", line)
					}
					return
				}
			case <-wait:
				break read
			}
		}
	}
	t.Fatal("process a's access log never showed a request process b answered")
}
