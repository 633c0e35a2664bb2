package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"starling/internal/chat"
	"starling/internal/engine/sqlite"
	"starling/internal/events"
	"starling/internal/httpapi"
)

// chatWindow is the window of the chat stacks' rooms, small so that tests
// reach its edges.
const chatWindow = 5

// newChatStack is newStack with chat rooms on the SQLite engine, keeping
// retain messages a room.
func newChatStack(t *testing.T, retain int, configure func(*httpapi.Config)) (*stack, *chat.Rooms) {
	t.Helper()
	var rooms *chat.Rooms
	s := newStackWith(t, func(cfg *httpapi.Config) {
		db := cfg.Queue.(*sqlite.DB)
		rooms = chat.NewRooms(chat.Config{History: db.Chat(retain), Bus: events.NewMemory(events.MemoryOptions{}), Window: chatWindow})
		cfg.Rooms = rooms
		if configure != nil {
			configure(cfg)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rooms.Run(ctx) }()
	// Registered after the stack's cleanup, so run before it: held
	// requests end before the server waits for them.
	t.Cleanup(func() { rooms.Close(); cancel(); <-done })
	return s, rooms
}

type chatMessage struct {
	ID     string `json:"id"`
	Room   string `json:"room"`
	Body   string `json:"body"`
	HTML   string `json:"html"`
	Login  string `json:"login,omitempty"`
	Posted string `json:"posted"`
}

type messagesAnswer struct {
	Messages []chatMessage `json:"messages"`
}

type longPollAnswer struct {
	Messages []chatMessage `json:"messages"`
	Cursor   string        `json:"cursor"`
}

func messageBodies(ms []chatMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}

// pageClient is a browser running the Tornado chat demo's page script
// (demos/chat/static/chat.js): a cookie jar, and form-encoded POSTs whose
// _xsrf field is read from the _xsrf cookie.
type pageClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	cursor string // updater.cursor
}

func newPageClient(t *testing.T, s *stack) *pageClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &pageClient{t: t, base: s.srv.URL, http: &http.Client{Jar: jar, Transport: s.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	// Loading the page sets the cookie.
	res, err := c.http.Get(c.base + "/a/message/xsrf")
	if err != nil {
		t.Fatalf("GET /a/message/xsrf: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || c.xsrf() == "" {
		t.Fatalf("GET /a/message/xsrf: %d, cookie %q", res.StatusCode, c.xsrf())
	}
	return c
}

// xsrf is getCookie("_xsrf").
func (c *pageClient) xsrf() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "_xsrf" {
			return ck.Value
		}
	}
	return ""
}

// postForm is jQuery.postJSON: args plus _xsrf, $.param-encoded.
func (c *pageClient) postForm(ctx context.Context, path string, args url.Values) (int, http.Header, []byte, error) {
	args.Set("_xsrf", c.xsrf())
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, strings.NewReader(args.Encode()))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body, err
}

// newMessage is newMessage(form): the form's body field (formToDict drops
// next), posted to /a/message/new.
func (c *pageClient) newMessage(body string) chatMessage {
	c.t.Helper()
	status, _, data, err := c.postForm(context.Background(), "/a/message/new", url.Values{"body": {body}})
	if err != nil || status != http.StatusOK {
		c.t.Fatalf("POST /a/message/new: %d %s %v", status, data, err)
	}
	var m chatMessage
	if err := json.Unmarshal(data, &m); err != nil || m.ID == "" || m.HTML == "" {
		c.t.Fatalf("POST /a/message/new answered %s (%v)", data, err)
	}
	return m
}

// poll is updater.poll and updater.newMessages: cursor sent when it has
// one, and set to the last message's id.
func (c *pageClient) poll(ctx context.Context) ([]chatMessage, error) {
	args := url.Values{}
	if c.cursor != "" {
		args.Set("cursor", c.cursor)
	}
	status, _, data, err := c.postForm(ctx, "/a/message/updates", args)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		c.t.Errorf("POST /a/message/updates: %d %s", status, data)
		return nil, nil
	}
	var a messagesAnswer
	if err := strictDecode(data, &a); err != nil {
		c.t.Errorf("POST /a/message/updates answered %s: %v", data, err)
		return nil, nil
	}
	if len(a.Messages) > 0 {
		c.cursor = a.Messages[len(a.Messages)-1].ID
	}
	return a.Messages, nil
}
