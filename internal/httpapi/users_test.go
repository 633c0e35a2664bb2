package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRegisterLoginLogout(t *testing.T) {
	s := newStack(t)
	anon := s.anonymous()

	r := anon.do("POST", "/api/starling/v1/users", map[string]string{"login": "Alice_1", "name": "  Alice  ", "password": "correct horse"})
	s.addSecret("correct horse")
	u := want[user](t, r, http.StatusCreated)
	if u.ID < 1 || u.Login != "Alice_1" || u.Name != "Alice" || u.Followers != 0 || u.Following != 0 || u.Posts != 0 {
		t.Errorf("registered %+v, want id ≥ 1, login Alice_1, name Alice (trimmed), zero counts", u)
	}
	wantTime(t, "signup", u.Signup)
	if got := r.header.Get("Location"); got != "/api/starling/v1/users/Alice_1" {
		t.Errorf("Location = %q, want /api/starling/v1/users/Alice_1", got)
	}

	// Logins are found in any letter case and shown as typed.
	if got := anon.user("alice_1"); got != u {
		t.Errorf("GET /api/starling/v1/users/alice_1 = %+v, want %+v", got, u)
	}

	r = anon.do("POST", "/api/starling/v1/tokens", map[string]string{"login": "ALICE_1", "password": "correct horse"})
	tok := want[tokenAnswer](t, r, http.StatusCreated)
	s.addSecret(tok.Token)
	if tok.Token == "" || tok.User != u {
		t.Fatalf("token answer %+v, want a token and user %+v", tok, u)
	}
	alice := &client{s: s, login: u.Login, token: tok.Token}
	if got := want[user](t, alice.do("GET", "/api/starling/v1/me", nil), http.StatusOK); got != u {
		t.Errorf("GET /api/starling/v1/me = %+v, want %+v", got, u)
	}

	// A second token works independently of the first.
	r = anon.do("POST", "/api/starling/v1/tokens", map[string]string{"login": "alice_1", "password": "correct horse"})
	other := &client{s: s, token: want[tokenAnswer](t, r, http.StatusCreated).Token}
	s.addSecret(other.token)

	alice.noContent("DELETE", "/api/starling/v1/tokens/current")
	r = alice.do("GET", "/api/starling/v1/me", nil)
	wantError(t, r, http.StatusUnauthorized, "invalid_token")
	if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q, want a Bearer invalid_token challenge", got)
	}
	wantError(t, alice.do("DELETE", "/api/starling/v1/tokens/current", nil), http.StatusUnauthorized, "invalid_token")
	want[user](t, other.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
}

func TestLoginFailures(t *testing.T) {
	s := newStack(t)
	s.register("bob")
	anon := s.anonymous()
	for _, tc := range []struct {
		name string
		body any
	}{
		{"wrong password", map[string]string{"login": "bob", "password": "not-his-password"}},
		{"unknown login", map[string]string{"login": "nobody", "password": password("bob")}},
		{"empty", map[string]string{"login": "", "password": ""}},
		{"invalid login", map[string]string{"login": "b o b", "password": password("bob")}},
		{"missing password", map[string]string{"login": "bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := anon.do("POST", "/api/starling/v1/tokens", tc.body)
			wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
		})
	}
	for _, tc := range []struct {
		name, body, code string
	}{
		{"malformed", `{"login":"bob",`, "invalid_json"},
		{"wrong type", `{"login":"bob","password":12345678}`, "wrong_type"},
		{"unknown field", `{"login":"bob","password":"x","remember":true}`, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := anon.do("POST", "/api/starling/v1/tokens", rawBody{contentType: "application/json", data: tc.body})
			wantError(t, r, http.StatusBadRequest, tc.code)
		})
	}
}

