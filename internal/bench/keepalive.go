package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// keepAlive is one HTTP/1.1 connection on which a read loop sends one GET
// at a time and reads each answer by its Content-Length, as wrk-style load
// tools do. The timeline and static scenarios read with it: on a machine
// whose cores the load tool shares with the server, net/http's client
// (a reader and a writer goroutine per connection, header maps, a
// response object per request) takes CPU the server would otherwise get,
// and a leaner client lets both servers show more of what they can do.
// Both scenarios use it alike, so their ratio stays a comparison of the
// servers.
type keepAlive struct {
	addr, host string
	path       string
	req        []byte // the whole request, built once

	mu   sync.Mutex // guards conn against interrupt
	conn net.Conn
	r    *bufio.Reader
}

// errUnsupported marks an answer keepAlive cannot read (no Content-Length,
// chunked); the read loops report it as an error.
var errUnsupported = errors.New("answer without a Content-Length")

func newKeepAlive(base *url.URL, path, token string) *keepAlive {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: starling-bench\r\n", path, base.Host)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	addr := base.Host
	if base.Port() == "" {
		addr = net.JoinHostPort(base.Hostname(), "80")
	}
	return &keepAlive{addr: addr, host: base.Host, path: path, req: []byte(b.String())}
}

// get sends the request and reads the answer's body into buf. An error
// closes the connection; the next call dials a new one.
func (k *keepAlive) get(ctx context.Context, buf *bytes.Buffer) error {
	k.mu.Lock()
	conn, r := k.conn, k.r
	k.mu.Unlock()
	if conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", k.addr)
		if err != nil {
			return err
		}
		conn, r = c, bufio.NewReaderSize(c, 16<<10)
		k.mu.Lock()
		k.conn, k.r = conn, r
		k.mu.Unlock()
		if ctx.Err() != nil { // interrupted while dialing
			k.close()
			return ctx.Err()
		}
	}
	status, err := k.roundTrip(conn, r, buf)
	if err != nil {
		k.close()
		return err
	}
	if status >= 300 {
		return newAPIError("GET", k.path, status, "", buf.Bytes())
	}
	return nil
}

func (k *keepAlive) roundTrip(conn net.Conn, r *bufio.Reader, buf *bytes.Buffer) (int, error) {
	if _, err := conn.Write(k.req); err != nil {
		return 0, err
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	length := -1
	closing := false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	if length < 0 {
		return 0, errUnsupported
	}
	buf.Reset()
	buf.Grow(length)
	if _, err := io.CopyN(buf, r, int64(length)); err != nil {
		return 0, err
	}
	if closing {
		k.close()
	}
	return status, nil
}

func (k *keepAlive) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn != nil {
		k.conn.Close()
		k.conn, k.r = nil, nil
	}
}

// interrupt makes a call blocked on the connection return at once.
func (k *keepAlive) interrupt() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn != nil {
		k.conn.SetDeadline(time.Unix(1, 0))
	}
}
