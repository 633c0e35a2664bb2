package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"starling/internal/chat"
)

// The classic chat protocol, wire-compatible with the Tornado chat demo's
// page script: form posts to /a/message/new and /a/message/updates, each
// carrying an _xsrf field (or X-XSRFToken header) equal to the _xsrf
// cookie, which GET /a/message/xsrf sets (the web UI's chat page sets it
// too). Any matching cookie and field pass, as in Tornado: the check stops
// other sites' pages, which can neither read nor set the cookie.

const (
	xsrfCookieName = "_xsrf"
	// classicHold bounds how long /a/message/updates holds a request
	// with nothing to answer; it then answers {"messages": []} and the
	// page script polls again. Tornado holds forever, which proxies and
	// dead connections do not reward.
	classicHold = 2 * time.Minute
	// maxXSRFLen bounds the _xsrf cookie and field compared.
	maxXSRFLen = 256
)

var (
	errXSRF = &apiError{http.StatusForbidden, "xsrf_failed",
		"the _xsrf form field or X-XSRFToken header must equal the _xsrf cookie (GET /a/message/xsrf sets it)"}
	errBadNext = &apiError{http.StatusBadRequest, "invalid_next", "next must be a path on this site, starting with one /"}
	errBadForm = &apiError{http.StatusBadRequest, "invalid_form", "the request body is not a well-formed form"}
)

// classicXSRF: GET /a/message/xsrf → 200 {"xsrf": token}, setting the
// _xsrf cookie (keeping a well-formed one the client already has).
func (a *API) classicXSRF(w http.ResponseWriter, r *http.Request) error {
	token := ""
	if c, err := r.Cookie(xsrfCookieName); err == nil && validXSRFToken(c.Value) {
		token = c.Value
	} else {
		var b [16]byte
		rand.Read(b[:])
		token = hex.EncodeToString(b[:])
	}
	// Not HttpOnly: the page script reads it to send it back.
	http.SetCookie(w, &http.Cookie{Name: xsrfCookieName, Value: token, Path: "/",
		Secure: a.secureRequest(r), SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"xsrf": token})
	return nil
}

// validXSRFToken accepts what could be a token: printable ASCII without
// separators, bounded.
func validXSRFToken(s string) bool {
	if len(s) == 0 || len(s) > maxXSRFLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ';' || s[i] == ',' || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}

// parseClassicForm reads a form body (and the query) within the body limit
// and the request's read deadline (deadline.go), then checks the _xsrf
// pair.
func parseClassicForm(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		// As for JSON bodies: the rest is not worth waiting for.
		closeConnection(w)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return errBadForm
	}
	sent := r.Form.Get("_xsrf")
	if sent == "" {
		sent = r.Header.Get("X-XSRFToken")
	}
	if sent == "" {
		sent = r.Header.Get("X-CSRFToken")
	}
	if !validXSRFToken(sent) {
		return errXSRF
	}
	matched := 0
	for _, c := range r.CookiesNamed(xsrfCookieName) {
		matched |= subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value))
	}
	if matched != 1 {
		return errXSRF
	}
	return nil
}

// classicRoom is the form's room, the lobby when there is none.
func classicRoom(r *http.Request) (string, error) {
	room := r.Form.Get("room")
	if room == "" {
		return chat.Lobby, nil
	}
	if !chat.ValidRoom(room) {
		return "", errBadRoom
	}
	return room, nil
}

// classicNew: POST /a/message/new (form body, _xsrf, room?, next?) → 200
// message, or 302 to next.
func (a *API) classicNew(w http.ResponseWriter, r *http.Request) error {
	if err := parseClassicForm(w, r); err != nil {
		return err
	}
	room, err := classicRoom(r)
	if err != nil {
		return err
	}
	next := r.Form.Get("next")
	if next != "" && !sameSitePath(next) {
		return errBadNext
	}
	who, err := a.chatAuthor(r, true)
	if err != nil {
		return err
	}
	e, err := a.postChat(r, room, r.Form.Get("body"), who)
	if err != nil {
		return err
	}
	if next != "" {
		h := w.Header()
		h.Set("Location", next)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusFound)
		return nil
	}
	writeRaw(w, http.StatusOK, e.JSON())
	return nil
}

// sameSitePath reports whether next is a path on this site: one leading
// slash (a second, or a backslash, which browsers read as one, would name
// another host), no scheme or host, no control characters.
func sameSitePath(next string) bool {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return false
	}
	for i := 0; i < len(next); i++ {
		if next[i] < ' ' || next[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// classicUpdates: POST /a/message/updates (form cursor?, _xsrf, room?) →
// 200 {"messages": [...]}: at once when there are messages after cursor
// (the whole window for no cursor or an unknown one), else when one
// arrives; {"messages": []} after classicHold or when the server stops.
func (a *API) classicUpdates(w http.ResponseWriter, r *http.Request) error {
	if err := parseClassicForm(w, r); err != nil {
		return err
	}
	room, err := classicRoom(r)
	if err != nil {
		return err
	}
	cursor := r.Form.Get("cursor")
	if _, err := chat.ParseID(cursor); err != nil {
		cursor = "" // unknown: the whole window
	}
	b, held, err := a.waitOrHold(w, r, pollAnswer{room: room, cursor: cursor}, classicHold)
	if held {
		return nil
	}
	if err != nil {
		if waitEnded(r.Context(), err) {
			writeMessages(w, nil, false, "")
			return nil
		}
		return err
	}
	writeMessages(w, b.Entries, false, "")
	return nil
}

// holdSlack is how long past its wait a held request may take to write
// its answer.
const holdSlack = 10 * time.Second
