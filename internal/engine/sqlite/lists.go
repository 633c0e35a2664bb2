package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"starling/internal/jobs"
	"starling/internal/social"
)

const listColumns = `id, uid, login, name, members, created`

var (
	qUserLogin       = writeQuery(`SELECT login FROM users WHERE id = ?`)
	qCountLists      = writeQuery(`SELECT count(*) FROM lists WHERE uid = ?`)
	qInsertList      = writeQuery(`INSERT INTO lists (uid, login, name, created) VALUES (?, ?, ?, ?) RETURNING id`)
	qListMemberCount = writeQuery(`SELECT members FROM lists WHERE id = ?`)
	qUserExists      = writeQuery(`SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`)
	qIsMember        = writeQuery(`SELECT EXISTS (SELECT 1 FROM list_members WHERE list_id = ? AND uid = ?)`)
	qInsertMember    = writeQuery(`INSERT INTO list_members (list_id, uid, added) VALUES (?, ?, ?)`)
	qDeleteMember    = writeQuery(`DELETE FROM list_members WHERE list_id = ? AND uid = ?`)
	qAddMemberCount  = writeQuery(`UPDATE lists SET members = members + ?2 WHERE id = ?1`)
	qDeleteMembers   = writeQuery(`DELETE FROM list_members WHERE list_id = ?`)
	qDeleteList      = writeQuery(`DELETE FROM lists WHERE id = ?`)

	qList            = readQuery(`SELECT ` + listColumns + ` FROM lists WHERE id = ?`)
	qListsOf         = readQuery(`SELECT ` + listColumns + ` FROM lists WHERE uid = ? ORDER BY id`)
	qListsContaining = readQuery(`SELECT list_id FROM list_members WHERE uid = ? ORDER BY list_id`)
	qListMembersPage = readQuery(`
SELECT uid FROM list_members WHERE list_id = ? ORDER BY added DESC, uid DESC LIMIT ? OFFSET ?`)
)

// CreateList adds a list with the next list id. It returns
// social.ErrLimitReached when the owner already has maxLists lists (zero
// or less means no limit) and social.ErrUserNotFound when the owner does
// not exist.
func (db *DB) CreateList(ctx context.Context, l social.NewList, maxLists int) (social.List, error) {
	list := social.List{UID: l.UID, Name: l.Name, Created: fromMillis(millis(l.Created))}
	err := db.write(ctx, "create list", func(tx *wtx) error {
		err := tx.queryRow(qUserLogin, l.UID).Scan(&list.Login)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if maxLists > 0 {
			var n int
			if err := tx.queryRow(qCountLists, l.UID).Scan(&n); err != nil {
				return err
			}
			if n >= maxLists {
				return social.ErrLimitReached
			}
		}
		return tx.queryRow(qInsertList, l.UID, list.Login, l.Name, millis(l.Created)).Scan(&list.ID)
	})
	if err != nil {
		return social.List{}, err
	}
	return list, nil
}

// List returns list id, or social.ErrListNotFound.
func (db *DB) List(ctx context.Context, id social.ListID) (social.List, error) {
	l, err := scanList(db.readRow(ctx, qList, id))
	return l, db.fail("list", err)
}

// ListsOf returns uid's lists, oldest first.
func (db *DB) ListsOf(ctx context.Context, uid social.UserID) ([]social.List, error) {
	rows, err := db.readRows(ctx, qListsOf, uid)
	if err != nil {
		return nil, db.fail("lists of", err)
	}
	defer rows.Close()
	lists := []social.List{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, db.fail("lists of", err)
		}
		lists = append(lists, l)
	}
	return lists, db.fail("lists of", rows.Err())
}

// ListsContaining returns the ids of the lists that have uid as a member.
func (db *DB) ListsContaining(ctx context.Context, uid social.UserID) ([]social.ListID, error) {
	return readIDs[social.ListID](ctx, db, "lists containing", qListsContaining, uid)
}

// DeleteList removes a list, its memberships and its timeline, or returns
// social.ErrListNotFound.
func (db *DB) DeleteList(ctx context.Context, id social.ListID) error {
	return db.write(ctx, "delete list", func(tx *wtx) error {
		if _, err := tx.exec(qDeleteMembers, id); err != nil {
			return err
		}
		n, err := tx.execCount(qDeleteList, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return social.ErrListNotFound
		}
		return tx.dropTimeline(storedList, int64(id))
	})
}

// AddListMember adds member to list id at time at and copies the
// member's newest h statuses into the list timeline, trimmed to h. It
// reports false when member was one already, and returns
// social.ErrLimitReached when the list has maxMembers members (zero or
// less means no limit).
func (db *DB) AddListMember(ctx context.Context, id social.ListID, member social.UserID, at time.Time, maxMembers int) (bool, error) {
	h := db.opts.TimelineSize
	added := false
	err := db.write(ctx, "add list member", func(tx *wtx) error {
		var members int64
		err := tx.queryRow(qListMemberCount, id).Scan(&members)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrListNotFound
		}
		if err != nil {
			return err
		}
		var exists, isMember bool
		if err := tx.queryRow(qUserExists, member).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return social.ErrUserNotFound
		}
		if err := tx.queryRow(qIsMember, id, member).Scan(&isMember); err != nil || isMember {
			return err
		}
		if maxMembers > 0 && members >= int64(maxMembers) {
			return social.ErrLimitReached
		}
		if _, err := tx.exec(qInsertMember, id, member, millis(at)); err != nil {
			return err
		}
		added = true
		if _, err := tx.exec(qAddMemberCount, id, 1); err != nil {
			return err
		}
		return tx.copyNewest(storedList, int64(id), int64(member), h)
	})
	return added, err
}

// RemoveListMember removes member from list id, purges the member's
// statuses from the list timeline and, when that leaves it short, enqueues
// refill in the same transaction. It reports false when member was not a
// member, and returns social.ErrListNotFound when there is no such list.
func (db *DB) RemoveListMember(ctx context.Context, id social.ListID, member social.UserID, refill jobs.NewJob) (bool, error) {
	h := db.opts.TimelineSize
	removed := false
	err := db.write(ctx, "remove list member", func(tx *wtx) error {
		var members int64
		err := tx.queryRow(qListMemberCount, id).Scan(&members)
		if errors.Is(err, sql.ErrNoRows) {
			return social.ErrListNotFound
		}
		if err != nil {
			return err
		}
		n, err := tx.execCount(qDeleteMember, id, member)
		if err != nil || n == 0 {
			return err
		}
		removed = true
		if _, err := tx.exec(qAddMemberCount, id, -1); err != nil {
			return err
		}
		size, err := tx.purgeAuthor(storedList, int64(id), int64(member), h)
		if err != nil {
			return err
		}
		if social.NeedsRefill(size, h) {
			return tx.enqueue(refill)
		}
		return nil
	})
	return removed, err
}

// ListMembers returns a page of member ids, most recently added first.
func (db *DB) ListMembers(ctx context.Context, id social.ListID, p social.Page) ([]social.UserID, error) {
	return readIDs[social.UserID](ctx, db, "list members", qListMembersPage, id, pageCount(p), p.Offset())
}

func scanList(s scanner) (social.List, error) {
	var l social.List
	var created int64
	err := s.Scan(&l.ID, &l.UID, &l.Login, &l.Name, &l.Members, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return social.List{}, social.ErrListNotFound
	}
	if err != nil {
		return social.List{}, err
	}
	l.Created = fromMillis(created)
	return l, nil
}
