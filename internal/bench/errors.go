package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// apiError is an answer with an unexpected status: what was asked, the
// status, the error code of the API's error shape when it has one, and how
// long the server asked to wait before retrying (Retry-After).
type apiError struct {
	Method, Path string
	Status       int
	Code         string
	Body         string // the start of the body, for the error's text
	RetryAfter   time.Duration
}

// newAPIError reads an error answer; body is its start.
func newAPIError(method, path string, status int, retryAfter string, body []byte) *apiError {
	e := &apiError{Method: method, Path: path, Status: status, Body: strings.TrimSpace(string(body))}
	var shape struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &shape) == nil {
		e.Code = shape.Error.Code
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// rateLimited reports whether err is a 429.
func rateLimited(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == 429 {
		return ae, true
	}
	return nil, false
}

// busy reports whether err is a 503 busy, which the server answers with a
// Retry-After when its password-hashing queue is full.
func busy(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == 503 && ae.Code == "busy" {
		return ae, true
	}
	return nil, false
}

// errorKind names the kind of a failed request for the summary of a run:
// the status and error code of an answer ("429 rate_limited"), or what
// went wrong on the way ("timeout", "connection refused").
func errorKind(err error) string {
	var ae *apiError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		if ae.Code != "" {
			return fmt.Sprintf("%d %s", ae.Status, ae.Code)
		}
		return fmt.Sprintf("%d", ae.Status)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	}
	return "other: " + err.Error()
}

// limitFlag names the flag of `starling serve` that sets the rate limit a
// request counts against.
func limitFlag(method, path string) string {
	switch {
	case method == "POST" && strings.HasSuffix(path, "/users"):
		return "--rate-register"
	case method == "POST" && (strings.HasSuffix(path, "/tokens") || strings.HasSuffix(path, "/sessions")):
		return "--rate-login (per address) or --rate-login-target (per login)"
	case method == "POST" && strings.HasSuffix(path, "/statuses"):
		return "--rate-post"
	case strings.Contains(path, "/following/") || strings.Contains(path, "/members/"):
		return "--rate-follow"
	case strings.Contains(path, "/streams/"):
		return "--rate-stream"
	}
	return "a --rate-* flag"
}

// rateLimitNote tells which limit a 429 came from and how to lift it.
func rateLimitNote(e *apiError) string {
	flag := limitFlag(e.Method, e.Path)
	return fmt.Sprintf("%s %s answered 429 rate_limited: the server's %s sets that limit (off lifts it)", e.Method, pathOnly(e.Path), flag)
}

func pathOnly(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}