func TestMissingAndInvalidTokens(t *testing.T) {
	s := newStack(t)
	s.register("carol")
	for _, tc := range []struct {
		name   string
		header http.Header
		code   string
	}{
		{"no header", nil, "unauthorized"},
		{"other scheme", http.Header{"Authorization": {"Basic Y2Fyb2w6eA=="}}, "unauthorized"},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, "invalid_token"},
		{"unknown token", http.Header{"Authorization": {"Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, "invalid_token"},
		{"lower-case scheme, unknown token", http.Header{"Authorization": {"bearer nope"}}, "invalid_token"},
		{"two headers", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.anonymous().doWith("GET", "/api/starling/v1/me", nil, tc.header)
			wantError(t, r, http.StatusUnauthorized, tc.code)
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
			}
		})
	}
	// Every endpoint that needs a caller refuses an anonymous one before
	// looking at anything else.
	for _, route := range []struct{ method, path string }{
		{"DELETE", "/api/starling/v1/tokens/current"},
		{"GET", "/api/starling/v1/me"},
		{"PUT", "/api/starling/v1/me/following/carol"},
		{"DELETE", "/api/starling/v1/me/following/carol"},
		{"GET", "/api/starling/v1/timelines/home?count=abc"},
		{"POST", "/api/starling/v1/statuses"},
		{"DELETE", "/api/starling/v1/statuses/abc"},
		{"POST", "/api/starling/v1/lists"},
		{"DELETE", "/api/starling/v1/lists/1"},
		{"PUT", "/api/starling/v1/lists/1/members/carol"},
		{"DELETE", "/api/starling/v1/lists/1/members/carol"},
		{"GET", "/api/starling/v1/admin/jobs/dead"},
		{"GET", "/api/starling/v1/admin/jobs/stats"},
	} {
		wantError(t, s.anonymous().do(route.method, route.path, nil), http.StatusUnauthorized, "unauthorized")
	}
}

