package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"starling/internal/httpapi"
	"starling/internal/jobs"
	"starling/internal/social"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires the web UI. Service and Browser are required.
type Config struct {
	Service *social.Service
	// Browser is the API's browser sessions: the web UI signs people in
	// with the API's session cookie, so that page scripts reach the API's
	// streams with it.
	Browser *httpapi.Browser
	// Queue serves the operations page; nil leaves its job parts out.
	Queue jobs.Queue
	// DeadLetters retries and drops dead jobs from the operations page;
	// nil leaves those buttons out.
	DeadLetters jobs.DeadLetters
	// StreamPosition returns the id of the newest event in the stream
	// event log; nil (or a failure) leaves a page's stream starting when
	// its script connects rather than where the page was rendered.
	StreamPosition func(ctx context.Context) (uint64, error)
	// Chat serves the chat pages; nil shows them as unavailable.
	Chat Chat
	// ChatRequireLogin says the chat rooms refuse anonymous messages: the
	// chat page asks the signed-out to sign in instead of offering a form.
	ChatRequireLogin bool
	// IsAdmin reports whether a user may see the operations page; nil
	// means nobody.
	IsAdmin func(c social.Caller) bool
	// Logger receives the causes of failed pages; nil discards them.
	Logger *slog.Logger
	// Now is the clock of relative times; nil means time.Now.
	Now func() time.Time
}

// Handler serves the web UI's pages and assets.
type Handler struct {
	svc      *social.Service
	browser  *httpapi.Browser
	queue    jobs.Queue
	dead     jobs.DeadLetters
	streamAt func(context.Context) (uint64, error)
	chat     Chat
	chatAuth bool // Config.ChatRequireLogin
	isAdmin  func(social.Caller) bool
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	pages    map[string]*template.Template // by page name; read-only after New
	// segments are the first path segments of the pages (Owns);
	// read-only after New.
	segments map[string]bool
	patterns map[string]bool // the pages' patterns; read-only after New
	static   http.Handler
}

// New builds the web UI. It panics when a template does not parse: they
// are embedded, so that is a bug of the build, not of the deployment.
func New(cfg Config) *Handler {
	if cfg.Service == nil || cfg.Browser == nil {
		panic("web: Config.Service and Config.Browser are required")
	}
	h := &Handler{
		svc: cfg.Service, browser: cfg.Browser, queue: cfg.Queue, dead: cfg.DeadLetters, streamAt: cfg.StreamPosition,
		chat: cfg.Chat, chatAuth: cfg.ChatRequireLogin,
		isAdmin: cfg.IsAdmin, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux(),
		segments: map[string]bool{}, patterns: map[string]bool{},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.isAdmin == nil {
		h.isAdmin = func(social.Caller) bool { return false }
	}
	h.pages = mustParsePages(h.funcs())
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	h.routes()
	return h
}

func (h *Handler) routes() {
	h.handle("GET /{$}", h.page(h.index))
	h.handle("GET /static/", h.serveStatic)
	h.accountRoutes()
	h.timelineRoutes()
	h.profileRoutes()
	h.listRoutes()
	h.liveRoutes()
	h.chatRoutes()
	h.opsRoutes()
}

// handle registers a page and the first segment of its path, which Owns
// checks.
func (h *Handler) handle(pattern string, f http.HandlerFunc) {
	_, path, _ := strings.Cut(pattern, " ")
	h.segments[firstSegment(path)] = true
	h.patterns[pattern] = true
	h.mux.HandleFunc(pattern, f)
}

// Owns reports whether the web UI serves r's path, so that the server
// hands every other path to the API. It is asked of every request, so it
// only looks the path's first segment up ("" for /): the web UI's are
// words of its own (home, u, lists, ...), never the API's (api, statuses,
// a, healthz, ...).
// A path that is not clean (//, /./, /../) is left to the API, which
// answers it in its error shape rather than with ServeMux's redirect.
func (h *Handler) Owns(r *http.Request) bool {
	return cleanPath(r.URL.Path) && h.segments[firstSegment(r.URL.Path)]
}

// cleanPath reports whether p is rooted and has no empty, "." or ".."
// segment (a trailing slash aside).
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	rest := strings.TrimSuffix(p[1:], "/")
	if rest == "" {
		return true
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// firstSegment is "u" for /u/ada, "" for /.
func firstSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	seg, _, _ := strings.Cut(path, "/")
	return strings.TrimSuffix(seg, "{$}")
}

// maxFormBytes bounds a form body: the longest field is a chat message or
// a status, far below it.
const maxFormBytes = 64 << 10

// ServeHTTP answers a page under the API's request bookkeeping (request
// id, read deadline, access log and metrics by the page's pattern).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only the pages' own patterns name a route: ServeMux names the
	// redirects it would make (of unclean paths, say) by the path, which
	// a client chooses.
	_, pattern := h.mux.Handler(r)
	if !h.patterns[pattern] {
		pattern = ""
	}
	h.browser.Serve(w, r, pattern, http.HandlerFunc(h.serve))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	httpapi.SetSecurityHeaders(hdr)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.ErrorContext(r.Context(), "web: page panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			http.Error(w, "something went wrong on our side; it has been logged", http.StatusInternalServerError)
		}
	}()
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	// Assets change only with the binary; a day is a fair compromise
	// between caching and seeing a new release.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	h.static.ServeHTTP(w, r)
}

