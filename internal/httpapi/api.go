package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"starling/internal/accesslog"
	"starling/internal/chat"
	"starling/internal/jobs"
	"starling/internal/metrics"
	"starling/internal/ratelimit"
	"starling/internal/social"
	"starling/internal/stream"
)

// Config wires an API. Service is required; the rest may be left zero.
type Config struct {
	Service *social.Service
	// Queue serves the admin job endpoints (dead letters and counts);
	// when nil they answer 503.
	Queue jobs.Queue
	// Admins are the ids of the users allowed to call the admin endpoints.
	// They are ids, not logins, so that nobody becomes an admin by
	// registering a login that was listed before its account existed
	// (the server resolves its --admins logins at start).
	Admins []social.UserID
	// Logger receives one access line per request (info), store trouble
	// (warn) and the causes of internal errors (error); nil discards them.
	Logger *slog.Logger
	// Metrics receives the HTTP metrics; nil records none.
	Metrics *metrics.Registry
	// AccessLog receives a record of every request and serves the admin's
	// live access log; nil keeps none (the route answers 503).
	AccessLog *accesslog.Log
	// DeadLetters revives and drops dead jobs for the admin routes; nil
	// answers them with 503.
	DeadLetters jobs.DeadLetters
	// JobKinds adds the counts by kind to the admin's job counts; nil
	// leaves them out.
	JobKinds jobs.KindCounter
	// Limiter enforces RateLimits; nil turns rate limiting off.
	Limiter ratelimit.Limiter
	// RateLimits are the limits of each kind of request; zero fields mean
	// ratelimit.DefaultPolicies.
	RateLimits ratelimit.Policies
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed. Empty means none: the client
	// is whoever opened the connection.
	TrustedProxies []netip.Prefix
	// SecureCookies marks session cookies Secure on every answer, for
	// deployments whose TLS ends at a proxy that does not send
	// X-Forwarded-Proto. Requests that came over TLS get Secure cookies
	// anyway.
	SecureCookies bool
	// ReadTimeout bounds how long after it arrived a request may still be
	// read, body included, and so how long a handler may run unless it
	// extends the deadline (ExtendReadDeadline); zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// Hub serves the streaming endpoints; nil answers them with 503.
	Hub *stream.Hub
	// StreamKeepAlive is how often an idle stream gets a keep-alive; zero
	// means DefaultStreamKeepAlive.
	StreamKeepAlive time.Duration
	// StreamWriteTimeout bounds one write to a stream client, who is
	// dropped when it takes longer; zero means DefaultStreamWriteTimeout.
	StreamWriteTimeout time.Duration
	// Rooms serves the chat endpoints (chat*.go); nil leaves them out.
	Rooms *chat.Rooms
	// ChatRequireLogin refuses chat messages from anonymous senders.
	ChatRequireLogin bool
}

// API is the JSON HTTP API v1. It implements http.Handler.
type API struct {
	svc         *social.Service
	queue       jobs.Queue
	deadLetters jobs.DeadLetters       // nil: none
	jobKinds    jobs.KindCounter       // nil: totals only
	metrics     *metrics.Registry      // nil: none
	accessLog   *accesslog.Log         // nil: none
	admins      map[social.UserID]bool // read-only after New
	log         *slog.Logger
	mux         *http.ServeMux
	// tokenSources are tried in order; the first that finds a token in a
	// request decides who the caller is.
	tokenSources []tokenSource

	limiter        ratelimit.Limiter // nil: no rate limiting
	limits         ratelimit.Policies
	trustedProxies []netip.Prefix
	secureCookies  bool
	readTimeout    time.Duration
	rooms          *chat.Rooms // nil: no chat endpoints
	chatLogin      bool        // chat messages need a signed-in sender
	patterns       []string    // every route, for tests
	// patternSet holds the same patterns, for naming requests (route).
	patternSet map[string]bool

	// rendered keeps the JSON of statuses already sent (see render.go).
	rendered *renderCache

	hub                *stream.Hub // nil: no streams
	streamKeepAlive    time.Duration
	streamWriteTimeout time.Duration
	// websockets counts the WebSocket connections being served, which
	// http.Server.Shutdown does not wait for (they are hijacked).
	websockets sync.WaitGroup
	// heldPolls counts the long polls held off their handlers
	// (chat_held.go), hijacked too; heldNow those that hold their
	// connection now.
	heldPolls sync.WaitGroup
	heldNow   atomic.Int64
}

