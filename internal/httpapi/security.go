package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"starling/internal/social"
)

// SetSecurityHeaders sets the headers every answer of a Starling server
// carries, API or web page: a Content-Security-Policy that allows scripts
// and styles from the server itself only (no inline script, no plugins, no
// <base>, no framing), no MIME sniffing, no Referer leaving the site, and
// no framing for browsers that predate frame-ancestors. Other handlers of
// the process (the web UI) call it too.
func SetSecurityHeaders(h http.Header) {
	h["Content-Security-Policy"] = hdrCSP
	h["X-Content-Type-Options"] = hdrNosniff
	h["Referrer-Policy"] = hdrNoReferrer
	h["X-Frame-Options"] = hdrDeny
}

const contentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Header values set on every answer, shared by all of them rather than
// allocated per request (the keys are in canonical form). Sharing is safe
// because nothing writes into a header's value slice: Set replaces it, and
// Add appends to a slice whose capacity is its length, which copies.
var (
	hdrCSP         = []string{contentSecurityPolicy}
	hdrNosniff     = []string{"nosniff"}
	hdrNoReferrer  = []string{"no-referrer"}
	hdrDeny        = []string{"DENY"}
	hdrNoStore     = []string{"no-store"}
	hdrContentJSON = []string{contentTypeJSON}
)

// Browser sessions. The web UI logs in with POST /api/starling/v1/sessions, which
// sets two cookies: the session token, HttpOnly so that no script can read
// it, and a CSRF token that scripts read and send back in a header on
// every state-changing request (double submit). The CSRF token is derived
// from the session token, so a cookie planted by a sibling site cannot be
// paired with a header the attacker chose.
//
// Over HTTPS the cookies are Secure and named with the __Host- prefix, which
// browsers accept only from a secure origin, for Path=/ and without a
// Domain: a sibling subdomain or a plain-HTTP page cannot set or overwrite
// them (no session fixation). Requests over HTTPS read only the prefixed
// names. Over plain HTTP (development) the cookies keep their plain names,
// which is all a browser accepts there.
const (
	sessionCookieName = "starling_session"
	csrfCookieName    = "starling_csrf"
	hostPrefix        = "__Host-"
	csrfHeaderName    = "X-CSRF-Token"
)

// cookieNames returns the names of the session and CSRF cookies for a
// request that is secure or not (see secureRequest).
func cookieNames(secure bool) (session, csrf string) {
	if secure {
		return hostPrefix + sessionCookieName, hostPrefix + csrfCookieName
	}
	return sessionCookieName, csrfCookieName
}

var errCSRF = &apiError{http.StatusForbidden, "csrf_failed",
	"a state-changing request authenticated by the session cookie needs an X-CSRF-Token header equal to the CSRF cookie (starling_csrf, or __Host-starling_csrf over HTTPS)"}

