package httpapi

import (
	"net/http"
	"time"

	"starling/internal/social"
)

// Browser is what the web UI (internal/web) uses of the API's browser
// sessions: the same session cookie, the same CSRF token and the same rate
// limits, so that a page's form post and the API's JSON request are one
// session under one set of rules, and the page's scripts can open the API's
// streams with the cookie the page signed in with.
type Browser struct{ a *API }

// Browser returns the API's browser sessions for the web UI.
func (a *API) Browser() *Browser { return &Browser{a: a} }

// Caller returns who the session cookie of r belongs to. found is false
// when r has no session cookie; err is social.ErrInvalidToken when the
// cookie's session expired or was revoked. No CSRF check is made here: the
// web UI checks its own form field (CheckCSRF).
func (b *Browser) Caller(r *http.Request) (c social.Caller, token string, found bool, err error) {
	token, found, err = b.a.sessionCookieToken(r)
	if err != nil || !found {
		return social.Caller{}, "", found, err
	}
	c, err = b.a.svc.Caller(r.Context(), token)
	return c, token, true, err
}

// CSRFToken is the CSRF token of a session: the value the API wants in
// X-CSRF-Token and the web UI in its forms' csrf field.
func (b *Browser) CSRFToken(sessionToken string) string { return csrfToken(sessionToken) }

// CheckCSRF reports whether sent is the CSRF token of the session, in
// constant time.
func (b *Browser) CheckCSRF(sessionToken, sent string) bool {
	return sent != "" && constantTimeEqual(sent, csrfToken(sessionToken))
}

// SignIn checks a login and password within the login rate limits and, when
// they are right, starts a browser session (both cookies).
func (b *Browser) SignIn(w http.ResponseWriter, r *http.Request, login, password string) (social.User, error) {
	a := b.a
	if err := a.allowIP(r, "login", a.limits.Login, failClosed); err != nil {
		return social.User{}, err
	}
	if err := a.allowLoginAttempt(r, login); err != nil {
		return social.User{}, err
	}
	token, u, err := a.svc.Login(social.WithClient(r.Context(), a.clientSubject(r)), login, password)
	if err != nil {
		return social.User{}, err
	}
	a.setSessionCookies(w, r, token)
	return u, nil
}

// SignUp registers a user within the registration rate limit and signs
// them in.
func (b *Browser) SignUp(w http.ResponseWriter, r *http.Request, login, name, password string) (social.User, error) {
	a := b.a
	if err := a.allowIP(r, "register", a.limits.Register, failClosed); err != nil {
		return social.User{}, err
	}
	ctx := social.WithClient(r.Context(), a.clientSubject(r))
	if _, err := a.svc.Register(ctx, login, name, password); err != nil {
		return social.User{}, err
	}
	token, u, err := a.svc.Login(ctx, login, password)
	if err != nil {
		return social.User{}, err
	}
	a.setSessionCookies(w, r, token)
	return u, nil
}

// SignOut revokes the session token and clears both cookies.
func (b *Browser) SignOut(w http.ResponseWriter, r *http.Request, sessionToken string) error {
	if err := b.a.svc.Logout(r.Context(), sessionToken); err != nil {
		return err
	}
	b.a.clearSessionCookies(w, r)
	return nil
}

// ChangePassword changes the password of the session's user, as PUT
// /api/starling/v1/me/password does: the current password is a guess
// within the same per-login limits, hashed in the client's turn, and every
// other session of the user is signed out.
func (b *Browser) ChangePassword(r *http.Request, c social.Caller, sessionToken, current, next string) error {
	a := b.a
	if err := a.allowLoginAttempt(r, c.Login); err != nil {
		return err
	}
	return a.svc.ChangePassword(social.WithClient(r.Context(), a.clientSubject(r)), sessionToken, current, next)
}

// SignOutEverywhere ends every session of the user, as DELETE
// /api/starling/v1/tokens does, and clears this browser's cookies.
func (b *Browser) SignOutEverywhere(w http.ResponseWriter, r *http.Request, uid social.UserID) error {
	if err := b.a.svc.LogoutEverywhere(r.Context(), uid); err != nil {
		return err
	}
	b.a.clearSessionCookies(w, r)
	return nil
}

// Serve answers a web UI request with what every answer of the process
// gets beside its own headers: an X-Request-Id, the read deadline of
// Config.ReadTimeout (see ExtendReadDeadline), and, once answered, an access
// line, the HTTP metrics and a record in the live access log under route
// (the page's pattern, never its path; "" when no page matched).
func (b *Browser) Serve(w http.ResponseWriter, r *http.Request, route string, h http.Handler) {
	a := b.a
	start := time.Now()
	rec := &responseRecorder{ResponseWriter: w}
	id := a.requestID(r)
	rec.Header()[requestIDHeader] = []string{id}
	http.NewResponseController(w).SetReadDeadline(start.Add(a.readTimeout)) //nolint:errcheck // recorders cannot; see ServeHTTP
	if route == "" {
		route = unmatchedRoute
	}
	defer a.finishRequest(r, rec, route, id, start)
	h.ServeHTTP(rec, r)
}

// ClearSession tells the browser to drop the session cookies (a session
// that expired or was revoked elsewhere).
func (b *Browser) ClearSession(w http.ResponseWriter, r *http.Request) { b.a.clearSessionCookies(w, r) }

// AllowPost spends one status post of the user's Post limit.
func (b *Browser) AllowPost(r *http.Request, uid social.UserID) error {
	return b.a.allowUser(r, "post", b.a.limits.Post, uid)
}

// AllowFollow spends one follow, unfollow or list change of the user's
// Follow limit.
func (b *Browser) AllowFollow(r *http.Request, uid social.UserID) error {
	return b.a.allowUser(r, "follow", b.a.limits.Follow, uid)
}

// Secure reports whether r reached the deployment over TLS (cookies set
// for it must be Secure).
func (b *Browser) Secure(r *http.Request) bool { return b.a.secureRequest(r) }

// RetryAfter reports whether err refuses a request over a rate limit, and
// how long the client should wait.
func RetryAfter(err error) (time.Duration, bool) {
	rl, ok := isRateLimited(err)
	if !ok {
		return 0, false
	}
	return time.Duration(rl.retryAfterSeconds()) * time.Second, true
}