// New returns an API over cfg.Service.
func New(cfg Config) *API {
	if cfg.Service == nil {
		panic("httpapi: Config.Service is nil")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{
		svc:             cfg.Service,
		queue:           cfg.Queue,
		admins:          make(map[social.UserID]bool, len(cfg.Admins)),
		log:             log,
		mux:             http.NewServeMux(),
		limiter:         cfg.Limiter,
		limits:          cfg.RateLimits.WithDefaults(),
		trustedProxies:  cfg.TrustedProxies,
		secureCookies:   cfg.SecureCookies,
		readTimeout:     cfg.ReadTimeout,
		rendered:        newRenderCache(),
		hub:             cfg.Hub,
		streamKeepAlive: cfg.StreamKeepAlive,
		rooms:           cfg.Rooms,
		chatLogin:       cfg.ChatRequireLogin,
		deadLetters:     cfg.DeadLetters,
		jobKinds:        cfg.JobKinds,
		metrics:         cfg.Metrics,
		accessLog:       cfg.AccessLog,
		patternSet:      map[string]bool{},
	}
	a.streamWriteTimeout = cfg.StreamWriteTimeout
	if a.streamWriteTimeout <= 0 {
		a.streamWriteTimeout = DefaultStreamWriteTimeout
	}
	if a.streamKeepAlive <= 0 {
		a.streamKeepAlive = DefaultStreamKeepAlive
	}
	if a.readTimeout <= 0 {
		a.readTimeout = DefaultReadTimeout
	}
	for _, id := range cfg.Admins {
		a.admins[id] = true
	}
	// A bearer token wins over a cookie: it is what API clients send,
	// and a request carrying one was not made by a browser on its own.
	a.tokenSources = []tokenSource{bearerToken, a.sessionCookie}
	a.routes()
	return a
}

func (a *API) routes() {
	a.handle("POST "+Prefix+"/users", a.register)
	a.handle("GET "+Prefix+"/users/{login}", a.user)
	a.handle("GET "+Prefix+"/users/{login}/statuses", a.profileTimeline)
	a.handle("GET "+Prefix+"/users/{login}/followers", a.followers)
	a.handle("GET "+Prefix+"/users/{login}/following", a.following)
	a.handle("GET "+Prefix+"/users/{login}/lists", a.usersLists)

	a.handle("POST "+Prefix+"/tokens", a.createToken)
	a.handle("DELETE "+Prefix+"/tokens/current", a.authed(a.deleteToken))
	a.handle("DELETE "+Prefix+"/tokens", a.authed(a.deleteAllTokens))
	a.handle("POST "+Prefix+"/sessions", a.createSession)
	a.handle("DELETE "+Prefix+"/sessions/current", a.authed(a.deleteSession))

	a.handle("GET "+Prefix+"/me", a.authed(a.me))
	a.handle("PUT "+Prefix+"/me/password", a.authed(a.changePassword))
	a.handle("PUT "+Prefix+"/me/following/{login}", a.authed(a.follow))
	a.handle("DELETE "+Prefix+"/me/following/{login}", a.authed(a.unfollow))

	a.handle("GET "+Prefix+"/timelines/home", a.authed(a.homeTimeline))

	a.handle("POST "+Prefix+"/statuses", a.authed(a.postStatus))
	a.handle("GET "+Prefix+"/statuses/{id}", a.status)
	a.handle("DELETE "+Prefix+"/statuses/{id}", a.authed(a.deleteStatus))

	a.handle("POST "+Prefix+"/lists", a.authed(a.createList))
	a.handle("GET "+Prefix+"/lists/{id}", a.list)
	a.handle("DELETE "+Prefix+"/lists/{id}", a.authed(a.deleteList))
	a.handle("GET "+Prefix+"/lists/{id}/members", a.listMembers)
	a.handle("PUT "+Prefix+"/lists/{id}/members/{login}", a.authed(a.addListMember))
	a.handle("DELETE "+Prefix+"/lists/{id}/members/{login}", a.authed(a.removeListMember))
	a.handle("GET "+Prefix+"/lists/{id}/statuses", a.listTimeline)

	a.handle("GET "+Prefix+"/admin/jobs/dead", a.admin(a.deadJobs))
	a.handle("GET "+Prefix+"/admin/jobs/stats", a.admin(a.jobStats))
	a.handle("POST "+Prefix+"/admin/jobs/dead/{id}/retry", a.admin(a.reviveDeadJob))
	a.handle("DELETE "+Prefix+"/admin/jobs/dead/{id}", a.admin(a.dropDeadJob))
	a.handle("GET "+Prefix+"/admin/accesslog", a.admin(a.accessLogStream))
	a.handle("GET "+Prefix+"/admin/users/suspended", a.admin(a.suspendedUsers))
	a.handle("PUT "+Prefix+"/admin/users/{login}/suspension", a.admin(a.suspendUser))
	a.handle("DELETE "+Prefix+"/admin/users/{login}/suspension", a.admin(a.restoreUser))
	a.handle("DELETE "+Prefix+"/admin/users/{login}/tokens", a.admin(a.revokeUserTokens))

	a.handle("GET /statuses/firehose.json", a.streaming(a.classicStream(stream.Firehose)))
	a.handle("GET /statuses/sample.json", a.streaming(a.classicStream(stream.Sample)))
	a.handle("GET /statuses/filter.json", a.streaming(a.classicStream(stream.FilterKind)))
	a.handle("POST /statuses/filter.json", a.streaming(a.classicStream(stream.FilterKind)))
	a.handle("GET "+Prefix+"/streams/{kind}", a.streaming(a.sseStream))
	a.handle("GET "+Prefix+"/streams/list/{id}", a.streaming(a.sseListStream))
	a.handle("GET "+Prefix+"/streams/ws", a.streaming(a.wsStream))
	if a.rooms != nil {
		a.chatRoutes()
	}

	a.handle("GET /healthz", a.healthz)
	a.handle("GET /readyz", a.readyz)
}

// Prefix is the path under which every route of the native API lives. The
// paths /api/v1, /api/v2 and /oauth are left to the Mastodon client API,
// whose routes clash with these (its POST /api/v1/statuses takes "status",
// this API's "message").
const Prefix = "/api/starling/v1"

// handlerFunc is an endpoint. It writes its success answer itself and
// returns any failure, which writeError alone turns into an answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(pattern string, h handlerFunc) {
	a.patterns = append(a.patterns, pattern)
	a.patternSet[pattern] = true
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ServeHTTP sets the headers every answer carries, bounds the request body,
// recovers from panics, answers unknown routes and wrong methods in JSON,
// and reports every request (access.go).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &responseRecorder{ResponseWriter: w}
	h := rec.Header()
	h["Content-Type"] = hdrContentJSON
	SetSecurityHeaders(h)
	// Answers carry tokens and per-user timelines; no cache may keep them.
	h["Cache-Control"] = hdrNoStore
	id := a.requestID(r)
	h[requestIDHeader] = []string{id}
	route := a.route(r)
	rec.route, rec.start = route, start

	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.ErrorContext(r.Context(), "httpapi: handler panicked", "method", r.Method, "route", route, "request_id", id, "panic", p, "stack", string(debug.Stack()))
			if !rec.wroteHeader {
				a.writeError(rec, r, errInternal)
			}
		}
		if !rec.held {
			a.finishRequest(r, rec, route, id, start)
		} // else the held poll reports it when it answers
	}()

	// Every read of the request, its body included, ends by the deadline
	// (deadline.go). Writers that cannot set deadlines (tests' recorders)
	// go without.
	http.NewResponseController(w).SetReadDeadline(start.Add(a.readTimeout)) //nolint:errcheck // see above

	// Refuse a declared oversized body before reading any of it; the
	// MaxBytesReader catches bodies that do not declare their length.
	if r.ContentLength > maxBodyBytes {
		closeConnection(rec)
		a.writeError(rec, r, errBodyTooLarge)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
	}

	// ServeMux would redirect a path that is not in its clean form (//,
	// /./, /../) with an empty body; such a path names no endpoint.
	if !cleanPath(r.URL.Path) {
		a.writeError(rec, r, errPathNotClean)
		return
	}
	if route == unmatchedRoute {
		a.noRoute(rec, r)
		return
	}
	a.mux.ServeHTTP(rec, r)
}

