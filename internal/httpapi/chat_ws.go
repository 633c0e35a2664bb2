package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"starling/internal/chat"
)

const (
	// wsReadLimit bounds one message a client sends: a body of 2,000
	// characters JSON-escaped fits many times over.
	wsReadLimit = 32 << 10
	// wsPing is how often an idle socket is pinged.
	wsPing = 30 * time.Second
)

// roomSocket: WebSocket /api/starling/v1/rooms/{room}/ws. The client sends
// {"type": "message", "body": "..."}; the server sends {"event": "message",
// "data": {...}} for every message of the room from after the cursor
// parameter (else from now), the client's own included, {"event": "gap",
// "data": {}} when the cursor is no longer kept, and {"event": "error",
// "data": {"code", "message"}} for a message it refused. Cross-origin
// upgrades are refused (the session cookie would otherwise let any site
// post as the user).
func (a *API) roomSocket(w http.ResponseWriter, r *http.Request) error {
	room, cursor, err := a.roomFollow(r, "")
	if err != nil {
		return err
	}
	who, err := a.chatAuthor(r, false)
	if err != nil {
		return err
	}
	holdDeadlines(w, 0)
	conn, cork, err := acceptWebSocket(w, r)
	if err != nil {
		return nil // Accept has answered
	}
	conn.SetReadLimit(wsReadLimit)
	a.detachSocket(r, conn, func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			defer cancel()
			a.wsReadLoop(ctx, conn, r.WithContext(ctx), room, who)
		})
		err := a.wsWriteLoop(ctx, conn, cork, room, cursor)
		cancel()
		if errors.Is(err, chat.ErrClosed) {
			conn.Close(websocket.StatusGoingAway, "server stopping") //nolint:errcheck // closing anyway
		} else {
			conn.CloseNow() //nolint:errcheck
		}
		wg.Wait()
	})
	return nil
}

type wsClientMessage struct {
	Type string  `json:"type"`
	Body *string `json:"body"`
}

type wsErrorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type wsEvent struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

// wsReadLoop posts what the client sends until it goes or ctx ends.
func (a *API) wsReadLoop(ctx context.Context, conn *websocket.Conn, r *http.Request, room string, who chatAuthor) {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var m wsClientMessage
		switch {
		case typ != websocket.MessageText:
			err = &apiError{http.StatusBadRequest, "invalid_message", "messages are JSON text"}
		case json.Unmarshal(data, &m) != nil:
			err = &apiError{http.StatusBadRequest, "invalid_json", "a message is one JSON object"}
		case m.Type != "message":
			err = &apiError{http.StatusBadRequest, "invalid_type", `"type" must be "message"`}
		case m.Body == nil:
			err = &chat.InputError{Field: "body", Reason: "is required"}
		default:
			_, err = a.postChat(r, room, *m.Body, who)
		}
		if err == nil {
			continue // the message comes back through the write loop
		}
		answer := classify(err)
		if answer == errInternal || answer.status == http.StatusServiceUnavailable && ctx.Err() == nil {
			a.log.WarnContext(ctx, "httpapi: chat message over WebSocket failed", "room", room, "err", err)
		}
		frame, _ := json.Marshal(wsEvent{Event: "error", Data: wsErrorData{Code: answer.code, Message: answer.message}})
		wctx, cancel := context.WithTimeout(ctx, streamWriteTimeout)
		err = conn.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			return
		}
	}
}

// wsWriteLoop sends the room's messages after cursor until ctx ends, the
// client stops reading or Rooms closes.
func (a *API) wsWriteLoop(ctx context.Context, conn *websocket.Conn, cork *corkConn, room, cursor string) error {
	var frame []byte
	// One timer a ping period, not one a wait (see roomEvents).
	period := newPeriod(ctx, wsPing)
	defer period.stop()
	for {
		b, err := a.rooms.Wait(period.ctx, room, cursor)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			period.renew()
			pctx, cancel := context.WithTimeout(ctx, streamWriteTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := wsSendBatch(ctx, conn, cork, b, &frame); err != nil {
			return err
		}
		if n := len(b.Entries); n > 0 {
			cursor = b.Entries[n-1].ID
		}
	}
}

// wsSendBatch sends a batch's frames, in one write to the connection
// within one streamWriteTimeout.
func wsSendBatch(ctx context.Context, conn *websocket.Conn, cork *corkConn, b chat.Batch, frame *[]byte) (err error) {
	ctx = corkedContext(ctx)
	cork.Cork(streamWriteTimeout)
	defer func() {
		if ferr := cork.Flush(); err == nil {
			err = ferr
		}
	}()
	if b.Gap {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"gap","data":{}}`)); err != nil {
			return err
		}
	}
	for _, e := range b.Entries {
		f := append((*frame)[:0], `{"event":"message","data":`...)
		f = append(f, e.JSON()...)
		f = append(f, '}')
		*frame = f
		if err := conn.Write(ctx, websocket.MessageText, f); err != nil {
			return err
		}
	}
	return nil
}
