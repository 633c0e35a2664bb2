package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"starling/internal/ratelimit"
	"starling/internal/social"
)

// limiterTimeout bounds one rate-limit decision: a limiter that cannot
// answer in time is treated as failed, so a slow Redis slows no request by
// more than this.
const limiterTimeout = time.Second

// rateLimitedError refuses a request over a rate limit; writeError turns
// it into 429 rate_limited with a Retry-After header.
type rateLimitedError struct {
	retryAfter time.Duration
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("httpapi: rate limited; retry after %v", e.retryAfter)
}

// retryAfterSeconds rounds up, so that a client that waits as told is let
// through.
func (e *rateLimitedError) retryAfterSeconds() int64 {
	return max(1, int64((e.retryAfter+time.Second-1)/time.Second))
}

var errRateLimited = &apiError{http.StatusTooManyRequests, "rate_limited", "too many requests; retry after the number of seconds in the Retry-After header"}

// failMode says what a request does when the limiter cannot decide.
type failMode bool

const (
	// failOpen lets the request through: a limiter outage must not take
	// the API down, and reads and ordinary writes are bounded by the store
	// itself (which, on Redis, is down too).
	failOpen failMode = false
	// failClosed refuses it with 503: for the password checks, where the
	// limit is the guard against guessing.
	failClosed failMode = true
)

// allow spends one request of limit under policy:subject. It returns nil
// when the request may go on, a *rateLimitedError when it is over the
// limit, and, when the limiter fails, nil or an unavailable error as mode
// says.
func (a *API) allow(r *http.Request, policy string, limit ratelimit.Limit, subject string, mode failMode) error {
	if a.limiter == nil || limit.Unlimited() {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), limiterTimeout)
	defer cancel()
	d, err := a.limiter.Allow(ctx, policy+":"+subject, limit)
	if err != nil {
		if r.Context().Err() != nil {
			return r.Context().Err() // the client left; nothing to decide
		}
		if mode == failClosed {
			return fmt.Errorf("httpapi: rate limiter (%s): %w: %w", policy, social.ErrUnavailable, err)
		}
		a.log.WarnContext(r.Context(), "httpapi: rate limiter failed; letting the request through",
			"policy", policy, "method", r.Method, "path", r.URL.Path, "err", err)
		return nil
	}
	if !d.Allowed {
		return &rateLimitedError{retryAfter: d.RetryAfter}
	}
	return nil
}

// allowIP limits by the client's address (see clientIP).
func (a *API) allowIP(r *http.Request, policy string, limit ratelimit.Limit, mode failMode) error {
	return a.allow(r, policy, limit, "ip:"+ipSubject(clientIP(r, a.trustedProxies)), mode)
}

// allowUser limits by the authenticated user.
func (a *API) allowUser(r *http.Request, policy string, limit ratelimit.Limit, uid social.UserID) error {
	return a.allow(r, policy, limit, "uid:"+strconv.FormatInt(int64(uid), 10), failOpen)
}

// allowLoginAttempt spends one attempt against a login: from the client's
// address block (LoginTarget), then from anywhere (LoginAccount). A block
// over its limit spends nothing of the login's overall budget, so that one
// block locks only itself out. Logins that cannot exist are left to the
// per-address limit: they match no account, and keying on them would let a
// client fill the limiter with arbitrary strings.
func (a *API) allowLoginAttempt(r *http.Request, login string) error {
	if !social.ValidLogin(login) {
		return nil
	}
	login = strings.ToLower(login)
	block := blockSubject(clientIP(r, a.trustedProxies))
	if err := a.allow(r, "login-target", a.limits.LoginTarget, "login:"+login+":"+block, failClosed); err != nil {
		return err
	}
	return a.allow(r, "login-account", a.limits.LoginAccount, "login:"+login, failClosed)
}

func isRateLimited(err error) (*rateLimitedError, bool) {
	var rl *rateLimitedError
	ok := errors.As(err, &rl)
	return rl, ok
}

// allowChatMessage spends one chat message of the Chat policy, for the
// chat transports: per user, or per client address for an anonymous
// sender (uid 0). It fails open.
func (a *API) allowChatMessage(r *http.Request, uid social.UserID) error {
	if uid == 0 {
		return a.allowIP(r, "chat", a.limits.Chat, failOpen)
	}
	return a.allowUser(r, "chat", a.limits.Chat, uid)
}

// allowStreamConnection spends one stream connection of the Stream policy,
// for the streaming transports: per client address, and per user (native
// streams with a caller, uid > 0) or per identifier (classic streams). It
// fails open.
func (a *API) allowStreamConnection(r *http.Request, identifier string, uid social.UserID) error {
	if err := a.allowIP(r, "stream", a.limits.Stream, failOpen); err != nil {
		return err
	}
	if uid > 0 {
		return a.allowUser(r, "stream", a.limits.Stream, uid)
	}
	return a.allow(r, "stream", a.limits.Stream, "id:"+identifier, failOpen)
}
