package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
	"starling/internal/ratelimit"
)

// hourly allows a burst of n, then one request an hour: nothing refills
// while a test runs.
func hourly(n int) ratelimit.Limit { return ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: n} }

// generous leaves a policy out of the way of a test about another one.
var generous = ratelimit.Limit{Rate: 1000, Per: time.Second, Burst: 1000}

// newLimitedStack runs the API with an in-process limiter, the given
// policies (unset ones generous) and loopback as a trusted proxy, so that
// tests choose their client address with X-Forwarded-For.
func newLimitedStack(t *testing.T, p ratelimit.Policies) *stack {
	t.Helper()
	for _, l := range []*ratelimit.Limit{&p.Register, &p.Login, &p.LoginTarget, &p.LoginAccount, &p.Post, &p.Follow, &p.Chat, &p.Stream} {
		if l.IsZero() {
			*l = generous
		}
	}
	return newStackWith(t, func(c *httpapi.Config) {
		c.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
		c.RateLimits = p
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
}

func from(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

// wantRateLimited checks a 429 answer: the error shape, code
// rate_limited, and a Retry-After of whole seconds within (0, max].
func wantRateLimited(t *testing.T, r response, max time.Duration) {
	t.Helper()
	wantError(t, r, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > max {
		t.Fatalf("Retry-After %q, want whole seconds within [1, %v]", r.header.Get("Retry-After"), max)
	}
}

func registerBody(login string) map[string]string {
	return map[string]string{"login": login, "name": login, "password": password(login)}
}

func TestRegisterRateLimit(t *testing.T) {
	s := newLimitedStack(t, ratelimit.Policies{Register: hourly(2)})
	anon := s.anonymous()
	for _, login := range []string{"a1", "a2"} {
		want[user](t, anon.doWith("POST", "/api/starling/v1/users", registerBody(login), from("192.0.2.1")), http.StatusCreated)
	}
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/users", registerBody("a3"), from("192.0.2.1")), time.Hour)
	wantError(t, anon.do("GET", "/api/starling/v1/users/a3", nil), http.StatusNotFound, "user_not_found")
	// Another address has a budget of its own; the refused one still has
	// none, whatever it sends.
	want[user](t, anon.doWith("POST", "/api/starling/v1/users", registerBody("b1"), from("198.51.100.7")), http.StatusCreated)
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/users", rawBody{"application/json", "{", false}, from("192.0.2.1")), time.Hour)
}

func TestForwardedForIsIgnoredFromUntrustedPeers(t *testing.T) {
	s := newStackWith(t, func(c *httpapi.Config) {
		c.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
		c.RateLimits = ratelimit.Policies{Register: hourly(1)}
	})
	anon := s.anonymous()
	want[user](t, anon.doWith("POST", "/api/starling/v1/users", registerBody("a1"), from("192.0.2.1")), http.StatusCreated)
	// Loopback is no trusted proxy here: a made-up X-Forwarded-For does
	// not buy a fresh budget.
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/users", registerBody("a2"), from("198.51.100.7")), time.Hour)
}

func TestLoginRateLimits(t *testing.T) {
	s := newLimitedStack(t, ratelimit.Policies{Login: hourly(3), LoginTarget: hourly(2), LoginAccount: hourly(5)})
	for _, login := range []string{"ada", "bob"} {
		s.register(login)
	}
	anon := s.anonymous()
	wrong := map[string]string{"login": "ada", "password": "wrong password"}
	right := map[string]string{"login": "ada", "password": password("ada")}

	// Per address: three attempts from 192.0.2.1 (s.register logged in
	// from loopback, not from it), whatever the endpoint and the login.
	wantError(t, anon.doWith("POST", "/api/starling/v1/tokens", wrong, from("192.0.2.1")), http.StatusUnauthorized, "invalid_credentials")
	wantError(t, anon.doWith("POST", "/api/starling/v1/sessions", wrong, from("192.0.2.1")), http.StatusUnauthorized, "invalid_credentials")
	want[tokenAnswer](t, anon.doWith("POST", "/api/starling/v1/tokens", map[string]string{"login": "bob", "password": password("bob")}, from("192.0.2.1")), http.StatusCreated)
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/tokens", map[string]string{"login": "bob", "password": password("bob")}, from("192.0.2.1")), time.Hour)

	// Per login and address block: ada had two attempts from 192.0.2.0/24,
	// so another address of that block has none left for ada...
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/tokens", right, from("192.0.2.77")), time.Hour)
	// ...but another block logs in with the right password.
	want[tokenAnswer](t, anon.doWith("POST", "/api/starling/v1/tokens", right, from("198.51.100.1")), http.StatusCreated)

	// Per login from everywhere: ada's budget of 5 had 1 (registration),
	// 2 (192.0.2.0/24) and 1 (198.51.100.0/24); one more from anywhere,
	// then none, in any letter case.
	wantError(t, anon.doWith("POST", "/api/starling/v1/tokens", wrong, from("203.0.113.1")), http.StatusUnauthorized, "invalid_credentials")
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/tokens", map[string]string{"login": "ADA", "password": password("ada")}, from("2001:db8::1")), time.Hour)
	// Another login is not affected.
	want[tokenAnswer](t, anon.doWith("POST", "/api/starling/v1/tokens", map[string]string{"login": "bob", "password": password("bob")}, from("198.51.100.4")), http.StatusCreated)
	// Logins that cannot exist count against the address only.
	for i := range 3 {
		wantError(t, anon.doWith("POST", "/api/starling/v1/tokens", map[string]string{"login": "no such login!", "password": "x"}, from(fmt.Sprint("203.0.113.", 10+i))), http.StatusUnauthorized, "invalid_credentials")
	}
}

// Ten wrong guesses from one address used to lock the right password out
// from every address for as long as the per-login limit took to refill, so
// one address could keep many accounts locked. Now the guesses lock out
// their own address block only.
func TestWrongGuessesLockOutOnlyTheirBlock(t *testing.T) {
	d := ratelimit.DefaultPolicies()
	s := newLimitedStack(t, ratelimit.Policies{LoginTarget: d.LoginTarget, LoginAccount: d.LoginAccount})
	s.register("ada")
	anon := s.anonymous()
	wrong := map[string]string{"login": "ada", "password": "wrong password"}
	for i := range d.LoginTarget.Burst {
		wantError(t, anon.doWith("POST", "/api/starling/v1/tokens", wrong, from(fmt.Sprint("192.0.2.", i))), http.StatusUnauthorized, "invalid_credentials")
	}
	wantRateLimited(t, anon.doWith("POST", "/api/starling/v1/tokens", wrong, from("192.0.2.200")), time.Hour)
	right := map[string]string{"login": "ada", "password": password("ada")}
	want[tokenAnswer](t, anon.doWith("POST", "/api/starling/v1/tokens", right, from("198.51.100.7")), http.StatusCreated)
	want[tokenAnswer](t, anon.doWith("POST", "/api/starling/v1/tokens", right, from("2001:db8:1::7")), http.StatusCreated)
}

func TestPostAndFollowRateLimits(t *testing.T) {
	s := newLimitedStack(t, ratelimit.Policies{Post: hourly(2), Follow: hourly(3)})
	ada, bob := s.register("ada"), s.register("bob")
	s.register("cy")
	ada.post("one", nil)
	ada.post("two", nil)
	wantRateLimited(t, ada.do("POST", "/api/starling/v1/statuses", map[string]string{"message": "three"}), time.Hour)
	if got := ada.user("ada").Posts; got != 2 {
		t.Fatalf("ada has %d posts after a refused third, want 2", got)
	}
	// The limit is per user, not per address.
	bob.post("bob's", nil)

	// Following, unfollowing and list membership share one budget.
	ada.noContent("PUT", "/api/starling/v1/me/following/bob")
	ada.noContent("DELETE", "/api/starling/v1/me/following/bob")
	l := want[list](t, ada.do("POST", "/api/starling/v1/lists", map[string]string{"name": "friends"}), http.StatusCreated)
	ada.noContent("PUT", fmt.Sprintf("/api/starling/v1/lists/%d/members/cy", l.ID))
	wantRateLimited(t, ada.do("PUT", "/api/starling/v1/me/following/cy", nil), time.Hour)
	wantRateLimited(t, ada.do("DELETE", fmt.Sprintf("/api/starling/v1/lists/%d/members/cy", l.ID), nil), time.Hour)
	if got := ada.user("ada").Following; got != 0 {
		t.Fatalf("ada follows %d users after a refused follow, want 0", got)
	}
	bob.noContent("PUT", "/api/starling/v1/me/following/cy")
}

func TestRateLimitsOff(t *testing.T) {
	s := newLimitedStack(t, ratelimit.Policies{Post: ratelimit.Unlimited})
	ada := s.register("ada")
	for i := range 30 {
		ada.post(fmt.Sprint("status ", i), nil)
	}
}

// failingLimiter is a limiter whose store is down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis: connection refused")
}

// TestLimiterFailure checks the documented choice: when the limiter cannot
// decide, password checks answer 503 and everything else goes through.
func TestLimiterFailure(t *testing.T) {
	s := newStack(t)
	ada := s.register("ada") // before the limiter breaks
	broken := newStackWith(t, func(c *httpapi.Config) {
		c.Service = s.svc
		c.Limiter = failingLimiter{}
	})
	ada.s, broken.secrets = broken, s.secrets
	anon := broken.anonymous()
	wantError(t, anon.do("POST", "/api/starling/v1/users", registerBody("bob")), http.StatusServiceUnavailable, "unavailable")
	wantError(t, anon.do("POST", "/api/starling/v1/tokens", map[string]string{"login": "ada", "password": password("ada")}), http.StatusServiceUnavailable, "unavailable")
	wantError(t, anon.do("POST", "/api/starling/v1/sessions", map[string]string{"login": "ada", "password": password("ada")}), http.StatusServiceUnavailable, "unavailable")
	st := ada.post("still posting", nil)
	want[status](t, anon.do("GET", fmt.Sprint("/api/starling/v1/statuses/", st.ID), nil), http.StatusOK)
	if logs := broken.logs.String(); !strings.Contains(logs, "rate limiter failed; letting the request through") {
		t.Errorf("the log does not record the fail-open decision:\n%s", logs)
	}
}
