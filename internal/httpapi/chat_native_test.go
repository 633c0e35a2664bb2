package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"starling/internal/httpapi"
	"starling/internal/ratelimit"
)

const roomsPath = "/api/starling/v1/rooms"

func (c *client) chat(room, body string) chatMessage {
	c.s.t.Helper()
	return want[chatMessage](c.s.t, c.do("POST", roomsPath+"/"+room+"/messages", map[string]string{"body": body}), http.StatusCreated)
}

func TestChatNativePostAndLongPoll(t *testing.T) {
	s, rooms := newChatStack(t, 0, nil)
	anon, alice := s.anonymous(), s.register("alice")
	first := anon.chat("dev", `"quoted" & <b>bold</b> javascript:alert(1) https://example.com/x`)
	if first.Login != "" || first.Room != "dev" {
		t.Fatalf("anonymous message %+v", first)
	}
	wantTime(t, "posted", first.Posted)
	if strings.Contains(first.HTML, "<b>") || strings.Contains(first.HTML, `href="javascript`) ||
		!strings.Contains(first.HTML, `&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt; javascript:alert(1) <a href="https://example.com/x"`) {
		t.Fatalf("html = %s", first.HTML)
	}
	second := alice.chat("dev", "from alice")
	if second.Login != "alice" || !strings.Contains(second.HTML, `<b class="login">alice</b>`) {
		t.Fatalf("signed-in message %+v", second)
	}

	got := want[longPollAnswer](t, anon.do("GET", roomsPath+"/dev/messages", nil), http.StatusOK)
	if len(got.Messages) != 2 || got.Messages[0] != first || got.Messages[1] != second || got.Cursor != second.ID {
		t.Fatalf("no cursor: got %+v", got)
	}
	got = want[longPollAnswer](t, anon.do("GET", roomsPath+"/dev/messages?cursor="+first.ID, nil), http.StatusOK)
	if len(got.Messages) != 1 || got.Messages[0] != second {
		t.Fatalf("after the first: got %+v", got)
	}

	// A long poll is held until a message arrives.
	done := make(chan longPollAnswer, 1)
	go func() {
		done <- want[longPollAnswer](t, anon.do("GET", roomsPath+"/dev/messages?wait=30&cursor="+second.ID, nil), http.StatusOK)
	}()
	waitUntil(t, "the long poll to be held", func() bool { return rooms.Waiters() == 1 })
	third := anon.chat("dev", "third")
	if got := <-done; len(got.Messages) != 1 || got.Messages[0] != third || got.Cursor != third.ID {
		t.Fatalf("held poll got %+v", got)
	}
	// With nothing new, the wait ends empty, the cursor unchanged.
	got = want[longPollAnswer](t, anon.do("GET", roomsPath+"/dev/messages?wait=1&cursor="+third.ID, nil), http.StatusOK)
	if len(got.Messages) != 0 || got.Cursor != third.ID {
		t.Fatalf("empty wait: got %+v", got)
	}

	for _, tc := range []struct{ path, code string }{
		{roomsPath + "/dev/messages?cursor=abc", "invalid_cursor"},
		{roomsPath + "/dev/messages?wait=61", "invalid_wait"},
		{roomsPath + "/dev/messages?wait=x", "invalid_wait"},
		{roomsPath + "/Dev/messages", "invalid_room"},
		{roomsPath + "/dev/events?cursor=1.5", "invalid_cursor"},
	} {
		wantError(t, anon.do("GET", tc.path, nil), http.StatusBadRequest, tc.code)
	}
	for _, body := range []any{map[string]string{}, map[string]string{"body": "  "}, map[string]string{"body": strings.Repeat("x", 2001)}} {
		wantError(t, anon.do("POST", roomsPath+"/dev/messages", body), http.StatusUnprocessableEntity, "invalid_body")
	}
	wantError(t, anon.do("POST", roomsPath+"/dev/messages", map[string]any{"body": "x", "extra": 1}), http.StatusBadRequest, "unknown_field")
	wantError(t, anon.do("POST", roomsPath+"/no.dots/messages", map[string]string{"body": "x"}), http.StatusBadRequest, "invalid_room")
	wantError(t, s.anonymous().doWith("POST", roomsPath+"/dev/messages", map[string]string{"body": "x"}, http.Header{"Authorization": {"Bearer nope"}}), http.StatusUnauthorized, "invalid_token")
}

func TestChatRoomsList(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	c := s.anonymous()
	type room struct {
		Name         string  `json:"name"`
		LastActivity *string `json:"last_activity"`
	}
	rs := want[[]room](t, c.do("GET", roomsPath, nil), http.StatusOK)
	if len(rs) != 1 || rs[0].Name != "lobby" || rs[0].LastActivity != nil {
		t.Fatalf("rooms of a new deployment = %+v, want the lobby alone", rs)
	}
	c.chat("a", "x")
	c.chat("b", "x")
	rs = want[[]room](t, c.do("GET", roomsPath, nil), http.StatusOK)
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"b", "a", "lobby"}) || rs[0].LastActivity == nil {
		t.Fatalf("rooms = %+v, want b, a, lobby", rs)
	}
	wantTime(t, "last_activity", *rs[0].LastActivity)
	wantError(t, c.do("GET", roomsPath+"?count=0", nil), http.StatusBadRequest, "invalid_count")
}

