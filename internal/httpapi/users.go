package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"starling/internal/social"
)

// register: POST /api/starling/v1/users {login, name, password} → 201 user.
func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	if err := a.allowIP(r, "register", a.limits.Register, failClosed); err != nil {
		return err
	}
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.svc.Register(social.WithClient(r.Context(), a.clientSubject(r)), req.Login, req.Name, req.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/users/"+url.PathEscape(u.Login))
	writeJSON(w, http.StatusCreated, presentUser(u))
	return nil
}

// createToken: POST /api/starling/v1/tokens {login, password} → 201 {token, user}.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	token, u, err := a.login(w, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenJSON{Token: token, User: presentUser(u)})
	return nil
}

// login checks the {login, password} body of a token or session request
// and issues a token, within the login rate limits: per client address
// before the body is read, per login tried once it is known.
func (a *API) login(w http.ResponseWriter, r *http.Request) (string, social.User, error) {
	if err := a.allowIP(r, "login", a.limits.Login, failClosed); err != nil {
		return "", social.User{}, err
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return "", social.User{}, err
	}
	if err := a.allowLoginAttempt(r, req.Login); err != nil {
		return "", social.User{}, err
	}
	return a.svc.Login(social.WithClient(r.Context(), a.clientSubject(r)), req.Login, req.Password)
}

// deleteToken: DELETE /api/starling/v1/tokens/current → 204; the presented token
// stops working at once.
func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.svc.Logout(r.Context(), s.token); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// user: GET /api/starling/v1/users/{login} → 200 user.
func (a *API) user(w http.ResponseWriter, r *http.Request) error {
	u, err := a.svc.User(r.Context(), r.PathValue("login"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentUser(u))
	return nil
}

// me: GET /api/starling/v1/me → 200 user, the caller's current profile.
func (a *API) me(w http.ResponseWriter, r *http.Request, s session) error {
	u, err := a.svc.UserByID(r.Context(), s.user.ID)
	if errors.Is(err, social.ErrUserNotFound) {
		return social.ErrInvalidToken
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentUser(u))
	return nil
}

// follow: PUT /api/starling/v1/me/following/{login} → 204, also when already
// following.
func (a *API) follow(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.allowUser(r, "follow", a.limits.Follow, s.user.ID); err != nil {
		return err
	}
	if err := a.svc.Follow(r.Context(), s.user.ID, r.PathValue("login")); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// unfollow: DELETE /api/starling/v1/me/following/{login} → 204, also when not
// following.
func (a *API) unfollow(w http.ResponseWriter, r *http.Request, s session) error {
	if err := a.allowUser(r, "follow", a.limits.Follow, s.user.ID); err != nil {
		return err
	}
	if err := a.svc.Unfollow(r.Context(), s.user.ID, r.PathValue("login")); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// followers: GET /api/starling/v1/users/{login}/followers?count&page → 200 [user],
// most recent follower first.
func (a *API) followers(w http.ResponseWriter, r *http.Request) error {
	return a.userPage(w, r, a.svc.Followers)
}

// following: GET /api/starling/v1/users/{login}/following?count&page → 200 [user],
// most recently followed first.
func (a *API) following(w http.ResponseWriter, r *http.Request) error {
	return a.userPage(w, r, a.svc.Following)
}

func (a *API) userPage(w http.ResponseWriter, r *http.Request, page func(ctx context.Context, login string, p social.Page) ([]social.User, error)) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	users, err := page(r.Context(), r.PathValue("login"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, presentUsers(users))
	return nil
}