// noRoute answers a request no pattern matched. ServeMux knows whether the
// path matched with another method (405 and the Allow list) but answers in
// plain text, so its answer is captured and re-rendered as JSON.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	probe := &probeWriter{header: make(http.Header)}
	a.mux.ServeHTTP(probe, r)
	if probe.status != http.StatusMethodNotAllowed {
		a.writeError(w, r, errNotFound)
		return
	}
	allow := probe.header.Get("Allow")
	w.Header().Set("Allow", allow)
	a.writeError(w, r, &apiError{http.StatusMethodNotAllowed, "method_not_allowed",
		"this endpoint does not take " + r.Method + "; it takes " + allow})
}

var errPathNotClean = &apiError{http.StatusNotFound, "not_found", "no such endpoint: a path has no empty, \".\" or \"..\" segments"}

// cleanPath reports whether p is in the form ServeMux serves without
// redirecting: rooted, with no empty, "." or ".." segments (a trailing
// slash aside).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	return p == clean || clean != "/" && p == clean+"/"
}

// probeWriter records the status and headers of ServeMux's own not-found
// and method-not-allowed answers and discards their bodies.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// responseRecorder remembers the status and size of an answer for the
// request log and for the panic handler, which must not write twice.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	written     int64
	wroteHeader bool
	// held is set when a long poll took the connection over to answer
	// later (chat_held.go), which then reports the request itself, by
	// its route and start.
	held  bool
	route string
	start time.Time
}

func (rw *responseRecorder) WriteHeader(status int) {
	if !rw.wroteHeader {
		rw.status = status
		rw.wroteHeader = true
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *responseRecorder) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's Flusher and
// deadlines, which streaming endpoints need.
func (rw *responseRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