// csrfToken derives the CSRF token of a session token. It is a MAC keyed
// by the session token, so it reveals nothing of the token, differs from
// the hash the store keeps, and needs no state of its own.
func csrfToken(sessionToken string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("starling csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// safeMethod reports whether a method only reads (RFC 9110 §9.2.1);
// every other method needs a CSRF token when a cookie authenticates it.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// sessionCookie is the tokenSource of browser sessions: the session cookie
// of the request's kind (cookieNames), with a matching CSRF token on
// state-changing requests. Several session cookies with different values
// (one planted by a sibling site) make the request's identity ambiguous,
// and it is refused.
func (a *API) sessionCookie(r *http.Request) (string, bool, error) {
	token, found, err := a.sessionCookieToken(r)
	if err != nil || !found {
		return token, found, err
	}
	_, csrfName := cookieNames(a.secureRequest(r))
	if !safeMethod(r.Method) && !validCSRF(r, token, csrfName) {
		return "", true, errCSRF
	}
	return token, true, nil
}

// sessionCookieToken is sessionCookie without the CSRF check, for callers
// that check a CSRF token of their own before using it: the classic chat
// protocol (the _xsrf double submit, chat_classic.go) and the web UI (its
// forms' csrf field, browser.go).
func (a *API) sessionCookieToken(r *http.Request) (string, bool, error) {
	sessionName, _ := cookieNames(a.secureRequest(r))
	token := ""
	for _, c := range r.CookiesNamed(sessionName) {
		switch {
		case c.Value == "":
		case token == "":
			token = c.Value
		case c.Value != token:
			return "", true, social.ErrInvalidToken
		}
	}
	if token == "" {
		return "", false, nil
	}
	return token, true, nil
}

// constantTimeEqual compares two secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// validCSRF reports whether r carries one X-CSRF-Token header that equals
// a CSRF cookie (named csrfName) and the CSRF token of the session,
// compared in constant time.
func validCSRF(r *http.Request, sessionToken, csrfName string) bool {
	headers := r.Header.Values(csrfHeaderName)
	if len(headers) != 1 {
		return false
	}
	got := []byte(headers[0])
	if subtle.ConstantTimeCompare(got, []byte(csrfToken(sessionToken))) != 1 {
		return false
	}
	matched := 0
	for _, c := range r.CookiesNamed(csrfName) {
		matched |= subtle.ConstantTimeCompare(got, []byte(c.Value))
	}
	return matched == 1
}

// setSessionCookies sets the cookies of a new browser session.
func (a *API) setSessionCookies(w http.ResponseWriter, r *http.Request, token string) string {
	secure := a.secureRequest(r)
	sessionName, csrfName := cookieNames(secure)
	maxAge := int(a.svc.Config().TokenTTL / time.Second)
	csrf := csrfToken(token)
	http.SetCookie(w, &http.Cookie{Name: sessionName, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: csrfName, Value: csrf, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteLaxMode})
	return csrf
}

// clearSessionCookies tells the browser to drop both session cookies.
func (a *API) clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	secure := a.secureRequest(r)
	sessionName, csrfName := cookieNames(secure)
	for _, name := range []string{sessionName, csrfName} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == sessionName, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

// secureRequest reports whether r reached the deployment over TLS: TLS to
// this process, a trusted proxy saying so, or the operator saying every
// request does (Config.SecureCookies).
func (a *API) secureRequest(r *http.Request) bool {
	if r.TLS != nil || a.secureCookies {
		return true
	}
	if !a.fromTrustedProxy(r) {
		return false
	}
	protos := r.Header.Values("X-Forwarded-Proto")
	if len(protos) == 0 {
		return false
	}
	// The nearest proxy appends last.
	last := protos[len(protos)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

// Client addresses.

// maxForwardedHops bounds how much of X-Forwarded-For is read, so that a
// long header costs nothing.
const maxForwardedHops = 32

func (a *API) fromTrustedProxy(r *http.Request) bool {
	addr, ok := remoteAddr(r.RemoteAddr)
	return ok && trusted(addr, a.trustedProxies)
}

// clientIP returns the address a request came from: the peer's address,
// or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not a trusted proxy. X-Forwarded-For is read
// from the right, since every proxy appends the address it saw and only
// the entries added by trusted proxies can be believed. It reports false
// when the peer's address is not an IP address (a Unix socket).
func clientIP(r *http.Request, trustedProxies []netip.Prefix) (netip.Addr, bool) {
	addr, ok := remoteAddr(r.RemoteAddr)
	if !ok || !trusted(addr, trustedProxies) {
		return addr, ok
	}
	hops := 0
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			if hops++; hops > maxForwardedHops {
				return addr, true
			}
			hop, ok := parseForwarded(entries[j])
			if !ok {
				// A trusted proxy passed on something that is not an
				// address; the last address known for sure is the client.
				return addr, true
			}
			addr = hop
			if !trusted(addr, trustedProxies) {
				return addr, true
			}
		}
	}
	return addr, true
}

// remoteAddr reads the peer's address from RemoteAddr. A link-local peer's
// address comes with the zone of the interface it reached ("fe80::1%eth0"),
// which names this host's interface, not the client: it is dropped, so that
// one client is one key for rate limits and logs.
func remoteAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// parseForwarded reads one X-Forwarded-For entry: an address, optionally
// with a port ("192.0.2.1:443", "[2001:db8::1]:443").
func parseForwarded(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func trusted(addr netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ipSubject names the client of a request for per-address limits. An IPv6
// client is named by its /64, the block one subscriber usually holds, so
// that walking through a block's addresses does not reset the limits.
func ipSubject(addr netip.Addr, ok bool) string {
	if !ok || !addr.IsValid() {
		return "unknown"
	}
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		return p.String()
	}
	return addr.String()
}

// blockSubject names the address block of a client for the per-login
// limit: its IPv4 /24 or IPv6 /64, about what one subscriber or one small
// network holds.
func blockSubject(addr netip.Addr, ok bool) string {
	if !ok || !addr.IsValid() {
		return "unknown"
	}
	bits := 24
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.WithZone("").Prefix(bits)
	return p.String()
}

// clientSubject names the client of r for the hashing queue (see
// social.WithClient): the same key as the per-address rate limits.
func (a *API) clientSubject(r *http.Request) string {
	return ipSubject(clientIP(r, a.trustedProxies))
}
