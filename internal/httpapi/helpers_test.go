package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/accesslog"
	"starling/internal/engine/sqlite"
	"starling/internal/events"
	"starling/internal/httpapi"
	"starling/internal/jobs"
	"starling/internal/social"
	"starling/internal/stream"
)

const (
	timelineSize = 5
	fanoutChunk  = 3
	adminLogin   = "root"
)

// stack is the real server over loopback: SQLite engine, social.Service,
// job runner and the API, as `starling serve` wires them.
type stack struct {
	t      *testing.T
	db     *sqlite.DB
	svc    *social.Service
	runner *jobs.Runner
	api    *httpapi.API
	hub    *stream.Hub
	srv    *httptest.Server
	logs   *lockedBuffer
	// access is the live access log the API writes to, checked for
	// secrets with the log.
	access *accesslog.Log

	mu      sync.Mutex // guards secrets
	secrets []string   // passwords and tokens that must never be logged
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackWith(t, nil)
}

// newStackWith is newStack with a chance to change the API's
// configuration (rate limits, proxies, cookies) before it is built.
func newStackWith(t *testing.T, configure func(*httpapi.Config)) *stack {
	t.Helper()
	return newStreamStack(t, nil, configure)
}

// newStreamStack is newStackWith with a chance to change the stream hub's
// configuration (buffer, cap on connections) too.
func newStreamStack(t *testing.T, configureHub func(*stream.HubConfig), configure func(*httpapi.Config)) *stack {
	t.Helper()
	ctx := context.Background()
	logs := &lockedBuffer{}
	// Debug level, so that the request log is checked for secrets too.
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{TimelineSize: timelineSize}, logger)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	eventLog := db.EventLog(0)
	hubCfg := stream.HubConfig{Log: eventLog, Logger: logger}
	if configureHub != nil {
		configureHub(&hubCfg)
	}
	hub := stream.NewHub(hubCfg)
	logBus := stream.NewLogBus(events.NewMemory(events.MemoryOptions{}), eventLog, logger)
	logBusDone := make(chan struct{})
	go func() {
		defer close(logBusDone)
		logBus.Run(ctx)
	}()
	svc, err := social.NewService(db, social.Config{
		Bus:         logBus,
		FanoutChunk: fanoutChunk,
		Password:    social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
	}, logger)
	if err != nil {
		t.Fatalf("social.NewService: %v", err)
	}
	runner := jobs.NewRunner(db, jobs.RunnerConfig{Workers: 1, BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond, MaxAttempts: 3}, logger)
	svc.RegisterJobs(runner)
	// The admin exists before the API starts, as the server requires.
	admin, err := svc.Register(ctx, adminLogin, "Name of "+adminLogin, password(adminLogin))
	if err != nil {
		t.Fatalf("registering the admin: %v", err)
	}
	bus := events.NewMemory(events.MemoryOptions{Buffer: 4096})
	access := accesslog.New(bus, "test", logger)
	accessCtx, stopAccess := context.WithCancel(ctx)
	accessDone := make(chan struct{})
	go func() { defer close(accessDone); access.Run(accessCtx) }()
	cfg := httpapi.Config{Service: svc, Queue: db, DeadLetters: db, JobKinds: db, Admins: []social.UserID{admin.ID}, Logger: logger, Hub: hub, AccessLog: access}
	if configure != nil {
		configure(&cfg)
	}
	api := httpapi.New(cfg)
	srv := httptest.NewUnstartedServer(api)
	// Small socket buffers, so that a stream client that stops reading
	// fills them, and the hub's buffer behind them, after a few dozen
	// statuses rather than megabytes.
	srv.Listener = httpapi.Listener(smallBufferListener{srv.Listener})
	// As the server is set up: held long polls leave their handlers.
	srv.Config.ConnContext = httpapi.ConnContext
	srv.Start()
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		hub.Run(hubCtx)
	}()
	s := &stack{t: t, db: db, svc: svc, runner: runner, api: api, srv: srv, logs: logs, hub: hub, access: access}
	t.Cleanup(func() {
		hub.Close()
		access.Close()
		srv.Close()
		stopHub()
		<-hubDone
		stopAccess()
		<-accessDone
		bus.Close()
		logBus.Close(ctx)
		<-logBusDone
		db.Close()
		s.checkLogsHoldNoSecrets()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s
}

// drain runs every job that is runnable now (fan-out, cleanup, refill).
func (s *stack) drain() {
	s.t.Helper()
	if err := s.runner.Drain(context.Background()); err != nil {
		s.t.Fatalf("draining jobs: %v", err)
	}
}

// eventually drains jobs until cond holds or a deadline passes; jobs that
// failed once are retried after a short backoff, so one drain may not be
// enough.
func (s *stack) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *stack) addSecret(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, v)
}

