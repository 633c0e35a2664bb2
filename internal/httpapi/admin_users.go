package httpapi

import (
	"net/http"
)

// suspendUser: PUT /api/starling/v1/admin/users/{login}/suspension → 204.
// The user cannot sign in, their tokens are refused and their statuses
// leave every read until the suspension is lifted. Admins only.
func (a *API) suspendUser(w http.ResponseWriter, r *http.Request, _ session) error {
	if _, err := a.svc.Suspend(r.Context(), r.PathValue("login")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restoreUser: DELETE /api/starling/v1/admin/users/{login}/suspension → 204.
// Admins only.
func (a *API) restoreUser(w http.ResponseWriter, r *http.Request, _ session) error {
	if _, err := a.svc.Restore(r.Context(), r.PathValue("login")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// suspendedUsers: GET /api/starling/v1/admin/users/suspended → 200 [user].
// Admins only.
func (a *API) suspendedUsers(w http.ResponseWriter, r *http.Request, _ session) error {
	us, err := a.svc.SuspendedUsers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentUsers(us))
	return nil
}

// revokeUserTokens: DELETE /api/starling/v1/admin/users/{login}/tokens →
// 204. Every session token of the user is revoked (they sign in again, if
// they may). Admins only.
func (a *API) revokeUserTokens(w http.ResponseWriter, r *http.Request, _ session) error {
	u, err := a.svc.User(r.Context(), r.PathValue("login"))
	if err != nil {
		return err
	}
	if err := a.svc.LogoutEverywhere(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
