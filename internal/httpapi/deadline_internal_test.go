package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The read deadline ServeHTTP keeps also ends a request that runs past it
// (net/http's read in the background fails and cancels the request's
// context), so a route that holds requests open, like a long-poll or a
// stream, must extend it: with ExtendReadDeadline the request outlives
// the deadline, without it the request is cancelled.
func TestExtendReadDeadlineKeepsALongRequest(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	a := newBareAPI(t, slog.New(slog.DiscardHandler))
	a.readTimeout = readTimeout
	hold := func(extend bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if extend {
				if err := ExtendReadDeadline(w, 0); err != nil {
					t.Errorf("ExtendReadDeadline: %v", err)
				}
			}
			select {
			case <-r.Context().Done():
				return errUnavailable
			case <-time.After(4 * readTimeout):
			}
			writeJSON(w, http.StatusOK, statusOK{Status: "held"})
			return nil
		}
	}
	a.handle("GET /test/held", hold(true))
	a.handle("GET /test/dropped", hold(false))
	srv := httptest.NewServer(a)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/test/held")
	if err != nil {
		t.Fatalf("GET /test/held: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a request that extended its deadline: %d %s, want 200", resp.StatusCode, body)
	}

	resp, err = http.Get(srv.URL + "/test/dropped")
	if err == nil {
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("a request that ran past its read deadline without extending it was answered 200 %s", body)
		}
	}
}
