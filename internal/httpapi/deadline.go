package httpapi

import (
	"net/http"
	"time"
)

// DefaultReadTimeout is Config.ReadTimeout's default.
const DefaultReadTimeout = 10 * time.Second

// Every request is read under a deadline: ServeHTTP sets the connection's
// read deadline to Config.ReadTimeout after the request arrived and keeps it
// for the rest of the request. It bounds the body a handler reads and the
// body net/http discards after a handler that did not read it (any early
// error answer), so a client that trickles a body holds its connection for
// at most that long. It also bounds the request as a whole: once it passes,
// net/http's read in the background fails and cancels the request's
// context.
//
// Handlers that hold a request open on purpose (chunked and SSE streams,
// long-polls) call ExtendReadDeadline once they have read what the client
// sends up front; a WebSocket upgrade needs nothing, since a hijacked
// connection loses its deadlines.

// ExtendReadDeadline moves the read deadline of w's connection to d from now,
// or removes it when d is zero, for a handler that keeps the request open
// longer than Config.ReadTimeout. Call it after the request body has been
// read: a body still arriving must not be given more time. Only the current
// request is affected; the next request on the connection gets a deadline of
// its own. It returns http.ErrNotSupported when w cannot set deadlines
// (httptest.ResponseRecorder), which a caller may ignore.
func ExtendReadDeadline(w http.ResponseWriter, d time.Duration) error {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	return http.NewResponseController(w).SetReadDeadline(deadline)
}

// hdrConnectionClose is set on answers after which the connection must not
// carry another request: the body was refused or could not be read, so the
// rest of it would have to be read (and waited for) to find the next one.
var hdrConnectionClose = []string{"close"}

func closeConnection(w http.ResponseWriter) {
	w.Header()["Connection"] = hdrConnectionClose
}
