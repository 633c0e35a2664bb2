package social

import (
	"errors"
	"fmt"
)

// Errors returned by the Service and by Store implementations. Engines
// translate their own failures into these so that callers can branch with
// errors.Is.
var (
	ErrUserNotFound       = errors.New("social: user not found")
	ErrStatusNotFound     = errors.New("social: status not found")
	ErrListNotFound       = errors.New("social: list not found")
	ErrLoginTaken         = errors.New("social: login taken")
	ErrInvalidCredentials = errors.New("social: invalid credentials")
	ErrInvalidToken       = errors.New("social: invalid or expired token")
	ErrForbidden          = errors.New("social: not yours")
	ErrFollowSelf         = errors.New("social: cannot follow oneself")
	ErrLimitReached       = errors.New("social: limit reached")
	// ErrBusy means the server has too much of that work in hand (password
	// hashes) to take the call; it may succeed later.
	ErrBusy = errors.New("social: busy")
	// ErrSuspended refuses a sign-in to a user an admin has suspended.
	ErrSuspended = errors.New("social: user suspended")
	// ErrUnavailable means the store cannot be reached; the call may
	// succeed later.
	ErrUnavailable = errors.New("social: store unavailable")
)

// ValidationError reports a field whose value breaks a domain rule.
type ValidationError struct {
	Field  string // the field's JSON name
	Reason string // what the value must be, in plain words
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("social: invalid %s: %s", e.Field, e.Reason)
}

// PageError reports paging parameters out of range.
type PageError struct {
	Param  string
	Reason string
}

func (e *PageError) Error() string {
	return fmt.Sprintf("social: bad paging parameter %s: %s", e.Param, e.Reason)
}
