package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"starling/internal/social"
)

var (
	qSuspend        = writeQuery(`INSERT OR IGNORE INTO suspended_users (uid) VALUES (?)`)
	qUserExistsW    = writeQuery(`SELECT 1 FROM users WHERE id = ?`)
	qRestore        = writeQuery(`DELETE FROM suspended_users WHERE uid = ?`)
	qSuspendedUsers = readQuery(`SELECT uid FROM suspended_users`)
)

// SetSuspended suspends user id or lifts its suspension.
func (db *DB) SetSuspended(ctx context.Context, id social.UserID, suspended bool) error {
	return db.write(ctx, "set suspended", func(tx *wtx) error {
		var one int
		err := tx.queryRow(qUserExistsW, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if suspended {
			_, err = tx.exec(qSuspend, id)
		} else {
			_, err = tx.exec(qRestore, id)
		}
		return err
	})
}

// SuspendedUsers returns the ids of the suspended users.
func (db *DB) SuspendedUsers(ctx context.Context) ([]social.UserID, error) {
	rows, err := db.readRows(ctx, qSuspendedUsers)
	if err != nil {
		return nil, db.fail("suspended users", err)
	}
	ids, err := scanIDs[social.UserID](rows)
	return ids, db.fail("suspended users", err)
}
