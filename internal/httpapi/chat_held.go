package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"starling/internal/chat"
)

// Held long polls. A poll that has to wait gives its connection up to a
// heldPoll: net/http's buffers (4 KiB to read, 4 KiB to write, 2 KiB for the
// answer), its request and its two goroutines (the handler's, deep, and the
// background read's) go, and what stays is this small struct and one
// goroutine with a shallow stack, blocked in a one-byte Read of the
// connection. That Read notices the client hanging up; its deadline is the
// end of the wait; and a message ends it early: the room calls the poll's
// chat.Hold, which moves the deadline to the past. The poll then writes the
// same bytes net/http would have written (writeHeld), reports the request
// (access line, metrics), and keeps the connection alive the way net/http
// does between requests: it waits, under the server's idle timeout, for the
// first byte of the next request, and hands the connection back to the
// http.Server through the API's listener (listener.go).
//
// A poll is held this way only on an HTTP/1.x connection accepted by that
// listener (ConnContext tells), with its body read; anything else waits in
// its handler as before.

// ConnContext is the http.Server's ConnContext for the API: it lets held
// polls find the connection their request came on.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*serverConn); ok {
		return context.WithValue(ctx, serverConnKey{}, sc)
	}
	return ctx
}

type serverConnKey struct{}

// pollAnswer describes the answer of a long poll: the room and cursor it
// waits on and the shape of its answer.
type pollAnswer struct {
	room, cursor string
	withCursor   bool // native: the cursor in the answer; classic: none
}

// heldPoll is a long poll waiting off its handler.
type heldPoll struct {
	a    *API
	conn *serverConn
	hold chat.Hold
	pollAnswer
	deadline time.Time     // the end of the wait
	idle     time.Duration // the server's idle timeout; 0: none

	// The answer's head: the handler's headers as net/http writes them,
	// with a Content-Length to insert at clAt.
	head []byte
	clAt int
	// The request, as far as the answer and the access line need it.
	is11, wants10KeepAlive, wantsClose bool
	method, route, id                  string
	start                              time.Time

	one [1]byte // what the waiting Read reads into

	// mu guards done: kicks after the connection left the poll (handed
	// back or closed) must not touch it.
	mu   sync.Mutex
	done bool
	// blind is set once the client sent bytes of a next request while
	// its poll waits: the Read can no longer tell a hang-up, and kicks go
	// to this channel instead.
	blind atomic.Pointer[chan struct{}]
}

// holdAfter is how long a long poll waits in its handler before it is held
// off it. Taking a connection over and handing it back costs more CPU than
// net/http's own keep-alive loop (the hijacked connection's buffers are
// left to the garbage collector and new ones allocated), which shows when
// messages come every few milliseconds and polls cycle that fast; those
// polls are answered within holdAfter and never leave. It is short so that
// polls that sit leave at once, and do not pile up in net/http first: the
// memory the process grows into while they do is not given back to the
// system soon.
const holdAfter = 50 * time.Millisecond

