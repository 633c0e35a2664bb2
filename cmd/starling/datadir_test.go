package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
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

// The timeline size is the deployment's: a process started on the data with
// another --timeline-size is refused before it serves, saying which size
// the data keeps, and one with the recorded size starts.
func TestTimelineSizeIsFixed(t *testing.T) {
	data := t.TempDir()
	first := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--data", data, "--timeline-size", "50")
	if err := first.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the first server: %v", err)
	}
	out, err := exec.Command(binary, "serve", "--addr", freeAddr(t), "--data", data, "--timeline-size", "60").CombinedOutput()
	if err == nil {
		t.Fatalf("serve with another --timeline-size succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "timelines of 50 entries") || !strings.Contains(string(out), "--timeline-size 60") {
		t.Errorf("the refusal does not name both sizes:\n%s", out)
	}
	again := start(t, cheapHashes, "serve", "--addr", freeAddr(t), "--data", data, "--timeline-size", "50")
	again.register(t, "same_size")
}
