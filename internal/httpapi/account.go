package httpapi

import (
	"net/http"

	"starling/internal/social"
)

// deleteAllTokens: DELETE /api/starling/v1/tokens → 204; signs the caller out
// everywhere: every token of theirs stops working, the presented one
// included (at once on this process, within the session cache's TTL on
// others). A browser's cookies are cleared too.
func (a *API) deleteAllTokens(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.svc.LogoutEverywhere(r.Context(), s.user.ID); err != nil {
		return err
	}
	if _, found, _ := a.sessionCookie(r); found {
		a.clearSessionCookies(w, r)
	}
	writeNoContent(w)
	return nil
}

// changePassword: PUT /api/starling/v1/me/password {current, new} → 204; every
// other token of the caller is revoked, the presented one stays valid. The
// current password is a guess like a login's, within the same per-login
// limits.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request, s session) error {
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := a.allowLoginAttempt(r, s.user.Login); err != nil {
		return err
	}
	ctx := social.WithClient(r.Context(), a.clientSubject(r))
	if err := a.svc.ChangePassword(ctx, s.token, req.Current, req.New); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}
