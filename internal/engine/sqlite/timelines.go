package sqlite

import (
	"context"
	"fmt"
	"math"

	"starling/internal/social"
)

// Home and list timelines are rows of timeline_entries; the profile
// timeline is the statuses table read through its (uid, id) index. Every
// insert is followed by a trim that reads the timeline's size from
// timeline_sizes and, only when it is over h, deletes from the oldest end
// through the primary key: a seek, never a walk over h entries.

var (
	qInsertEntry = writeQuery(`INSERT OR IGNORE INTO timeline_entries (kind, owner, sid) VALUES (?, ?, ?)`)
	qRemoveEntry = writeQuery(`DELETE FROM timeline_entries WHERE kind = ? AND owner = ? AND sid = ?`)
	// qTrim cuts one timeline down to ?3 entries. LIMIT takes the excess
	// from the size table, so the subquery stops after the entries it
	// deletes.
	qTrim = writeQuery(`
DELETE FROM timeline_entries WHERE kind = ?1 AND owner = ?2 AND sid IN (
	SELECT sid FROM timeline_entries WHERE kind = ?1 AND owner = ?2 ORDER BY sid
	LIMIT max(0, coalesce((SELECT size FROM timeline_sizes WHERE kind = ?1 AND owner = ?2), 0) - ?3))`)
	qTimelineSize = writeQuery(`
SELECT coalesce((SELECT size FROM timeline_sizes WHERE kind = ? AND owner = ?), 0)`)
	qDropTimeline     = writeQuery(`DELETE FROM timeline_entries WHERE kind = ? AND owner = ?`)
	qDropTimelineSize = writeQuery(`DELETE FROM timeline_sizes WHERE kind = ? AND owner = ?`)

	qStatusExists = writeQuery(`SELECT EXISTS (SELECT 1 FROM statuses WHERE id = ?)`)

	// Fan-out adds one status to many timelines in one statement each for
	// homes and lists, the owners passed as a JSON array. A list deleted
	// after the fan-out was planned is skipped rather than revived.
	qInsertHomesEntry = writeQuery(`
INSERT OR IGNORE INTO timeline_entries (kind, owner, sid)
SELECT ` + sqlInt(storedHome) + `, value, ?2 FROM json_each(?1)`)
	qInsertListsEntry = writeQuery(`
INSERT OR IGNORE INTO timeline_entries (kind, owner, sid)
SELECT ` + sqlInt(storedList) + `, lists.id, ?2 FROM json_each(?1) JOIN lists ON lists.id = json_each.value`)
	// qTrimMany cuts each listed timeline that is over ?3 entries down to
	// ?3 entries. For each, it walks from the oldest entry over the excess
	// (size - ?3: one after a single insert), one index seek per entry, so
	// the cost follows the excess, never the timeline's length. CROSS JOIN
	// keeps the planner walking the listed owners rather than every
	// timeline of the kind.
	qTrimMany = writeQuery(`
WITH RECURSIVE doomed (owner, sid, more) AS (
	SELECT s.owner,
		(SELECT min(t.sid) FROM timeline_entries t WHERE t.kind = ?1 AND t.owner = s.owner),
		s.size - ?3 - 1
	FROM json_each(?2) j CROSS JOIN timeline_sizes s ON s.kind = ?1 AND s.owner = j.value
	WHERE s.size > ?3
	UNION ALL
	SELECT d.owner,
		(SELECT min(t.sid) FROM timeline_entries t WHERE t.kind = ?1 AND t.owner = d.owner AND t.sid > d.sid),
		d.more - 1
	FROM doomed d WHERE d.more > 0
)
DELETE FROM timeline_entries WHERE kind = ?1 AND (owner, sid) IN (SELECT owner, sid FROM doomed)`)
	qRemoveFromMany = writeQuery(`
DELETE FROM timeline_entries WHERE kind = ?1 AND sid = ?3 AND owner IN (SELECT value FROM json_each(?2))`)

	// qCopyNewest copies an author's newest ?4 statuses into a timeline.
	qCopyNewest = writeQuery(`
INSERT OR IGNORE INTO timeline_entries (kind, owner, sid)
SELECT ?1, ?2, id FROM statuses WHERE uid = ?3 ORDER BY id DESC LIMIT ?4`)
	// qPurgeAuthor removes an author's statuses from a timeline, walking
	// the timeline (at most h entries) rather than the author's whole
	// history.
	qPurgeAuthor = writeQuery(`
DELETE FROM timeline_entries WHERE kind = ?1 AND owner = ?2 AND EXISTS (
	SELECT 1 FROM statuses WHERE statuses.id = timeline_entries.sid AND statuses.uid = ?3)`)

	// Refilling merges the newest ?2 statuses of a timeline's sources.
	// Only a source's own newest ?2 can make the cut, so each source is
	// first bounded by the id of its ?2-th newest status: a source costs at
	// most 2×?2 index steps however long its history, and the merge sorts
	// (keeping the newest ?2) no more than sources×?2 ids. Refills are rare
	// background jobs; the per-insert path never does this.
	qRefillHome = writeQuery(`
WITH sources (uid) AS (
	SELECT ?1 UNION SELECT followee FROM follows WHERE follower = ?1
), floors (uid, lowest) AS (
	SELECT uid, coalesce((SELECT id FROM statuses WHERE statuses.uid = sources.uid
		ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
	FROM sources
)
INSERT OR IGNORE INTO timeline_entries (kind, owner, sid)
SELECT ` + sqlInt(storedHome) + `, ?1, s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)
	qRefillList = writeQuery(`
WITH sources (uid) AS (
	SELECT uid FROM list_members WHERE list_id = ?1
), floors (uid, lowest) AS (
	SELECT uid, coalesce((SELECT id FROM statuses WHERE statuses.uid = sources.uid
		ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
	FROM sources
)
INSERT OR IGNORE INTO timeline_entries (kind, owner, sid)
SELECT ` + sqlInt(storedList) + `, ?1, s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)

	qProfileIDs  = readQuery(`SELECT id FROM statuses WHERE uid = ? AND id < ? ORDER BY id DESC LIMIT ? OFFSET ?`)
	qTimelineIDs = readQuery(`SELECT sid FROM timeline_entries WHERE kind = ? AND owner = ? AND sid < ? ORDER BY sid DESC LIMIT ? OFFSET ?`)
)

func sqlInt(n int) string { return fmt.Sprint(n) }

// storedKind maps a capped timeline's kind to its stored form.
func storedKind(k social.TimelineKind) (int, error) {
	switch k {
	case social.Home:
		return storedHome, nil
	case social.ListTimeline:
		return storedList, nil
	}
	return 0, fmt.Errorf("sqlite: %s timelines are not stored as entries", k)
}

func checkTimelineSize(h int) error {
	if h < 1 {
		return fmt.Errorf("sqlite: timeline size %d must be at least 1", h)
	}
	return nil
}

// TimelineIDs returns a page of a timeline's status ids, newest first,
// including ids whose status has since been deleted.
func (db *DB) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]int64, error) {
	count := pageCount(p)
	below := int64(math.MaxInt64)
	if p.MaxID > 0 {
		below = p.MaxID
	}
	if tl.Kind == social.Profile {
		return db.readIDs(ctx, "timeline", qProfileIDs, tl.ID, below, count, p.Offset())
	}
	kind, err := storedKind(tl.Kind)
	if err != nil {
		return nil, err
	}
	return db.readIDs(ctx, "timeline", qTimelineIDs, kind, tl.ID, below, count, p.Offset())
}

