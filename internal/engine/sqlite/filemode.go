package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// dataFileMode is the mode of the database and its -wal and -shm files:
// they hold password and token hashes, readable by the owner only.
const dataFileMode = 0o600

// restrictFiles creates the database file with dataFileMode when it is
// missing, and sets that mode on it and on its -wal and -shm files when
// they exist, whatever the umask and the directory's mode. SQLite gives the
// -wal and -shm files it creates later the database file's mode, so once
// the database is 0600 they are too; files left wider by an older version
// are narrowed here.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, dataFileMode)
	if err != nil {
		return fmt.Errorf("sqlite: creating %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, dataFileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlite: restricting %s to its owner: %w", p, err)
		}
	}
	return nil
}