// viewer is who is looking at a page: nobody, or a signed-in user with the
// session token their forms' CSRF token derives from.
type viewer struct {
	social.Caller
	token string
	CSRF  string
	Admin bool
}

// SignedIn reports whether someone is signed in.
func (v viewer) SignedIn() bool { return v.ID != 0 }

// pageFunc renders a page or acts on a form. It returns an error only for
// failures it does not show itself; page turns those into an error page.
type pageFunc func(w http.ResponseWriter, r *http.Request, v viewer) error

// page reads the viewer of every request and, for a state-changing one,
// checks its origin and CSRF token.
func (h *Handler) page(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.viewerOf(w, r)
		if err != nil {
			h.fail(w, r, v, err)
			return
		}
		if r.Method == http.MethodPost {
			if err := h.checkForm(r, v); err != nil {
				h.fail(w, r, v, err)
				return
			}
		}
		if err := f(w, r, v); err != nil {
			h.fail(w, r, v, err)
		}
	}
}

// signedIn is page for pages and actions that need a signed-in user: others
// are sent to the sign-in page, which brings them back.
func (h *Handler) signedIn(f pageFunc) http.HandlerFunc {
	return h.page(func(w http.ResponseWriter, r *http.Request, v viewer) error {
		if !v.SignedIn() {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/"
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return nil
		}
		return f(w, r, v)
	})
}

func (h *Handler) viewerOf(w http.ResponseWriter, r *http.Request) (viewer, error) {
	c, token, found, err := h.browser.Caller(r)
	switch {
	case !found:
		return viewer{}, nil
	case errors.Is(err, social.ErrInvalidToken):
		// Expired or revoked elsewhere: drop the cookies and go on
		// signed out.
		h.browser.ClearSession(w, r)
		return viewer{}, nil
	case err != nil:
		return viewer{}, err
	}
	return viewer{Caller: c, token: token, CSRF: h.browser.CSRFToken(token), Admin: h.isAdmin(c)}, nil
}

var (
	errCrossSite = &pageError{status: http.StatusForbidden, message: "This form was sent from another site, so it was refused."}
	errBadCSRF   = &pageError{status: http.StatusForbidden, message: "This form has expired (the page was open from another session). Reload the page and try again."}
	errBadForm   = &pageError{status: http.StatusBadRequest, message: "The form could not be read."}
)

// checkForm refuses a form posted from another site (Origin or
// Sec-Fetch-Site), and, for a signed-in viewer, one without the session's
// CSRF token. Sign-in and sign-up forms rest on the origin check alone, as
// there is no session yet.
func (h *Handler) checkForm(r *http.Request, v viewer) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return errCrossSite
		}
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &pageError{status: http.StatusRequestEntityTooLarge, message: "The form is too large."}
		}
		return errBadForm
	}
	if v.SignedIn() && !h.browser.CheckCSRF(v.token, r.PostForm.Get("csrf")) {
		return errBadCSRF
	}
	return nil
}

// pageError is a failure shown to the viewer as a page of its own.
type pageError struct {
	status  int
	message string
}

func (e *pageError) Error() string { return "web: " + e.message }

var errNotFound = &pageError{status: http.StatusNotFound, message: "There is nothing here."}

// fail shows err as an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		msg, status := describe(err)
		if status >= 500 {
			h.log.ErrorContext(r.Context(), "web: page failed", "path", r.URL.Path, "err", err)
		}
		setRetryAfter(w, err)
		pe = &pageError{status: status, message: msg}
	}
	if fetched(r) {
		writeFetchError(w, pe.status, "", pe.message)
		return
	}
	h.render(w, r, pe.status, "error", v, "Error", map[string]any{"Message": pe.message})
}

// fetched reports whether a page script sent the form (fetch) rather than
// the browser: it gets 204 or a JSON error instead of a page.
func fetched(r *http.Request) bool { return r.Header.Get("X-Requested-With") == "fetch" }

// done ends a successful action: a redirect (Post/Redirect/Get) for the
// browser, 204 for a page script.
func done(w http.ResponseWriter, r *http.Request, to string) error {
	if fetched(r) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// view is what every page template gets.
type view struct {
	Title  string
	Viewer viewer
	Nav    string // the nav entry of the page, marked aria-current
	Data   any
}

// render writes a page. Templates run into a buffer, so that a failing one
// answers an error page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v viewer, title string, data any) {
	t, ok := h.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view{Title: title, Viewer: v, Nav: name, Data: data}); err != nil {
		h.log.ErrorContext(r.Context(), "web: template failed", "page", name, "err", err)
		http.Error(w, "something went wrong on our side; it has been logged", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show a viewer's own timelines and carry their CSRF token.
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client left
}

// index is / : the home timeline for a signed-in viewer, else the welcome
// page.
func (h *Handler) index(w http.ResponseWriter, r *http.Request, v viewer) error {
	if v.SignedIn() {
		http.Redirect(w, r, "/home", http.StatusSeeOther)
		return nil
	}
	h.render(w, r, http.StatusOK, "welcome", v, "Starling", nil)
	return nil
}

// safeNext returns next when it is a path on this site, else "/home".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/home"
	}
	return next
}
