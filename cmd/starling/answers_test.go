package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeAnswersInJSON checks the wiring of serve: answers net/http
// writes itself, and paths ServeMux would redirect, come in the error
// shape.
func TestServeAnswersInJSON(t *testing.T) {
	addr := freeAddr(t)
	start(t, cheapHashes, "serve", "--addr", addr, "--data", t.TempDir())
	for _, tc := range []struct {
		name, request string
		status        int
	}{
		{"oversized headers", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"double slash", "GET //healthz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		go io.WriteString(conn, tc.request) //nolint:errcheck // the answer is what is checked
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		var e struct {
			Error struct{ Code, Message string }
		}
		if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/json; charset=utf-8" || json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
			t.Errorf("%s: got %d %q %s, want %d in the JSON error shape", tc.name, res.StatusCode, res.Header.Get("Content-Type"), body, tc.status)
		}
	}
}
