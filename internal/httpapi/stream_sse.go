package httpapi

import (
	"net/http"
	"time"

	"starling/internal/stream"
)

// Native streams as Server-Sent Events: GET /api/starling/v1/streams/{kind}
// and /streams/list/{id}. Every event has the id the event log gave it, so
// a client that reconnects with Last-Event-ID gets the matching events it
// missed, or an "event: gap" when they are no longer retained. A first
// request may say where to start with ?last_event_id= (sseResumePoint).

var sseFrames = pumpFrames{
	keepAlive: []byte(": keep-alive\n\n"),
	disconnect: func(reason string) []byte {
		return []byte("event: disconnect\ndata: {\"disconnect\":{\"code\":\"" + reason + "\"}}\n\n")
	},
}

// sseRetry tells EventSource clients how soon to reconnect, in ms.
const sseRetry = "retry: 2000\n\n"

func (a *API) sseStream(w http.ResponseWriter, r *http.Request) error {
	return a.serveSSE(w, r, r.PathValue("kind"), "")
}

func (a *API) sseListStream(w http.ResponseWriter, r *http.Request) error {
	return a.serveSSE(w, r, "list", r.PathValue("id"))
}

func (a *API) serveSSE(w http.ResponseWriter, r *http.Request, kind, listID string) error {
	params, err := streamParams(r)
	if err != nil {
		return err
	}
	caller, err := a.streamCaller(r)
	if err != nil {
		return err
	}
	after, err := sseResumePoint(r, params)
	if err != nil {
		return err
	}
	spec, identifier, err := a.nativeSpec(r, caller, kind, listID, params)
	if err != nil {
		return err
	}
	if err := a.allowStreamConnection(r, identifier, caller.user.ID); err != nil {
		return err
	}
	sink, err := a.hub.Connect()
	if err != nil {
		return streamError(err)
	}
	defer sink.Close()
	client, err := sink.Subscribe(r.Context(), spec, stream.FormatSSE, nil, after)
	if err != nil {
		return streamError(err)
	}
	rc, err := startStream(w, "text/event-stream; charset=utf-8")
	if err != nil {
		return nil
	}
	rc.SetWriteDeadline(time.Now().Add(a.streamWriteTimeout))
	if _, err := w.Write([]byte(sseRetry)); err != nil {
		return nil
	}
	// Missed events go straight to the connection, the live ones held
	// until they are written.
	err = client.Start(r.Context(), func(frame []byte) error {
		rc.SetWriteDeadline(time.Now().Add(a.streamWriteTimeout))
		_, err := w.Write(frame)
		return err
	})
	if err != nil || rc.Flush() != nil {
		if r.Context().Err() == nil {
			a.log.WarnContext(r.Context(), "httpapi: replaying a stream failed", "err", err)
		}
		return nil
	}
	a.pump(w, r, rc, sink, sseFrames)
	return nil
}
