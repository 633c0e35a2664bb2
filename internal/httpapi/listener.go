package httpapi

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The API's listener (Listener) does two things for the connections it
// accepts: it turns net/http's own error answers into JSON (wire.go), and it
// takes back the connections of held long polls (chat_held.go). A held
// poll's handler hands its connection over (http.Hijacker) so that
// net/http's buffers and goroutines for it can go; once the poll has been
// answered and the client's next request has started to arrive, the
// connection comes back through Accept, with the bytes already read, and
// the http.Server serves it as it would a new one. A connection taken back
// is already counted by the listener below (connection caps), which never
// sees it again.

// errListenerClosed is Accept's error once the listener is closed.
var errListenerClosed = errors.New("httpapi: listener closed")

// listener is Listener's net.Listener.
//
// Concurrency: Accept is called by one goroutine (http.Server.Serve); the
// pump goroutine, started by newListener and ended by Close, accepts from
// the listener below; giveBack, park and unpark are called by held polls.
type listener struct {
	net.Listener
	accepted chan acceptResult // from the pump
	back     chan *serverConn  // connections taken back
	done     chan struct{}     // closed by Close
	once     sync.Once

	// closing is set by Close, before the parked connections are kicked.
	closing atomic.Bool

	mu sync.Mutex // guards parked
	// parked are the connections held polls hold, kicked on Close so
	// that they answer and close rather than wait on.
	parked map[*serverConn]kicker
}

// kicker is what a parked connection's holder does when the listener
// closes: stop waiting, as soon as it can, without blocking.
type kicker interface{ kick() }

type acceptResult struct {
	c   net.Conn
	err error
}

func newListener(ln net.Listener) *listener {
	l := &listener{
		Listener: ln,
		accepted: make(chan acceptResult),
		back:     make(chan *serverConn),
		done:     make(chan struct{}),
		parked:   make(map[*serverConn]kicker),
	}
	go l.pump()
	return l
}

// Accept returns the next new connection or connection taken back.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.back:
		return c, nil
	case a := <-l.accepted:
		if a.err != nil {
			return nil, a.err
		}
		return &serverConn{Conn: a.c, ln: l}, nil
	case <-l.done:
		return nil, errListenerClosed
	}
}

// pump accepts from the listener below until it fails for good or l is
// closed.
func (l *listener) pump() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // http.Server retries these
			}
			if isTemporary(err) {
				continue
			}
			return
		}
	}
}

// isTemporary reports the errors http.Server.Serve retries after a pause
// (too many open files, say).
func isTemporary(err error) bool {
	te, ok := err.(interface{ Temporary() bool })
	return ok && te.Temporary()
}

// Close stops accepting and kicks the parked connections.
func (l *listener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() {
		close(l.done)
		l.closing.Store(true)
		l.mu.Lock()
		for _, k := range l.parked {
			k.kick()
		}
		l.mu.Unlock()
	})
	return err
}

// park registers c, held by k, to be kicked on Close; it reports false when
// the listener is closed already.
func (l *listener) park(c *serverConn, k kicker) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing.Load() {
		return false
	}
	l.parked[c] = k
	return true
}

func (l *listener) unpark(c *serverConn) {
	l.mu.Lock()
	delete(l.parked, c)
	l.mu.Unlock()
}

// giveBack hands c to the http.Server again, or closes it when the
// listener is closed. The server's accept loop takes connections one at a
// time, so giveBack waits for it; ctx bounds the wait.
func (l *listener) giveBack(ctx context.Context, c *serverConn) {
	select {
	case l.back <- c:
	case <-l.done:
		c.Close()
	case <-ctx.Done():
		c.Close()
	}
}

// serverConn is a connection the API's listener accepted.
type serverConn struct {
	net.Conn
	ln *listener
	// pending are bytes of the next request read while the connection was
	// parked, which Read returns first. Only the connection's one reader
	// (net/http's, or the held poll's) touches them.
	pending []byte
}

func (c *serverConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	return c.Conn.Read(b)
}

// aLongTimeAgo is a deadline in the past, which wakes a blocked Read.
var aLongTimeAgo = time.Unix(1, 0)