// waitOrHold waits up to d for the messages after pa.cursor: in the handler
// for holdAfter, then, when the poll can be held (holdPoll), off it; held
// reports that it was, and the poll answers by itself. Otherwise the
// handler answers b, or err (which may be the end of the wait, see
// waitEnded).
func (a *API) waitOrHold(w http.ResponseWriter, r *http.Request, pa pollAnswer, d time.Duration) (b chat.Batch, held bool, err error) {
	holdDeadlines(w, d+holdSlack)
	if d > holdAfter && holdable(r) {
		ctx, cancel := context.WithTimeout(r.Context(), holdAfter)
		b, err = a.rooms.Wait(ctx, pa.room, pa.cursor)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || r.Context().Err() != nil {
			return b, false, err
		}
		d -= holdAfter
		if a.holdPoll(w, r, pa, d) {
			return chat.Batch{}, true, nil
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	b, err = a.rooms.Wait(ctx, pa.room, pa.cursor)
	return b, false, err
}

// holdable is holdPoll's first check, made before waiting: whether r came
// over HTTP/1.x on a connection of the API's listener.
func holdable(r *http.Request) bool {
	_, ok := r.Context().Value(serverConnKey{}).(*serverConn)
	return ok && r.ProtoMajor == 1 && r.Method != http.MethodHead
}

// holdPoll takes over w's connection to wait for the messages after
// pa.cursor for up to wait, and reports whether it did; when it did not,
// the handler waits itself.
func (a *API) holdPoll(w http.ResponseWriter, r *http.Request, pa pollAnswer, wait time.Duration) bool {
	rec, ok := w.(*responseRecorder)
	if !ok || rec.wroteHeader || r.ProtoMajor != 1 || r.Method == http.MethodHead {
		return false
	}
	sc, ok := r.Context().Value(serverConnKey{}).(*serverConn)
	if !ok {
		return false
	}
	h := rec.Header()
	if _, ok := h["Connection"]; ok {
		return false
	}
	if !bodyDone(r) {
		return false
	}
	var idle time.Duration
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
		idle = srv.IdleTimeout
		if idle == 0 {
			idle = srv.ReadTimeout
		}
	}
	// Copies: the request's strings share memory with its whole request
	// line or body, which should go.
	pa.room, pa.cursor = strings.Clone(pa.room), strings.Clone(pa.cursor)
	p := &heldPoll{
		a: a, pollAnswer: pa, idle: idle,
		is11: r.ProtoAtLeast(1, 1), wants10KeepAlive: wantsHTTP10KeepAlive(r), wantsClose: r.Close || hasToken(r.Header.Get("Connection"), "close"),
		method: strings.Clone(r.Method), route: rec.route, id: h.Get(requestIDHeader), start: rec.start,
	}
	p.head, p.clAt = renderHead(h)
	hj, ok := rec.ResponseWriter.(http.Hijacker)
	if !ok {
		return false
	}
	_, brw, err := hj.Hijack()
	if err != nil {
		return false
	}
	// The connection net/http hands over is the one it accepted, which
	// ConnContext saw.
	p.conn = sc
	if n := brw.Reader.Buffered(); n > 0 {
		next, _ := brw.Reader.Peek(n)
		p.conn.pending = append(bytes.Clone(next), p.conn.pending...)
	}
	rec.held = true
	a.heldNow.Add(1)
	p.deadline = time.Now().Add(wait)
	p.hold.Wake = p.kick
	p.conn.SetWriteDeadline(p.deadline.Add(holdSlack)) //nolint:errcheck // a failed write tells
	a.heldPolls.Add(1)
	go p.run()
	return true
}

// bodyDone reports whether r's body has been read to its end, so that what
// follows on the connection is the next request.
func bodyDone(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	var b [1]byte
	n, err := r.Body.Read(b[:])
	return n == 0 && err != nil
}

func wantsHTTP10KeepAlive(r *http.Request) bool {
	return r.ProtoMajor == 1 && r.ProtoMinor == 0 && hasToken(r.Header.Get("Connection"), "keep-alive")
}

// hasToken is net/http's: whether token appears in v, in any case, between
// spaces, commas or the ends.
func hasToken(v, token string) bool {
	for sp := 0; sp+len(token) <= len(v); sp++ {
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// renderHead writes h as net/http writes a handler's headers (sorted,
// values cleaned), with a Content-Length to be inserted at the returned
// offset.
func renderHead(h http.Header) ([]byte, int) {
	const mark = "Content-Length: 0\r\n"
	h.Set("Content-Length", "0")
	var buf bytes.Buffer
	h.Write(&buf) //nolint:errcheck // a bytes.Buffer does not fail
	h.Del("Content-Length")
	b := buf.Bytes()
	at := 0
	for {
		i := bytes.Index(b[at:], []byte(mark))
		if i < 0 {
			return b, len(b) // cannot happen: the header is there
		}
		if at+i == 0 || b[at+i-1] == '\n' {
			at += i
			break
		}
		at += i + 1
	}
	return append(b[:at:at], b[at+len(mark):]...), at
}

// kick makes the poll look again at what woke it (a message, the
// listener closing), without blocking.
func (p *heldPoll) kick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.conn.SetReadDeadline(aLongTimeAgo) //nolint:errcheck // a closed conn has nothing to wake
	if c := p.blind.Load(); c != nil {
		select {
		case *c <- struct{}{}:
		default:
		}
	}
}

// release marks the connection as no longer the poll's.
func (p *heldPoll) release() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	p.conn.ln.unpark(p.conn)
	p.a.heldNow.Add(-1)
}

// run waits, answers, and keeps the connection for its next request.
func (p *heldPoll) run() {
	defer p.a.heldPolls.Done()
	if !p.conn.ln.park(p.conn, p) {
		// The server is stopping: answer at once, and close.
		p.finish(nil, nil, false)
		return
	}
	p.conn.SetReadDeadline(p.deadline) //nolint:errcheck // a broken conn fails the Read
	entries, err, gone := p.wait()
	p.finish(entries, err, gone)
}

// errClientGone is the end of a wait whose client hung up.
var errClientGone = errors.New("httpapi: the client of a held poll hung up")

// wait returns the messages after the cursor once there are some, none when
// the wait ends or the server stops, or gone when the client hangs up.
func (p *heldPoll) wait() (entries []*chat.Entry, err error, gone bool) {
	defer p.a.rooms.Release(&p.hold)
	for {
		b, err := p.look()
		if errors.Is(err, chat.ErrClosed) {
			return nil, nil, false
		}
		if err != nil || len(b.Entries) > 0 || b.Gap {
			return b.Entries, err, false
		}
		switch p.sleep() {
		case pollEnded:
			return nil, nil, false
		case pollGone:
			return nil, nil, true
		}
		p.a.rooms.Release(&p.hold)
	}
}

// look holds the poll in its room, then reads what is after its cursor.
// Its context lives only as long as the look, so that a sleeping poll
// keeps no timer.
func (p *heldPoll) look() (chat.Batch, error) {
	ctx, cancel := context.WithDeadline(context.Background(), p.deadline.Add(holdSlack))
	defer cancel()
	if err := p.a.rooms.Hold(ctx, p.room, &p.hold); err != nil {
		return chat.Batch{}, err
	}
	return p.a.rooms.Read(ctx, p.room, p.cursor)
}

type pollWake int

const (
	pollWoken pollWake = iota // look again
	pollEnded                 // the wait is over, or the server stops
	pollGone                  // the client hung up
)

// sleep blocks until a kick, the end of the wait, or the client hanging up.
func (p *heldPoll) sleep() pollWake {
	if p.conn.ln.closing.Load() {
		return pollEnded
	}
	if c := p.blind.Load(); c != nil || len(p.conn.pending) > 0 {
		return p.sleepBlind()
	}
	n, err := p.conn.Read(p.one[:])
	if n == 1 {
		// The next request (pipelined): keep its first byte, and wait
		// without reading further.
		p.conn.pending = append(p.conn.pending, p.one[0])
		return p.sleepBlind()
	}
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		return pollGone
	}
	if p.conn.ln.closing.Load() || !time.Now().Before(p.deadline) {
		return pollEnded
	}
	p.conn.SetReadDeadline(p.deadline) //nolint:errcheck // a broken conn fails the next Read
	return pollWoken
}

