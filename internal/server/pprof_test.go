package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPprofOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "[::]:6060", "192.0.2.1:6060", "example.com:6060", "127.0.0.1"} {
		if srv, ln, err := pprofServer(addr); err == nil {
			ln.Close()
			srv.Close()
			t.Errorf("pprofServer(%q) accepted a non-loopback address", addr)
		}
	}
	srv, ln, err := pprofServer("127.0.0.1:0")
	if err != nil {
		t.Fatalf("pprofServer on loopback: %v", err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/: %d %.200s, want the profile index", resp.StatusCode, body)
	}
}
