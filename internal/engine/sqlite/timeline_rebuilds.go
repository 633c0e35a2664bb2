package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"starling/internal/social"
)

// RemoveFromTimelines removes status id from each home or list timeline in
// tls.
func (db *DB) RemoveFromTimelines(ctx context.Context, id social.StatusID, tls []social.Timeline) error {
	homes, lists, err := splitTimelines(tls)
	if err != nil || len(homes)+len(lists) == 0 {
		return err
	}
	return db.write(ctx, "remove from timelines", func(tx *wtx) error {
		if err := tx.removeFromMany(storedHome, homes, int64(id)); err != nil {
			return err
		}
		return tx.removeFromMany(storedList, lists, int64(id))
	})
}

// RefillTimeline merges into a home or list timeline the newest h statuses
// of its sources, trimmed to h.
func (db *DB) RefillTimeline(ctx context.Context, tl social.Timeline) error {
	h := db.opts.TimelineSize
	kind, err := storedKind(tl.Kind)
	if err != nil {
		return err
	}
	refill, still := qRefillHome, qRefillStillHome
	if kind == storedList {
		refill, still = qRefillList, qRefillStillList
	}
	// The merge is read from a snapshot, without holding the writer; what
	// changed since (an unfollow, a removed member, a deleted status) is
	// filtered out under the writer below, so nothing comes back that
	// should not.
	candidates, err := readIDs[int64](ctx, db, "refill timeline", refill, tl.ID, h)
	if err != nil || len(candidates) == 0 {
		return err
	}
	if db.afterRefillRead != nil {
		db.afterRefillRead()
	}
	return db.write(ctx, "refill timeline", func(tx *wtx) error {
		rows, err := tx.query(still, tl.ID, jsonIDs(candidates))
		if err != nil {
			return err
		}
		ids, err := scanIDs[int64](rows)
		if err != nil || len(ids) == 0 {
			return err
		}
		_, err = tx.rebuild(kind, tl.ID, h, func(tl []int64) ([]int64, error) {
			return newest(append(tl, ids...), h), nil
		})
		return err
	})
}

// removeFromMany removes status sid from the timelines of kind owned by
// owners.
func (tx *wtx) removeFromMany(kind int, owners []int64, sid int64) error {
	if len(owners) == 0 {
		return nil
	}
	tx.touch(kind, owners...)
	js := jsonIDs(owners)
	token := "," + strconv.FormatInt(sid, 10) + ","
	if _, err := tx.exec(qRemoveRecent, kind, js, token); err != nil {
		return err
	}
	rows, err := tx.query(qRemoveFromBlock, kind, js, sid, token)
	if err != nil {
		return err
	}
	lost, err := scanIDs[int64](rows)
	if err != nil || len(lost) == 0 {
		return err
	}
	_, err = tx.exec(qUncount, kind, jsonIDs(lost))
	return err
}

// rebuild reads a timeline whole (all its ids, newest first), replaces it
// with what change returns (newest first, no repeats) and records keep h.
// It returns the number of ids the timeline then holds.
func (tx *wtx) rebuild(kind int, owner int64, h int, change func([]int64) ([]int64, error)) (int64, error) {
	tx.touch(kind, owner)
	if _, err := tx.exec(qEnsureTimeline, kind, owner, h); err != nil {
		return 0, err
	}
	rows, err := tx.query(qWholeTimeline, kind, owner)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			rows.Close()
			return 0, err
		}
		if ids, err = appendIDs(ids, text); err != nil {
			rows.Close()
			return 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	slices.SortFunc(ids, descending)
	before := slices.Clone(ids)
	if ids, err = change(ids); err != nil {
		return 0, err
	}
	if slices.Equal(ids, before) {
		return int64(len(ids)), nil
	}
	if _, err := tx.exec(qDropBlocks, kind, owner); err != nil {
		return 0, err
	}
	var top int64
	if len(ids) > 0 {
		top = ids[0]
		if _, err := tx.exec(qInsertBlocks, kind, owner, blocksJSON(ids)); err != nil {
			return 0, err
		}
	}
	_, err = tx.exec(qRebuilt, kind, owner, len(ids), top)
	return int64(len(ids)), err
}

// blocksJSON cuts ids (newest first) into blocks of flushAt, as a JSON
// array of [newest, oldest, n, ids] for qInsertBlocks.
func blocksJSON(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for start := 0; start < len(ids); start += flushAt {
		block := ids[start:min(start+flushAt, len(ids))]
		if start > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `[%d,%d,%d,"`, block[0], block[len(block)-1], len(block))
		for _, id := range block {
			b.WriteByte(',')
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteString(`"]`)
	}
	b.WriteByte(']')
	return b.String()
}

// newest returns the newest h of ids (newest first after sorting), without
// repeats.
func newest(ids []int64, h int) []int64 {
	slices.SortFunc(ids, descending)
	ids = slices.Compact(ids)
	return ids[:min(h, len(ids))]
}

// copyNewest copies author's newest h statuses into a timeline, trimmed to
// h.
func (tx *wtx) copyNewest(kind int, owner, author int64, h int) error {
	rows, err := tx.query(qNewestOf, author, h)
	if err != nil {
		return err
	}
	theirs, err := scanIDs[int64](rows)
	if err != nil || len(theirs) == 0 {
		return err
	}
	_, err = tx.rebuild(kind, owner, h, func(ids []int64) ([]int64, error) {
		return newest(append(ids, theirs...), h), nil
	})
	return err
}

// purgeAuthor removes author's statuses from a timeline and returns the
// number of ids it shows then.
func (tx *wtx) purgeAuthor(kind int, owner, author int64, h int) (int64, error) {
	left, err := tx.rebuild(kind, owner, h, func(ids []int64) ([]int64, error) {
		if len(ids) == 0 {
			return ids, nil
		}
		rows, err := tx.query(qOwnStatuses, author, jsonIDs(ids))
		if err != nil {
			return nil, err
		}
		theirs, err := scanIDs[int64](rows)
		if err != nil {
			return nil, err
		}
		gone := make(map[int64]bool, len(theirs))
		for _, id := range theirs {
			gone[id] = true
		}
		return slices.DeleteFunc(ids, func(id int64) bool { return gone[id] }), nil
	})
	return min(left, int64(h)), err
}

func (tx *wtx) dropTimeline(kind int, owner int64) error {
	tx.touch(kind, owner)
	if _, err := tx.exec(qDropBlocks, kind, owner); err != nil {
		return err
	}
	_, err := tx.exec(qDropTimelineRow, kind, owner)
	return err
}
