package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrSettingsMismatch is returned by Open when the data was created with
// settings other than those given; the message names both.
var ErrSettingsMismatch = errors.New("sqlite: the data directory was created with other settings")

// checkSettings records the deployment's fixed settings on the first Open
// and refuses a later Open that names other values. The timeline size is
// one: timelines are trimmed to it as they are written, so a process with
// another size would show more or fewer entries than the others kept.
func (db *DB) checkSettings(ctx context.Context) error {
	want := strconv.Itoa(db.opts.TimelineSize)
	if db.opts.TimelineSize < 1 {
		return fmt.Errorf("sqlite: timeline size %d must be at least 1", db.opts.TimelineSize)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT OR IGNORE INTO settings (name, value) VALUES ('timeline_size', ?)`, want); err != nil {
		return fmt.Errorf("sqlite: recording settings: %w", err)
	}
	var got string
	if err := db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'timeline_size'`).Scan(&got); err != nil {
		return fmt.Errorf("sqlite: reading settings: %w", err)
	}
	if got != want {
		return fmt.Errorf("%w: %s keeps timelines of %s entries, and this process was started with --timeline-size %s; start it with --timeline-size %s",
			ErrSettingsMismatch, db.path, got, want, got)
	}
	return nil
}
