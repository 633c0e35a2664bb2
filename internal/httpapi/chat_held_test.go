package httpapi_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
)

// pollConn speaks HTTP/1.x by hand on one connection, so that tests see the
// exact bytes of each answer and which connection carried it.
type pollConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *stack) *pollConn {
	t.Helper()
	c, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &pollConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *pollConn) send(req string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, req); err != nil {
		rc.t.Fatalf("writing a request: %v", err)
	}
}

// answer reads one answer: its head and body, raw.
func (rc *pollConn) answer() (head string, body []byte) {
	rc.t.Helper()
	var h strings.Builder
	length := -1
	for {
		line, err := rc.br.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("reading an answer after %q: %v", h.String(), err)
		}
		h.WriteString(line)
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length < 0 {
		rc.t.Fatalf("answer without Content-Length: %q", h.String())
	}
	body = make([]byte, length)
	if _, err := io.ReadFull(rc.br, body); err != nil {
		rc.t.Fatalf("reading a body: %v", err)
	}
	return h.String(), body
}

// closed reports whether the server closes the connection within wait
// (and sends nothing more).
func (rc *pollConn) closed(wait time.Duration) bool {
	rc.c.SetReadDeadline(time.Now().Add(wait))
	_, err := rc.br.ReadByte()
	return errors.Is(err, io.EOF)
}

var volatileHeaders = regexp.MustCompile(`(?m)^(Date|X-Request-Id): .*\r$`)

// sameBytes compares two answers but for their date and request id.
func sameBytes(t *testing.T, what, held, inHandler string) {
	t.Helper()
	a, b := volatileHeaders.ReplaceAllString(held, "$1: *\r"), volatileHeaders.ReplaceAllString(inHandler, "$1: *\r")
	if a != b {
		t.Errorf("%s: a held poll's answer differs from net/http's\nheld:\n%s\nnet/http:\n%s", what, a, b)
	}
}

func nativePoll(cursor, wait string, extra string) string {
	return "GET " + roomsPath + "/lobby/messages?cursor=" + cursor + "&wait=" + wait + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n"
}

func classicPoll(cursor string) string {
	form := url.Values{"cursor": {cursor}, "_xsrf": {"tok"}}.Encode()
	return "POST /a/message/updates HTTP/1.1\r\nHost: x\r\nCookie: _xsrf=tok\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		strconv.Itoa(len(form)) + "\r\n\r\n" + form
}

// A held poll answers with the bytes net/http writes for the same answer
// (compared with the one a poll gets at once, which net/http writes), and
// its connection carries the next polls, held again.
func TestHeldPollAnswersAsNetHTTPAndKeepsTheConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		poll func(cursor string) string
	}{
		{"native", func(cursor string) string { return nativePoll(cursor, "30", "") }},
		{"classic", classicPoll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rooms := newChatStack(t, 0, nil)
			first := s.anonymous().chat("lobby", "first")
			rc := dialRaw(t, s)
			cursor := first.ID
			for round := range 3 {
				rc.send(tc.poll(cursor))
				waitUntil(t, "the poll to be held off its handler", func() bool {
					return httpapi.HeldPolls(s.api) == 1 && rooms.Waiters() == 1
				})
				m := s.anonymous().chat("lobby", "round "+strconv.Itoa(round))
				heldHead, heldBody := rc.answer()
				if !bytes.Contains(heldBody, []byte(`"round `+strconv.Itoa(round)+`"`)) {
					t.Fatalf("round %d: held answer %s lacks the message", round, heldBody)
				}
				// The same answer, at once this time, on the same connection.
				rc.send(tc.poll(cursor))
				nowHead, nowBody := rc.answer()
				sameBytes(t, "round "+strconv.Itoa(round), heldHead+string(heldBody), nowHead+string(nowBody))
				cursor = m.ID
			}
			waitUntil(t, "no poll held", func() bool { return httpapi.HeldPolls(s.api) == 0 && rooms.Waiters() == 0 })
		})
	}
}

