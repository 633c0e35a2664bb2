package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Chat is what the chat pages read of the chat rooms; the server adapts
// the rooms to it. Posting and live messages go through the classic
// protocol (/a/message/new and /a/message/updates), which the API serves.
type Chat interface {
	// Recent returns the room's newest messages, oldest first.
	Recent(ctx context.Context, room string) ([]ChatMessage, error)
	// Rooms returns up to limit room names, the most recently active
	// first.
	Rooms(ctx context.Context, limit int) ([]string, error)
}

// ChatMessage is a chat message as the chat page shows it.
type ChatMessage struct {
	ID     string
	Body   string
	Login  string // empty for an anonymous sender
	Posted time.Time
}

func (h *Handler) chatRoutes() {
	h.handle("GET /chat", h.page(h.roomsPage))
	h.handle("GET /chat/{room}", h.page(h.roomPage))
}

type roomsView struct {
	Rooms  []string
	Errors formErrors
	Values formValues
}

const maxRoomsShown = 50

// roomsPage lists the rooms and joins one by name: ?room=name goes there.
func (h *Handler) roomsPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.chat == nil {
		return &pageError{status: http.StatusNotFound, message: "This server has no chat rooms."}
	}
	if name, ok := r.URL.Query()["room"]; ok {
		room := strings.ToLower(strings.TrimSpace(name[0]))
		if validRoom(room) {
			http.Redirect(w, r, "/chat/"+room, http.StatusSeeOther)
			return nil
		}
		return h.showRooms(w, r, v, http.StatusUnprocessableEntity, formErrors{"room": "Room names are 1–64 of a–z, 0–9, _ and -."}, formValues{"room": name[0]})
	}
	return h.showRooms(w, r, v, http.StatusOK, nil, nil)
}

func (h *Handler) showRooms(w http.ResponseWriter, r *http.Request, v viewer, status int, errs formErrors, vals formValues) error {
	rooms, err := h.chat.Rooms(r.Context(), maxRoomsShown)
	if err != nil {
		return err
	}
	h.render(w, r, status, "rooms", v, "Chat", roomsView{Rooms: rooms, Errors: errs, Values: vals})
	return nil
}

// validRoom reports whether name is 1–64 of [a-z0-9_-].
func validRoom(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

type roomView struct {
	Room string
	// SignInToPost is set for a signed-out viewer of rooms that refuse
	// anonymous messages.
	SignInToPost bool
	Messages     []ChatMessage
	XSRF         string
	Cursor       string
}

// xsrfCookie is the classic chat protocol's double-submit cookie; the page
// sets it, as the protocol's pages do, and puts its value in the form.
const xsrfCookie = "_xsrf"

func (h *Handler) roomPage(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.chat == nil {
		return &pageError{status: http.StatusNotFound, message: "This server has no chat rooms."}
	}
	room := r.PathValue("room")
	if !validRoom(room) {
		return errNotFound
	}
	msgs, err := h.chat.Recent(r.Context(), room)
	if err != nil {
		return err
	}
	rv := roomView{Room: room, Messages: msgs, XSRF: h.xsrf(w, r), SignInToPost: h.chatAuth && !v.SignedIn()}
	if n := len(msgs); n > 0 {
		rv.Cursor = msgs[n-1].ID
	}
	h.render(w, r, http.StatusOK, "chat", v, "#"+room, rv)
	return nil
}

// xsrf returns the _xsrf cookie's value, setting a new one when the
// browser has none that could be one.
func (h *Handler) xsrf(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(xsrfCookie); err == nil && validXSRF(c.Value) {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	// Not HttpOnly: the page script reads it, as the protocol wants.
	http.SetCookie(w, &http.Cookie{Name: xsrfCookie, Value: token, Path: "/",
		Secure: h.browser.Secure(r), SameSite: http.SameSiteLaxMode})
	return token
}

// validXSRF accepts what the chat endpoints accept as a token: printable
// ASCII without separators, at most 256 bytes.
func validXSRF(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ';' || s[i] == ',' || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}
