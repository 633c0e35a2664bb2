// Package redistest starts throwaway redis-server processes for tests.
//
// A test package that needs Redis usually shares one server among its tests
// and gives each test its own key prefix, so the tests can run in parallel:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := redistest.Shared(t)
//		prefix := redistest.Prefix(t)
//		...
//	}
//
// Tests that stop or restart Redis start a server of their own with
// NewServer. When no redis-server binary is installed, these helpers skip
// the test, except when the environment variable CI is set: there a missing
// binary fails the test, so that CI cannot pass by testing nothing.
//
// Servers listen on 127.0.0.1 only, keep nothing on disk (--save "",
// --appendonly no) and are killed by the PID they were started with; on
// Linux they also die with the test binary.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BinaryEnv names an environment variable that, when set, is the path of the
// redis-server binary to run.
const BinaryEnv = "STARLING_REDIS_SERVER"

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is one redis-server process.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex // guards cmd and done
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Binary returns the path of the redis-server binary, or an error when none
// is installed.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("redistest: no redis-server binary (install the redis-server package, or set " + BinaryEnv + ")")
}

// requireBinary returns the binary, or skips t (fails it under CI).
func requireBinary(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI must run the Redis tests", err)
		}
		t.Skip(err)
	}
	return bin
}

// Start starts a server of the test's own, stopped at the end of the test,
// and returns its URL.
func Start(t testing.TB) string {
	t.Helper()
	return NewServer(t).URL()
}

// NewServer starts a server of the test's own, stopped at the end of the
// test. Use it for tests that stop, pause or restart the server.
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin := requireBinary(t)
	s, err := start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func start(bin, dir string) (*Server, error) {
	var lastErr error
	// A free port found by listening can be taken by someone else before
	// the server binds it; a few tries make that race harmless.
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{bin: bin, dir: dir, port: port}
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process on s.port and waits for it to answer PING.
func (s *Server) launch() error {
	logPath := filepath.Join(s.dir, "redis-"+strconv.Itoa(s.port)+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	dieWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		if err := ping(s.Addr()); err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redistest: redis-server exited at start (port %d): %s", s.port, tail(logPath))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redistest: redis-server did not answer PING within %v: %s", startTimeout, tail(logPath))
		}
	}
}

// ping sends PING in RESP and expects +PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redistest: PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns the redis:// URL of database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// PID returns the process id of the running server, or 0.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop kills the server (SIGKILL, like a crash) and waits for it to exit.
// Its data is gone: the server keeps nothing on disk. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Restart starts a fresh, empty server on the same port after Stop.
func (s *Server) Restart() error {
	s.Stop()
	return s.launch()
}

// Pause stops the server process without closing its connections
// (SIGSTOP), so that clients see a server that accepts but never answers.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redistest: server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

// The package-wide server started by Shared and stopped by Main.
var shared struct {
	mu     sync.Mutex // guards the fields below
	server *Server
	dir    string
	err    error
}

// Main runs the tests and then stops the server Shared started, if any. Call
// it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		shared.server.Stop()
		shared.server = nil
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

// Shared returns the URL of a server shared by every test of the package,
// starting it at the first call. The package's TestMain must call Main so
// that it is stopped. Give each test its own Prefix.
func Shared(t testing.TB) string {
	t.Helper()
	bin := requireBinary(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server == nil && shared.err == nil {
		shared.dir, shared.err = os.MkdirTemp("", "redistest-")
		if shared.err == nil {
			shared.server, shared.err = start(bin, shared.dir)
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.server.URL()
}

var prefixSeq atomic.Int64

// Prefix returns a key prefix no other test of this process uses and that
// names the test, for a test's own keys on a shared server.
func Prefix(t testing.TB) string {
	name := strings.NewReplacer("/", ".", " ", "_", ":", "_").Replace(t.Name())
	return fmt.Sprintf("test:%d:%d:%s:", os.Getpid(), prefixSeq.Add(1), name)
}
