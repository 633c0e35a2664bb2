//go:build unix

package sqlite

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used so far, in user
// and system mode, all threads together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
