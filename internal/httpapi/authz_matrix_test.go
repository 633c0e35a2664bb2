package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
	"starling/internal/social"
)

// matrixFixture is the state every cell of the authorization matrix starts
// from: ada (the victim) follows bob, has posted a status and owns a list
// with bob in it; eve is another user; cy is nobody's yet.
type matrixFixture struct {
	s       *stack
	ada     *client // ada's own bearer token, kept to check it survives
	status  int64
	list    int64
	creds   map[string]*client
	victims []string // GET paths of ada's data
	others  []string // GET paths of everyone else's
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	s := newStack(t)
	ada, eve := s.register("ada"), s.register("eve")
	s.register("bob")
	s.register("cy")
	ada.noContent("PUT", "/api/starling/v1/me/following/bob")
	st := ada.post("ada's status", nil)
	l := want[list](t, ada.do("POST", "/api/starling/v1/lists", map[string]string{"name": "friends"}), http.StatusCreated)
	ada.noContent("PUT", fmt.Sprintf("/api/starling/v1/lists/%d/members/bob", l.ID))
	s.drain()

	revoked := s.login("ada")
	revoked.noContent("DELETE", "/api/starling/v1/tokens/current")

	// A token issued 31 days ago by a Service on the same store: it
	// expired a day ago under the default 30-day lifetime.
	past, err := social.NewService(s.db, social.Config{
		Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		Now:      func() time.Time { return time.Now().Add(-31 * 24 * time.Hour) },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expiredToken, _, err := past.Login(context.Background(), "ada", password("ada"))
	if err != nil {
		t.Fatal(err)
	}
	s.addSecret(expiredToken)

	browser := s.browser("ada")
	noCSRF := *browser
	noCSRF.csrfCookie, noCSRF.csrfHeader = "", ""

	f := &matrixFixture{s: s, ada: s.login("ada"), status: st.ID, list: l.ID}
	f.creds = map[string]*client{
		"none":                s.anonymous(),
		"another user's":      eve,
		"expired":             {s: s, token: expiredToken},
		"revoked":             revoked,
		"cookie without CSRF": &noCSRF,
		"cookie with CSRF":    browser,
		"right":               s.login("ada"),
	}
	f.victims = []string{
		"/api/starling/v1/users/ada", "/api/starling/v1/users/ada/statuses", "/api/starling/v1/users/ada/following",
		"/api/starling/v1/users/ada/lists", fmt.Sprint("/api/starling/v1/statuses/", st.ID),
		fmt.Sprint("/api/starling/v1/lists/", l.ID), fmt.Sprintf("/api/starling/v1/lists/%d/members", l.ID),
		fmt.Sprintf("/api/starling/v1/lists/%d/statuses", l.ID),
	}
	f.others = []string{
		"/api/starling/v1/users/eve", "/api/starling/v1/users/eve/statuses", "/api/starling/v1/users/eve/following", "/api/starling/v1/users/eve/lists",
		"/api/starling/v1/users/bob/followers", "/api/starling/v1/users/cy/followers", "/api/starling/v1/users/bob", "/api/starling/v1/users/cy",
	}
	return f
}

// snapshot reads ada's data (and with everyone, the others' too) and
// whether ada's own token still works.
func (f *matrixFixture) snapshot(everyone bool) map[string]string {
	paths := f.victims
	if everyone {
		paths = append(slices.Clone(paths), f.others...)
	}
	snap := f.s.anonymous().snapshot(paths...)
	snap["ada's token"] = fmt.Sprint(f.ada.do("GET", "/api/starling/v1/me", nil).status)
	return snap
}

// TestAuthorizationMatrix sends every state-changing route with every kind
// of credential and checks the answer, and that the refused ones changed
// nothing. "another user's" credentials act as that user: on routes about
// the caller ("me", "current", creating) they succeed for eve and leave
// ada's data alone; on ada's status and list they are refused.
func TestAuthorizationMatrix(t *testing.T) {
	type cell struct {
		status int
		code   string
	}
	unauthorized := cell{http.StatusUnauthorized, "unauthorized"}
	invalid := cell{http.StatusUnauthorized, "invalid_token"}
	csrf := cell{http.StatusForbidden, "csrf_failed"}
	forbidden := cell{http.StatusForbidden, "forbidden"}
	routes := []struct {
		pattern string
		path    func(f *matrixFixture) string
		body    any
		// bodyOf, when set, makes the body for the client sending it.
		bodyOf func(c *client) any
		ok     int  // the status of success
		mine   bool // about the caller, so another user's token succeeds
	}{
		{"DELETE /api/starling/v1/tokens/current", func(*matrixFixture) string { return "/api/starling/v1/tokens/current" }, nil, nil, 204, true},
		{"DELETE /api/starling/v1/sessions/current", func(*matrixFixture) string { return "/api/starling/v1/sessions/current" }, nil, nil, 204, true},
		{"DELETE /api/starling/v1/tokens", func(*matrixFixture) string { return "/api/starling/v1/tokens" }, nil, nil, 204, true},
		{"PUT /api/starling/v1/me/password", func(*matrixFixture) string { return "/api/starling/v1/me/password" }, nil, func(c *client) any {
			return map[string]string{"current": password(c.login), "new": "a brand new password"}
		}, 204, true},
		{"PUT /api/starling/v1/me/following/{login}", func(*matrixFixture) string { return "/api/starling/v1/me/following/cy" }, nil, nil, 204, true},
		{"DELETE /api/starling/v1/me/following/{login}", func(*matrixFixture) string { return "/api/starling/v1/me/following/bob" }, nil, nil, 204, true},
		{"POST /api/starling/v1/statuses", func(*matrixFixture) string { return "/api/starling/v1/statuses" }, map[string]string{"message": "new"}, nil, 201, true},
		{"DELETE /api/starling/v1/statuses/{id}", func(f *matrixFixture) string { return fmt.Sprint("/api/starling/v1/statuses/", f.status) }, nil, nil, 204, false},
		{"POST /api/starling/v1/lists", func(*matrixFixture) string { return "/api/starling/v1/lists" }, map[string]string{"name": "new"}, nil, 201, true},
		{"DELETE /api/starling/v1/lists/{id}", func(f *matrixFixture) string { return fmt.Sprint("/api/starling/v1/lists/", f.list) }, nil, nil, 204, false},
		{"PUT /api/starling/v1/lists/{id}/members/{login}", func(f *matrixFixture) string { return fmt.Sprintf("/api/starling/v1/lists/%d/members/cy", f.list) }, nil, nil, 204, false},
		{"DELETE /api/starling/v1/lists/{id}/members/{login}", func(f *matrixFixture) string { return fmt.Sprintf("/api/starling/v1/lists/%d/members/bob", f.list) }, nil, nil, 204, false},
	}
	// Routes anyone may call: they create an account or a credential.
	// POST /statuses/filter.json only reads: it opens a filtered stream.
	public := []string{"POST /api/starling/v1/users", "POST /api/starling/v1/tokens", "POST /api/starling/v1/sessions", "POST /statuses/filter.json"}
	// Admin routes are refused to everyone but admins (TestAdminRoutesAreAdminOnly).
	public = append(public, adminRoutes...)

	// The table covers every route that changes something.
	probe := newStack(t)
	var covered []string
	for _, r := range routes {
		covered = append(covered, r.pattern)
	}
	for _, p := range httpapi.Patterns(probe.api) {
		if !strings.HasPrefix(p, "GET ") && !slices.Contains(covered, p) && !slices.Contains(public, p) {
			t.Errorf("route %q is missing from the authorization matrix", p)
		}
	}

	for _, route := range routes {
		t.Run(route.pattern, func(t *testing.T) {
			t.Parallel()
			// Cells that must change nothing share one fixture, each
			// checked against it; cells that change something get their own.
			refused := newMatrixFixture(t)
			for _, cred := range []string{"none", "another user's", "expired", "revoked", "cookie without CSRF", "cookie with CSRF", "right"} {
				t.Run(cred, func(t *testing.T) {
					var want *cell
					switch cred {
					case "none":
						want = &unauthorized
					case "expired", "revoked":
						want = &invalid
					case "cookie without CSRF":
						want = &csrf
					case "another user's":
						if !route.mine {
							want = &forbidden
						}
					}
					f := refused
					if want == nil {
						f = newMatrixFixture(t)
					}
					everyone := want != nil
					before := f.snapshot(everyone)
					c := f.creds[cred]
					body := route.body
					if route.bodyOf != nil {
						body = route.bodyOf(c)
					}
					r := c.do(strings.Fields(route.pattern)[0], route.path(f), body)
					f.s.drain()
					after := f.snapshot(everyone)
					if want != nil {
						wantError(t, r, want.status, want.code)
					} else {
						wantStatus(t, r, route.ok)
					}
					changed := !maps.Equal(before, after)
					switch {
					case want != nil && changed:
						t.Fatalf("a refused request changed the store:\nbefore %v\nafter  %v", before, after)
					case cred == "another user's" && changed:
						t.Fatalf("eve's request changed ada's data:\nbefore %v\nafter  %v", before, after)
					case (cred == "right" || cred == "cookie with CSRF") && !changed && !strings.Contains(route.pattern, "/current"):
						t.Fatalf("the right credentials changed nothing: %v", after)
					}
				})
			}
		})
	}
}