// sleepBlind is sleep once the client sent bytes of its next request: it
// cannot tell a hang-up any more (nor can net/http in the same case).
func (p *heldPoll) sleepBlind() pollWake {
	c := p.blind.Load()
	if c == nil {
		ch := make(chan struct{}, 1)
		c = &ch
		p.blind.Store(c)
		return pollWoken // look again: a kick may have come before
	}
	t := time.NewTimer(time.Until(p.deadline))
	defer t.Stop()
	select {
	case <-*c:
	case <-t.C:
		return pollEnded
	}
	if p.conn.ln.closing.Load() {
		return pollEnded
	}
	return pollWoken
}

// finish answers, reports the request, and keeps or closes the connection.
func (p *heldPoll) finish(entries []*chat.Entry, err error, gone bool) {
	if gone {
		p.release()
		p.conn.Close()
		// As a poll waiting in its handler reports a client that went.
		p.a.reportRequest(context.Background(), p.method, p.route, p.id, errUnavailable.status, 0, p.start)
		return
	}
	status, body := http.StatusOK, []byte(nil)
	if err != nil {
		answer := classify(err)
		if answer == errInternal {
			p.a.log.Error("httpapi: internal error", "method", p.method, "route", p.route, "err", err)
		} else {
			p.a.log.Warn("httpapi: store unavailable", "method", p.method, "route", p.route, "err", err)
		}
		status = answer.status
		body, _ = json.Marshal(errorJSON{Error: errorDetail{Code: answer.code, Message: answer.message}})
		body = append(body, '\n')
	} else {
		body = append(messagesJSON(entries, p.withCursor, p.cursor, 1), '\n')
	}
	keepAlive := !p.conn.ln.closing.Load()
	answer, keep := p.render(status, body, keepAlive)
	n, werr := p.conn.Write(answer)
	written := int64(max(0, n-(len(answer)-len(body))))
	p.a.reportRequest(context.Background(), p.method, p.route, p.id, status, written, p.start)
	if werr != nil || !keep {
		p.release()
		p.conn.Close()
		return
	}
	p.keepAlive()
}