// HTTP/1.0 and Connection: close clients get the answer net/http gives
// them (HTTP/1.0 status line, Connection: close or keep-alive), and the
// connection closes, or stays, as net/http would have it.
func TestHeldPollConnectionHeaders(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	for _, tc := range []struct {
		name, proto, extra string
		wantClosed         bool
	}{
		{"HTTP/1.0", "HTTP/1.0", "", true},
		{"HTTP/1.0 keep-alive", "HTTP/1.0", "Connection: keep-alive\r\n", false},
		{"HTTP/1.1 close", "HTTP/1.1", "Connection: close\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			last := s.anonymous().chat("lobby", "before "+tc.name)
			poll := func(cursor string) string {
				return "GET " + roomsPath + "/lobby/messages?cursor=" + cursor + "&wait=30 " + tc.proto + "\r\nHost: x\r\n" + tc.extra + "\r\n"
			}
			held := dialRaw(t, s)
			held.send(poll(last.ID))
			waitUntil(t, "the poll to be held", func() bool { return httpapi.HeldPolls(s.api) == 1 })
			s.anonymous().chat("lobby", "during "+tc.name)
			// Closing comes at once; staying open is seen by waiting a little.
			wait := time.Second
			if tc.wantClosed {
				wait = 30 * time.Second
			}
			heldHead, heldBody := held.answer()
			if got := held.closed(wait); got != tc.wantClosed {
				t.Errorf("connection closed after the held answer: %v, want %v", got, tc.wantClosed)
			}
			now := dialRaw(t, s)
			now.send(poll(last.ID))
			nowHead, nowBody := now.answer()
			sameBytes(t, tc.name, heldHead+string(heldBody), nowHead+string(nowBody))
			if got := now.closed(wait); got != tc.wantClosed {
				t.Errorf("net/http closed the connection: %v, want %v (the test's expectation is wrong)", got, tc.wantClosed)
			}
		})
	}
}

// A request pipelined behind a held poll is kept, and answered after it.
func TestHeldPollKeepsAPipelinedRequest(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	last := s.anonymous().chat("lobby", "x")
	rc := dialRaw(t, s)
	rc.send(nativePoll(last.ID, "30", ""))
	waitUntil(t, "the poll to be held", func() bool { return httpapi.HeldPolls(s.api) == 1 })
	rc.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // let the held poll see the next request start; either way must work
	s.anonymous().chat("lobby", "y")
	_, body := rc.answer()
	if !bytes.Contains(body, []byte(`"y"`)) {
		t.Fatalf("held poll answered %s, want message y", body)
	}
	head, body := rc.answer()
	if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
		t.Fatalf("pipelined /healthz answered %q %s", head, body)
	}
}

// A held poll whose wait ends answers empty with the cursor it was sent,
// and is reported in the access log with its status, size and duration.
func TestHeldPollWaitEndsAndIsLogged(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	last := s.anonymous().chat("lobby", "x")
	rc := dialRaw(t, s)
	rc.send(nativePoll(last.ID, "1", ""))
	head, body := rc.answer()
	if want := `{"messages":[],"cursor":"` + last.ID + `"}` + "\n"; string(body) != want {
		t.Fatalf("ended wait answered %q, want %q", body, want)
	}
	id := regexp.MustCompile(`X-Request-Id: (\S+)`).FindStringSubmatch(head)
	if id == nil {
		t.Fatalf("answer without X-Request-Id: %q", head)
	}
	waitRecorded(t, s, id[1])
	var line string
	for l := range strings.SplitSeq(s.logs.String(), "\n") {
		if strings.Contains(l, "request_id="+id[1]) {
			line = l
		}
	}
	for _, want := range []string{"msg=access", "method=GET", `route="GET /api/starling/v1/rooms/{room}/messages"`, "status=200", "bytes=" + strconv.Itoa(len(body)), "duration=1."} {
		if !strings.Contains(line, want) {
			t.Errorf("access line %q lacks %s", line, want)
		}
	}
}
