package main

import (
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// starling admin drives a running server's admin API with an admin's token.
func TestAdminCommands(t *testing.T) {
	addr, data := freeAddr(t), t.TempDir()
	p := start(t, cheapHashes, "serve", "--addr", addr, "--data", data)
	boss := p.register(t, "boss")
	ada := p.register(t, "ada")
	p.stop(t, syscall.SIGTERM)
	p = start(t, cheapHashes, "serve", "--addr", addr, "--data", data, "--admins", "boss")

	admin := func(token string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"admin", "--server", p.base}, args...)...)
		cmd.Env = append(cmd.Environ(), "STARLING_ADMIN_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stats"}, `"ready"`},
		{[]string{"dead", "--limit", "5"}, "[]"},
		{[]string{"suspend", "ada"}, "done"},
		{[]string{"suspended"}, `"login": "ada"`},
	} {
		if out, err := admin(boss, tc.args...); err != nil || !strings.Contains(out, tc.want) {
			t.Fatalf("admin %v: %v\n%s\nwant %s", tc.args, err, out, tc.want)
		}
	}
	p.call(t, "GET", "/api/starling/v1/me", ada, nil, http.StatusUnauthorized, nil)
	if out, err := admin(boss, "restore", "ada"); err != nil || !strings.Contains(out, "done") {
		t.Fatalf("admin restore: %v\n%s", err, out)
	}
	p.call(t, "GET", "/api/starling/v1/me", ada, nil, http.StatusOK, nil)

	for _, tc := range []struct {
		token string
		args  []string
		want  string
	}{
		{boss, []string{"retry", "nonsense"}, "dead_job_not_found"},
		{boss, []string{"suspend", "nobody"}, "user_not_found"},
		{ada, []string{"stats"}, "forbidden"},
		{"", []string{"stats"}, "no token"},
		{boss, []string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		out, err := admin(tc.token, tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("admin %v: %v\n%s\nwant a failure saying %s", tc.args, err, out, tc.want)
		}
	}

	if out, err := admin(boss, "revoke", "ada"); err != nil || !strings.Contains(out, "done") {
		t.Fatalf("admin revoke: %v\n%s", err, out)
	}
	p.call(t, "GET", "/api/starling/v1/me", ada, nil, http.StatusUnauthorized, nil)
}
