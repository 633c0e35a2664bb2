package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Flag errors say what is wrong (the flag or variable, the value and what
// was wanted), come once, and come before anything is created on disk.
func TestFlagErrorsSayWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		want []string
	}{
		{[]string{"serve", "--rate-post", "1000000000/1ns,1"}, nil, []string{"--rate-post", "rate is too high"}},
		{[]string{"serve"}, []string{"STARLING_TIMELINE_SIZE=abc"}, []string{"STARLING_TIMELINE_SIZE", `"abc"`, "want a whole number"}},
		{[]string{"serve"}, []string{"STARLING_JOB_LEASE=5"}, []string{"STARLING_JOB_LEASE", `"5"`, "want a duration"}},
		{[]string{"serve", "--timeline-size", "x1"}, nil, []string{"--timeline-size", `"x1"`, "want a whole number"}},
		{[]string{"serve", "--secure-cookies=maybe"}, nil, []string{"--secure-cookies", "want true or false"}},
		{[]string{"serve", "--workers", "0"}, nil, []string{"-workers 0 needs -redis", "jobs would never run"}},
		{[]string{"serve", "--addr", "8080"}, nil, []string{"listen address", `"8080"`}},
		{[]string{"serve", "--admin-addr", "9090"}, nil, []string{"admin listen address", `"9090"`}},
		{[]string{"serve", "--redis", "http://127.0.0.1:6379"}, nil, []string{"Redis URL", "redis://"}},
		{[]string{"worker", "--workers", "many"}, nil, []string{"--workers", `"many"`, `whole number or "auto"`}},
		{[]string{"seed", "--users", "abc"}, nil, []string{"--users", `"abc"`, "want a whole number"}},
		{[]string{"seed", "--users", "0"}, nil, []string{"--users 0 would load nothing"}},
		{[]string{"seed", "--users", "10", "--celebrity-followers", "5", "--manifest", "/nonexistent-dir/seed.json"}, nil, []string{"--manifest", "nonexistent-dir"}},
		{[]string{"bench", "timeline", "--clients", "lots"}, nil, []string{"--clients", `"lots"`, "want a whole number"}},
		{[]string{"bench", "timeline", "--duration", "10"}, nil, []string{"--duration", "want a duration"}},
	} {
		data := filepath.Join(t.TempDir(), "data")
		cmd := exec.Command(binary, append(tc.args, "--data", data)...)
		if tc.args[0] == "bench" {
			cmd = exec.Command(binary, tc.args...)
		}
		cmd.Env = append(os.Environ(), tc.env...)
		out, err := cmd.CombinedOutput()
		text := string(out)
		if err == nil {
			t.Errorf("starling %v (env %v) succeeded, want an error\n%s", tc.args, tc.env, text)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("starling %v (env %v) said %q; want it to say %q", tc.args, tc.env, text, w)
			}
		}
		if n := strings.Count(text, tc.want[0]); n != 1 {
			t.Errorf("starling %v (env %v) said %q %d times, want once:\n%s", tc.args, tc.env, tc.want[0], n, text)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("starling %v (env %v) created the data directory before refusing its flags", tc.args, tc.env)
		}
	}
}
