package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"starling/internal/jobs"
	"starling/internal/social"
)

const statusColumns = `id, uid, login, message, posted, lat, lon`

var (
	// The author's login comes from the users row, the one record of how
	// it was typed, and the same statement proves the author exists.
	qCountPost    = writeQuery(`UPDATE users SET posts = posts + 1 WHERE id = ? RETURNING login`)
	qUncountPost  = writeQuery(`UPDATE users SET posts = posts - 1 WHERE id = ?`)
	qInsertStatus = writeQuery(`
INSERT INTO statuses (uid, login, message, posted, lat, lon) VALUES (?, ?, ?, ?, ?, ?)
RETURNING id`)
	qStatusForDelete = writeQuery(`SELECT ` + statusColumns + ` FROM statuses WHERE id = ?`)
	qDeleteStatus    = writeQuery(`DELETE FROM statuses WHERE id = ?`)

	// Looking each id up in turn (the join from json_each) costs a fifth
	// less than id IN (...), which first builds and sorts a temporary
	// index of the ids; Statuses puts the rows in order itself.
	qStatuses = readQuery(`
SELECT s.id, s.uid, s.login, s.message, s.posted, s.lat, s.lon FROM json_each(?) j CROSS JOIN statuses s ON s.id = j.value`)
)

// CreateStatus stores a status with the next status id, increments the
// author's posts, puts it at the head of the author's profile and home
// timelines, and enqueues fanout(status) in the same transaction, which
// posts arriving together share (writeGrouped).
func (db *DB) CreateStatus(ctx context.Context, s social.NewStatus, fanout func(social.Status) jobs.NewJob) (social.Status, error) {
	h := db.opts.TimelineSize
	st := social.Status{UID: s.UID, Message: s.Message, Posted: fromMillis(millis(s.Posted))}
	var lat, lon sql.NullFloat64
	if s.Location != nil {
		loc := *s.Location
		st.Location = &loc
		lat = sql.NullFloat64{Float64: loc.Lat, Valid: true}
		lon = sql.NullFloat64{Float64: loc.Lon, Valid: true}
	}
	err := db.writeGrouped(ctx, "create status", func(tx *wtx) error {
		err := tx.queryRow(qCountPost, s.UID).Scan(&st.Login)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.queryRow(qInsertStatus, s.UID, st.Login, s.Message, millis(s.Posted), lat, lon).Scan(&st.ID); err != nil {
			return err
		}
		// The profile timeline is the statuses table itself.
		if err := tx.addToMany(storedHome, []int64{int64(s.UID)}, int64(st.ID), h); err != nil {
			return err
		}
		if fanout != nil {
			return tx.enqueue(fanout(st))
		}
		return nil
	})
	if err != nil {
		return social.Status{}, err
	}
	return st, nil
}

// TimelinePage reads a page of a timeline's ids and then their statuses;
// both reads are fresh, as every change goes through this process's writer.
func (db *DB) TimelinePage(ctx context.Context, tl social.Timeline, p social.Page) ([]social.Status, error) {
	ids, err := db.TimelineIDs(ctx, tl, p)
	if err != nil {
		return nil, err
	}
	return db.Statuses(ctx, ids)
}

// Statuses returns the statuses with the given ids in that order, skipping
// ids that name no status. Statuses read once are kept in process
// (statuscache), so a page of them usually costs no query at all.
func (db *DB) Statuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	return db.statuses.Get(ids, func(missing []social.StatusID) ([]social.Status, error) {
		return db.readStatuses(ctx, missing)
	})
}

// readStatuses reads the statuses with the given ids from the database.
func (db *DB) readStatuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	rows, err := db.readRows(ctx, qStatuses, jsonIDs(ids))
	if err != nil {
		return nil, db.fail("statuses", err)
	}
	defer rows.Close()
	sts := make([]social.Status, 0, len(ids))
	for rows.Next() {
		st, err := scanStatus(rows)
		if err != nil {
			return nil, db.fail("statuses", err)
		}
		sts = append(sts, st)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("statuses", err)
	}
	return sts, nil
}

// DeleteStatus removes status id, posted by uid: the record (which is also
// its place in the profile timeline), its entry in the author's home
// timeline and one from the author's posts, and enqueues cleanup(status)
// for the other timelines in the same transaction.
func (db *DB) DeleteStatus(ctx context.Context, uid social.UserID, id social.StatusID, cleanup func(social.Status) jobs.NewJob) (social.Status, error) {
	var st social.Status
	err := db.write(ctx, "delete status", func(tx *wtx) error {
		var err error
		st, err = scanStatus(tx.queryRow(qStatusForDelete, id))
		if err != nil {
			return err
		}
		if st.UID != uid {
			return social.ErrForbidden
		}
		if _, err := tx.exec(qDeleteStatus, id); err != nil {
			return err
		}
		if _, err := tx.exec(qUncountPost, uid); err != nil {
			return err
		}
		if err := tx.removeFromMany(storedHome, []int64{int64(uid)}, int64(id)); err != nil {
			return err
		}
		if cleanup != nil {
			return tx.enqueue(cleanup(st))
		}
		return nil
	})
	// Forgotten even when the write failed: the commit may have happened
	// before the error, and forgetting a status only costs a reread.
	db.statuses.Forget(id)
	if err != nil {
		return social.Status{}, err
	}
	return st, nil
}

func scanStatus(s scanner) (social.Status, error) {
	var st social.Status
	var posted int64
	var lat, lon sql.NullFloat64
	err := s.Scan(&st.ID, &st.UID, &st.Login, &st.Message, &posted, &lat, &lon)
	if errors.Is(err, sql.ErrNoRows) {
		return social.Status{}, social.ErrStatusNotFound
	}
	if err != nil {
		return social.Status{}, err
	}
	st.Posted = fromMillis(posted)
	if lat.Valid && lon.Valid {
		st.Location = &social.Location{Lat: lat.Float64, Lon: lon.Float64}
	}
	return st, nil
}
