// Package httpapi is Starling's JSON HTTP API v1 (docs/API.md): routing,
// authentication, strict request decoding, the presentation of users,
// statuses and lists, and the one mapping from errors to HTTP answers.
//
// Every answer is JSON (but the chat rooms' event stream and WebSocket,
// chat*.go), including 404 and 405 for unknown routes and wrong methods, and carries Content-Type "application/json; charset=utf-8" and
// the security headers of SetSecurityHeaders (CSP, nosniff, no referrer, no
// framing). Errors have the shape
//
//	{"error": {"code": "snake_case", "message": "human text"}}
//
// and are produced only by errors.go: handlers return errors and never write
// error answers themselves, so that one table decides every status code and
// the cause of an internal error is logged, never sent.
//
// The API is a thin layer over social.Service: it parses and checks the
// shape of requests (types, unknown fields, sizes, paging syntax) and leaves
// every domain rule (lengths, ranges, ownership) to the Service, whose errors
// it translates.
//
// Callers are authenticated by a bearer token or, for browsers, by the
// session cookie with a CSRF token on state-changing requests (security.go).
// Requests that cost the server or other users something are rate limited
// per client address or per user through a ratelimit.Limiter (ratelimit.go);
// the policies, keys and failure modes are in docs/SECURITY.md.
//
// Every request is read under a deadline (Config.ReadTimeout) that is kept
// for the whole request, so that a trickled body cannot hold a connection;
// routes that hold a request open (streams, long-polls) extend it with
// ExtendReadDeadline once they have read the request (deadline.go).
//
// The streaming endpoints (stream_chunked.go, stream_sse.go, stream_ws.go,
// sharing stream_request.go) are the exception to "every answer is JSON":
// once subscribed they answer 200 with their own content type and write
// what a stream.Hub hands them until the client leaves or the hub ends the
// stream; their refusals are JSON errors like any other.
//
// Concurrency: an API is safe for concurrent use once New returns; its
// mutable state is in the Limiter and the Hub, both safe for concurrent
// use, and WaitGroups of the WebSocket streams being served and of the long
// polls held off their handlers. Each stream is written by the goroutine of
// its request (a WebSocket also has one reading goroutine); a held poll
// (chat_held.go) has one goroutine of its own, which answers and hands its
// connection back to the http.Server through Listener, whose pump goroutine
// is ended by its Close.
package httpapi
