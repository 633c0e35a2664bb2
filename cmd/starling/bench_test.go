package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"starling/internal/bench"
)

// benchJSON runs `starling bench args...` and decodes its JSON result.
func benchJSON(t *testing.T, args ...string) (bench.Result, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"bench"}, append(args, "--json")...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("starling bench %v: %v\n%s", args, err, stderr.String())
	}
	var r bench.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("starling bench %v printed %q: %v", args, out, err)
	}
	return r, stderr.String()
}

// bench timeline runs again and again against one server: its users are
// registered once, and later runs reuse their kept tokens instead of
// logging in. The server allows only the first run's registrations and
// logins.
func TestBenchRunsAgainAndAgain(t *testing.T) {
	addr := freeAddr(t)
	start(t, cheapHashes, "serve", "--addr", addr, "--data", t.TempDir(),
		"--rate-register", "12/24h,12", "--rate-login", "12/24h,12")
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	for run := range 3 {
		r, stderr := benchJSON(t, "timeline", "--url", "http://"+addr, "--clients", "4", "--duration", "200ms", "--tokens", tokens)
		if r.Requests == 0 || r.Errors != 0 {
			t.Fatalf("run %d: %d requests, %d errors %v; want requests and no errors\n%s", run, r.Requests, r.Errors, r.ErrorsByKind, stderr)
		}
		if strings.Contains(stderr, "waiting") {
			t.Errorf("run %d waited for a rate limit:\n%s", run, stderr)
		}
	}
}

// A 429 in the measured loop is counted by status and code, waited out,
// and named with the flag that sets the limit; progress written to a file
// has no carriage returns.
func TestBenchReportsRateLimits(t *testing.T) {
	addr := freeAddr(t)
	start(t, cheapHashes, "serve", "--addr", addr, "--data", t.TempDir(), "--rate-post", "1/1h,2")
	r, stderr := benchJSON(t, "post", "--url", "http://"+addr, "--clients", "2", "--followers", "2", "--duration", "500ms", "--tokens", "")
	if r.ErrorsByKind["429 rate_limited"] == 0 || r.ErrorsByKind["429 rate_limited"] != r.Errors {
		t.Fatalf("errors %d by kind %v; want them all 429 rate_limited", r.Errors, r.ErrorsByKind)
	}
	// Retry-After is about an hour: each client asks once, then waits
	// until the run ends.
	if r.Errors > 2 {
		t.Errorf("%d rate-limited requests from 2 clients; each should have waited for Retry-After after its first", r.Errors)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "--rate-post") {
		t.Errorf("notes %q do not name --rate-post", r.Notes)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress to a pipe has carriage returns: %q", stderr)
	}
}

// bench static pointed at a Starling server says to start serve-static.
func TestBenchStaticAgainstStarling(t *testing.T) {
	addr := freeAddr(t)
	start(t, cheapHashes, "serve", "--addr", addr, "--data", t.TempDir())
	out, err := exec.Command(binary, "bench", "static", "--url", "http://"+addr, "--duration", "100ms").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "serve-static") || !strings.Contains(string(out), bench.DefaultStaticAddr) {
		t.Fatalf("bench static against Starling: %v\n%s\nwant an error naming serve-static and %s", err, out, bench.DefaultStaticAddr)
	}
}
