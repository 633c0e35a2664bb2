package httpapi

import (
	"bufio"
	"context"
	"io"
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

// A client that sends its first message right behind the upgrade request,
// in the same packet, has it read: the bytes net/http had buffered move
// into the socket's own read buffer.
func TestWebSocketKeepsBytesSentWithTheUpgrade(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := acceptWebSocket(w, r)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer conn.CloseNow()
		ctx := context.Background()
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Errorf("read: %v", err)
			return
		}
		conn.Write(ctx, websocket.MessageText, append([]byte("echo "), msg...)) //nolint:errcheck // the client checks
		conn.Read(ctx)                                                          //nolint:errcheck // until the client goes
	}))
	defer srv.Close()
	raw, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	upgrade := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	payload := []byte("hello")
	key := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	if _, err := raw.Write(append([]byte(upgrade), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(raw)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %s, want 101", res.Status)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(br, head); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, head[1]&0x7f)
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatal(err)
	}
	if head[0] != 0x81 || string(got) != "echo hello" {
		t.Errorf("got frame %#x %q, want 0x81 %q", head[0], got, "echo hello")
	}
}
