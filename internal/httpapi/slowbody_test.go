package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
)

// slowReadTimeout is the stacks' read deadline in these tests, short so
// that a trickled body is cut quickly; clientPatience bounds every wait of
// the client, a guard against hanging, far above it.
const (
	slowReadTimeout = 300 * time.Millisecond
	clientPatience  = 20 * time.Second
)

// rawConn opens a TCP connection to the stack and sends head (a request
// line and headers) and the start of a body that it never finishes.
func rawConn(t *testing.T, s *stack, head string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(clientPatience))
	return conn, bufio.NewReader(conn)
}

// wantClosed reads the rest of the connection and fails unless the server
// closed it (rather than the client's patience running out).
func wantClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection of a trickled body open for %v", clientPatience)
	}
}

// A client that declares a body and trickles it cannot hold a connection:
// whether the handler refuses the request before reading the body (401
// here, like every early error) or reads it (a JSON body), the connection
// is closed once the request's read deadline passes. Before read deadlines
// were kept for the whole request, net/http discarded the unread body of
// the 401 with no deadline at all, and thousands of such sockets stayed
// open.
func TestTrickledBodyCannotHoldTheConnection(t *testing.T) {
	s := newStackWith(t, func(c *httpapi.Config) { c.ReadTimeout = slowReadTimeout })
	alice := s.register("alice")

	t.Run("unauthenticated, body never read", func(t *testing.T) {
		_, br := rawConn(t, s, "POST "+httpapi.Prefix+"/statuses HTTP/1.1\r\nHost: x\r\n"+
			"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		wantClosed(t, br)
	})

	t.Run("authenticated, body read", func(t *testing.T) {
		_, br := rawConn(t, s, "POST "+httpapi.Prefix+"/statuses HTTP/1.1\r\nHost: x\r\n"+
			"Authorization: Bearer "+alice.token+"\r\n"+
			"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{\"message\":")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		if !resp.Close {
			t.Errorf("no Connection: close after an unreadable body")
		}
		wantClosed(t, br)
	})

	t.Run("declared too large", func(t *testing.T) {
		_, br := rawConn(t, s, "POST "+httpapi.Prefix+"/statuses HTTP/1.1\r\nHost: x\r\n"+
			"Authorization: Bearer "+alice.token+"\r\n"+
			"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
			t.Fatalf("status %d, close %v; want 413 and Connection: close", resp.StatusCode, resp.Close)
		}
		wantClosed(t, br)
	})
}

// The deadline belongs to one request: a kept-alive connection that stays
// idle for longer than the read timeout between two requests still serves
// the second.
func TestReadDeadlineDoesNotOutliveItsRequest(t *testing.T) {
	s := newStackWith(t, func(c *httpapi.Config) { c.ReadTimeout = slowReadTimeout })
	conn, br := rawConn(t, s, "")
	get := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	for i := range 2 {
		if i == 1 {
			time.Sleep(2 * slowReadTimeout)
		}
		if _, err := io.WriteString(conn, get); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, resp.StatusCode)
		}
	}
}
