package sqlite

import (
	"errors"
	"os"
	"testing"
)

func TestOneProcessPerDataDirectory(t *testing.T) {
	dir := t.TempDir()
	db := openDir(t, dir)
	_, err := Open(t.Context(), dir, Options{TimelineSize: testTimelineSize}, testLogger(t))
	var inUse *InUseError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &inUse) {
		t.Fatalf("second Open of a directory in use: %v, want ErrInUse", err)
	}
	if inUse.PID != os.Getpid() {
		t.Errorf("InUseError names pid %d, want this process (%d)", inUse.PID, os.Getpid())
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again, err := Open(t.Context(), dir, Options{TimelineSize: testTimelineSize}, testLogger(t))
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
