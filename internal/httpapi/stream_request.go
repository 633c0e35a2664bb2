package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"starling/internal/social"
	"starling/internal/stream"
)

// Streams: what the three transports share — reading a stream request
// into a stream.Spec, the limits, and the mapping of the hub's errors.

// DefaultStreamKeepAlive is how often an idle stream gets a keep-alive.
const DefaultStreamKeepAlive = 30 * time.Second

// DefaultStreamWriteTimeout bounds one write to a stream client: a client
// that takes longer to accept a write is not reading and is dropped.
const DefaultStreamWriteTimeout = 10 * time.Second

// maxStreamBuffer is the largest write buffer a stream connection keeps
// between writes; a larger one (after a burst) is let go.
const maxStreamBuffer = 64 << 10

var (
	errIdentifierRequired = &apiError{http.StatusUnauthorized, "identifier_required", "this stream needs an identifier parameter"}
	errTooManyStreams     = &apiError{http.StatusServiceUnavailable, "too_many_streams", "this server holds as many streams as it may; try another or later"}
	errShuttingDown       = &apiError{http.StatusServiceUnavailable, "shutting_down", "this server is shutting down; reconnect"}
	errStreamsOff         = &apiError{http.StatusServiceUnavailable, "streams_unavailable", "this server serves no streams"}
	errInvalidQuery       = &apiError{http.StatusBadRequest, "invalid_query", "the query string is malformed"}
	errInvalidForm        = &apiError{http.StatusBadRequest, "invalid_form", "the form body is malformed"}
	errInvalidEventID     = &apiError{http.StatusBadRequest, "invalid_last_event_id", "Last-Event-ID is not an event id of this server"}
	errStreamHead         = &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "streams are opened with GET (or POST for filter.json)"}
	errUnknownStream      = &apiError{http.StatusNotFound, "unknown_stream", "streams are firehose, sample, filter, home and list/{id}"}
)

// streamError turns an error of the stream package into an answer.
func streamError(err error) error {
	var pe *stream.ParamError
	switch {
	case errors.As(err, &pe):
		return &apiError{http.StatusBadRequest, pe.Code, pe.Message}
	case errors.Is(err, stream.ErrIdentifierRequired):
		return errIdentifierRequired
	case errors.Is(err, stream.ErrTooManyConnections):
		return errTooManyStreams
	case errors.Is(err, stream.ErrHubClosed):
		return errShuttingDown
	}
	return err
}

// streamParams returns the parameters of a stream request: the query
// string and, for a POST, the form body too. Malformed ones get 400.
func streamParams(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errInvalidQuery
	}
	if r.Method != http.MethodPost {
		return q, nil
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if ct = strings.TrimSpace(strings.ToLower(ct)); ct != "" && ct != "application/x-www-form-urlencoded" {
		return nil, errInvalidContentTypeForm
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidForm
	}
	for k, vs := range q {
		form[k] = append(form[k], vs...)
	}
	return form, nil
}

var errInvalidContentTypeForm = &apiError{http.StatusBadRequest, "invalid_content_type", "send the filter as application/x-www-form-urlencoded"}

// streamCaller is who opened a native stream: uid 0 for nobody. A request
// that presents a token must present a valid one.
func (a *API) streamCaller(r *http.Request) (session, error) {
	for _, source := range a.tokenSources {
		if _, found, _ := source(r); found {
			return a.authenticate(r)
		}
	}
	return session{}, nil
}

// nativeSpec reads the stream a native request (SSE or a WebSocket
// subscription) asks for. kind and listID come from the path or the
// subscribe message; params are the filter parameters.
func (a *API) nativeSpec(r *http.Request, caller session, kind string, listID string, params url.Values) (stream.Spec, string, error) {
	k, ok := stream.ParseKind(kind)
	if !ok {
		return stream.Spec{}, "", errUnknownStream
	}
	identifier, err := stream.ParseIdentifier(params)
	if err != nil {
		return stream.Spec{}, "", streamError(err)
	}
	if identifier == "" && caller.user.ID > 0 {
		identifier = "user:" + strconv.FormatInt(int64(caller.user.ID), 10)
	}
	switch k {
	case stream.Home:
		if caller.user.ID == 0 {
			return stream.Spec{}, "", errUnauthorized
		}
		return stream.Spec{Kind: k, User: int64(caller.user.ID)}, identifier, nil
	case stream.ListKind:
		if caller.user.ID == 0 {
			return stream.Spec{}, "", errUnauthorized
		}
		id, ok := stream.ParseID(listID)
		if !ok {
			return stream.Spec{}, "", errListNotFoundAnswer
		}
		if _, err := a.svc.List(r.Context(), social.ListID(id)); err != nil {
			return stream.Spec{}, "", err
		}
		return stream.Spec{Kind: k, List: int64(id)}, identifier, nil
	case stream.Sample:
		if identifier == "" {
			return stream.Spec{}, "", errIdentifierRequired
		}
	}
	spec, err := stream.ParseSpec(k, params, identifier)
	return spec, identifier, streamError(err)
}

