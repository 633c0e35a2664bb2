package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The embedded engine's data directory is one process's: a second serve,
// worker or seed on it exits at once with an error naming the holder, and
// the first goes on serving.
func TestDataDirectoryServesOneProcess(t *testing.T) {
	data := t.TempDir()
	first := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--data", data)
	holder := fmt.Sprintf("in use by process %d", first.cmd.Process.Pid)
	for _, args := range [][]string{
		{"serve", "--addr", freeAddr(t), "--data", data},
		{"worker", "--data", data},
		{"seed", "--data", data, "--users", "10", "--celebrity-followers", "5"},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("starling %v on a directory in use succeeded:\n%s", args, out)
		}
		if !strings.Contains(string(out), holder) {
			t.Errorf("starling %v: output does not say %q:\n%s", args, holder, out)
		}
	}
	first.register(t, "still_serving")
}
