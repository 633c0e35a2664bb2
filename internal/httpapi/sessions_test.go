package httpapi_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"starling/internal/httpapi"
)

// sessionAnswer is the body of POST /api/starling/v1/sessions.
type sessionAnswer struct {
	User      user   `json:"user"`
	CSRFToken string `json:"csrf_token"`
}

// browserLogin logs in with POST /api/starling/v1/sessions and returns the answer
// and its cookies by name.
func (s *stack) browserLogin(login string, header http.Header) (response, map[string]*http.Cookie) {
	s.t.Helper()
	r := s.anonymous().doWith("POST", "/api/starling/v1/sessions", map[string]string{"login": login, "password": password(strings.ToLower(login))}, header)
	cookies := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		cookies[c.Name] = c
	}
	for _, name := range []string{"starling_session", "__Host-starling_session"} {
		if v := cookies[name]; v != nil && v.Value != "" {
			s.addSecret(v.Value)
		}
	}
	return r, cookies
}

// browser returns a client holding the cookies of a new browser session of
// login, sending the CSRF header as a well-behaved page script does.
func (s *stack) browser(login string) *client {
	s.t.Helper()
	r, cookies := s.browserLogin(login, nil)
	ans := want[sessionAnswer](s.t, r, http.StatusCreated)
	return &client{s: s, login: ans.User.Login, sessionCookie: cookies["starling_session"].Value,
		csrfCookie: ans.CSRFToken, csrfHeader: ans.CSRFToken}
}

func TestBrowserSessionCookies(t *testing.T) {
	s := newStack(t)
	s.register("ada")
	r, cookies := s.browserLogin("ADA", nil)
	ans := want[sessionAnswer](t, r, http.StatusCreated)
	if ans.User.Login != "ada" || ans.CSRFToken == "" {
		t.Fatalf("session answer %+v, want user ada and a CSRF token", ans)
	}
	session, csrf := cookies["starling_session"], cookies["starling_csrf"]
	if session == nil || csrf == nil {
		t.Fatalf("Set-Cookie %q, want starling_session and starling_csrf", r.header.Values("Set-Cookie"))
	}
	const ttlSeconds = 30 * 24 * 60 * 60
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge != ttlSeconds || session.Secure {
		t.Errorf("session cookie %q, want HttpOnly, SameSite=Lax, Path=/, Max-Age=%d and not Secure over plain HTTP", session.Raw, ttlSeconds)
	}
	if csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode || csrf.Path != "/" || csrf.MaxAge != ttlSeconds || csrf.Value != ans.CSRFToken {
		t.Errorf("CSRF cookie %q, want readable by scripts, SameSite=Lax, Path=/, Max-Age=%d, the answer's csrf_token", csrf.Raw, ttlSeconds)
	}
	// The session token never reaches a script: not in the body, and it
	// differs from the CSRF token.
	if strings.Contains(string(r.body), session.Value) || csrf.Value == session.Value {
		t.Errorf("the session token is readable by scripts: body %s", r.body)
	}
	// The session token is a token like any other.
	bearer := &client{s: s, token: session.Value}
	want[user](t, bearer.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
}

// Over HTTPS the cookies are Secure and carry the __Host- prefix (Path=/,
// no Domain), so that no sibling subdomain or plain-HTTP page can plant
// them; the prefixed cookies then authenticate, and plain-named ones do
// not. Over plain HTTP they keep their plain names and still work.
func TestSecureCookies(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, tc := range []struct {
		name       string
		configure  func(*httpapi.Config)
		header     http.Header
		wantSecure bool
	}{
		{"plain HTTP", nil, nil, false},
		{"--secure-cookies", func(c *httpapi.Config) { c.SecureCookies = true }, nil, true},
		{"trusted proxy says https", func(c *httpapi.Config) { c.TrustedProxies = proxy }, http.Header{"X-Forwarded-Proto": {"https"}}, true},
		{"trusted proxy says http", func(c *httpapi.Config) { c.TrustedProxies = proxy }, http.Header{"X-Forwarded-Proto": {"http"}}, false},
		{"untrusted peer says https", nil, http.Header{"X-Forwarded-Proto": {"https"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStackWith(t, tc.configure)
			s.register("ada")
			r, cookies := s.browserLogin("ada", tc.header)
			ans := want[sessionAnswer](t, r, http.StatusCreated)
			prefix, other := "", "__Host-"
			if tc.wantSecure {
				prefix, other = other, prefix
			}
			session, csrf := cookies[prefix+"starling_session"], cookies[prefix+"starling_csrf"]
			for _, c := range []*http.Cookie{session, csrf} {
				if c == nil || c.Secure != tc.wantSecure || c.Path != "/" || c.Domain != "" {
					t.Fatalf("Set-Cookie %q, want %sstarling_session and %sstarling_csrf, Secure %v, Path=/, no Domain",
						r.header.Values("Set-Cookie"), prefix, prefix, tc.wantSecure)
				}
			}
			if cookies[other+"starling_session"] != nil {
				t.Errorf("Set-Cookie %q also sets %sstarling_session", r.header.Values("Set-Cookie"), other)
			}
			post := map[string]string{"message": "hello"}
			b := &client{s: s, sessionCookie: session.Value, csrfCookie: ans.CSRFToken, csrfHeader: ans.CSRFToken, cookiePrefix: prefix}
			want[status](t, b.doWith("POST", "/api/starling/v1/statuses", post, tc.header), http.StatusCreated)
			// The same cookies under the other names do not authenticate.
			b.cookiePrefix = other
			wantError(t, b.doWith("POST", "/api/starling/v1/statuses", post, tc.header), http.StatusUnauthorized, "unauthorized")
		})
	}
}

func TestCSRF(t *testing.T) {
	s := newStack(t)
	s.register("ada")
	b := s.browser("ada")
	post := map[string]string{"message": "hello"}
	home := []string{"/api/starling/v1/users/ada/statuses", "/api/starling/v1/users/ada"}
	before := b.snapshot(home...)

	// Reading needs no CSRF token.
	noHeader := *b
	noHeader.csrfHeader = ""
	want[user](t, noHeader.do("GET", "/api/starling/v1/me", nil), http.StatusOK)

	for _, tc := range []struct {
		name                   string
		csrfCookie, csrfHeader string
	}{
		{"no header", b.csrfCookie, ""},
		{"no cookie", "", b.csrfHeader},
		{"neither", "", ""},
		{"header differs from cookie", b.csrfCookie, b.csrfHeader + "x"},
		{"cookie and header agree but are not the session's", "forged-token", "forged-token"},
		{"the session token as CSRF token", b.sessionCookie, b.sessionCookie},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *b
			c.csrfCookie, c.csrfHeader = tc.csrfCookie, tc.csrfHeader
			wantError(t, c.do("POST", "/api/starling/v1/statuses", post), http.StatusForbidden, "csrf_failed")
			wantError(t, c.do("DELETE", "/api/starling/v1/sessions/current", nil), http.StatusForbidden, "csrf_failed")
		})
	}
	b.wantUnchanged(before, "requests without a valid CSRF token")

	// Two X-CSRF-Token headers are refused too.
	r := b.doWith("POST", "/api/starling/v1/statuses", post, http.Header{"X-Csrf-Token": {b.csrfHeader, b.csrfHeader}})
	wantError(t, r, http.StatusForbidden, "csrf_failed")

	// A CSRF token belongs to its session.
	other := s.browser("ada")
	mixed := *b
	mixed.csrfCookie, mixed.csrfHeader = other.csrfCookie, other.csrfHeader
	wantError(t, mixed.do("POST", "/api/starling/v1/statuses", post), http.StatusForbidden, "csrf_failed")

	// With the right token, it works.
	want[status](t, b.do("POST", "/api/starling/v1/statuses", post), http.StatusCreated)

	// Bearer requests need no CSRF token, also when a cookie comes along.
	bearer := s.login("ada")
	bearer.sessionCookie = "not-a-session"
	want[status](t, bearer.do("POST", "/api/starling/v1/statuses", post), http.StatusCreated)
}

