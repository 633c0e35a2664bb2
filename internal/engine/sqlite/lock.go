package sqlite

import (
	"errors"
	"fmt"
)

// LockName is the file in the data directory that the process using it
// holds locked.
const LockName = "starling.lock"

// ErrInUse is wrapped by the error Open returns when another process has
// the data directory open.
var ErrInUse = errors.New("data directory in use")

// InUseError says which directory is in use, and by which process when it
// is known.
type InUseError struct {
	Dir string
	PID int // 0 when unknown
}

func (e *InUseError) Error() string {
	by := "another process"
	if e.PID > 0 {
		by = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("sqlite: %s is in use by %s: the embedded engine serves one process at a time (run several processes on Redis)", e.Dir, by)
}

func (e *InUseError) Unwrap() error { return ErrInUse }
