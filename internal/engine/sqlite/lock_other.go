//go:build !unix

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens the data directory's lock file without locking it: on
// systems without flock the one-process rule is the operator's to keep.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	return f, nil
}