func TestBrowserLogout(t *testing.T) {
	s := newStack(t)
	s.register("ada")
	b := s.browser("ada")
	other := s.browser("ada")
	r := b.do("DELETE", "/api/starling/v1/sessions/current", nil)
	wantStatus(t, r, http.StatusNoContent)
	cleared := map[string]bool{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.MaxAge < 0 && c.Value == "" && c.Path == "/" {
			cleared[c.Name] = true
		}
	}
	if !cleared["starling_session"] || !cleared["starling_csrf"] {
		t.Errorf("logout Set-Cookie %q, want both cookies cleared", r.header.Values("Set-Cookie"))
	}
	// The token is revoked, and a browser still sending it is told to
	// drop it.
	r = b.do("GET", "/api/starling/v1/me", nil)
	wantError(t, r, http.StatusUnauthorized, "invalid_token")
	if got := strings.Join(r.header.Values("Set-Cookie"), "; "); !strings.Contains(got, "starling_session=;") {
		t.Errorf("a request with a revoked session cookie got Set-Cookie %q, want the cookie cleared", got)
	}
	wantError(t, (&client{s: s, token: b.sessionCookie}).do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	// Other sessions of the user go on.
	want[user](t, other.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
}

func TestBrowserSessionRefusals(t *testing.T) {
	s := newStack(t)
	s.register("ada")
	r, cookies := s.browserLogin("ada", nil)
	wantStatus(t, r, http.StatusCreated)
	r = s.anonymous().do("POST", "/api/starling/v1/sessions", map[string]string{"login": "ada", "password": "wrong password"})
	wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
	if got := r.header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("a failed login set cookies %q", got)
	}
	wantError(t, s.anonymous().do("DELETE", "/api/starling/v1/sessions/current", nil), http.StatusUnauthorized, "unauthorized")

	// Two different session cookies make the caller ambiguous.
	r = s.anonymous().doWith("GET", "/api/starling/v1/me", nil, http.Header{"Cookie": {
		"starling_session=" + cookies["starling_session"].Value + "; starling_session=another-value"}})
	wantError(t, r, http.StatusUnauthorized, "invalid_token")
	// The same cookie twice is not ambiguous.
	r = s.anonymous().doWith("GET", "/api/starling/v1/me", nil, http.Header{"Cookie": {
		"starling_session=" + cookies["starling_session"].Value + "; starling_session=" + cookies["starling_session"].Value}})
	want[user](t, r, http.StatusOK)
}
