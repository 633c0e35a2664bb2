package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"starling/internal/social"
)

// session is an authenticated caller and the token it presented, which
// DELETE /api/starling/v1/tokens/current and /api/starling/v1/sessions/current revoke. It
// holds only what never changes about the user (id and login); endpoints
// that show the profile read it from the store.
type session struct {
	user  social.Caller
	token string
}

// author is the caller as the Service's Post and CreateList take it: they
// read only the id and the login.
func (s session) author() social.User {
	return social.User{ID: s.user.ID, Login: s.user.Login}
}

// tokenSource finds the session token a request presents one way. found is
// false when the request presents none this way; err refuses a request that
// presents one improperly (sessionCookie refuses a state-changing request
// whose CSRF token does not match).
type tokenSource func(r *http.Request) (token string, found bool, err error)

// bearerToken reads "Authorization: Bearer <token>" (RFC 6750). Another
// scheme counts as no token, so that the answer tells the client which
// scheme to use.
func bearerToken(r *http.Request) (string, bool, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", false, nil
	}
	if len(values) > 1 {
		return "", true, social.ErrInvalidToken
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	return strings.TrimSpace(token), true, nil
}

// authenticate returns the caller of r: 401 unauthorized when r presents no
// token, 401 invalid_token when the token is unknown, expired or revoked.
func (a *API) authenticate(r *http.Request) (session, error) {
	for _, source := range a.tokenSources {
		token, found, err := source(r)
		if err != nil {
			return session{}, err
		}
		if !found {
			continue
		}
		c, err := a.svc.Caller(r.Context(), token)
		if err != nil {
			return session{}, err
		}
		return session{user: c, token: token}, nil
	}
	return session{}, errUnauthorized
}

// authedFunc is an endpoint that needs a caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, s session) error

func (a *API) authed(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := a.authenticate(r)
		if err != nil {
			// A browser cannot drop an HttpOnly cookie itself: tell it to
			// when the session it holds has expired or was revoked.
			if errors.Is(err, social.ErrInvalidToken) && len(r.Header.Values("Authorization")) == 0 {
				if _, found, _ := a.sessionCookie(r); found {
					a.clearSessionCookies(w, r)
				}
			}
			return err
		}
		return h(w, r, s)
	}
}

var errNotAdmin = &apiError{http.StatusForbidden, "forbidden", "only administrators may do this"}

// admin is authed restricted to Config.Admins: anyone else gets 403.
func (a *API) admin(h authedFunc) handlerFunc {
	return a.authed(func(w http.ResponseWriter, r *http.Request, s session) error {
		if !a.admins[s.user.ID] {
			return errNotAdmin
		}
		return h(w, r, s)
	})
}