// AddToTimelines puts status id into each home or list timeline in tls,
// trimming each to h. It does nothing when the status no longer exists.
// Profile timelines in tls are skipped: a status is in its author's
// profile from the moment it is created.
func (db *DB) AddToTimelines(ctx context.Context, id int64, tls []social.Timeline, h int) error {
	if err := checkTimelineSize(h); err != nil {
		return err
	}
	homes, lists, err := splitTimelines(tls)
	if err != nil || len(homes)+len(lists) == 0 {
		return err
	}
	return db.write(ctx, "add to timelines", func(tx *wtx) error {
		var exists bool
		if err := tx.queryRow(qStatusExists, id).Scan(&exists); err != nil || !exists {
			return err
		}
		if err := tx.addToMany(qInsertHomesEntry, storedHome, homes, id, h); err != nil {
			return err
		}
		return tx.addToMany(qInsertListsEntry, storedList, lists, id, h)
	})
}

// RemoveFromTimelines removes status id from each home or list timeline in
// tls.
func (db *DB) RemoveFromTimelines(ctx context.Context, id int64, tls []social.Timeline) error {
	homes, lists, err := splitTimelines(tls)
	if err != nil || len(homes)+len(lists) == 0 {
		return err
	}
	return db.write(ctx, "remove from timelines", func(tx *wtx) error {
		if len(homes) > 0 {
			if _, err := tx.exec(qRemoveFromMany, storedHome, jsonIDs(homes), id); err != nil {
				return err
			}
		}
		if len(lists) > 0 {
			if _, err := tx.exec(qRemoveFromMany, storedList, jsonIDs(lists), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RefillTimeline merges into a home or list timeline the newest h statuses
// of its sources, trimmed to h.
func (db *DB) RefillTimeline(ctx context.Context, tl social.Timeline, h int) error {
	if err := checkTimelineSize(h); err != nil {
		return err
	}
	kind, err := storedKind(tl.Kind)
	if err != nil {
		return err
	}
	refill := qRefillHome
	if kind == storedList {
		refill = qRefillList
	}
	return db.write(ctx, "refill timeline", func(tx *wtx) error {
		n, err := tx.execCount(refill, tl.ID, h)
		if err != nil || n == 0 {
			return err
		}
		return tx.trim(kind, tl.ID, h)
	})
}

// splitTimelines sorts the owners of home and list timelines apart.
func splitTimelines(tls []social.Timeline) (homes, lists []int64, err error) {
	for _, tl := range tls {
		switch tl.Kind {
		case social.Home:
			homes = append(homes, tl.ID)
		case social.ListTimeline:
			lists = append(lists, tl.ID)
		case social.Profile:
		default:
			return nil, nil, fmt.Errorf("sqlite: unknown timeline kind %d", tl.Kind)
		}
	}
	return homes, lists, nil
}

// addToTimeline puts one status into one timeline and trims it.
func (tx *wtx) addToTimeline(kind int, owner, sid int64, h int) error {
	n, err := tx.execCount(qInsertEntry, kind, owner, sid)
	if err != nil || n == 0 {
		return err
	}
	return tx.trim(kind, owner, h)
}

// addToMany puts one status into the timelines of kind owned by owners and
// trims those that went over h.
func (tx *wtx) addToMany(insert string, kind int, owners []int64, sid int64, h int) error {
	if len(owners) == 0 {
		return nil
	}
	js := jsonIDs(owners)
	n, err := tx.execCount(insert, js, sid)
	if err != nil || n == 0 {
		return err
	}
	_, err = tx.exec(qTrimMany, kind, js, h)
	return err
}

// copyNewest copies author's newest h statuses into a timeline, trimmed to
// h.
func (tx *wtx) copyNewest(kind int, owner, author int64, h int) error {
	n, err := tx.execCount(qCopyNewest, kind, owner, author, h)
	if err != nil || n == 0 {
		return err
	}
	return tx.trim(kind, owner, h)
}

// purgeAuthor removes author's statuses from a timeline and returns the
// number of entries left.
func (tx *wtx) purgeAuthor(kind int, owner, author int64) (int64, error) {
	if _, err := tx.exec(qPurgeAuthor, kind, owner, author); err != nil {
		return 0, err
	}
	var size int64
	err := tx.queryRow(qTimelineSize, kind, owner).Scan(&size)
	return size, err
}

func (tx *wtx) trim(kind int, owner int64, h int) error {
	_, err := tx.exec(qTrim, kind, owner, h)
	return err
}

func (tx *wtx) dropTimeline(kind int, owner int64) error {
	if _, err := tx.exec(qDropTimeline, kind, owner); err != nil {
		return err
	}
	_, err := tx.exec(qDropTimelineSize, kind, owner)
	return err
}
