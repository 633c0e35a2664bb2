package httpapi

import (
	"net/http"
)

type sessionJSON struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrf_token"`
}

// createSession: POST /api/starling/v1/sessions {login, password} → 201 {user,
// csrf_token}, with the session in an HttpOnly cookie (starling_session)
// and the CSRF token in a cookie scripts can read (starling_csrf). The
// session token itself is never in the body: no script ever sees it.
func (a *API) createSession(w http.ResponseWriter, r *http.Request) error {
	token, u, err := a.login(w, r)
	if err != nil {
		return err
	}
	csrf := a.setSessionCookies(w, r, token)
	writeJSON(w, http.StatusCreated, sessionJSON{User: presentUser(u), CSRFToken: csrf})
	return nil
}

// deleteSession: DELETE /api/starling/v1/sessions/current → 204; revokes the token
// the request is authenticated with and clears both cookies.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.svc.Logout(r.Context(), s.token); err != nil {
		return err
	}
	a.clearSessionCookies(w, r)
	writeNoContent(w)
	return nil
}
