package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"starling/internal/accesslog"
)

// The live access log: GET /api/starling/v1/admin/accesslog, admins only.
// It replays the newest requests of every process (accesslog.ReplaySize)
// and then streams new ones until the client leaves or the server shuts
// down, as Server-Sent Events (one "access" event per request, its id the
// request id) or as chunked JSON lines, chosen by ?format=sse|jsonl or else
// by Accept: text/event-stream.
//
// It starts like the public streams (startStream) but writes its own
// frames: the public streams' pump is tied to their hub's sinks.

const (
	// accessLogKeepAlive is how often an idle access log stream gets a
	// keep-alive, so that proxies and clients do not take it for dead.
	accessLogKeepAlive = 30 * time.Second
	// accessLogWriteTimeout bounds one write to the watcher, who is
	// dropped when it takes longer.
	accessLogWriteTimeout = 10 * time.Second
)

var (
	errNoAccessLog       = &apiError{http.StatusServiceUnavailable, "unavailable", "this server keeps no access log"}
	errAccessFormat      = &apiError{http.StatusBadRequest, "invalid_format", "format must be sse or jsonl"}
	accessSSEKeepAlive   = []byte(": keep-alive\n\n")
	accessJSONLKeepAlive = []byte("\n")
	sseEnd               = []byte("event: end\ndata: {}\n\n")
	hdrEventStream       = "text/event-stream; charset=utf-8"
	hdrJSONLines         = "application/x-ndjson; charset=utf-8"
)

// accessLogFormat picks the stream's format: true for SSE.
func accessLogFormat(r *http.Request) (sse bool, err error) {
	switch r.URL.Query().Get("format") {
	case "sse":
		return true, nil
	case "jsonl":
		return false, nil
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/event-stream"), nil
	}
	return false, errAccessFormat
}

func (a *API) accessLogStream(w http.ResponseWriter, r *http.Request, _ session) error {
	if a.accessLog == nil {
		return errNoAccessLog
	}
	sse, err := accessLogFormat(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Allow", "GET")
		return errStreamHead
	}
	replay, watch := a.accessLog.Watch()
	defer watch.Close()
	contentType, keepAlive := hdrJSONLines, accessJSONLKeepAlive
	if sse {
		contentType, keepAlive = hdrEventStream, accessSSEKeepAlive
	}
	// The shared start of streams (stream_request.go): no read deadline
	// any more, the status and headers sent, proxies told not to buffer.
	rc, err := startStream(w, contentType)
	if err != nil {
		return nil // the client is gone; the answer has begun
	}
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(accessLogWriteTimeout)) //nolint:errcheck // recorders without deadlines are fine
		_, err := w.Write(b)
		return err == nil
	}
	var buf []byte
	for _, rec := range replay {
		buf = appendAccessRecord(buf[:0], rec, sse)
		if !write(buf) {
			return nil
		}
	}
	if rc.Flush() != nil {
		return nil
	}
	tick := time.NewTicker(accessLogKeepAlive)
	defer tick.Stop()
	for {
		var frame []byte
		select {
		case <-r.Context().Done():
			return nil
		case rec, ok := <-watch.C:
			if !ok {
				// The server is shutting down: say so, so that the client
				// knows the end was meant.
				if sse {
					write(sseEnd)
					rc.Flush() //nolint:errcheck // the stream ends either way
				}
				return nil
			}
			buf = appendAccessRecord(buf[:0], rec, sse)
			frame = buf
		case <-tick.C:
			frame = keepAlive
		}
		if !write(frame) || rc.Flush() != nil {
			return nil
		}
	}
}

// appendAccessRecord appends one record as an SSE event or a JSON line.
func appendAccessRecord(buf []byte, rec accesslog.Record, sse bool) []byte {
	data, _ := json.Marshal(rec) // a Record always encodes
	if !sse {
		return append(append(buf, data...), '\n')
	}
	buf = append(buf, "id: "...)
	buf = append(buf, rec.RequestID...) // validRequestID keeps it to one line
	buf = append(buf, "\nevent: access\ndata: "...)
	buf = append(buf, data...)
	return append(buf, "\n\n"...)
}
