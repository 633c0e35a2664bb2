package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"

	"starling/internal/social"
)

// Deliver puts each delivery's status into its home and list timelines,
// trimming each to h, all in one transaction; a status that no longer
// exists is skipped, and so are profile timelines (a status is in its
// author's profile from the moment it is created) and the homes of those
// who recently unfollowed its author (deliverable). The deliveries are
// appended first and the timelines that reached flushAt pending ids are
// flushed once at the end, whatever number of deliveries made them due: a
// timeline may then make a block of more than flushAt ids, which reads and
// trims take as they come. It returns the homes and missing statuses that
// deliverable skipped.
func (db *DB) Deliver(ctx context.Context, ds []social.Delivery) ([]social.Skipped, error) {
	h := db.opts.TimelineSize
	type split struct {
		status, author int64
		homes, lists   []int64
	}
	work := make([]split, 0, len(ds))
	for _, d := range ds {
		homes, lists, err := splitTimelines(d.Timelines)
		if err != nil {
			return nil, err
		}
		if len(homes)+len(lists) > 0 {
			work = append(work, split{int64(d.Status), int64(d.Author), homes, lists})
		}
	}
	if len(work) == 0 {
		return nil, nil
	}
	var c deliveryCheck
	err := db.write(ctx, "add to timelines", func(tx *wtx) error {
		var a appends
		c = deliveryCheck{marks: unfollowMarks{}}
		if len(work) == 1 {
			w := work[0]
			homes, ok, err := tx.deliverable(&c, w.status, w.author, w.homes)
			if err != nil || !ok {
				return err
			}
			if err := a.add(tx, storedHome, homes, w.status, h); err != nil {
				return err
			}
			if err := a.add(tx, storedList, w.lists, w.status, h); err != nil {
				return err
			}
			return a.finish(tx)
		}
		homes := newOwnerIDs()
		lists := newOwnerIDs()
		for _, w := range work {
			to, ok, err := tx.deliverable(&c, w.status, w.author, w.homes)
			if err != nil {
				return err
			}
			if ok {
				homes.add(to, w.status)
				lists.add(w.lists, w.status)
			}
		}
		if err := a.addGrouped(tx, storedHome, homes, h); err != nil {
			return err
		}
		if err := a.addGrouped(tx, storedList, lists, h); err != nil {
			return err
		}
		return a.finish(tx)
	})
	if err != nil {
		return nil, err
	}
	return c.skipped, nil
}

// ownerIDs collects the ids a Deliver puts into each timeline of a kind,
// owners in the order first named.
type ownerIDs struct {
	owners []int64
	ids    map[int64][]int64
}

func newOwnerIDs() *ownerIDs { return &ownerIDs{ids: map[int64][]int64{}} }

func (o *ownerIDs) add(owners []int64, sid int64) {
	for _, owner := range owners {
		ids, ok := o.ids[owner]
		if !ok {
			o.owners = append(o.owners, owner)
		}
		o.ids[owner] = append(ids, sid)
	}
}

// addGrouped appends to each timeline of kind all the ids it gets in this
// Deliver with one row update, where they all come after what the
// timeline holds (the usual case: fan-out delivers statuses about in the
// order they were posted). The timelines where they do not go through
// add, id by id.
func (a *appends) addGrouped(tx *wtx, kind int, o *ownerIDs, h int) error {
	if len(o.owners) == 0 {
		return nil
	}
	// A timeline that gets one id takes the plain append, whose owners
	// are a JSON array of integers: the grouped statement reads each of
	// its rows out of a JSON array, which for a chunk of a large fan-out
	// (thousands of timelines, one status) costs more than it saves.
	single, multi := newOwnerIDs(), newOwnerIDs()
	for _, owner := range o.owners {
		ids := slices.Compact(slices.Sorted(slices.Values(o.ids[owner])))
		into := multi
		if len(ids) == 1 {
			into = single
		}
		into.owners = append(into.owners, owner)
		into.ids[owner] = ids
	}
	if err := a.addOneByOne(tx, kind, single, h); err != nil {
		return err
	}
	if o = multi; len(o.owners) == 0 {
		return nil
	}
	tx.touch(kind, o.owners...)
	var b []byte
	b = append(b, '[')
	for i, owner := range o.owners {
		ids := o.ids[owner]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, owner, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, ids[0]-1, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, ids[len(ids)-1], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(len(ids)), 10)
		b = append(b, `,"`...)
		for _, id := range ids {
			b = append(b, ',')
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, `"]`...)
	}
	b = append(b, ']')
	grouped := string(b)
	rows, err := tx.query(qOutOfOrder, kind, grouped)
	if err != nil {
		return err
	}
	late, err := scanIDs[int64](rows)
	if err != nil {
		return err
	}
	if len(late) > 0 {
		// Rare: take those timelines out of the grouped append and give
		// them their ids one by one.
		slow := newOwnerIDs()
		for _, owner := range late {
			slow.add([]int64{owner}, 0)
			slow.ids[owner] = o.ids[owner]
		}
		fast := newOwnerIDs()
		for _, owner := range o.owners {
			if _, ok := slow.ids[owner]; !ok {
				fast.owners = append(fast.owners, owner)
				fast.ids[owner] = o.ids[owner]
			}
		}
		if err := a.addOneByOne(tx, kind, slow, h); err != nil {
			return err
		}
		return a.addGrouped(tx, kind, fast, h)
	}
	q := qAppendHomesGrouped
	if kind == storedList {
		q = qAppendListsGrouped
	}
	if _, err := tx.exec(q, grouped, h); err != nil {
		return err
	}
	a.due[kind] = true
	return nil
}

