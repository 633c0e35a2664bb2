package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"starling/internal/bench"
)

func TestSeedRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"seed", "--users", "-1"},
		{"seed", "--users", "10", "--celebrity-followers", "11"},
		{"seed", "--follows-per-user", "-2"},
		{"seed", "--password", "short"},
		{"seed", "--sample", "-1"},
		{"seed", "stray"},
	} {
		args = append(args, "--data", t.TempDir())
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Errorf("starling %v succeeded, want an error\n%s", args, out)
		}
		if len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("starling %v printed nothing; want a reason", args)
		}
	}
}

// TestSeedThenServe seeds a small graph, logs in through a server with the
// manifest's tokens, and checks that seeding the same store again is
// refused and that --recount leaves consistent counts as they are.
func TestSeedThenServe(t *testing.T) {
	data := t.TempDir()
	manifest := filepath.Join(t.TempDir(), "seed.json")
	seedArgs := []string{"seed", "--data", data, "--users", "200", "--follows-per-user", "5",
		"--celebrity-followers", "150", "--sample", "20", "--manifest", manifest}
	out, err := exec.Command(binary, seedArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("starling %v: %v\n%s", seedArgs, err, out)
	}
	for _, want := range []string{"users ", "follows ", "elapsed ", "celebrity "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("seed summary lacks %q:\n%s", want, out)
		}
	}
	var m bench.Manifest
	if b, err := os.ReadFile(manifest); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(manifest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode = %v, %v; want 0600: it holds live tokens", fi.Mode().Perm(), err)
	}

	out, err = exec.Command(binary, seedArgs...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "login taken") {
		t.Errorf("seeding the same store again: %v\n%s\nwant a login taken error", err, out)
	}
	if out, err := exec.Command(binary, "seed", "--data", data, "--recount").CombinedOutput(); err != nil {
		t.Fatalf("seed --recount: %v\n%s", err, out)
	}

	p := start(t, nil, "serve", "--addr", freeAddr(t), "--data", data)
	var me user
	p.call(t, "GET", "/api/starling/v1/me", m.Celebrity.Token, nil, http.StatusOK, &me)
	if me.Login != "celebrity" || me.Followers != 150 || me.Following != 0 {
		t.Errorf("celebrity = %+v, want 150 followers", me)
	}
	if len(m.Sample) != 20 {
		t.Fatalf("manifest samples %d followers, want 20", len(m.Sample))
	}
	for _, a := range m.Sample {
		p.call(t, "GET", "/api/starling/v1/me", a.Token, nil, http.StatusOK, &me)
		if me.Login != a.Login || me.Following < 1 {
			t.Errorf("%s's token: /me = %+v, want %s following at least the celebrity", a.Login, me, a.Login)
		}
	}
	// The shared password logs in like any other.
	var tok struct{ Token string }
	p.call(t, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": "u7", "password": "seed-password"}, http.StatusCreated, &tok)
}