func TestRegisterBadInput(t *testing.T) {
	s := newStack(t)
	s.register("taken")
	anon := s.anonymous()
	long := func(n int) string { return strings.Repeat("a", n) }
	body := func(login, name, password string) map[string]string {
		return map[string]string{"login": login, "name": name, "password": password}
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		login  string // must not exist afterwards
	}{
		{"malformed JSON", rawBody{"application/json", `{"login": "newbie", "name": "N", `, false}, 400, "invalid_json", "newbie"},
		{"login of the wrong type", rawBody{"application/json", `{"login": 5, "name": "N", "password": "password1"}`, false}, 400, "wrong_type", "5"},
		{"name of the wrong type", rawBody{"application/json", `{"login": "newbie", "name": ["N"], "password": "password1"}`, false}, 400, "wrong_type", "newbie"},
		{"unknown field", rawBody{"application/json", `{"login": "newbie", "name": "N", "password": "password1", "admin": true}`, false}, 400, "unknown_field", "newbie"},
		{"trailing data", rawBody{"application/json", `{"login": "newbie", "name": "N", "password": "password1"} {}`, false}, 400, "invalid_json", "newbie"},
		{"trailing garbage", rawBody{"application/json", `{"login": "newbie", "name": "N", "password": "password1"}x`, false}, 400, "invalid_json", "newbie"},
		{"repeated field", rawBody{"application/json", `{"login": "newbie", "name": "N", "password": "password1", "login": "other"}`, false}, 400, "invalid_json", "newbie"},
		{"array", rawBody{"application/json", `[{"login": "newbie", "name": "N", "password": "password1"}]`, false}, 400, "invalid_json", "newbie"},
		{"null", rawBody{"application/json", `null`, false}, 400, "invalid_json", "newbie"},
		{"empty body", rawBody{"application/json", ``, false}, 400, "invalid_json", "newbie"},
		{"text/plain", rawBody{"text/plain", `{"login": "newbie", "name": "N", "password": "password1"}`, false}, 400, "invalid_content_type", "newbie"},
		{"form", rawBody{"application/x-www-form-urlencoded", `login=newbie&name=N&password=password1`, false}, 400, "invalid_content_type", "newbie"},
		{"no content type", rawBody{"", `{"login": "newbie", "name": "N", "password": "password1"}`, false}, 400, "invalid_content_type", "newbie"},
		{"latin-1", rawBody{"application/json; charset=iso-8859-1", `{"login": "newbie", "name": "N", "password": "password1"}`, false}, 400, "invalid_content_type", "newbie"},
		{"empty login", body("", "N", "password1"), 422, "invalid_login", ""},
		{"login too long", body(long(33), "N", "password1"), 422, "invalid_login", long(33)},
		{"login with a dash", body("new-bie", "N", "password1"), 422, "invalid_login", "new-bie"},
		{"login with non-ASCII", body("newbié", "N", "password1"), 422, "invalid_login", ""},
		{"empty name", body("newbie", "", "password1"), 422, "invalid_name", "newbie"},
		{"blank name", body("newbie", " \t ", "password1"), 422, "invalid_name", "newbie"},
		{"name too long", body("newbie", strings.Repeat("é", 65), "password1"), 422, "invalid_name", "newbie"},
		{"password too short", body("newbie", "N", "1234567"), 422, "invalid_password", "newbie"},
		{"password too long", body("newbie", "N", long(129)), 422, "invalid_password", "newbie"},
		{"login taken in another case", body("TAKEN", "N", "password1"), 409, "login_taken", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := anon.snapshot("/api/starling/v1/users/taken")
			r := anon.do("POST", "/api/starling/v1/users", tc.body)
			wantError(t, r, tc.status, tc.code)
			anon.wantUnchanged(before, tc.name)
			if tc.login != "" {
				wantError(t, anon.do("GET", "/api/starling/v1/users/"+tc.login, nil), http.StatusNotFound, "user_not_found")
			}
		})
	}
	// The longest allowed values are accepted.
	want[user](t, anon.do("POST", "/api/starling/v1/users", body(long(32), strings.Repeat("é", 64), strings.Repeat("p", 128))), http.StatusCreated)
	// The taken login kept its password: the refused registration did not
	// overwrite it.
	wantError(t, anon.do("POST", "/api/starling/v1/tokens", map[string]string{"login": "taken", "password": "password1"}), http.StatusUnauthorized, "invalid_credentials")
	s.login("taken")
}

func TestConcurrentRegistrationsOfOneLogin(t *testing.T) {
	s := newStack(t)
	cases := []string{"Racer", "racer", "RACER", "rAcEr", "RaCeR", "racER"}
	statuses := make([]int, len(cases))
	var wg sync.WaitGroup
	for i, login := range cases {
		wg.Go(func() {
			r := s.anonymous().do("POST", "/api/starling/v1/users", map[string]string{"login": login, "name": "R", "password": "password1"})
			statuses[i] = r.status
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("registering %q: status %d, want 201 or 409", cases[i], st)
		}
	}
	if created != 1 {
		t.Errorf("%d registrations succeeded, want exactly 1 (statuses %v)", created, statuses)
	}
}

func TestUnknownUsers(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	for _, path := range []string{
		"/api/starling/v1/users/nobody",
		"/api/starling/v1/users/nobody/statuses",
		"/api/starling/v1/users/nobody/followers",
		"/api/starling/v1/users/nobody/following",
		"/api/starling/v1/users/nobody/lists",
		"/api/starling/v1/users/not%20a%20login",
		"/api/starling/v1/users/" + strings.Repeat("x", 40),
	} {
		wantError(t, s.anonymous().do("GET", path, nil), http.StatusNotFound, "user_not_found")
	}
	before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/following")
	wantError(t, alice.do("PUT", "/api/starling/v1/me/following/nobody", nil), http.StatusNotFound, "user_not_found")
	wantError(t, alice.do("DELETE", "/api/starling/v1/me/following/nobody", nil), http.StatusNotFound, "user_not_found")
	alice.wantUnchanged(before, "following an unknown user")
}