// addOneByOne appends the ids of o one status at a time (add).
func (a *appends) addOneByOne(tx *wtx, kind int, o *ownerIDs, h int) error {
	bySid := map[int64][]int64{}
	var sids []int64
	for _, owner := range o.owners {
		for _, sid := range o.ids[owner] {
			if _, ok := bySid[sid]; !ok {
				sids = append(sids, sid)
			}
			bySid[sid] = append(bySid[sid], owner)
		}
	}
	slices.Sort(sids)
	for _, sid := range sids {
		if err := a.add(tx, kind, bySid[sid], sid, h); err != nil {
			return err
		}
	}
	return nil
}

// addToMany puts status sid into the timelines of kind owned by owners:
// appended to their recent ids, made into blocks where that makes flushAt
// of them, trimmed by blocks.
func (tx *wtx) addToMany(kind int, owners []int64, sid int64, h int) error {
	var a appends
	if err := a.add(tx, kind, owners, sid, h); err != nil {
		return err
	}
	return a.finish(tx)
}

// appends collects what the appends of one transaction left to do: the
// kinds of timeline due for a flush and the timelines to trim.
type appends struct {
	due  [storedList + 1]bool
	over [storedList + 1][]timelineKeep
}

// add puts status sid into the timelines of kind owned by owners, appended
// to their recent ids; finish then makes blocks where that made flushAt of
// them and trims by blocks.
func (a *appends) add(tx *wtx, kind int, owners []int64, sid int64, h int) error {
	if len(owners) == 0 {
		return nil
	}
	tx.touch(kind, owners...)
	js := jsonIDs(owners)
	token := "," + strconv.FormatInt(sid, 10)
	args := []any{js, sid, h, token, token + ","}
	var appended int64
	due := true
	if len(owners) <= fewOwners {
		q := qAppendHomesFew
		if kind == storedList {
			q = qAppendListsFew
		}
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		pending, err := scanIDs[int64](rows)
		if err != nil {
			return err
		}
		appended = int64(len(pending))
		due = slices.ContainsFunc(pending, func(n int64) bool { return n >= flushAt })
	} else {
		q := qAppendHomes
		if kind == storedList {
			q = qAppendLists
		}
		var err error
		if appended, err = tx.execCount(q, args...); err != nil {
			return err
		}
	}
	if appended < int64(len(owners)) {
		// Some timelines have newer ids in blocks already, or have this
		// one pending (the job ran before), or are lists that are gone.
		over, err := tx.addLate(kind, js, sid, h, token)
		if err != nil {
			return err
		}
		a.over[kind] = append(a.over[kind], over...)
	}
	a.due[kind] = a.due[kind] || due
	return nil
}

