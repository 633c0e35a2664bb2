package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// A listenFunc is one waiter of the chat scenario: it receives the room's
// messages from after cursor until ctx ends, reconnecting after failures
// from the last message it got, and hands each to run.receive.
type listenFunc func(ctx context.Context, lc *listenClient, run *chatRun, w *chatWaiter, cursor string)

var chatListeners = map[string]listenFunc{
	"longpoll": listenLongPoll,
	"classic":  listenClassic,
	"sse":      listenSSE,
	"ws":       listenWS,
}

// listenClient holds one connection per waiter.
type listenClient struct {
	base string
	http *http.Client
}

func newListenClient(base string, waiters int) *listenClient {
	tr := &http.Transport{
		MaxIdleConns:        waiters + 16,
		MaxIdleConnsPerHost: waiters + 16,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	return &listenClient{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr}}
}

// retryPause is how long a waiter waits after a failed request.
const retryPause = 100 * time.Millisecond

type benchMessage struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(retryPause):
	}
}

// listenLongPoll: GET /api/starling/v1/rooms/{room}/messages?cursor&wait=60,
// over the lean client of keepalive.go (one connection per waiter, the
// answer read by its Content-Length and scanned rather than decoded), so
// that thousands of waiters leave the server as much of the machine as the
// event stream's and WebSocket's waiters do.
func listenLongPoll(ctx context.Context, lc *listenClient, run *chatRun, w *chatWaiter, cursor string) {
	base, err := url.Parse(lc.base)
	if err != nil {
		w.failed.Add(1)
		return
	}
	var k *keepAlive
	var buf bytes.Buffer
	for ctx.Err() == nil {
		path := "/api/starling/v1/rooms/" + run.room + "/messages?wait=60&cursor=" + url.QueryEscape(cursor)
		next := newKeepAlive(base, path, "")
		if k != nil {
			next.conn, next.r = k.conn, k.r
		}
		k = next
		stop := context.AfterFunc(ctx, k.interrupt)
		w.ready.Store(true)
		err := k.get(ctx, &buf)
		stop()
		if err != nil {
			if ctx.Err() == nil {
				w.failed.Add(1)
				pause(ctx)
			}
			continue
		}
		bodies, next2, ok := scanMessages(buf.Bytes())
		if !ok {
			w.failed.Add(1)
			continue
		}
		for _, b := range bodies {
			run.receive(w, b)
		}
		cursor = next2
	}
	if k != nil {
		k.close()
	}
}

// scanMessages reads the bodies and the cursor of a long poll's answer,
// {"messages":[{..."body":"..."...}],"cursor":"..."}, without decoding it:
// "body":" and "cursor":" occur only as keys (a quote inside a string
// value is escaped), and the bench's bodies hold no escapes.
func scanMessages(b []byte) (bodies []string, cursor string, ok bool) {
	keyBody, keyCursor := []byte(`"body":"`), []byte(`"cursor":"`)
	for {
		i := bytes.Index(b, keyBody)
		if i < 0 {
			break
		}
		b = b[i+len(keyBody):]
		j := bytes.IndexByte(b, '"')
		if j < 0 {
			return nil, "", false
		}
		bodies = append(bodies, string(b[:j]))
		b = b[j:]
	}
	i := bytes.Index(b, keyCursor)
	if i < 0 {
		return nil, "", false
	}
	b = b[i+len(keyCursor):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return nil, "", false
	}
	return bodies, string(b[:j]), true
}

// listenClassic: POST /a/message/updates, as the classic page script.
func listenClassic(ctx context.Context, lc *listenClient, run *chatRun, w *chatWaiter, cursor string) {
	for ctx.Err() == nil {
		form := url.Values{"cursor": {cursor}, "_xsrf": {"bench"}, "room": {run.room}}
		req, _ := http.NewRequestWithContext(ctx, "POST", lc.base+"/a/message/updates", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		req.AddCookie(&http.Cookie{Name: "_xsrf", Value: "bench"})
		var answer struct {
			Messages []benchMessage `json:"messages"`
		}
		w.ready.Store(true)
		if !lc.exchange(ctx, req, &answer, w) {
			continue
		}
		for _, m := range answer.Messages {
			run.receive(w, m.Body)
		}
		if n := len(answer.Messages); n > 0 {
			cursor = answer.Messages[n-1].ID
		}
	}
}

// exchange sends req and decodes a 200 answer into out; on failure it
// counts it, pauses and reports false.
func (lc *listenClient) exchange(ctx context.Context, req *http.Request, out any, w *chatWaiter) bool {
	res, err := lc.http.Do(req)
	if err == nil {
		if res.StatusCode == http.StatusOK {
			err = json.NewDecoder(res.Body).Decode(out)
		} else {
			err = &apiError{Status: res.StatusCode}
		}
		res.Body.Close()
	}
	if err != nil {
		if ctx.Err() == nil {
			w.failed.Add(1)
			pause(ctx)
		}
		return false
	}
	return true
}

// listenSSE: GET /api/starling/v1/rooms/{room}/events, resuming with
// Last-Event-ID.
func listenSSE(ctx context.Context, lc *listenClient, run *chatRun, w *chatWaiter, cursor string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", lc.base+"/api/starling/v1/rooms/"+run.room+"/events", nil)
		req.Header.Set("Last-Event-ID", cursor)
		res, err := lc.http.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			if err == nil {
				res.Body.Close()
			}
			if ctx.Err() == nil {
				w.failed.Add(1)
				pause(ctx)
			}
			continue
		}
		w.ready.Store(true)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var m benchMessage
			if json.Unmarshal([]byte(data), &m) == nil && m.ID != "" {
				run.receive(w, m.Body)
				cursor = m.ID
			}
		}
		res.Body.Close()
		if ctx.Err() == nil {
			w.failed.Add(1)
		}
	}
}

// listenWS: WebSocket /api/starling/v1/rooms/{room}/ws?cursor.
func listenWS(ctx context.Context, lc *listenClient, run *chatRun, w *chatWaiter, cursor string) {
	base := "ws" + strings.TrimPrefix(lc.base, "http")
	for ctx.Err() == nil {
		conn, _, err := websocket.Dial(ctx, base+"/api/starling/v1/rooms/"+run.room+"/ws?cursor="+url.QueryEscape(cursor), &websocket.DialOptions{HTTPClient: lc.http})
		if err != nil {
			if ctx.Err() == nil {
				w.failed.Add(1)
				pause(ctx)
			}
			continue
		}
		w.ready.Store(true)
		stop := context.AfterFunc(ctx, func() { conn.CloseNow() })
		for {
			_, data, err := conn.Read(wsReadContext)
			if err != nil {
				break
			}
			var f struct {
				Event string       `json:"event"`
				Data  benchMessage `json:"data"`
			}
			if json.Unmarshal(data, &f) == nil && f.Event == "message" {
				run.receive(w, f.Data.Body)
				cursor = f.Data.ID
			}
		}
		stop()
		conn.CloseNow()
		if ctx.Err() == nil {
			w.failed.Add(1)
		}
	}
}

// wsReadContext is the context of a WebSocket waiter's reads. The waiter
// closes its connection when its own context ends, which ends a read, so
// the reads need no context that can end: that spares the library a
// timer and a context registration per message, as a lean client would.
var wsReadContext = context.Background()
