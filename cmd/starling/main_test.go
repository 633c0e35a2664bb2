package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"starling/internal/social"
)

// binary is the starling binary built once for the tests of this package,
// which run it as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "starling-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "starling")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building starling:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running starling subcommand.
type process struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	logs *bytes.Buffer
	done chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `starling args...` and, for serve, waits until /readyz answers.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{logs: new(bytes.Buffer), done: make(chan error, 1)}
	p.cmd = exec.Command(binary, args...)
	// No admin listener unless a test asks for one: the default port
	// would be taken by the first of the processes tests run side by side.
	p.cmd.Env = append(append(os.Environ(), "STARLING_ADMIN_ADDR="), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting starling %v: %v", args, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("starling %v output:\n%s", args, p.logs)
		}
	})
	for i, a := range args {
		if a == "--addr" {
			p.base = "http://" + args[i+1]
		}
	}
	if p.base != "" {
		p.waitReady(t)
	}
	return p
}

func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("starling exited before it was ready: %v\n%s", err, p.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("starling at %s not ready after 30s\n%s", p.base, p.logs)
}

// stop sends sig and waits for the process to exit.
func (p *process) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal: %v", err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("starling did not exit within 30s of %v\n%s", sig, p.logs)
		return nil
	}
}

// call sends a JSON request and decodes the answer into out, failing the
// test unless the status is want.
func (p *process) call(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
}

type user struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Followers int64  `json:"followers"`
	Following int64  `json:"following"`
	Posts     int64  `json:"posts"`
}

type status struct {
	ID      social.StatusID `json:"id"`
	Message string          `json:"message"`
}

func (p *process) register(t *testing.T, login string) (token string) {
	t.Helper()
	p.call(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": "password-" + login}, http.StatusCreated, nil)
	var tok struct{ Token string }
	p.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": "password-" + login}, http.StatusCreated, &tok)
	return tok.Token
}

func (p *process) home(t *testing.T, token string) []status {
	t.Helper()
	var sts []status
	p.call(t, "GET", "/api/starling/v1/timelines/home?count=200", token, nil, http.StatusOK, &sts)
	return sts
}

// cheapHashes keeps password hashing fast under the race detector.
var cheapHashes = []string{"STARLING_ARGON2_TIME=1", "STARLING_ARGON2_MEMORY=64"}

// TestServeKeepsEverythingAcrossRestarts runs the embedded engine, fills it,
// stops it (gracefully, then with SIGKILL right after a post), and checks
// after each restart that users, statuses, follows, lists and the post's
// fan-out are all there.
func TestServeKeepsEverythingAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	// A short lease: a job the killed process had claimed runs again soon.
	args := []string{"serve", "--addr", addr, "--data", data, "--timeline-size", "50", "--job-lease", "2s"}
	env := append([]string{"STARLING_FANOUT_CHUNK=2"}, cheapHashes...)

	p := start(t, env, args...)
	ada, bob, cy := p.register(t, "ada"), p.register(t, "bob"), p.register(t, "cy")
	p.call(t, "PUT", "/api/starling/v1/me/following/ada", bob, nil, http.StatusNoContent, nil)
	p.call(t, "PUT", "/api/starling/v1/me/following/ada", cy, nil, http.StatusNoContent, nil)
	var list struct{ ID int64 }
	p.call(t, "POST", "/api/starling/v1/lists", bob, map[string]string{"name": "friends"}, http.StatusCreated, &list)
	p.call(t, "PUT", fmt.Sprintf("/api/starling/v1/lists/%d/members/ada", list.ID), bob, nil, http.StatusNoContent, nil)
	var first status
	p.call(t, "POST", "/api/starling/v1/statuses", ada, map[string]string{"message": "before the restart"}, http.StatusCreated, &first)
	waitFor(t, "fan-out of the first status", func() bool { return len(p.home(t, cy)) == 1 })
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.logs)
	}

	// Restart, post, and kill at once: the fan-out job may still be
	// pending. (serve refuses --workers 0 on the embedded engine, so the
	// job cannot be held back for sure here; TestFanoutSurvivesSIGKILL
	// kills a fan-out half-way.)
	p = start(t, env, args...)
	var me user
	p.call(t, "GET", "/api/starling/v1/me", bob, nil, http.StatusOK, &me)
	if me.Login != "bob" || me.Following != 1 {
		t.Fatalf("after restart, bob = %+v, want login bob following 1", me)
	}
	var second status
	p.call(t, "POST", "/api/starling/v1/statuses", ada, map[string]string{"message": "just before the kill"}, http.StatusCreated, &second)
	p.stop(t, syscall.SIGKILL)

	// Restart: any pending job runs and everything is there.
	p = start(t, env, args...)
	waitFor(t, "fan-out of the pending status", func() bool { return len(p.home(t, cy)) == 2 })
	for _, tok := range []string{bob, cy} {
		if got := p.home(t, tok); len(got) != 2 || got[0].ID != second.ID || got[1].ID != first.ID {
			t.Fatalf("home after restarts = %+v, want [%d %d]", got, second.ID, first.ID)
		}
	}
	var ids []status
	p.call(t, "GET", fmt.Sprintf("/api/starling/v1/lists/%d/statuses", list.ID), "", nil, http.StatusOK, &ids)
	if len(ids) != 2 {
		t.Fatalf("list timeline after restarts holds %d statuses, want 2", len(ids))
	}
	var u user
	p.call(t, "GET", "/api/starling/v1/users/ADA", "", nil, http.StatusOK, &u)
	if u.Followers != 2 || u.Posts != 2 {
		t.Fatalf("ada after restarts = %+v, want 2 followers and 2 posts", u)
	}
}

func TestEnvironmentConfiguresFlags(t *testing.T) {
	addr := freeAddr(t)
	env := append([]string{"STARLING_ADDR=" + addr, "STARLING_DATA=" + t.TempDir(), "STARLING_MAX_STATUS_LEN=5"}, cheapHashes...)
	p := start(t, env, "serve")
	p.base = "http://" + addr
	p.waitReady(t)
	tok := p.register(t, "short")
	p.call(t, "POST", "/api/starling/v1/statuses", tok, map[string]string{"message": "12345"}, http.StatusCreated, nil)
	p.call(t, "POST", "/api/starling/v1/statuses", tok, map[string]string{"message": "123456"}, http.StatusUnprocessableEntity, nil)
}

func TestBadFlagsAreRejected(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--timeline-size", "0"},
		{"serve", "--fanout-chunk", "-1"},
		{"serve", "--job-lease", "0s"},
		{"serve", "--status-cache", "-1"},
		{"serve", "--timeline-cache", "x"},
		{"serve", "--no-such-flag"},
		{"serve", "stray"},
		{"frobnicate"},
		{},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Errorf("starling %v succeeded, want an error\n%s", args, out)
		}
		if len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("starling %v printed nothing; want a reason", args)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
