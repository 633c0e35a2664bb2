package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"starling/internal/stream"
)

// Native streams over one WebSocket: GET /api/starling/v1/streams/ws. The
// client subscribes and unsubscribes named streams with JSON messages; the
// server answers each and sends every event of a subscription as
// {"sub", "event", "id", "data"}. Pings keep the connection alive; a client
// that falls behind gets {"disconnect":{"code":"too_slow"}} and is closed.

// Limits of the WebSocket transport.
const (
	maxWSMessage       = 64 << 10                // bytes in one client message
	maxWSSubscriptions = stream.MaxSubscriptions // live subscriptions on one connection
	maxWSSubName       = 64                      // bytes in a subscription's name
)

// wsRequest is a client message.
type wsRequest struct {
	Type        string                     `json:"type"`
	Sub         string                     `json:"sub"`
	Stream      string                     `json:"stream"`
	Params      map[string]json.RawMessage `json:"params"`
	LastEventID string                     `json:"last_event_id"`
}

var (
	errWSBadMessage = &apiError{http.StatusBadRequest, "invalid_message", `a message is a JSON object {"type": "subscribe"|"unsubscribe", "sub": name, ...}`}
	errWSBadSub     = &apiError{http.StatusBadRequest, "invalid_sub", "sub is a name of 1–64 bytes"}
	errWSBadParams  = &apiError{http.StatusBadRequest, "invalid_params", "params values are strings, numbers or arrays of strings"}
	errWSSubTaken   = &apiError{http.StatusConflict, "sub_taken", "a subscription of that name is live on this connection"}
	errWSNoSuchSub  = &apiError{http.StatusNotFound, "unknown_sub", "no live subscription has that name"}
	errWSTooMany    = &apiError{http.StatusUnprocessableEntity, "too_many_subscriptions", "a connection holds at most " + strconv.Itoa(maxWSSubscriptions) + " subscriptions"}
)

// parseWSRequest reads a client message: its type and name checked, its
// params as the query parameters the other transports take.
func parseWSRequest(data []byte) (wsRequest, url.Values, error) {
	var req wsRequest
	if !json.Valid(data) || jsonDepth(data) > maxJSONDepth {
		return req, nil, errWSBadMessage
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Type != "subscribe" && req.Type != "unsubscribe" {
		return wsRequest{}, nil, errWSBadMessage
	}
	if req.Sub == "" || len(req.Sub) > maxWSSubName {
		return req, nil, errWSBadSub
	}
	params := make(url.Values, len(req.Params))
	for k, raw := range req.Params {
		var s string
		var n json.Number
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			params[k] = []string{s}
		case json.Unmarshal(raw, &n) == nil:
			params[k] = []string{n.String()}
		case json.Unmarshal(raw, &list) == nil && list != nil:
			params[k] = list
		default:
			return req, nil, errWSBadParams
		}
	}
	return req, params, nil
}

// wsConn is the state of one WebSocket stream connection.
type wsConn struct {
	a      *API
	r      *http.Request
	caller session
	conn   *websocket.Conn
	cork   *corkConn
	sink   *stream.Sink
	subs   map[string]*stream.Client // touched by the reading goroutine only
}

func (a *API) wsStream(w http.ResponseWriter, r *http.Request) error {
	caller, err := a.streamCaller(r)
	if err != nil {
		return err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errInvalidQuery
	}
	identifier, err := stream.ParseIdentifier(q)
	if err != nil {
		return streamError(err)
	}
	if err := a.allowStreamConnection(r, identifier, caller.user.ID); err != nil {
		return err
	}
	sink, err := a.hub.Connect()
	if err != nil {
		return streamError(err)
	}
	conn, cork, err := acceptWebSocket(w, r)
	if err != nil {
		sink.Close()
		return nil // Accept has answered
	}
	conn.SetReadLimit(maxWSMessage)
	c := &wsConn{a: a, r: r, caller: caller, conn: conn, cork: cork, sink: sink, subs: make(map[string]*stream.Client)}
	a.detachSocket(r, conn, c.serve)
	return nil
}

// serve runs the connection: a goroutine reads the client's messages
// while this one writes, until either ends it.
func (c *wsConn) serve(ctx context.Context) {
	defer c.sink.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancel()
		c.read(ctx)
	})
	c.write(ctx)
	cancel()
	c.conn.CloseNow()
	wg.Wait()
}

// read handles the client's messages until the connection ends.
func (c *wsConn) read(ctx context.Context) {
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.reply(ctx, "", errWSBadMessage)
			continue
		}
		req, params, err := parseWSRequest(data)
		if err == nil {
			if req.Type == "subscribe" {
				err = c.subscribe(ctx, req, params)
			} else {
				err = c.unsubscribe(ctx, req.Sub)
			}
		}
		if err != nil {
			c.reply(ctx, req.Sub, err)
		}
	}
}

