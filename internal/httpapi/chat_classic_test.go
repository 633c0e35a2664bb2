package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Tornado chat demo's page script works unmodified: its first poll
// (no cursor) is held until a message arrives, the message it posts comes
// back with id, body and html, and its next poll, with the last id as the
// cursor, gets exactly the newer messages.
func TestClassicChatPageScript(t *testing.T) {
	s, rooms := newChatStack(t, 0, nil)
	page, other := newPageClient(t, s), newPageClient(t, s)

	got := make(chan []chatMessage, 1)
	go func() {
		ms, err := page.poll(context.Background())
		if err != nil {
			t.Errorf("poll: %v", err)
		}
		got <- ms
	}()
	waitUntil(t, "the first poll to be held", func() bool { return rooms.Waiters() == 1 })
	sent := other.newMessage("hello <script>alert(1)</script>")
	if sent.Body != "hello <script>alert(1)</script>" || sent.Room != "lobby" || sent.Login != "" {
		t.Fatalf("posted message %+v", sent)
	}
	if want := `<div class="message" id="m` + sent.ID + `">hello &lt;script&gt;alert(1)&lt;/script&gt;</div>`; sent.HTML != want {
		t.Fatalf("html = %s, want %s", sent.HTML, want)
	}
	if ms := <-got; len(ms) != 1 || ms[0] != sent {
		t.Fatalf("held poll got %+v, want [%+v]", ms, sent)
	}

	second := other.newMessage("second")
	third := other.newMessage("third")
	ms, err := page.poll(context.Background())
	if err != nil || !slices.Equal(messageBodies(ms), []string{"second", "third"}) {
		t.Fatalf("poll with cursor = %q, %v; want [second third]", messageBodies(ms), err)
	}
	if page.cursor != third.ID || second.ID == third.ID {
		t.Fatalf("cursor %q after the poll, want %q", page.cursor, third.ID)
	}

	// A new page (no cursor) and a page with a cursor the server does not
	// know get the whole window at once.
	fresh := newPageClient(t, s)
	ms, _ = fresh.poll(context.Background())
	if !slices.Equal(messageBodies(ms), []string{"hello <script>alert(1)</script>", "second", "third"}) {
		t.Fatalf("first poll of a new page = %q", messageBodies(ms))
	}
	fresh.cursor = "not-an-id"
	ms, _ = fresh.poll(context.Background())
	if len(ms) != 3 {
		t.Fatalf("poll with an unknown cursor got %q, want the whole window", messageBodies(ms))
	}
}

func TestClassicXSRF(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	page := newPageClient(t, s)
	post := func(form url.Values, header http.Header, cookie string) response {
		t.Helper()
		req, _ := http.NewRequest("POST", s.srv.URL+"/a/message/new", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "_xsrf", Value: cookie})
		}
		return send(t, s, req)
	}
	token := page.xsrf()
	for name, r := range map[string]response{
		"no field":       post(url.Values{"body": {"x"}}, nil, token),
		"no cookie":      post(url.Values{"body": {"x"}, "_xsrf": {token}}, nil, ""),
		"other value":    post(url.Values{"body": {"x"}, "_xsrf": {token + "0"}}, nil, token),
		"empty pair":     post(url.Values{"body": {"x"}, "_xsrf": {""}}, nil, ""),
		"wrong header":   post(url.Values{"body": {"x"}}, http.Header{"X-Xsrftoken": {"nope"}}, token),
		"updates, none":  send(t, s, mustForm(t, s.srv.URL+"/a/message/updates", url.Values{}, "")),
		"updates, wrong": send(t, s, mustForm(t, s.srv.URL+"/a/message/updates", url.Values{"_xsrf": {"a"}}, "b")),
	} {
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"xsrf_failed"`) {
			t.Errorf("%s: got %s, want 403 xsrf_failed", name, r)
		}
	}
	if r := post(url.Values{"body": {"by header"}}, http.Header{"X-Xsrftoken": {token}}, token); r.status != http.StatusOK {
		t.Errorf("X-XSRFToken equal to the cookie: got %s, want 200", r)
	}
	// Nothing refused was posted.
	ms, _ := newPageClient(t, s).poll(context.Background())
	if !slices.Equal(messageBodies(ms), []string{"by header"}) {
		t.Fatalf("room holds %q, want only the accepted message", messageBodies(ms))
	}
}

func TestClassicNextAndRoom(t *testing.T) {
	s, _ := newChatStack(t, 0, nil)
	page := newPageClient(t, s)
	status, header, _, err := page.postForm(context.Background(), "/a/message/new", url.Values{"body": {"to dev"}, "next": {"/chat?x=1"}, "room": {"dev"}})
	if err != nil || status != http.StatusFound || header.Get("Location") != "/chat?x=1" {
		t.Fatalf("next=/chat?x=1: %d, Location %q, %v; want 302 to it", status, header.Get("Location"), err)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/a\r\nSet-Cookie: x=y"} {
		status, _, body, _ := page.postForm(context.Background(), "/a/message/new", url.Values{"body": {"bad next"}, "next": {next}})
		if status != http.StatusBadRequest || !strings.Contains(string(body), "invalid_next") {
			t.Errorf("next=%q: got %d %s, want 400 invalid_next", next, status, body)
		}
	}
	for _, room := range []string{"Dev", "a b", strings.Repeat("a", 65)} {
		status, _, body, _ := page.postForm(context.Background(), "/a/message/new", url.Values{"body": {"x"}, "room": {room}})
		if status != http.StatusBadRequest || !strings.Contains(string(body), "invalid_room") {
			t.Errorf("room=%q: got %d %s, want 400 invalid_room", room, status, body)
		}
	}
	status, _, body, _ := page.postForm(context.Background(), "/a/message/new", url.Values{"body": {" \u200b "}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "invalid_body") {
		t.Errorf("invisible body: got %d %s, want 422 invalid_body", status, body)
	}
	status, _, body, _ = page.postForm(context.Background(), "/a/message/updates", url.Values{"room": {"dev"}})
	if status != http.StatusOK || !strings.Contains(string(body), "to dev") || strings.Contains(string(body), "bad next") {
		t.Fatalf("updates of room dev: %d %s", status, body)
	}
	lobby := want[longPollAnswer](t, s.anonymous().do("GET", "/api/starling/v1/rooms/lobby/messages", nil), http.StatusOK)
	if len(lobby.Messages) != 0 {
		t.Fatalf("lobby holds %q, want nothing", messageBodies(lobby.Messages))
	}
}

func mustForm(t *testing.T, u string, form url.Values, cookie string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "_xsrf", Value: cookie})
	}
	return req
}

func send(t *testing.T, s *stack, req *http.Request) response {
	t.Helper()
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: []byte(b.String())}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
