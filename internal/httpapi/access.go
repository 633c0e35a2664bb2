package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"starling/internal/accesslog"
)

// requestIDHeader carries the id of a request, on every answer.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a request id a proxy sends.
const maxRequestIDLen = 64

// unmatchedRoute is the route of requests no pattern matched, so that
// random paths cannot grow the metrics' labels.
const unmatchedRoute = "unmatched"

// requestID returns the id of r: the X-Request-Id that a trusted reverse
// proxy sent, when it is one well-formed value, else a new random one. A
// client's own header is not believed: it could make its requests look like
// another's in the logs.
func (a *API) requestID(r *http.Request) string {
	if vs := r.Header.Values(requestIDHeader); len(vs) == 1 && validRequestID(vs[0]) {
		if addr, ok := remoteAddr(r.RemoteAddr); ok && trusted(addr, a.trustedProxies) {
			return vs[0]
		}
	}
	return rand.Text()
}

// validRequestID accepts 1–64 characters of letters, digits and ._:-, which
// covers the ids proxies generate (UUIDs, hex, nginx's $request_id) and
// keeps log lines and headers clean.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// finishRequest reports an answered request: one access line in the log,
// the HTTP metrics and the live access log. It names the route by its
// pattern, never the path, which may hold logins or tokens.
func (a *API) finishRequest(r *http.Request, rec *responseRecorder, route, id string, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK // a handler that wrote nothing answered 200
	}
	a.reportRequest(r.Context(), r.Method, route, id, status, rec.written, start)
}

// reportRequest is finishRequest for an answer of status and size bytes,
// also called by held polls (chat_held.go), which answer after their
// handler has returned.
func (a *API) reportRequest(ctx context.Context, method, route, id string, status int, bytes int64, start time.Time) {
	d := time.Since(start)
	a.metrics.ObserveRequest(route, status, d)
	if a.accessLog != nil {
		a.accessLog.Add(accesslog.Record{
			Time: start, RequestID: id, Method: method, Route: route, Status: status,
			DurationMS: float64(d.Microseconds()) / 1000, Bytes: bytes,
		})
	}
	if a.log.Enabled(ctx, slog.LevelInfo) {
		a.log.LogAttrs(ctx, slog.LevelInfo, "access",
			slog.String("method", method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", d), slog.Int64("bytes", bytes), slog.String("request_id", id))
	}
}

// route names r by the pattern that serves it, or unmatchedRoute. Only the
// API's own patterns count: ServeMux names the redirects it would make
// (of unclean paths, say) by the path, which a client chooses.
func (a *API) route(r *http.Request) string {
	if !cleanPath(r.URL.Path) {
		return unmatchedRoute
	}
	if _, pattern := a.mux.Handler(r); a.patternSet[pattern] {
		return pattern
	}
	return unmatchedRoute
}