func TestChatRequireLoginAndRateLimit(t *testing.T) {
	s, _ := newChatStack(t, 0, func(cfg *httpapi.Config) {
		cfg.ChatRequireLogin = true
		cfg.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
		cfg.RateLimits = ratelimit.Policies{Chat: ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}}
	})
	wantError(t, s.anonymous().do("POST", roomsPath+"/lobby/messages", map[string]string{"body": "x"}), http.StatusUnauthorized, "unauthorized")
	page := newPageClient(t, s)
	status, _, body, _ := page.postForm(context.Background(), "/a/message/new", map[string][]string{"body": {"x"}})
	if status != http.StatusUnauthorized {
		t.Fatalf("anonymous classic post under --chat-require-login: %d %s", status, body)
	}
	bob := s.register("bob")
	bob.chat("lobby", "one")
	bob.chat("lobby", "two")
	r := bob.do("POST", roomsPath+"/lobby/messages", map[string]string{"body": "three"})
	wantError(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After")
	}
	got := want[longPollAnswer](t, bob.do("GET", roomsPath+"/lobby/messages", nil), http.StatusOK)
	if !slices.Equal(messageBodies(got.Messages), []string{"one", "two"}) {
		t.Fatalf("room holds %q", messageBodies(got.Messages))
	}
}

// chatSSEEvent is one event of a text/event-stream.
type chatSSEEvent struct{ id, event, data string }

func readChatSSE(t *testing.T, sc *bufio.Scanner) chatSSEEvent {
	t.Helper()
	var e chatSSEEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e.event != "" {
				return e
			}
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data = line[6:]
		}
	}
	t.Fatalf("event stream ended: %v", sc.Err())
	return e
}

func openChatSSE(t *testing.T, s *stack, path, lastEventID string) (*bufio.Scanner, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+path, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return bufio.NewScanner(res.Body), func() { cancel(); res.Body.Close() }
}

func TestChatSSE(t *testing.T) {
	s, rooms := newChatStack(t, 8, nil)
	c := s.anonymous()
	before := c.chat("lobby", "before")
	sc, stop := openChatSSE(t, s, roomsPath+"/lobby/events", "")
	defer stop()
	waitUntil(t, "the stream to wait", func() bool { return rooms.Waiters() == 1 })
	m1 := c.chat("lobby", "<script>x</script>")
	m2 := c.chat("lobby", "two")
	for _, want := range []chatMessage{m1, m2} {
		e := readChatSSE(t, sc)
		var got chatMessage
		if err := strictDecode([]byte(e.data), &got); err != nil || e.event != "message" || e.id != want.ID || got != want {
			t.Fatalf("event %+v, want message %+v", e, want)
		}
	}
	stop()

	// Resuming with Last-Event-ID replays what came after it.
	sc, stop2 := openChatSSE(t, s, roomsPath+"/lobby/events", before.ID)
	defer stop2()
	for _, want := range []chatMessage{m1, m2} {
		if e := readChatSSE(t, sc); e.id != want.ID {
			t.Fatalf("resumed stream sent %+v, want id %s", e, want.ID)
		}
	}
	stop2()

	// A cursor the history no longer keeps gets a gap, then the window.
	for i := range 20 {
		c.chat("lobby", fmt.Sprint("flood ", i))
	}
	sc, stop3 := openChatSSE(t, s, roomsPath+"/lobby/events", before.ID)
	defer stop3()
	if e := readChatSSE(t, sc); e.event != "gap" {
		t.Fatalf("first event after a trimmed cursor: %+v, want gap", e)
	}
	if e := readChatSSE(t, sc); e.event != "message" || !strings.Contains(e.data, "flood 15") {
		t.Fatalf("after the gap: %+v, want the window from flood 15", e)
	}
}

func TestChatWebSocket(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	alice := s.register("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + roomsPath + "/lobby/ws"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + alice.token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	type frame struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	read := func() frame {
		t.Helper()
		var f frame
		_, data, err := conn.Read(ctx)
		if err != nil || json.Unmarshal(data, &f) != nil {
			t.Fatalf("reading: %v (%s)", err, data)
		}
		return f
	}
	sendText := func(s string) {
		t.Helper()
		if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatalf("writing: %v", err)
		}
	}
	sendText(`{"type":"message","body":"hi <script>"}`)
	f := read()
	var m chatMessage
	if f.Event != "message" || strictDecode(f.Data, &m) != nil || m.Body != "hi <script>" || m.Login != "alice" || strings.Contains(m.HTML, "<script>") {
		t.Fatalf("own message came back as %s %s", f.Event, f.Data)
	}
	other := s.anonymous().chat("lobby", "from http")
	if f := read(); f.Event != "message" || !strings.Contains(string(f.Data), other.ID) {
		t.Fatalf("message posted over HTTP came as %s %s", f.Event, f.Data)
	}
	for in, code := range map[string]string{
		`{"type":"message","body":"   "}`: "invalid_body",
		`{"type":"shout","body":"x"}`:     "invalid_type",
		`not json`:                        "invalid_json",
	} {
		sendText(in)
		f := read()
		var e struct{ Code, Message string }
		if f.Event != "error" || json.Unmarshal(f.Data, &e) != nil || e.Code != code || e.Message == "" {
			t.Fatalf("%s: got %s %s, want error %s", in, f.Event, f.Data, code)
		}
	}
	// A page of another site may not open the socket with the user's cookie.
	_, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: %v, %v; want 403", err, res)
	}
}
