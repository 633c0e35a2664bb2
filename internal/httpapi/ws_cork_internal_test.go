package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// countingConn counts the writes that reach the connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// Messages written between Cork and Flush reach the client in order, in
// one write to the connection (or one per maxCorked bytes); uncorked
// messages are written one at a time.
func TestCorkedWebSocketWritesBatch(t *testing.T) {
	big := strings.Repeat("x", maxCorked/4)
	cases := []struct {
		name       string
		corked     bool
		messages   []string
		wantWrites int64
	}{
		{"corked", true, []string{"one", "two", "three"}, 1},
		{"uncorked", false, []string{"one", "two", "three"}, 3},
		{"corked past the cap", true, []string{big, big, big, big, big}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			counted := make(chan *countingConn, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, cork, err := acceptWebSocket(w, r)
				if err != nil {
					t.Errorf("accept: %v", err)
					return
				}
				defer conn.CloseNow()
				cc := &countingConn{Conn: cork.Conn}
				cork.Conn = cc
				ctx := context.Background()
				if tc.corked {
					cork.Cork(time.Second)
				}
				for _, m := range tc.messages {
					if err := conn.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
						t.Errorf("write: %v", err)
						return
					}
				}
				if tc.corked {
					if err := cork.Flush(); err != nil {
						t.Errorf("flush: %v", err)
					}
				}
				counted <- cc
				conn.Read(ctx) //nolint:errcheck // until the client goes
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.CloseNow()
			client.SetReadLimit(-1)
			for i, want := range tc.messages {
				_, got, err := client.Read(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if string(got) != want {
					t.Fatalf("message %d: got %d bytes %.20q, want %d bytes %.20q", i, len(got), got, len(want), want)
				}
			}
			if got := (<-counted).writes.Load(); got != tc.wantWrites {
				t.Errorf("got %d writes to the connection, want %d", got, tc.wantWrites)
			}
		})
	}
}

// A corked write that fails (the client is gone) reports the error at
// Flush.
func TestCorkFlushReportsAFailedWrite(t *testing.T) {
	server, client := net.Pipe()
	client.Close()
	c := &corkConn{Conn: server}
	c.Cork(time.Second)
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatalf("a corked write failed: %v", err)
	}
	if err := c.Flush(); err == nil {
		t.Fatal("Flush to a closed peer succeeded")
	}
	if len(c.held) != 0 {
		t.Errorf("got %d bytes held after Flush, want 0", len(c.held))
	}
}
