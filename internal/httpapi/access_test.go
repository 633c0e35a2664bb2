package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"starling/internal/accesslog"
	"starling/internal/httpapi"
)

// Every answer has a request id of its own, also 404s and 405s. A client's
// X-Request-Id is not believed; a trusted proxy's well-formed one is kept.
func TestRequestIDs(t *testing.T) {
	s := newStack(t)
	anon := s.anonymous()
	seen := map[string]bool{}
	for _, r := range []response{
		anon.do("GET", "/healthz", nil),
		anon.do("GET", "/api/starling/v1/nope", nil),
		anon.do("DELETE", "/healthz", nil),
		anon.doWith("GET", "/healthz", nil, http.Header{"X-Request-Id": {"chosen-by-client"}}),
	} {
		id := r.header.Get("X-Request-Id")
		if id == "" || id == "chosen-by-client" || seen[id] {
			t.Fatalf("X-Request-Id %q: want a new id on each answer", id)
		}
		seen[id] = true
	}

	behindProxy := newStackWith(t, func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	proxied := behindProxy.anonymous()
	if got := proxied.doWith("GET", "/healthz", nil, http.Header{"X-Request-Id": {"abc-123.x_y:z"}}).header.Get("X-Request-Id"); got != "abc-123.x_y:z" {
		t.Fatalf("a trusted proxy's X-Request-Id came back as %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 65), "new\u2028line"} {
		if got := proxied.doWith("GET", "/healthz", nil, http.Header{"X-Request-Id": {bad}}).header.Get("X-Request-Id"); got == bad || got == "" {
			t.Fatalf("a malformed X-Request-Id %q came back as %q, want a new one", bad, got)
		}
	}
}

// The access line names the route pattern, never the path, with the
// status, size and request id.
func TestAccessLine(t *testing.T) {
	s := newStack(t)
	r := s.anonymous().do("GET", "/api/starling/v1/users/nobody_here", nil)
	id := r.header.Get("X-Request-Id")
	var line string
	for l := range strings.SplitSeq(s.logs.String(), "\n") {
		if strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	for _, want := range []string{"msg=access", "method=GET", `route="GET /api/starling/v1/users/{login}"`, "status=404", "bytes=", "duration="} {
		if !strings.Contains(line, want) {
			t.Fatalf("access line %q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "nobody_here") {
		t.Fatalf("access line %q holds the path", line)
	}
}

// openAccessLog opens the admin's live access log and returns a reader of
// its body.
func openAccessLog(t *testing.T, s *stack, token, query, accept string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", s.srv.URL+"/api/starling/v1/admin/accesslog"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res, bufio.NewReader(res.Body)
}

// waitRecorded waits until the access log holds the request with id.
func waitRecorded(t *testing.T, s *stack, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		replay, w := s.access.Watch()
		w.Close()
		for _, r := range replay {
			if r.RequestID == id {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s never reached the access log", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The live access log replays the requests already made, then streams new
// ones, as JSON lines or as Server-Sent Events.
func TestLiveAccessLog(t *testing.T) {
	s := newStack(t)
	root := s.registerAdmin()
	before := s.anonymous().do("GET", "/healthz", nil).header.Get("X-Request-Id")
	waitRecorded(t, s, before)

	for _, tc := range []struct {
		name, query, accept, contentType string
		sse                              bool
	}{
		{"jsonl by default", "", "", "application/x-ndjson; charset=utf-8", false},
		{"sse by Accept", "", "text/event-stream", "text/event-stream; charset=utf-8", true},
		{"sse by format", "?format=sse", "", "text/event-stream; charset=utf-8", true},
		{"jsonl by format", "?format=jsonl", "text/event-stream", "application/x-ndjson; charset=utf-8", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := openAccessLog(t, s, root.token, tc.query, tc.accept)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("got %d %q, want 200 %q", res.StatusCode, res.Header.Get("Content-Type"), tc.contentType)
			}
			if res.Header.Get("X-Request-Id") == "" {
				t.Fatal("the stream has no X-Request-Id")
			}
			readUntil(t, body, tc.sse, before)
			after := s.anonymous().do("GET", "/api/starling/v1/users/nobody", nil).header.Get("X-Request-Id")
			rec := readUntil(t, body, tc.sse, after)
			if rec.Route != "GET /api/starling/v1/users/{login}" || rec.Status != 404 || rec.Method != "GET" || rec.Process != "test" {
				t.Fatalf("record %+v, want the 404 of GET /api/starling/v1/users/{login} by process test", rec)
			}
		})
	}
	wantError(t, root.do("GET", "/api/starling/v1/admin/accesslog?format=xml", nil), http.StatusBadRequest, "invalid_format")
}

// readUntil reads records until the one of request id, and returns it.
func readUntil(t *testing.T, body *bufio.Reader, sse bool, id string) accesslog.Record {
	t.Helper()
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the access log before request %s came: %v", id, err)
		}
		line = strings.TrimSuffix(line, "\n")
		if sse {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue // id:, event:, blank lines and comments
			}
			line = data
		}
		if line == "" {
			continue
		}
		var rec accesslog.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		if rec.RequestID == id {
			return rec
		}
	}
}

// Closing the log (the server shutting down) ends open streams cleanly.
func TestLiveAccessLogEndsOnClose(t *testing.T) {
	s := newStack(t)
	root := s.registerAdmin()
	_, body := openAccessLog(t, s, root.token, "?format=sse", "")
	probe := s.anonymous().do("GET", "/healthz", nil).header.Get("X-Request-Id")
	readUntil(t, body, true, probe)
	s.access.Close()
	var rest strings.Builder
	for {
		line, err := body.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	if !strings.Contains(rest.String(), "event: end") {
		t.Fatalf("the stream ended with %q, want an end event", rest.String())
	}
}
