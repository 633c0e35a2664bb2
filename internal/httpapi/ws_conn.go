package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The connection under the WebSocket handlers (streams and chat rooms):
// upgraded, it leaves the HTTP handler (detachSocket), and its writes can
// be batched. The WebSocket library flushes its buffer to the connection
// after every message, one system call each; a client that is sent several
// messages at once (a batch of chat messages, the events a stream client
// fell behind on, a replay) should get them in one write, as the
// event-stream transports do, and corkConn gives it that.

const (
	// maxCorked is how many bytes a corked connection holds before it
	// writes them out anyway.
	maxCorked = 64 << 10
	// maxCorkedKept is the most it keeps allocated between batches.
	maxCorkedKept = 8 << 10
)

// wsBufferSize is the size of a WebSocket connection's read and write
// buffers.
const wsBufferSize = 512

// acceptWebSocket upgrades the request as websocket.Accept does, over a
// connection whose writes can be held and sent together.
func acceptWebSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, *corkConn, error) {
	cw := &corkWriter{ResponseWriter: w}
	conn, err := websocket.Accept(cw, r, nil)
	if err != nil {
		return nil, nil, err
	}
	return conn, cw.conn, nil
}

// detachSocket serves an upgraded WebSocket on a goroutine of its own and
// lets the handler return. A socket lives for hours; the handler's
// goroutine would keep its deep stack and net/http's per-request state
// (buffers, the parsed request) for all that time, several times what
// the socket needs. The access line and the request metrics end at the
// upgrade. WaitStreams waits for detached sockets; a panic in one is
// logged and ends only that socket.
func (a *API) detachSocket(r *http.Request, conn *websocket.Conn, serve func(ctx context.Context)) {
	ctx := context.WithoutCancel(r.Context())
	a.websockets.Add(1)
	go func() {
		defer a.websockets.Done()
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ctx, "httpapi: panic serving a WebSocket", "panic", p, "stack", string(debug.Stack()))
				conn.CloseNow() //nolint:errcheck // ending it
			}
		}()
		serve(ctx)
	}()
}

// corkedContext is the context for the library's writes while the
// connection is corked. Those writes only append to memory, so they need
// no deadline of their own (the write of what is held has one), and a
// context that cannot end spares the library a timer and a context
// registration per message. A write still waits for another writer of the
// same connection to finish (a pong, an error reply), but each of those
// is bounded and closes the connection when it runs out, which ends the
// wait.
func corkedContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// corkWriter hands the WebSocket library a corkConn when it takes the
// connection over.
type corkWriter struct {
	http.ResponseWriter
	conn *corkConn
}

func (w *corkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		raw.Close()
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: raw}
	// net/http's 4 KiB buffers are sized for requests and answers; a
	// socket mostly waits, and what it reads and writes is small (its
	// batches collect in the corkConn), so it gets smaller ones, and the
	// large ones go. Bytes the client sent after its request are carried
	// over into the new read buffer, where the library looks for them.
	leftover, _ := brw.Reader.Peek(brw.Reader.Buffered())
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(leftover), w.conn), max(wsBufferSize, len(leftover)))
	if _, err := br.Peek(len(leftover)); err != nil {
		raw.Close()
		return nil, nil, err
	}
	return w.conn, bufio.NewReadWriter(br, bufio.NewWriterSize(w.conn, wsBufferSize)), nil
}

// corkConn is a connection whose writes, between Cork and Flush, are held
// in memory and then sent in one write. Writes from other goroutines (the
// library's pongs, error replies) go through the same buffer while it is
// corked, so the order of frames on the wire is the order they were
// written.
type corkConn struct {
	net.Conn

	mu      sync.Mutex // guards depth, held and timeout; held while writing to Conn
	depth   int        // Corks not yet Flushed
	held    []byte
	timeout time.Duration // bounds a write of held bytes
}

// Cork starts holding writes; timeout bounds each write that sends them.
func (c *corkConn) Cork(timeout time.Duration) {
	c.mu.Lock()
	c.depth++
	c.timeout = timeout
	c.mu.Unlock()
}

// Flush ends a Cork: what is held goes out in one write.
func (c *corkConn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth > 0 {
		c.depth--
	}
	return c.writeHeld()
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 {
		return c.Conn.Write(p)
	}
	if len(c.held)+len(p) > maxCorked {
		if err := c.writeHeld(); err != nil {
			return 0, err
		}
	}
	c.held = append(c.held, p...)
	return len(p), nil
}

// writeHeld sends the held bytes; c.mu is held.
func (c *corkConn) writeHeld() error {
	if len(c.held) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)) //nolint:errcheck // a closed conn fails the write
	_, err := c.Conn.Write(c.held)
	c.Conn.SetWriteDeadline(time.Time{}) //nolint:errcheck
	c.held = c.held[:0]
	if cap(c.held) > maxCorkedKept {
		c.held = nil
	}
	return err
}
