package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"starling/internal/stream"
)

// smallBufferListener gives accepted connections a small kernel send
// buffer.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// streamConn is an open stream answer read as it arrives.
type streamConn struct {
	t      *testing.T
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// smallReadBufferDialer dials with a small kernel receive buffer, so that
// a client that stops reading is noticed soon.
func smallReadBufferDialer() *net.Dialer {
	return &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return serr
	}}
}

// openStream sends a stream request and returns the open answer; the
// caller checks its status.
func (c *client) openStream(method, path, form string, header http.Header) *streamConn {
	t := c.s.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var body *strings.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, c.s.srv.URL+path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequestWithContext(ctx, method, c.s.srv.URL+path, nil)
	}
	if err != nil {
		cancel()
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	// A transport of its own: one connection per stream, small buffers.
	tr := &http.Transport{DialContext: smallReadBufferDialer().DialContext, DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("%s %s: %v", method, path, err)
	}
	sc := &streamConn{t: t, res: res, r: bufio.NewReaderSize(res.Body, 512), cancel: cancel}
	t.Cleanup(sc.close)
	return sc
}

func (sc *streamConn) close() {
	sc.cancel()
	sc.res.Body.Close()
}

// line reads one "\r\n"-terminated line of a chunked stream, without the
// terminator; keep-alive lines are returned as "".
func (sc *streamConn) line() string {
	sc.t.Helper()
	s, err := sc.r.ReadString('\n')
	if err != nil {
		sc.t.Fatalf("reading a stream line: %v (got %q)", err, s)
	}
	if !strings.HasSuffix(s, "\r\n") {
		sc.t.Fatalf("stream line %q does not end in \\r\\n", s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

// status reads the next non-keep-alive line and decodes it.
func (sc *streamConn) status() streamedStatus {
	sc.t.Helper()
	for {
		l := sc.line()
		if l == "" {
			continue
		}
		var st streamedStatus
		if err := json.Unmarshal([]byte(l), &st); err != nil {
			sc.t.Fatalf("stream line %q is not a status: %v", l, err)
		}
		return st
	}
}

type streamedStatus struct {
	ID       int64  `json:"id"`
	UID      int64  `json:"uid"`
	Login    string `json:"login"`
	Message  string `json:"message"`
	Posted   string `json:"posted"`
	Deleted  bool   `json:"deleted"`
	Location *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"location"`
	Disconnect *struct {
		Code string `json:"code"`
	} `json:"disconnect"`
}

// sseEvent is one Server-Sent Events message.
type sseEvent struct {
	id, event, data string
}

// event reads the next SSE message that carries an event (comments and
// the retry field are skipped).
func (sc *streamConn) event() sseEvent {
	sc.t.Helper()
	for {
		var ev sseEvent
		for {
			s, err := sc.r.ReadString('\n')
			if err != nil {
				sc.t.Fatalf("reading an SSE message: %v (got %q)", err, s)
			}
			s = strings.TrimSuffix(s, "\n")
			if s == "" {
				break
			}
			field, value, _ := strings.Cut(s, ": ")
			switch field {
			case "id":
				ev.id = value
			case "event":
				ev.event = value
			case "data":
				ev.data = value
			}
		}
		if ev.event != "" {
			return ev
		}
	}
}

// waitFor polls cond until it holds; the deadline only turns a hang into
// a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitHubEmpty waits until the hub holds no connection, subscription,
// index entry or buffered byte, and the goroutines are back to base.
func waitHubEmpty(t *testing.T, hub *stream.Hub, baseGoroutines int) {
	t.Helper()
	waitFor(t, "the hub holds nothing", func() bool {
		st := hub.Stats()
		return st.Connections == 0 && st.Subscriptions == 0 && st.IndexEntries == 0 && st.BufferedBytes == 0
	})
	waitFor(t, "the stream goroutines have ended", func() bool {
		return runtime.NumGoroutine() <= baseGoroutines
	})
}
