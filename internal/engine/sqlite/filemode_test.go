//go:build unix

package sqlite

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"starling/internal/social"
)

// The database holds password and token hashes: it and its -wal and -shm
// files are created readable by their owner only, even under a umask that
// takes nothing away and in a directory open to everyone, and files an
// older version left wider are narrowed.
func TestDataFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0) // process-wide: this test must not run in parallel
	defer syscall.Umask(old)
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"fresh", func(t *testing.T, dir string) {}},
		{"left readable by an older version", func(t *testing.T, dir string) {
			for _, f := range []string{FileName, FileName + "-wal"} {
				if err := os.WriteFile(dir+"/"+f, nil, 0o666); err != nil {
					t.Fatal(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			tc.prepare(t, dir)
			db, err := Open(context.Background(), dir, Options{}, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			// A write makes SQLite create the -wal and -shm files.
			if _, err := db.CreateUser(context.Background(), social.NewUser{Login: "ada", Name: "Ada", PasswordHash: "x", Signup: time.Now()}); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			for _, f := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
				fi, err := os.Stat(dir + "/" + f)
				if err != nil {
					t.Fatalf("stat %s: %v", f, err)
				}
				if mode := fi.Mode().Perm(); mode != 0o600 {
					t.Errorf("%s has mode %o, want 600", f, mode)
				}
			}
		})
	}
}
