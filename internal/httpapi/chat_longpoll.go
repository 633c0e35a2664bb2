package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"starling/internal/chat"
)

// maxChatWait bounds the wait of a native long poll, in seconds.
const maxChatWait = 60

var errBadWait = &apiError{http.StatusBadRequest, "invalid_wait", "wait must be a whole number of seconds, 0–60"}

// roomMessages: GET /api/starling/v1/rooms/{room}/messages?cursor=&wait=
// → 200 {"messages": [...], "cursor": "..."}. Without a cursor, or with an
// unknown one, it answers the room's window; with wait > 0 and nothing
// after the cursor, it holds the request until a message arrives or the
// wait ends (then "messages" is empty and "cursor" the one sent).
func (a *API) roomMessages(w http.ResponseWriter, r *http.Request) error {
	room := r.PathValue("room")
	if !chat.ValidRoom(room) {
		return errBadRoom
	}
	q, err := query(r, "cursor", "wait")
	if err != nil {
		return err
	}
	cursor := q.Get("cursor")
	if len(q["cursor"]) > 1 {
		return errBadCursor
	}
	if cursor != "" {
		if _, err := chat.ParseID(cursor); err != nil {
			return err
		}
	}
	wait := 0
	if v, ok := q["wait"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > maxChatWait || len(v) > 1 {
			return errBadWait
		}
		wait = n
	}
	if wait == 0 {
		b, err := a.rooms.Read(r.Context(), room, cursor)
		if err != nil {
			return err
		}
		writeMessages(w, b.Entries, true, cursor)
		return nil
	}
	pa := pollAnswer{room: room, cursor: cursor, withCursor: true}
	b, held, err := a.waitOrHold(w, r, pa, time.Duration(wait)*time.Second)
	if held {
		return nil
	}
	if err != nil {
		if waitEnded(r.Context(), err) {
			writeMessages(w, nil, true, cursor)
			return nil
		}
		return err
	}
	writeMessages(w, b.Entries, true, cursor)
	return nil
}
