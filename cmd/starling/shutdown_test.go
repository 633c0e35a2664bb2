package main

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// SIGTERM with an admin watching the live access log: the stream ends with
// its end event, and the process exits 0.
func TestSIGTERMEndsStreams(t *testing.T) {
	addr, data := freeAddr(t), t.TempDir()
	p := start(t, cheapHashes, "serve", "--addr", addr, "--data", data)
	token := p.register(t, "boss")
	p.stop(t, syscall.SIGTERM)
	p = start(t, cheapHashes, "serve", "--addr", addr, "--data", data, "--admins", "boss")

	req, err := http.NewRequestWithContext(t.Context(), "GET", p.base+"/api/starling/v1/admin/accesslog?format=sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("opening the access log: %d", res.StatusCode)
	}
	body := bufio.NewReader(res.Body)
	// The replay holds the readiness probes of start: the stream is live.
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the access log: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM with a stream open: %v, want exit status 0\n%s", err, p.logs)
	}
	rest, _ := io.ReadAll(body)
	if !strings.Contains(string(rest), "event: end") {
		t.Fatalf("the stream ended with %q, want its end event", rest)
	}
}
