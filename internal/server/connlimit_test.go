package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/ratelimit"
	"starling/internal/social"
)

// patience bounds every wait of these tests: a guard against hanging,
// never a speed requirement.
const patience = 20 * time.Second

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Workers = -1
	return startServerIn(t, cfg).Server
}

// onEngine returns cfg on a fresh store of the named engine ("sqlite" or
// "redis"), with passwords cheap to hash.
func onEngine(t *testing.T, name string, cfg Config) Config {
	t.Helper()
	cfg.Password = social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}
	if name == "redis" {
		cfg.RedisURL, cfg.RedisPrefix = redistest.Shared(t), redistest.Prefix(t)
	} else {
		cfg.DataDir = t.TempDir()
	}
	return cfg
}

// runningServer is a Server running until stop, or the end of the test.
type runningServer struct {
	*Server
	stop func()
}

func startServerIn(t *testing.T, cfg Config) runningServer {
	t.Helper()
	srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return runningServer{srv, stop}
}

// dialFrom opens a connection to srv from the loopback address local
// (127.0.0.2 and up are loopback too on Linux).
func dialFrom(t *testing.T, srv *Server, local string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: patience}
	c, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthy reports whether c answers GET /healthz with 200, or false when the
// server closed it instead.
func healthy(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("no answer and no close within %v", patience)
	}
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// One address opening many idle connections (the shape of a slow-body or
// slow-header attack) gets MaxConnsPerIP of them; the rest are closed at
// once, and another address is still served. A place given back is taken
// again.
func TestConnectionsCappedPerAddress(t *testing.T) {
	srv := startServer(t, Config{MaxConnsPerIP: 3, MaxConns: 100})
	held := make([]net.Conn, 3)
	for i := range held {
		held[i] = dialFrom(t, srv, "127.0.0.1")
		if !healthy(t, held[i]) {
			t.Fatalf("connection %d of 3 refused", i+1)
		}
	}
	for i := range 5 {
		if healthy(t, dialFrom(t, srv, "127.0.0.1")) {
			t.Fatalf("connection %d over the per-address cap was served", i+1)
		}
	}
	if !healthy(t, dialFrom(t, srv, "127.0.0.2")) {
		t.Fatal("another address was refused")
	}
	if open, refused := srv.conns.counts(); open != 4 || refused != 5 {
		t.Fatalf("open %d, refused %d; want 4 and 5", open, refused)
	}
	held[0].Close()
	deadline := time.Now().Add(patience)
	for !healthy(t, dialFrom(t, srv, "127.0.0.1")) {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's place was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Many addresses together get MaxConns connections.
func TestConnectionsCappedOverall(t *testing.T) {
	srv := startServer(t, Config{MaxConnsPerIP: 2, MaxConns: 4})
	for _, local := range []string{"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		if !healthy(t, dialFrom(t, srv, local)) {
			t.Fatalf("a connection from %s within the caps was refused", local)
		}
	}
	if healthy(t, dialFrom(t, srv, "127.0.0.4")) {
		t.Fatal("a connection over the overall cap was served")
	}
}

// A connection whose long poll was held off its handler, answered and
// handed back to the http.Server keeps its one place under the caps, and
// gives it back when it closes.
func TestHeldPollConnectionCountsOnce(t *testing.T) {
	srv := startServer(t, Config{MaxConnsPerIP: 2, MaxConns: 100, RateLimits: ratelimit.Policies{Chat: ratelimit.Unlimited}})
	poller := dialFrom(t, srv, "127.0.0.1")
	poster := dialFrom(t, srv, "127.0.0.1")
	br := bufio.NewReader(poller)
	post := func(body string) string {
		t.Helper()
		poster.SetDeadline(time.Now().Add(patience))
		req := "POST /api/starling/v1/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
		if _, err := io.WriteString(poster, req); err != nil {
			t.Fatalf("posting: %v", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(poster), nil)
		if err != nil {
			t.Fatalf("posting: %v", err)
		}
		defer resp.Body.Close()
		var m struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&m)
		return m.ID
	}
	cursor := post(`{"body":"first"}`)
	for round := range 3 {
		poller.SetDeadline(time.Now().Add(patience))
		io.WriteString(poller, "GET /api/starling/v1/rooms/lobby/messages?wait=60&cursor="+cursor+" HTTP/1.1\r\nHost: x\r\n\r\n")
		for deadline := time.Now().Add(patience); srv.rooms.Waiters() != 1; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the poll was never held", round)
			}
		}
		cursor = post(`{"body":"next"}`)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("round %d: held poll: %v", round, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if open, _ := srv.conns.counts(); open != 2 {
			t.Fatalf("round %d: %d connections counted open, want 2", round, open)
		}
	}
	if healthy(t, dialFrom(t, srv, "127.0.0.1")) {
		t.Fatal("a third connection from the address was served")
	}
	poller.Close()
	for deadline := time.Now().Add(patience); ; time.Sleep(10 * time.Millisecond) {
		if open, _ := srv.conns.counts(); open == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the held poll's connection never gave its place back")
		}
	}
}