func (s *stack) checkLogsHoldNoSecrets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	logs := s.logs.String()
	if len(s.secrets) > 0 && !strings.Contains(logs, "msg=access") {
		s.t.Errorf("the server log has no access line, so the check below checks none")
	}
	replay, w := s.access.Watch()
	w.Close()
	records, _ := json.Marshal(replay)
	for _, secret := range s.secrets {
		if strings.Contains(logs, secret) {
			s.t.Errorf("the server log contains the secret %q", secret)
		}
		if strings.Contains(string(records), secret) {
			s.t.Errorf("the live access log contains the secret %q", secret)
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client speaks to the stack's server, with a token once logged in. A
// browser-like client sends cookies instead: the session cookie, the CSRF
// cookie and the X-CSRF-Token header, each when set.
type client struct {
	s     *stack
	login string
	token string

	sessionCookie string
	csrfCookie    string
	csrfHeader    string
	// cookiePrefix goes before the cookies' names: "__Host-" over HTTPS.
	cookiePrefix string
}

func (s *stack) anonymous() *client { return &client{s: s} }

// rawBody is a request body sent byte for byte with the given content type.
type rawBody struct {
	contentType string
	data        string
	// chunked hides the length, so the body goes out chunked.
	chunked bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and checks what every answer must have: the JSON
// content type, nosniff, and for errors the error shape.
func (c *client) do(method, path string, body any) response {
	c.s.t.Helper()
	return c.doWith(method, path, body, nil)
}

func (c *client) doWith(method, path string, body any, header http.Header) response {
	t := c.s.t
	t.Helper()
	var reader io.Reader
	contentType := ""
	length := int64(-1)
	switch b := body.(type) {
	case nil:
	case rawBody:
		contentType = b.contentType
		if b.chunked {
			reader = io.MultiReader(strings.NewReader(b.data))
		} else {
			reader = strings.NewReader(b.data)
			length = int64(len(b.data))
		}
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding request body: %v", err)
		}
		contentType = "application/json"
		reader = bytes.NewReader(data)
		length = int64(len(data))
	}
	req, err := http.NewRequest(method, c.s.srv.URL+path, reader)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if length >= 0 {
		req.ContentLength = length
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.sessionCookie != "" {
		req.AddCookie(&http.Cookie{Name: c.cookiePrefix + "starling_session", Value: c.sessionCookie})
	}
	if c.csrfCookie != "" {
		req.AddCookie(&http.Cookie{Name: c.cookiePrefix + "starling_csrf", Value: c.csrfCookie})
	}
	if c.csrfHeader != "" {
		req.Header.Set("X-CSRF-Token", c.csrfHeader)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading answer: %v", method, path, err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: data}
	if len(res.Header.Values("X-Request-Id")) != 1 {
		t.Errorf("%s %s: X-Request-Id %q, want one", method, path, res.Header.Values("X-Request-Id"))
	}
	if got := res.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q, want application/json; charset=utf-8", method, path, got)
	}
	for name, want := range securityHeaders {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s %s: %s %q, want %q", method, path, name, got, want)
		}
	}
	switch {
	case r.status == http.StatusNoContent:
		if len(data) != 0 {
			t.Errorf("%s %s: 204 with a body %q", method, path, data)
		}
	case r.status >= 400:
		var e errorAnswer
		if err := strictDecode(data, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("%s %s: %d answer %q is not the error shape: %v", method, path, r.status, data, err)
		}
	default:
		if !json.Valid(data) {
			t.Errorf("%s %s: %d answer is not JSON: %q", method, path, r.status, data)
		}
	}
	return r
}

// securityHeaders are on every answer (docs/SECURITY.md).
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	"Cache-Control":           "no-store",
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// want checks the status and decodes the answer strictly into T, so that a
// field added or renamed by mistake fails the test.
func want[T any](t *testing.T, r response, status int) T {
	t.Helper()
	var v T
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
	if err := strictDecode(r.body, &v); err != nil {
		t.Fatalf("decoding %s into %T: %v", r, v, err)
	}
	return v
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
	var e errorAnswer
	if err := strictDecode(r.body, &e); err != nil {
		t.Fatalf("decoding error answer %s: %v", r, err)
	}
	if e.Error.Code != code {
		t.Fatalf("got code %q (%s), want %q", e.Error.Code, e.Error.Message, code)
	}
}

// The answers' shapes as a client sees them.

type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type user struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	Followers int64  `json:"followers"`
	Following int64  `json:"following"`
	Posts     int64  `json:"posts"`
	Signup    string `json:"signup"`
}

type location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type status struct {
	ID       int64     `json:"id"`
	UID      int64     `json:"uid"`
	Login    string    `json:"login"`
	Message  string    `json:"message"`
	Posted   string    `json:"posted"`
	Location *location `json:"location"`
}

type list struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	UID       int64  `json:"uid"`
	Login     string `json:"login"`
	Following int64  `json:"following"`
	Created   string `json:"created"`
}