func (c *wsConn) subscribe(ctx context.Context, req wsRequest, params url.Values) error {
	if _, taken := c.subs[req.Sub]; taken {
		return errWSSubTaken
	}
	if len(c.subs) >= maxWSSubscriptions {
		return errWSTooMany
	}
	var after uint64
	if req.LastEventID != "" {
		id, ok := stream.ParseID(req.LastEventID)
		if !ok {
			return errInvalidEventID
		}
		after = id
	}
	spec, _, err := c.a.nativeSpec(c.r, c.caller, req.Stream, params.Get("id"), params)
	if err != nil {
		return err
	}
	name, _ := json.Marshal(req.Sub)
	head := append(append([]byte(`{"sub":`), name...), ',')
	client, err := c.sink.Subscribe(ctx, spec, stream.FormatWS, head, after)
	if err != nil {
		return streamError(err)
	}
	c.subs[req.Sub] = client
	// The answer, the missed events and then the live ones held meanwhile,
	// written together.
	c.cork.Cork(c.a.streamWriteTimeout)
	defer c.cork.Flush() //nolint:errcheck // a failed write ends the read loop's next Read
	ack := append(append([]byte(`{"type":"subscribed","sub":`), name...), '}')
	if c.send(ctx, ack) != nil {
		return nil
	}
	if err := client.Start(ctx, func(frame []byte) error { return c.send(ctx, bytes.TrimSuffix(frame, []byte("\n"))) }); err != nil && ctx.Err() == nil {
		c.a.log.WarnContext(ctx, "httpapi: replaying a stream failed", "err", err)
	}
	return nil
}

func (c *wsConn) unsubscribe(ctx context.Context, sub string) error {
	client, ok := c.subs[sub]
	if !ok {
		return errWSNoSuchSub
	}
	delete(c.subs, sub)
	c.sink.Unsubscribe(client)
	name, _ := json.Marshal(sub)
	c.send(ctx, append(append([]byte(`{"type":"unsubscribed","sub":`), name...), '}'))
	return nil
}

// reply sends the error answer to a client message.
func (c *wsConn) reply(ctx context.Context, sub string, err error) {
	answer := classify(err)
	if answer == errInternal {
		c.a.log.ErrorContext(ctx, "httpapi: internal error on a stream", "err", err)
	}
	type errorMsg struct {
		Type  string      `json:"type"`
		Sub   string      `json:"sub,omitempty"`
		Error errorDetail `json:"error"`
	}
	b, _ := json.Marshal(errorMsg{Type: "error", Sub: sub, Error: errorDetail{Code: answer.code, Message: answer.message}})
	c.send(ctx, b)
}

// send writes one message, bounded by streamWriteTimeout.
func (c *wsConn) send(ctx context.Context, msg []byte) error {
	wctx, cancel := context.WithTimeout(ctx, c.a.streamWriteTimeout)
	defer cancel()
	return c.conn.Write(wctx, websocket.MessageText, msg)
}

// write sends what the hub hands the connection, a message per event and
// everything waiting in one write, and a ping every keep-alive interval,
// until the connection or the hub ends it.
func (c *wsConn) write(ctx context.Context) {
	ping := time.NewTicker(c.a.streamKeepAlive)
	defer ping.Stop()
	var spare []byte
	for {
		select {
		case <-c.sink.Wait():
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, c.a.streamWriteTimeout)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
			continue
		case <-ctx.Done():
			return
		}
		frames, reason := c.sink.Take(spare)
		if c.sendAll(ctx, frames) != nil {
			return
		}
		if reason != "" {
			c.end(ctx, reason)
			return
		}
		spare = nil
		if cap(frames) <= maxStreamBuffer {
			spare = frames
		}
	}
}

// sendAll writes each line of frames as a message, all of them in one
// write to the connection, bounded by streamWriteTimeout.
func (c *wsConn) sendAll(ctx context.Context, frames []byte) error {
	wctx := corkedContext(ctx)
	c.cork.Cork(c.a.streamWriteTimeout)
	for msg := range bytes.SplitSeq(bytes.TrimSuffix(frames, []byte("\n")), []byte("\n")) {
		if len(msg) == 0 {
			continue
		}
		if err := c.conn.Write(wctx, websocket.MessageText, msg); err != nil {
			c.cork.Flush() //nolint:errcheck // the first error is the one to report
			return err
		}
	}
	return c.cork.Flush()
}

// end sends the disconnect notice and closes the connection.
func (c *wsConn) end(ctx context.Context, reason string) {
	c.send(ctx, []byte(`{"disconnect":{"code":"`+reason+`"}}`))
	code := websocket.StatusGoingAway
	if reason == stream.ReasonTooSlow {
		code = websocket.StatusPolicyViolation
	}
	c.conn.Close(code, reason)
}
