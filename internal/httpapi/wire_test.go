package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
)

// Every answer is in the error shape, also those net/http writes itself
// before any handler runs, when the API is served on httpapi.Listener.
func TestEveryAnswerIsJSON(t *testing.T) {
	s := newStack(t)
	srv := httptest.NewUnstartedServer(s.api)
	srv.Listener = httpapi.Listener(srv.Listener)
	srv.Config.MaxHeaderBytes = 64 << 10
	srv.Config.DisableGeneralOptionsHandler = true
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	big := strings.Repeat("a", 70<<10)
	for _, tc := range []struct {
		name, request string
		status        int
		code          string
	}{
		{"oversized header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 431, "headers_too_large"},
		{"oversized request line", "GET /healthz?" + big + " HTTP/1.1\r\nHost: x\r\n\r\n", 431, "headers_too_large"},
		{"no Host header", "GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"},
		{"malformed Host header", "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "bad_request"},
		{"unknown transfer coding", "POST /api/starling/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n", 501, "not_implemented"},
		{"garbage", "HELLO\r\n\r\n", 400, "bad_request"},
		{"double slash", "GET //api/starling/v1/users/alice HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"double slash inside", "GET /api/starling/v1//users/alice HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"dot segment", "GET /api/starling/v1/./users/alice HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"dot-dot segment", "GET /api/starling/v1/statuses/../users/alice HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"double slash, POST", "POST //api/starling/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404, "not_found"},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
		{"wrong method", "PATCH /api/starling/v1/users/alice HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "method_not_allowed"},
		{"body too large", "POST /api/starling/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n" + big[:70000], 413, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := rawRoundTrip(t, addr, tc.request)
			if res.status != tc.status {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tc.status)
			}
			if got := res.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q, want application/json; charset=utf-8", got)
			}
			for name, want := range securityHeaders {
				if got := res.header.Get(name); got != want {
					t.Errorf("%s %q, want %q", name, got, want)
				}
			}
			var e errorAnswer
			if err := strictDecode(res.body, &e); err != nil || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("answer %q is not the error shape with code %q: %v", res.body, tc.code, err)
			}
		})
	}
	// The connection still serves after an answer of the API's own.
	if res := rawRoundTrip(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); res.status != http.StatusOK || !json.Valid(res.body) {
		t.Fatalf("healthz: %d %s", res.status, res.body)
	}
}

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// rawRoundTrip writes request as is on a new connection and reads one
// answer.
func rawRoundTrip(t *testing.T, addr, request string) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may answer and close before it reads all of a large
	// request; the answer is what matters.
	go io.WriteString(conn, request) //nolint:errcheck
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	return rawResponse{status: res.StatusCode, header: res.Header, body: body}
}