// sseResumePoint is where an SSE stream resumes: after the Last-Event-ID
// header, which a reconnecting EventSource sends; else after the
// last_event_id query parameter, which a page puts in the stream's URL to
// say which event it was rendered up to (EventSource cannot set headers on
// its first request, and keeps the URL when it reconnects, so the header
// wins); else from now (0).
func sseResumePoint(r *http.Request, params url.Values) (uint64, error) {
	after, err := lastEventID(r)
	if err != nil || after > 0 {
		return after, err
	}
	vs, ok := params["last_event_id"]
	if !ok {
		return 0, nil
	}
	id, valid := stream.ParseID(vs[0])
	if len(vs) > 1 || !valid {
		return 0, errInvalidEventID
	}
	return id, nil
}

var errListNotFoundAnswer = &apiError{http.StatusNotFound, "list_not_found", "no such list"}

// lastEventID reads the Last-Event-ID header: 0 when absent.
func lastEventID(r *http.Request) (uint64, error) {
	vs := r.Header.Values("Last-Event-ID")
	if len(vs) == 0 || len(vs) == 1 && vs[0] == "" {
		return 0, nil
	}
	id, ok := stream.ParseID(strings.TrimSpace(vs[0]))
	if len(vs) > 1 || !ok {
		return 0, errInvalidEventID
	}
	return id, nil
}

// pumpFrames are a transport's own frames.
type pumpFrames struct {
	keepAlive  []byte
	disconnect func(reason string) []byte
}

// pump writes what the hub hands a connection until the client leaves or
// the hub ends it: everything waiting in one write, a keep-alive after
// each quiet keep-alive interval, and a final disconnect frame when the
// hub ends the connection. A write that the client does not accept within
// streamWriteTimeout (at least half of it) ends the stream.
//
// It runs once per delivery per client, so it spares the timers: the
// write deadline moves only when less than half the timeout is left, and
// the keep-alive timer is not reset on every write but, when it fires,
// set again for what is left of the quiet interval.
func (a *API) pump(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, sink *stream.Sink, f pumpFrames) {
	keepAlive := time.NewTimer(a.streamKeepAlive)
	defer keepAlive.Stop()
	var deadline, lastWrite time.Time
	write := func(b []byte) bool {
		now := time.Now()
		lastWrite = now
		if deadline.Sub(now) < a.streamWriteTimeout/2 {
			deadline = now.Add(a.streamWriteTimeout)
			rc.SetWriteDeadline(deadline)
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	done := r.Context().Done()
	var spare []byte
	for {
		select {
		case <-sink.Wait():
		case <-keepAlive.C:
			if quiet := time.Since(lastWrite); quiet < a.streamKeepAlive {
				keepAlive.Reset(a.streamKeepAlive - quiet)
				continue
			}
			if !write(f.keepAlive) {
				return
			}
			keepAlive.Reset(a.streamKeepAlive)
			continue
		case <-done:
			return
		}
		frames, reason := sink.Take(spare)
		if len(frames) > 0 && !write(frames) {
			return
		}
		if reason != "" {
			write(f.disconnect(reason))
			return
		}
		spare = nil
		if cap(frames) <= maxStreamBuffer {
			spare = frames
		}
	}
}

// startStream lifts the request's read deadline (the stream stays open for
// as long as the client reads; its request was read in full) and the
// server's write deadline (pump sets its own per write), and sends the
// status and headers of a stream answer.
func startStream(w http.ResponseWriter, contentType string) (*http.ResponseController, error) {
	rc := http.NewResponseController(w)
	if err := ExtendReadDeadline(w, 0); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	// Proxies such as nginx would otherwise buffer the stream.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return rc, rc.Flush()
}

// readBody reads a form body, under the request's read deadline (see
// ServeHTTP); ServeHTTP bounds its size.
func readBody(r *http.Request) ([]byte, error) {
	body, err := readAll(r.Body, nil)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, errInvalidForm
	}
	return body, nil
}

// streaming answers 503 when the API has no hub, and refuses HEAD, which
// would otherwise hold a stream open with nothing to show for it.
func (a *API) streaming(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodHead {
			w.Header().Set("Allow", "GET")
			return errStreamHead
		}
		if a.hub == nil {
			return errStreamsOff
		}
		return h(w, r)
	}
}

// WaitStreams waits until the WebSockets (streams and chat rooms), which
// http.Server.Shutdown does not track, have ended, or ctx ends. Close the
// hub and the rooms first.
func (a *API) WaitStreams(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		a.websockets.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
