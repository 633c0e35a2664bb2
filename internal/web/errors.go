package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"starling/internal/httpapi"
	"starling/internal/social"
)

// formErrors are the messages shown next to a form's fields, by field
// name; "" is the form's own message.
type formErrors map[string]string

// formValues are what the viewer typed, shown again beside the errors.
type formValues map[string]string

// describe turns a failure into a sentence for people and the status of
// the page that shows it.
func describe(err error) (string, int) {
	if d, ok := httpapi.RetryAfter(err); ok {
		return fmt.Sprintf("You are doing that too often. Try again in %s.", retryIn(d)), http.StatusTooManyRequests
	}
	var ve *social.ValidationError
	if errors.As(err, &ve) {
		return capitalize(ve.Field) + " " + ve.Reason + ".", http.StatusUnprocessableEntity
	}
	var pe *social.PageError
	if errors.As(err, &pe) {
		return "That page does not exist: " + pe.Param + " " + pe.Reason + ".", http.StatusBadRequest
	}
	switch {
	case errors.Is(err, social.ErrUserNotFound):
		return "There is no such user.", http.StatusNotFound
	case errors.Is(err, social.ErrStatusNotFound):
		return "That status does not exist (it may have been deleted).", http.StatusNotFound
	case errors.Is(err, social.ErrListNotFound):
		return "There is no such list.", http.StatusNotFound
	case errors.Is(err, social.ErrLoginTaken):
		return "That login is taken; choose another.", http.StatusConflict
	case errors.Is(err, social.ErrInvalidCredentials):
		return "Wrong login or password.", http.StatusUnauthorized
	case errors.Is(err, social.ErrWrongPassword):
		return "That is not your current password.", http.StatusForbidden
	case errors.Is(err, social.ErrBusy):
		return "Too many sign-ins are being checked right now; try again in a second.", http.StatusServiceUnavailable
	case errors.Is(err, social.ErrForbidden):
		return "That belongs to someone else.", http.StatusForbidden
	case errors.Is(err, social.ErrFollowSelf):
		return "You cannot follow or unfollow yourself.", http.StatusUnprocessableEntity
	case errors.Is(err, social.ErrLimitReached):
		return "You have reached the limit on lists or list members.", http.StatusUnprocessableEntity
	case errors.Is(err, social.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "The service is busy or unavailable; try again in a moment.", http.StatusServiceUnavailable
	}
	return "Something went wrong on our side; it has been logged.", http.StatusInternalServerError
}

// fieldOf names the form field a failure is about, "" for the form.
func fieldOf(err error) string {
	var ve *social.ValidationError
	if errors.As(err, &ve) {
		return ve.Field
	}
	if errors.Is(err, social.ErrWrongPassword) {
		return "current"
	}
	return ""
}

func retryIn(d time.Duration) string {
	s := int(d / time.Second)
	if s <= 1 {
		return "a second"
	}
	if s < 90 {
		return fmt.Sprintf("%d seconds", s)
	}
	return fmt.Sprintf("%d minutes", (s+59)/60)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// formFailure shows a form again with err next to its field, with the
// status describe gives. It returns the errors for the page to render.
func formFailure(w http.ResponseWriter, err error) (formErrors, int) {
	msg, status := describe(err)
	setRetryAfter(w, err)
	return formErrors{fieldOf(err): msg}, status
}

// setRetryAfter tells the client when to try again after a rate limit or a
// busy hashing queue.
func setRetryAfter(w http.ResponseWriter, err error) {
	if d, ok := httpapi.RetryAfter(err); ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(d/time.Second)))
	} else if errors.Is(err, social.ErrBusy) {
		w.Header().Set("Retry-After", "1") // about the time a hashing slot takes to come free
	}
}

// writeFetchError answers a page script's form post that failed:
// {"error": {"code", "message", "field"}}.
func writeFetchError(w http.ResponseWriter, status int, field, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{ //nolint:errcheck // the client left
		"code": http.StatusText(status), "message": message, "field": field,
	}})
}

// showFormError answers a failed form post: the JSON error for a page
// script, else the page again (show renders it with the errors).
func showFormError(w http.ResponseWriter, r *http.Request, err error, show func(formErrors, int) error) error {
	errs, status := formFailure(w, err)
	if fetched(r) {
		for field, msg := range errs {
			writeFetchError(w, status, field, msg)
		}
		return nil
	}
	return show(errs, status)
}