type tokenAnswer struct {
	Token string `json:"token"`
	User  user   `json:"user"`
}

var timeFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func wantTime(t *testing.T, what, got string) {
	t.Helper()
	if !timeFormat.MatchString(got) {
		t.Errorf("%s = %q, want RFC 3339 UTC with milliseconds", what, got)
	}
	ts, err := time.Parse(time.RFC3339, got)
	if err != nil {
		t.Errorf("%s = %q does not parse as RFC 3339: %v", what, got, err)
		return
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Hour {
		t.Errorf("%s = %q is not around now", what, got)
	}
}

// Typed helpers for the happy paths.

func password(login string) string { return "secret-pw-" + login }

// register creates a user and returns a client logged in as them.
func (s *stack) register(login string) *client {
	s.t.Helper()
	s.addSecret(password(login))
	r := s.anonymous().do("POST", "/api/starling/v1/users", map[string]string{"login": login, "name": "Name of " + login, "password": password(login)})
	u := want[user](s.t, r, http.StatusCreated)
	if u.Login != login {
		s.t.Fatalf("registered login %q, want %q", u.Login, login)
	}
	return s.login(login)
}

func (s *stack) login(login string) *client {
	s.t.Helper()
	r := s.anonymous().do("POST", "/api/starling/v1/tokens", map[string]string{"login": login, "password": password(login)})
	tok := want[tokenAnswer](s.t, r, http.StatusCreated)
	if tok.Token == "" || !strings.EqualFold(tok.User.Login, login) {
		s.t.Fatalf("token answer %+v for %q", tok, login)
	}
	s.addSecret(tok.Token)
	return &client{s: s, login: tok.User.Login, token: tok.Token}
}

func (c *client) user(login string) user {
	c.s.t.Helper()
	return want[user](c.s.t, c.do("GET", "/api/starling/v1/users/"+login, nil), http.StatusOK)
}

func (c *client) post(message string, loc *location) status {
	c.s.t.Helper()
	body := map[string]any{"message": message}
	if loc != nil {
		body["location"] = loc
	}
	return want[status](c.s.t, c.do("POST", "/api/starling/v1/statuses", body), http.StatusCreated)
}

func (c *client) statuses(path string) []status {
	c.s.t.Helper()
	return want[[]status](c.s.t, c.do("GET", path, nil), http.StatusOK)
}

func (c *client) users(path string) []user {
	c.s.t.Helper()
	return want[[]user](c.s.t, c.do("GET", path, nil), http.StatusOK)
}

func (c *client) noContent(method, path string) {
	c.s.t.Helper()
	wantStatus(c.s.t, c.do(method, path, nil), http.StatusNoContent)
}

func ids(sts []status) []int64 {
	out := make([]int64, len(sts))
	for i, s := range sts {
		out[i] = s.ID
	}
	return out
}

func logins(us []user) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Login
	}
	return out
}

// snapshot reads the given GET paths as c and returns their answers, to
// show that a refused request changed nothing.
func (c *client) snapshot(paths ...string) map[string]string {
	c.s.t.Helper()
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		r := c.do("GET", p, nil)
		out[p] = r.String()
	}
	return out
}

func (c *client) wantUnchanged(before map[string]string, after string) {
	c.s.t.Helper()
	for p, was := range before {
		if now := c.do("GET", p, nil).String(); now != was {
			c.s.t.Fatalf("after %s, GET %s changed:\nwas %s\nnow %s", after, p, was, now)
		}
	}
}
