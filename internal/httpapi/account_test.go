package httpapi_test

import (
	"net/http"
	"testing"
)

// A user whose token or password leaked takes their account back: a
// password change (with the current password) revokes every other session
// at once, and signing out everywhere revokes every session, the one it was
// made with included.
func TestUsersControlTheirSessions(t *testing.T) {
	s := newStack(t)
	ada := s.register("ada")
	stolen := s.login("ada")
	browser := s.browser("ada")
	bob := s.register("bob")
	const next = "a brand new password"
	s.addSecret(next)

	wantError(t, ada.do("PUT", "/api/starling/v1/me/password", map[string]string{"current": "a guess", "new": next}), http.StatusForbidden, "wrong_password")
	wantError(t, ada.do("PUT", "/api/starling/v1/me/password", map[string]string{"current": password("ada"), "new": "short"}), http.StatusUnprocessableEntity, "invalid_new")
	wantError(t, ada.do("PUT", "/api/starling/v1/me/password", map[string]string{"current": password("ada")}), http.StatusUnprocessableEntity, "invalid_new")
	want[user](t, stolen.do("GET", "/api/starling/v1/me", nil), http.StatusOK)

	wantStatus(t, ada.do("PUT", "/api/starling/v1/me/password", map[string]string{"current": password("ada"), "new": next}), http.StatusNoContent)
	want[user](t, ada.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
	wantError(t, stolen.do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	wantError(t, browser.do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	wantError(t, s.anonymous().do("POST", "/api/starling/v1/tokens", map[string]string{"login": "ada", "password": password("ada")}), http.StatusUnauthorized, "invalid_credentials")
	again := want[tokenAnswer](t, s.anonymous().do("POST", "/api/starling/v1/tokens", map[string]string{"login": "ada", "password": next}), http.StatusCreated)
	s.addSecret(again.Token)

	wantStatus(t, ada.do("DELETE", "/api/starling/v1/tokens", nil), http.StatusNoContent)
	wantError(t, ada.do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	wantError(t, (&client{s: s, token: again.Token}).do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	want[user](t, bob.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
	wantError(t, s.anonymous().do("DELETE", "/api/starling/v1/tokens", nil), http.StatusUnauthorized, "unauthorized")
}
