package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"starling/internal/chat"
)

const (
	// sseKeepAlive is how often an idle event stream gets a comment line,
	// so that proxies and clients see it alive.
	sseKeepAlive = 15 * time.Second
	// streamWriteTimeout bounds one write to a stream: a client that
	// stops reading is dropped rather than held in memory.
	streamWriteTimeout = 10 * time.Second
)

// roomEvents: GET /api/starling/v1/rooms/{room}/events → text/event-stream of
// "event: message" (id: the message id, data: the message JSON), from
// after the Last-Event-ID header or the cursor parameter, else from now.
// A cursor the history no longer keeps gets "event: gap" and then the
// room's window. The stream ends when the server stops.
func (a *API) roomEvents(w http.ResponseWriter, r *http.Request) error {
	room, cursor, err := a.roomFollow(r, r.Header.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	holdDeadlines(w, 0)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // no proxy buffering of the stream
	h.Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	if err := sseWrite(w, rc, []byte("retry: 2000\n\n")); err != nil {
		return nil
	}
	var buf []byte
	// One timer a keep-alive period, not one a wait: a busy stream gets
	// its comment line every period too, which costs less than a timer
	// for each message.
	period := newPeriod(r.Context(), sseKeepAlive)
	defer period.stop()
	for {
		b, err := a.rooms.Wait(period.ctx, room, cursor)
		switch {
		case err == nil:
			buf = appendSSE(buf[:0], b)
			if n := len(b.Entries); n > 0 {
				cursor = b.Entries[n-1].ID
			}
		case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
			buf = append(buf[:0], ": keep-alive\n\n"...)
			period.renew()
		case errors.Is(err, chat.ErrClosed), r.Context().Err() != nil:
			return nil
		default:
			// The history failed; the client resumes from its last id.
			a.log.WarnContext(r.Context(), "httpapi: chat event stream ended", "room", room, "err", err)
			return nil
		}
		if err := sseWrite(w, rc, buf); err != nil {
			return nil
		}
		if cap(buf) > 64<<10 {
			buf = nil // a large catch-up is not kept for the stream's life
		}
	}
}

// newestID is the id of room's newest message, or "" for an empty room.
func (a *API) newestID(ctx context.Context, room string) (string, error) {
	b, err := a.rooms.Read(ctx, room, "")
	if err != nil || len(b.Entries) == 0 {
		return "", err
	}
	return b.Entries[len(b.Entries)-1].ID, nil
}

func appendSSE(buf []byte, b chat.Batch) []byte {
	if b.Gap {
		buf = append(buf, "event: gap\ndata: {}\n\n"...)
	}
	for _, e := range b.Entries {
		buf = append(buf, "id: "...)
		buf = append(buf, e.ID...)
		buf = append(buf, "\nevent: message\ndata: "...)
		buf = append(buf, e.JSON()...)
		buf = append(buf, "\n\n"...)
	}
	return buf
}

func sseWrite(w http.ResponseWriter, rc *http.ResponseController, b []byte) error {
	rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) //nolint:errcheck // recorders cannot
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}

// roomFollow reads what the following transports (SSE, WebSocket) start
// from: the room in the path and the cursor given (resume, a header's
// value, wins over the cursor parameter), else the room's newest message,
// so that the client gets what comes from now on.
func (a *API) roomFollow(r *http.Request, resume string) (room, cursor string, err error) {
	room = r.PathValue("room")
	if !chat.ValidRoom(room) {
		return "", "", errBadRoom
	}
	q, err := query(r, "cursor")
	if err != nil {
		return "", "", err
	}
	cursor = resume
	if cursor == "" {
		cursor = q.Get("cursor")
	}
	if cursor == "" {
		cursor, err = a.newestID(r.Context(), room)
		return room, cursor, err
	}
	if _, err := chat.ParseID(cursor); err != nil {
		return "", "", err
	}
	return room, cursor, nil
}
