package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type wsMsg struct {
	Type  string          `json:"type"`
	Sub   string          `json:"sub"`
	Event string          `json:"event"`
	ID    string          `json:"id"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
	Disconnect *struct {
		Code string `json:"code"`
	} `json:"disconnect"`
}

type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func (c *client) dialWS() *wsClient {
	t := c.s.t
	t.Helper()
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	conn, res, err := websocket.Dial(context.Background(), c.s.srv.URL+"/api/starling/v1/streams/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dialing the WebSocket stream: %v (%v)", err, res)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}
}

func (w *wsClient) send(msg string) {
	w.t.Helper()
	if err := w.conn.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		w.t.Fatalf("writing %s: %v", msg, err)
	}
}

func (w *wsClient) next() wsMsg {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := w.conn.Read(ctx)
	if err != nil {
		w.t.Fatalf("reading a message: %v", err)
	}
	var m wsMsg
	if err := json.Unmarshal(data, &m); err != nil {
		w.t.Fatalf("message %s is not JSON: %v", data, err)
	}
	return m
}

func (w *wsClient) expect(typ, sub string) {
	w.t.Helper()
	if m := w.next(); m.Type != typ || m.Sub != sub {
		w.t.Fatalf("got %+v, want %s of %q", m, typ, sub)
	}
}

func (w *wsClient) expectError(sub, code string) {
	w.t.Helper()
	if m := w.next(); m.Type != "error" || m.Sub != sub || m.Error == nil || m.Error.Code != code {
		w.t.Fatalf("got %+v, want error %s for %q", m, code, sub)
	}
}

func (w *wsClient) expectEvent(sub, event string, id int64) wsMsg {
	w.t.Helper()
	m := w.next()
	if m.Sub != sub || m.Event != event || !strings.HasPrefix(string(m.Data), fmt.Sprintf(`{"id":%d,`, id)) || m.ID == "" {
		w.t.Fatalf("got %+v (%s), want %s of %d on %q", m, m.Data, event, id, sub)
	}
	return m
}

func TestWebSocketSubscriptions(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	ws := s.anonymous().dialWS()
	ws.send(`{"type":"subscribe","sub":"all","stream":"firehose"}`)
	ws.expect("subscribed", "all")
	ws.send(`{"type":"subscribe","sub":"hi","stream":"filter","params":{"track":["hello","howdy"],"follow":"nobody"}}`)
	ws.expect("subscribed", "hi")

	for _, tc := range []struct{ msg, sub, code string }{
		{`not json`, "", "invalid_message"},
		{`{"type":"subscribe","sub":"all","stream":"firehose"}`, "all", "sub_taken"},
		{`{"type":"subscribe","sub":"x","stream":"nosuch"}`, "x", "unknown_stream"},
		{`{"type":"subscribe","sub":"x","stream":"home"}`, "x", "unauthorized"},
		{`{"type":"subscribe","sub":"x","stream":"filter"}`, "x", "filter_required"},
		{`{"type":"subscribe","sub":"x","stream":"filter","params":{"track":{"a":1}}}`, "x", "invalid_params"},
		{`{"type":"subscribe","sub":"x","stream":"firehose","last_event_id":"abc"}`, "x", "invalid_last_event_id"},
		{`{"type":"subscribe","sub":"","stream":"firehose"}`, "", "invalid_sub"},
		{`{"type":"unsubscribe","sub":"none"}`, "none", "unknown_sub"},
		{`{"type":"subscribe","sub":"x","stream":"firehose","extra":1}`, "", "invalid_message"},
	} {
		ws.send(tc.msg)
		ws.expectError(tc.sub, tc.code)
	}

	hello := alice.post("Hello there", nil)
	first := ws.next()
	second := ws.next()
	if first.Sub == second.Sub || first.ID != second.ID {
		t.Fatalf("a matching status reached subs %q and %q with ids %s and %s; want both subs, one id", first.Sub, second.Sub, first.ID, second.ID)
	}
	other := alice.post("something else", nil)
	ws.expectEvent("all", "status", other.ID)
	ws.send(`{"type":"unsubscribe","sub":"hi"}`)
	ws.expect("unsubscribed", "hi")
	again := alice.post("hello again", nil)
	ws.expectEvent("all", "status", again.ID)

	// Resuming over WebSocket: everything after the first event.
	ws.send(fmt.Sprintf(`{"type":"subscribe","sub":"back","stream":"filter","params":{"track":"hello"},"last_event_id":%q}`, first.ID))
	ws.expect("subscribed", "back")
	ws.expectEvent("back", "status", again.ID)
	_ = hello

	s.hub.Close()
	if m := ws.next(); m.Disconnect == nil || m.Disconnect.Code != "shutdown" {
		t.Fatalf("at shutdown got %+v, want the shutdown notice", m)
	}
	_, _, err := ws.conn.Read(context.Background())
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("after the notice: %v, want a close with status going away", err)
	}
}