// render is the answer net/http would write for the request (see
// chunkWriter.writeHeader in net/http/server.go), for a handler that set
// the headers in p.head and a Content-Length: the status line, the
// headers, Date and Connection, the body. keep reports whether the
// connection then carries another request.
func (p *heldPoll) render(status int, body []byte, keepAlivesEnabled bool) (answer []byte, keep bool) {
	closeAfter, connection := false, ""
	if p.wants10KeepAlive {
		connection = "keep-alive"
	} else if !p.is11 || p.wantsClose {
		closeAfter = true
	}
	if !keepAlivesEnabled {
		closeAfter = true
	}
	if closeAfter && p.is11 {
		connection = "close"
	}
	b := make([]byte, 0, len(p.head)+len(body)+128)
	if p.is11 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\n"...)
	b = append(b, p.head[:p.clAt]...)
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	b = append(b, p.head[p.clAt:]...)
	b = append(b, "Date: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	if connection != "" {
		b = append(b, "Connection: "...)
		b = append(b, connection...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...), !closeAfter
}

// keepAlive waits, as net/http does between requests, for the first byte
// of the connection's next request, then hands the connection back.
func (p *heldPoll) keepAlive() {
	p.conn.SetWriteDeadline(time.Time{}) //nolint:errcheck // the next request's writes set their own
	for len(p.conn.pending) == 0 {
		var until time.Time
		if p.idle > 0 {
			until = time.Now().Add(p.idle)
		}
		p.conn.SetReadDeadline(until) //nolint:errcheck // a broken conn fails the Read
		// What arrives first is most often the whole next request: read
		// it at once, so that net/http finds it without reading again.
		buf := nextRequestBuffers.Get().(*[]byte)
		n, err := p.conn.Read(*buf)
		if n > 0 {
			p.conn.pending = append(p.conn.pending, (*buf)[:n]...)
		}
		nextRequestBuffers.Put(buf)
		if n > 0 {
			break
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && !p.conn.ln.closing.Load() && (until.IsZero() || time.Now().Before(until)) {
			continue // a late kick of the wait
		}
		p.release()
		p.conn.Close()
		return
	}
	p.release()
	p.conn.SetReadDeadline(time.Time{}) //nolint:errcheck // net/http sets its own
	ctx, cancel := context.WithTimeout(context.Background(), holdSlack)
	defer cancel()
	p.conn.ln.giveBack(ctx, p.conn)
}

// nextRequestBuffers hold what a kept-alive connection's next request
// sends first, while a held poll waits for it.
var nextRequestBuffers = sync.Pool{New: func() any {
	b := make([]byte, 1024)
	return &b
}}

// WaitHeldPolls waits until the held polls, which http.Server.Shutdown does
// not track (their connections are hijacked), have answered and let their
// connections go, or ctx ends. Shutdown closes the listener and the rooms
// first, which ends their waits.
func (a *API) WaitHeldPolls(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		a.heldPolls.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
