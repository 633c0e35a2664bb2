package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"starling/internal/engine/redis/redistest"
)

// exchange is one request to a running process and its answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// send sends a JSON request with optional bearer token and extra headers.
func (p *process) send(t *testing.T, method, path, token string, body any, header http.Header) exchange {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, p.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return exchange{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e exchange) want(t *testing.T, status int) exchange {
	t.Helper()
	if e.status != status {
		t.Fatalf("got %d %s, want %d", e.status, e.body, status)
	}
	return e
}

// TestNoSecretsInLogsOrAnswers runs the real binary at debug level through
// everything that handles a secret (registration, token and cookie logins,
// wrong passwords, CSRF refusals, logouts, a revoked token, rate-limited
// guessing) and then searches its whole log for the passwords, tokens,
// CSRF tokens and token hashes it saw, and every answer for private fields.
func TestNoSecretsInLogsOrAnswers(t *testing.T) {
	addr := freeAddr(t)
	p := start(t, cheapHashes, "serve", "--addr", addr, "--data", t.TempDir(), "--log-level", "debug",
		"--rate-login-target", "5/1h,5")
	var secrets []string
	var answers []exchange
	keep := func(e exchange) exchange { answers = append(answers, e); return e }
	secret := func(s string) string {
		if s == "" {
			t.Fatal("an empty secret")
		}
		secrets = append(secrets, s)
		// The store keeps tokens as SHA-256 hashes; those must not leak
		// either, in any common spelling.
		sum := sha256.Sum256([]byte(s))
		secrets = append(secrets, hex.EncodeToString(sum[:]), base64.RawURLEncoding.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]))
		return s
	}

	for _, login := range []string{"ada", "bob"} {
		pw := secret("e2e-password-of-" + login)
		keep(p.send(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": pw}, nil).want(t, http.StatusCreated))
	}
	wrong := secret("e2e-wrong-password-guess")
	keep(p.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "ada", "password": wrong}, nil).want(t, http.StatusUnauthorized))
	keep(p.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "nobody", "password": wrong}, nil).want(t, http.StatusUnauthorized))
	keep(p.send(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": "bad login", "name": "x", "password": wrong}, nil).want(t, http.StatusUnprocessableEntity))

	var tok struct{ Token string }
	e := keep(p.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "ada", "password": "e2e-password-of-ada"}, nil).want(t, http.StatusCreated))
	if err := json.Unmarshal(e.body, &tok); err != nil {
		t.Fatal(err)
	}
	bearer := secret(tok.Token)
	keep(p.send(t, "POST", "/api/starling/v1/statuses", bearer, map[string]string{"message": "posted with a bearer token"}, nil).want(t, http.StatusCreated))

	// A browser session: cookie, CSRF refusal, success, logout.
	e = keep(p.send(t, "POST", "/api/starling/v1/sessions", "", map[string]string{"login": "bob", "password": "e2e-password-of-bob"}, nil).want(t, http.StatusCreated))
	cookies := map[string]string{}
	for _, c := range (&http.Response{Header: e.header}).Cookies() {
		cookies[c.Name] = c.Value
	}
	session, csrf := secret(cookies["starling_session"]), secret(cookies["starling_csrf"])
	cookie := http.Header{"Cookie": {"starling_session=" + session + "; starling_csrf=" + csrf}}
	keep(p.send(t, "POST", "/api/starling/v1/statuses", "", map[string]string{"message": "no csrf"}, cookie).want(t, http.StatusForbidden))
	withCSRF := http.Header{"Cookie": cookie["Cookie"], "X-Csrf-Token": {csrf}}
	keep(p.send(t, "POST", "/api/starling/v1/statuses", "", map[string]string{"message": "posted from a browser"}, withCSRF).want(t, http.StatusCreated))
	keep(p.send(t, "GET", "/api/starling/v1/me", "", nil, cookie).want(t, http.StatusOK))
	keep(p.send(t, "DELETE", "/api/starling/v1/sessions/current", "", nil, withCSRF).want(t, http.StatusNoContent))
	keep(p.send(t, "GET", "/api/starling/v1/me", "", nil, cookie).want(t, http.StatusUnauthorized))

	// A revoked bearer token, and a made-up one.
	keep(p.send(t, "DELETE", "/api/starling/v1/tokens/current", bearer, nil, nil).want(t, http.StatusNoContent))
	keep(p.send(t, "GET", "/api/starling/v1/me", bearer, nil, nil).want(t, http.StatusUnauthorized))
	keep(p.send(t, "GET", "/api/starling/v1/me", secret("made-up-token-value-1234567890"), nil, nil).want(t, http.StatusUnauthorized))

	// Guessing ada's password is cut off by the per-login limit.
	var limited exchange
	for range 10 {
		limited = keep(p.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "ada", "password": wrong}, nil))
		if limited.status == http.StatusTooManyRequests {
			break
		}
	}
	if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") == "" || !bytes.Contains(limited.body, []byte(`"rate_limited"`)) {
		t.Fatalf("guessing ada's password: last answer %d %s (Retry-After %q), want 429 rate_limited with Retry-After",
			limited.status, limited.body, limited.header.Get("Retry-After"))
	}

	// Every answer carries the security headers and no private field.
	publicUser := []string{"followers", "following", "id", "login", "name", "posts", "signup"}
	for _, path := range []string{"/api/starling/v1/users/ada", "/api/starling/v1/users/bob"} {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(keep(p.send(t, "GET", path, "", nil, nil).want(t, http.StatusOK)).body, &fields); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, publicUser) {
			t.Errorf("GET %s has fields %v, want exactly %v", path, got, publicUser)
		}
	}
	for _, a := range answers {
		for _, private := range []string{"password", "hash", "argon2"} {
			if bytes.Contains(bytes.ToLower(a.body), []byte(private)) && !bytes.Contains(a.body, []byte(`"invalid_password"`)) && !bytes.Contains(a.body, []byte(`wrong login or password`)) {
				t.Errorf("an answer mentions %q: %s", private, a.body)
			}
		}
		if a.header.Get("Content-Security-Policy") == "" || a.header.Get("X-Frame-Options") != "DENY" || a.header.Get("Referrer-Policy") == "" {
			t.Errorf("an answer (%d %s) lacks the security headers: %v", a.status, a.body, a.header)
		}
	}
	for _, a := range answers {
		for _, s := range []string{wrong, "e2e-password-of-ada", "e2e-password-of-bob"} {
			if bytes.Contains(a.body, []byte(s)) {
				t.Errorf("an answer holds the password %q: %s", s, a.body)
			}
		}
	}

	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	logs := p.logs.String()
	if !strings.Contains(logs, `msg=access method=POST route="POST /api/starling/v1/tokens"`) {
		t.Fatalf("the log has no access lines; the check below would prove nothing:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the server log contains the secret %q", s)
		}
	}
	if strings.Contains(logs, "$argon2id$") {
		t.Error("the server log contains a password hash")
	}
}