// finish flushes the kinds of timeline that are due and trims the
// timelines that went too far past their keep.
func (a *appends) finish(tx *wtx) error {
	for kind := range a.due {
		if a.due[kind] {
			flushed, err := tx.flush(kind)
			if err != nil {
				return err
			}
			a.over[kind] = append(a.over[kind], flushed...)
		}
		for _, t := range a.over[kind] {
			if err := tx.trim(kind, t.owner, t.keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush turns the recent ids of the timelines of kind that have flushAt
// of them into blocks (see qFlushBlocks) and returns the timelines that
// went too far past their keep.
func (tx *wtx) flush(kind int) ([]timelineKeep, error) {
	if _, err := tx.exec(qFlushBlocks, kind); err != nil {
		return nil, err
	}
	if _, err := tx.exec(qDropOldest, kind); err != nil {
		return nil, err
	}
	return tx.overfull(qFlushed, kind)
}

// addLate puts sid into the blocks of those timelines in js whose top is
// at or above it, where it is not already, and returns the timelines that
// went too far past their keep.
func (tx *wtx) addLate(kind int, js string, sid int64, h int, token string) ([]timelineKeep, error) {
	var gained []int64
	for _, q := range []string{qLateIntoBlock, qLateNewBlock} {
		rows, err := tx.query(q, kind, js, sid, token, token+",")
		if err != nil {
			return nil, err
		}
		owners, err := scanIDs[int64](rows)
		if err != nil {
			return nil, err
		}
		gained = append(gained, owners...)
	}
	if len(gained) == 0 {
		return nil, nil
	}
	return tx.overfull(qLateCounted, kind, jsonIDs(gained), h)
}

// timelineKeep is a timeline whose blocks went too far past its keep.
type timelineKeep struct {
	owner, keep int64
}

// overfull runs a statement returning (owner, stored, keep) rows and
// returns the timelines due for a full trim.
func (tx *wtx) overfull(query string, args ...any) ([]timelineKeep, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var over []timelineKeep
	for rows.Next() {
		var owner, stored int64
		var keep sql.NullInt64
		if err := rows.Scan(&owner, &stored, &keep); err != nil {
			return nil, err
		}
		if keep.Valid && stored > keep.Int64+overTrim {
			over = append(over, timelineKeep{owner: owner, keep: keep.Int64})
		}
	}
	return over, rows.Err()
}

// trim drops a timeline's blocks that lie wholly past its newest keep ids
// (recent left aside) and sets its stored count.
func (tx *wtx) trim(kind int, owner, keep int64) error {
	rows, err := tx.query(qBlockSizes, kind, owner)
	if err != nil {
		return err
	}
	var held, cut int64
	for rows.Next() {
		var newest, n int64
		if err := rows.Scan(&newest, &n); err != nil {
			rows.Close()
			return err
		}
		held += n
		if held >= keep {
			cut = newest
			break
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || cut == 0 {
		return err
	}
	if _, err := tx.exec(qDropBelow, kind, owner, cut); err != nil {
		return err
	}
	_, err = tx.exec(qSetStored, kind, owner, held)
	return err
}

// unfollowMarks caches, for one Deliver, who recently unfollowed each author
// (a nil set: nobody, the common case).
type unfollowMarks map[int64]map[int64]bool

// deliveryCheck is what deliverable keeps over one Deliver: the marks it
// read and what it skipped (nil when nothing, the common case).
type deliveryCheck struct {
	marks   unfollowMarks
	skipped []social.Skipped
}

// deliverable reports whether status sid still exists and returns the homes
// it may go to: homes without those who unfollowed its author within
// social.RecentUnfollowTTL and have not followed again. The delivery was
// planned from the followers of its time; an unfollow since has purged the
// author from that home, and the status must not come back. author is zero
// for deliveries planned before authors were recorded; they are not
// filtered. A missing status and the homes left out are added to
// c.skipped.
func (tx *wtx) deliverable(c *deliveryCheck, sid, author int64, homes []int64) ([]int64, bool, error) {
	var uid int64
	err := tx.queryRow(qStatusAuthor, sid).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		c.skipped = append(c.skipped, social.Skipped{Status: social.StatusID(sid)})
		return nil, false, nil
	}
	if err != nil || author == 0 || len(homes) == 0 {
		return homes, err == nil, err
	}
	gone, ok := c.marks[author]
	if !ok {
		rows, err := tx.query(qUnfollowedBy, author)
		if err != nil {
			return nil, false, err
		}
		ids, err := scanIDs[int64](rows)
		if err != nil {
			return nil, false, err
		}
		if len(ids) > 0 {
			gone = make(map[int64]bool, len(ids))
			for _, id := range ids {
				gone[id] = true
			}
		}
		c.marks[author] = gone
	}
	if gone == nil {
		return homes, true, nil
	}
	return slices.DeleteFunc(slices.Clone(homes), func(uid int64) bool {
		if !gone[uid] {
			return false
		}
		c.skipped = append(c.skipped, social.Skipped{Status: social.StatusID(sid), Home: social.UserID(uid)})
		return true
	}), true, nil
}
