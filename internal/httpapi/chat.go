package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"starling/internal/chat"
	"starling/internal/social"
)

// Chat rooms: the routes, who posts, the native post and the room list. The
// transports that deliver messages have a file each: chat_classic.go (the
// Tornado chat demo's long-poll protocol), chat_longpoll.go, chat_sse.go
// and chat_ws.go.

func (a *API) chatRoutes() {
	a.handle("GET /a/message/xsrf", a.classicXSRF)
	a.handle("POST /a/message/new", a.classicNew)
	a.handle("POST /a/message/updates", a.classicUpdates)

	a.handle("GET "+Prefix+"/rooms", a.listRooms)
	a.handle("POST "+Prefix+"/rooms/{room}/messages", a.postRoomMessage)
	a.handle("GET "+Prefix+"/rooms/{room}/messages", a.roomMessages)
	a.handle("GET "+Prefix+"/rooms/{room}/events", a.roomEvents)
	a.handle("GET "+Prefix+"/rooms/{room}/ws", a.roomSocket)
}

var (
	errBadRoom = &apiError{http.StatusBadRequest, "invalid_room", "a room name is 1–64 of a-z, 0-9, _ and -"}
	// errChatLogin refuses an anonymous message under --chat-require-login.
	errChatLogin = &apiError{http.StatusUnauthorized, "unauthorized", "posting to chat rooms needs a signed-in user: an Authorization: Bearer token or a session cookie"}
)

// chatAuthor is who sends a chat message: a signed-in user (login set) or
// an anonymous sender. A request that presents a token that is invalid is
// refused rather than treated as anonymous, so that a client whose session
// expired learns it. classic requests skip the session cookie's
// X-CSRF-Token check: their own _xsrf check has been made.
type chatAuthor struct {
	login string
	uid   social.UserID // 0 when anonymous
}

func (a *API) chatAuthor(r *http.Request, classic bool) (chatAuthor, error) {
	sources := a.tokenSources
	if classic {
		sources = []tokenSource{bearerToken, a.sessionCookieToken}
	}
	for _, source := range sources {
		token, found, err := source(r)
		if err != nil {
			return chatAuthor{}, err
		}
		if !found {
			continue
		}
		c, err := a.svc.Caller(r.Context(), token)
		if err != nil {
			return chatAuthor{}, err
		}
		return chatAuthor{login: c.Login, uid: c.ID}, nil
	}
	return chatAuthor{}, nil
}

// postChat checks who may post and how often, then posts.
func (a *API) postChat(r *http.Request, room, body string, who chatAuthor) (*chat.Entry, error) {
	if !chat.ValidRoom(room) {
		return nil, errBadRoom
	}
	if a.chatLogin && who.uid == 0 {
		return nil, errChatLogin
	}
	if err := a.allowChatMessage(r, who.uid); err != nil {
		return nil, err
	}
	return a.rooms.Post(r.Context(), room, body, who.login)
}

type chatPostRequest struct {
	Body *string `json:"body"`
}

// postRoomMessage: POST /api/starling/v1/rooms/{room}/messages {body} → 201
// message.
func (a *API) postRoomMessage(w http.ResponseWriter, r *http.Request) error {
	who, err := a.chatAuthor(r, false)
	if err != nil {
		return err
	}
	var req chatPostRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Body == nil {
		return &chat.InputError{Field: "body", Reason: "is required"}
	}
	e, err := a.postChat(r, r.PathValue("room"), *req.Body, who)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusCreated, e.JSON())
	return nil
}

type roomJSON struct {
	Name         string  `json:"name"`
	LastActivity *string `json:"last_activity"` // null for a room without messages
}

// maxRoomsListed bounds GET /api/starling/v1/rooms?count.
const maxRoomsListed = 200

// listRooms: GET /api/starling/v1/rooms?count → 200 [room], the most
// recently active first, the lobby always among them.
func (a *API) listRooms(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "count")
	if err != nil {
		return err
	}
	count := 50
	if v, ok := q["count"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxRoomsListed || len(v) > 1 {
			return &apiError{http.StatusBadRequest, "invalid_count", "count must be 1–200"}
		}
		count = n
	}
	infos, err := a.rooms.List(r.Context(), count)
	if err != nil {
		return err
	}
	out := make([]roomJSON, len(infos))
	for i, ri := range infos {
		out[i].Name = ri.Name
		if !ri.LastActivity.IsZero() {
			t := formatTime(ri.LastActivity)
			out[i].LastActivity = &t
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeRaw sends an answer already encoded as JSON.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(body)         //nolint:errcheck // the client hung up
	w.Write([]byte{'\n'}) //nolint:errcheck
}

// writeMessages sends {"messages": [...]} and, when withCursor, the cursor
// to send next time: the newest message's id, or cursor when there is none.
func writeMessages(w http.ResponseWriter, entries []*chat.Entry, withCursor bool, cursor string) {
	writeRaw(w, http.StatusOK, messagesJSON(entries, withCursor, cursor, 0))
}

// messagesJSON is writeMessages' body, without the final newline, with
// spare bytes of capacity after it.
func messagesJSON(entries []*chat.Entry, withCursor bool, cursor string, spare int) []byte {
	n := 32 + len(cursor) + spare
	for _, e := range entries {
		n += len(e.JSON()) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"messages":`...)
	b = chat.AppendJSONArray(b, entries)
	if withCursor {
		if len(entries) > 0 {
			cursor = entries[len(entries)-1].ID
		}
		b = append(b, `,"cursor":`...)
		b = strconv.AppendQuote(b, cursor)
	}
	return append(b, '}')
}

// holdDeadlines gives a request that is held open (a long poll, a stream),
// once what the client sends up front has been read, read and write
// deadlines of its own, d from now (none when d is zero), in place of the
// API's read deadline for ordinary requests (ExtendReadDeadline). The read
// deadline matters too: the server reads in the background to notice a
// client hanging up, and an expired read deadline would end the request.
// Writers that cannot set deadlines (tests' recorders) go without.
func holdDeadlines(w http.ResponseWriter, d time.Duration) {
	ExtendReadDeadline(w, d) //nolint:errcheck // see above
	t := time.Now().Add(d)
	if d == 0 {
		t = time.Time{}
	}
	http.NewResponseController(w).SetWriteDeadline(t) //nolint:errcheck
}

// waitEnded reports whether err is the end of a wait that deserves a clean,
// empty answer: the wait's time ran out or the server is stopping.
func waitEnded(ctx context.Context, err error) bool {
	return errors.Is(err, chat.ErrClosed) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
}

// period is a context that ends d after it was last renewed, for the
// keep-alives of streams: one timer a period rather than one a wait.
type period struct {
	parent context.Context
	d      time.Duration
	ctx    context.Context
	cancel context.CancelFunc
}

func newPeriod(parent context.Context, d time.Duration) *period {
	p := &period{parent: parent, d: d}
	p.ctx, p.cancel = context.WithTimeout(parent, d)
	return p
}

func (p *period) renew() {
	p.cancel()
	p.ctx, p.cancel = context.WithTimeout(p.parent, p.d)
}

func (p *period) stop() { p.cancel() }