// TestRateLimitsAreSharedOnRedis runs two processes on one Redis: guesses
// at one login through both count against one budget.
func TestRateLimitsAreSharedOnRedis(t *testing.T) {
	url := redistest.Start(t)
	args := []string{"--redis", url, "--rate-login-target", "1/1h,3"}
	a := start(t, cheapHashes, append([]string{"serve", "--addr", freeAddr(t)}, args...)...)
	b := start(t, cheapHashes, append([]string{"serve", "--addr", freeAddr(t)}, args...)...)
	a.send(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": "ada", "name": "ada", "password": "password-ada"}, nil).want(t, http.StatusCreated)
	guess := map[string]string{"login": "ada", "password": "not her password"}
	for _, p := range []*process{a, b, a} {
		p.send(t, "POST", "/api/starling/v1/tokens", "", guess, nil).want(t, http.StatusUnauthorized)
	}
	b.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "ada", "password": "password-ada"}, nil).want(t, http.StatusTooManyRequests)
}

func TestBadSecurityFlagsAreRejected(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--rate-post", "fast"},
		{"serve", "--rate-login", "0/1m"},
		{"serve", "--rate-follow", "10/1m,0"},
		{"serve", "--trusted-proxies", "10.0.0.0/8,not-an-address"},
		{"serve", "--trusted-proxies", "::ffff:10.0.0.1"},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Errorf("starling %v succeeded, want an error\n%s", args, out)
		}
		if len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("starling %v printed nothing; want a reason", args)
		}
	}
}

// TestAdminsAreAccountsOnRedis: every process sharing one Redis resolves
// --admins to the same account at start, and a process whose list names a
// login without an account refuses to start, saying which.
func TestAdminsAreAccountsOnRedis(t *testing.T) {
	url := redistest.Start(t)
	first := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--redis", url)
	first.send(t, "POST", "/api/starling/v1/users", "", map[string]string{"login": "boss", "name": "boss", "password": "password-boss"}, nil).want(t, http.StatusCreated)
	var tok struct{ Token string }
	e := first.send(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "boss", "password": "password-boss"}, nil).want(t, http.StatusCreated)
	if err := json.Unmarshal(e.body, &tok); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(binary, "serve", "--addr", freeAddr(t), "--redis", url, "--admins", "boss,ghost").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"ghost"`) {
		t.Fatalf("serve with --admins naming a login without an account: %v\n%s\nwant a refusal naming ghost", err, out)
	}
	for range 2 {
		p := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--redis", url, "--admins", "BOSS")
		p.send(t, "GET", "/api/starling/v1/admin/jobs/stats", tok.Token, nil, nil).want(t, http.StatusOK)
	}
}
