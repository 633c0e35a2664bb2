package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
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
