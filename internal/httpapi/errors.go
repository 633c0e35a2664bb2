package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"starling/internal/chat"
	"starling/internal/social"
)

// apiError is an answer this package decides itself (bad JSON, a missing
// token, an unknown route) or the translation of a domain error. Its message
// is safe to send; causes are logged, never put in it.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return "httpapi: " + e.code + ": " + e.message }

// Fixed answers, shared by every request that gets them.
var (
	errUnauthorized = &apiError{http.StatusUnauthorized, "unauthorized", "this endpoint needs an Authorization: Bearer token or a session cookie"}
	errNotFound     = &apiError{http.StatusNotFound, "not_found", "no such endpoint"}
	errBodyTooLarge = &apiError{http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than 64 KiB"}
	errInternal     = &apiError{http.StatusInternalServerError, "internal", "something went wrong on our side; it has been logged"}
	errUnavailable  = &apiError{http.StatusServiceUnavailable, "unavailable", "the store is unavailable; try again later"}
	errBusy         = &apiError{http.StatusServiceUnavailable, "busy", "the server has too many logins and registrations in hand; retry after the number of seconds in the Retry-After header"}
	errBadCursor    = &apiError{http.StatusBadRequest, "invalid_cursor", "cursor must be the id of a message"}
)

// domainErrors translates the social core's sentinels, checked with
// errors.Is so that engines may wrap them with context.
var domainErrors = []struct {
	err    error
	answer *apiError
}{
	{social.ErrUserNotFound, &apiError{http.StatusNotFound, "user_not_found", "no such user"}},
	{social.ErrStatusNotFound, &apiError{http.StatusNotFound, "status_not_found", "no such status"}},
	{social.ErrListNotFound, &apiError{http.StatusNotFound, "list_not_found", "no such list"}},
	{social.ErrLoginTaken, &apiError{http.StatusConflict, "login_taken", "that login is taken"}},
	{social.ErrInvalidCredentials, &apiError{http.StatusUnauthorized, "invalid_credentials", "wrong login or password"}},
	{social.ErrSuspended, &apiError{http.StatusForbidden, "suspended", "this account is suspended"}},
	{social.ErrInvalidToken, &apiError{http.StatusUnauthorized, "invalid_token", "the token is invalid, expired or revoked"}},
	{social.ErrForbidden, &apiError{http.StatusForbidden, "forbidden", "this belongs to another user"}},
	{social.ErrWrongPassword, &apiError{http.StatusForbidden, "wrong_password", "the current password is wrong"}},
	{social.ErrFollowSelf, &apiError{http.StatusUnprocessableEntity, "cannot_follow_self", "a user cannot follow or unfollow themselves"}},
	{social.ErrLimitReached, &apiError{http.StatusUnprocessableEntity, "limit_reached", "a limit on lists, list members or followed users has been reached"}},
	{social.ErrBusy, errBusy},
	{social.ErrUnavailable, errUnavailable},
	// A store call that ran out of time is a store that cannot keep up:
	// the client may retry, as with ErrUnavailable.
	{context.DeadlineExceeded, errUnavailable},
	// A canceled call means the client went away; it never sees the
	// answer, and writeError logs it quietly rather than as a fault.
	{context.Canceled, errUnavailable},
}

// classify returns the answer for err. It is the only place that decides
// which status code and error code an error gets.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ve *social.ValidationError
	if errors.As(err, &ve) {
		return &apiError{http.StatusUnprocessableEntity, "invalid_" + ve.Field, ve.Field + " " + ve.Reason}
	}
	var ce *chat.InputError
	if errors.As(err, &ce) {
		return &apiError{http.StatusUnprocessableEntity, "invalid_" + ce.Field, ce.Field + " " + ce.Reason}
	}
	if errors.Is(err, chat.ErrBadCursor) {
		return errBadCursor
	}
	var pe *social.PageError
	if errors.As(err, &pe) {
		return &apiError{http.StatusBadRequest, "invalid_" + pe.Param, pe.Param + " " + pe.Reason}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	if _, ok := isRateLimited(err); ok {
		return errRateLimited
	}
	for _, d := range domainErrors {
		if errors.Is(err, d.err) {
			return d.answer
		}
	}
	return errInternal
}

// writeError sends the answer for err and logs what the client is not told.
// An *apiError is a decision made with its cause already logged (or with
// none), so only errors from below (the Service, the store) are logged here.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	answer := classify(err)
	var decided *apiError
	switch {
	case errors.As(err, &decided):
	case answer == errInternal:
		a.log.ErrorContext(r.Context(), "httpapi: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case answer == errBusy:
		a.log.DebugContext(r.Context(), "httpapi: busy", "method", r.Method, "path", r.URL.Path)
	case answer.status == http.StatusServiceUnavailable:
		if r.Context().Err() != nil {
			// The client went away mid-call; nothing is wrong with the store.
			a.log.DebugContext(r.Context(), "httpapi: request abandoned", "method", r.Method, "path", r.URL.Path, "err", err)
		} else {
			a.log.WarnContext(r.Context(), "httpapi: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	if rl, ok := isRateLimited(err); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(rl.retryAfterSeconds(), 10))
	}
	if answer == errBusy {
		// About the time a hashing slot takes to come free for a queue.
		w.Header().Set("Retry-After", "1")
	}
	if answer.status == http.StatusUnauthorized {
		challenge := `Bearer realm="starling"`
		if answer.code == "invalid_token" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	writeJSON(w, answer.status, errorJSON{Error: errorDetail{Code: answer.code, Message: answer.message}})
}
