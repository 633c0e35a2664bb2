package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"starling/internal/social"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{&social.ValidationError{Field: "message", Reason: "must be 1–280 characters"}, 422, "invalid_message"},
		{fmt.Errorf("wrapped: %w", &social.ValidationError{Field: "location", Reason: "r"}), 422, "invalid_location"},
		{&social.PageError{Param: "count", Reason: "must be 1–200"}, 400, "invalid_count"},
		{social.ErrUserNotFound, 404, "user_not_found"},
		{fmt.Errorf("sqlite: user: %w", social.ErrUserNotFound), 404, "user_not_found"},
		{social.ErrStatusNotFound, 404, "status_not_found"},
		{social.ErrListNotFound, 404, "list_not_found"},
		{social.ErrLoginTaken, 409, "login_taken"},
		{social.ErrInvalidCredentials, 401, "invalid_credentials"},
		{social.ErrInvalidToken, 401, "invalid_token"},
		{social.ErrForbidden, 403, "forbidden"},
		{social.ErrFollowSelf, 422, "cannot_follow_self"},
		{social.ErrLimitReached, 422, "limit_reached"},
		{fmt.Errorf("redis: %w", social.ErrUnavailable), 503, "unavailable"},
		{social.ErrBusy, 503, "busy"},
		{fmt.Errorf("sqlite: begin: %w", context.DeadlineExceeded), 503, "unavailable"},
		{context.Canceled, 503, "unavailable"},
		{&http.MaxBytesError{Limit: maxBodyBytes}, 413, "body_too_large"},
		{errUnauthorized, 401, "unauthorized"},
		{errors.New("sqlite: disk I/O error"), 500, "internal"},
	} {
		got := classify(tc.err)
		if got.status != tc.status || got.code != tc.code {
			t.Errorf("classify(%v) = %d %s, want %d %s", tc.err, got.status, got.code, tc.status, tc.code)
		}
	}
}

// A login refused because the hashing queue is full tells the client when
// to come back.
func TestBusyAnswerHasRetryAfter(t *testing.T) {
	a := &API{log: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	a.writeError(w, httptest.NewRequest("POST", Prefix+"/tokens", nil), fmt.Errorf("social: login: %w", social.ErrBusy))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), `"code":"busy"`) {
		t.Fatalf("got %d, Retry-After %q, body %s; want 503 busy with Retry-After: 1", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}

// newBareAPI builds an API over a Service without a store, for tests of
// behaviour that never reaches the store.
func newBareAPI(t *testing.T, log *slog.Logger) *API {
	t.Helper()
	svc, err := social.NewService(nil, social.Config{Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}}, log)
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Service: svc, Logger: log})
}

func TestInternalErrorsAreLoggedNotSent(t *testing.T) {
	var logs bytes.Buffer
	a := newBareAPI(t, slog.New(slog.NewTextHandler(&logs, nil)))
	a.handle("GET /test/fail", func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("sqlite: the secret cause")
	})
	a.handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
		panic("the secret panic")
	})
	for _, path := range []string{"/test/fail", "/test/panic"} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("GET %s: status %d, want 500", path, rec.Code)
		}
		if body := rec.Body.String(); !strings.Contains(body, `"code":"internal"`) || strings.Contains(body, "secret") {
			t.Errorf("GET %s: body %s, want code internal without the cause", path, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != contentTypeJSON {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
	for _, cause := range []string{"the secret cause", "the secret panic"} {
		if !strings.Contains(logs.String(), cause) {
			t.Errorf("the log lacks %q:\n%s", cause, logs.String())
		}
	}
}

func TestAdminEndpointsWithoutQueue(t *testing.T) {
	a := newBareAPI(t, nil)
	a.handle("GET /test/dead", func(w http.ResponseWriter, r *http.Request) error {
		return a.deadJobs(w, r, session{})
	})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/test/dead", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("dead jobs without a queue: status %d, want 503", rec.Code)
	}
}
