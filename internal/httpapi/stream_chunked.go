package httpapi

import (
	"net/http"

	"starling/internal/stream"
)

// The classic streams: chunked HTTP, one JSON object per line ending
// "\r\n", an empty "\r\n" line as keep-alive, compatible with the Redis in
// Action streaming server's clients.

var chunkedFrames = pumpFrames{
	keepAlive: []byte("\r\n"),
	disconnect: func(reason string) []byte {
		return []byte(`{"disconnect":{"code":"` + reason + `"}}` + "\r\n")
	},
}

// classicStream serves /statuses/{firehose,sample,filter}.json.
func (a *API) classicStream(kind stream.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		params, err := streamParams(r)
		if err != nil {
			return err
		}
		identifier, err := stream.ParseIdentifier(params)
		if err != nil {
			return streamError(err)
		}
		if identifier == "" {
			return errIdentifierRequired
		}
		spec, err := stream.ParseSpec(kind, params, identifier)
		if err != nil {
			return streamError(err)
		}
		if err := a.allowStreamConnection(r, identifier, 0); err != nil {
			return err
		}
		return a.serveChunked(w, r, spec)
	}
}

// serveChunked subscribes, and only then sends 200, so that nothing
// published after the answer began is missed.
func (a *API) serveChunked(w http.ResponseWriter, r *http.Request, spec stream.Spec) error {
	sink, err := a.hub.Connect()
	if err != nil {
		return streamError(err)
	}
	defer sink.Close()
	client, err := sink.Subscribe(r.Context(), spec, stream.FormatChunked, nil, 0)
	if err != nil {
		return streamError(err)
	}
	rc, err := startStream(w, "application/json; charset=utf-8")
	if err != nil || client.Start(r.Context(), nil) != nil {
		return nil // the client is gone; the answer has begun
	}
	a.pump(w, r, rc, sink, chunkedFrames)
	return nil
}
