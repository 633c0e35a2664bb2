package httpapi

import (
	"net/http"
	"strconv"
	"testing"

	"starling/internal/stream"
)

// FuzzParseWSRequest feeds arbitrary client messages of the WebSocket
// stream: each is refused with an answer of this package or read into a
// request whose type and name are well formed.
func FuzzParseWSRequest(f *testing.F) {
	f.Add(`{"type":"subscribe","sub":"a","stream":"filter","params":{"track":["x","y"],"percent":5},"last_event_id":"3"}`)
	f.Add(`{"type":"unsubscribe","sub":"a"}`)
	f.Add(`{"type":"subscribe","sub":"a","params":{"track":{"deep":[[[[[[[[1]]]]]]]]}}}`)
	f.Fuzz(func(t *testing.T, msg string) {
		req, params, err := parseWSRequest([]byte(msg))
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("parseWSRequest(%q) failed with %T, want an *apiError", msg, err)
			}
			return
		}
		if req.Type != "subscribe" && req.Type != "unsubscribe" || req.Sub == "" || len(req.Sub) > maxWSSubName {
			t.Fatalf("parseWSRequest(%q) accepted %+v", msg, req)
		}
		if params == nil {
			t.Fatalf("parseWSRequest(%q) returned nil params", msg)
		}
	})
}

// FuzzLastEventID reads arbitrary Last-Event-ID headers: a positive id or
// 400 invalid_last_event_id.
func FuzzLastEventID(f *testing.F) {
	f.Add("12")
	f.Add("0")
	f.Add(" 7 ")
	f.Add("1-0")
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Last-Event-Id": {header}}}
		id, err := lastEventID(r)
		if err != nil {
			if err != errInvalidEventID {
				t.Fatalf("lastEventID(%q) = %v", header, err)
			}
			return
		}
		if header != "" && id == 0 {
			t.Fatalf("lastEventID(%q) = 0 without an error", header)
		}
		if id > 0 {
			if _, ok := stream.ParseID(strconv.FormatUint(id, 10)); !ok {
				t.Fatalf("id %d does not read back", id)
			}
		}
	})
}
