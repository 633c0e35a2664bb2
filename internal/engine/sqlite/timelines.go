package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"starling/internal/engine/timelinecache"
	"starling/internal/social"
)

// Home and list timelines (migration 2). A timeline is
//
//   - recent, in its timelines row: its newest ids, not yet in a block,
//     each written as ',' || id;
//   - its blocks, rows of timeline_blocks holding about flushAt ids each in
//     the same form, covering disjoint ranges of older ids.
//
// Every id in recent is above top, and top is at least every id in the
// blocks, so the timeline newest first is recent (sorted) followed by the
// blocks from the newest down (each sorted). Reads show the newest keep
// ids, keep being the timeline size h of the latest write.
//
// The layout is about the WAL. Fan-out adds one id to a thousand
// timelines per call. As a row per entry (the layout before migration 2)
// each id landed on a leaf page of its own timeline, and every such page
// cost a WAL frame (two write calls and a checksum over the page) at commit
// and a write at checkpoint, plus a B-tree insert and, for a full
// timeline, a delete with their seeks: that, not SQL, was most of a
// fan-out's time. Appended to recent instead, an id rewrites a timelines
// row of some hundred bytes, a thousand of which share a few dozen pages.
// When a timeline has flushAt pending ids they become one block (one
// B-tree insert), and its oldest block goes (one delete) when the others
// still hold keep ids. Per id that is about 1/flushAt of a B-tree insert
// and delete, and far fewer pages per commit.
//
// Trimming is thus by block: a timeline holds up to a block beyond keep
// (plus its pending ids), and reads cut at keep. What a client sees is
// what eager trimming to keep showed, except that when an id among the
// newest keep is removed (a purge after an unfollow, a deleted status's
// cleanup) an older id the timeline still holds moves up into view, as a
// refill would have brought it back anyway. Follow copies and refills
// rebuild the timeline and trim it to exactly keep.

// flushAt is how many pending ids make a block. Migration 2's partial
// index timelines_due is declared with this number and must change with
// it (in a new migration).
const flushAt = 32

// overTrim is how far past keep a timeline's blocks may hold ids before a
// flush trims more than the one oldest block: only when h was lowered or
// blocks were left small by removals and late ids.
const overTrim = 4 * flushAt

const maxInt = `9223372036854775807`

var (
	// Adding to many timelines: one statement appends the id to the recent
	// of each timeline, creating the rows that are missing. An id not
	// above top (it comes after newer ones became a block) or already
	// pending is left to the late path. A list deleted after the fan-out
	// was planned is skipped rather than revived. The Few variants, for a
	// handful of timelines (a post to its author's home), also return the
	// pending counts, so that the flush statements run only when one is
	// due.
	qAppendHomes    = writeQuery(appendQuery(storedHome, ""))
	qAppendLists    = writeQuery(appendQuery(storedList, ""))
	qAppendHomesFew = writeQuery(appendQuery(storedHome, "RETURNING pending"))
	qAppendListsFew = writeQuery(appendQuery(storedList, "RETURNING pending"))

	// Appending several ids to each of many timelines (Deliver), ?1 a JSON
	// array of [owner, oldest new id - 1, newest new id, how many, their
	// tokens]: only where every new id is above both top and head, so that
	// none can be pending already (qInOrder finds the others first). A
	// timeline created here starts with top just below its oldest id, which
	// keeps "every id in recent is above top" true.
	qAppendHomesGrouped = writeQuery(appendGroupedQuery(storedHome))
	qAppendListsGrouped = writeQuery(appendGroupedQuery(storedList))
	qOutOfOrder         = writeQuery(`
SELECT t.owner FROM json_each(?2) j CROSS JOIN timelines t ON t.kind = ?1 AND t.owner = j.value ->> 0
WHERE j.value ->> 1 < t.top OR j.value ->> 1 < t.head`)

	// The late path: an id at or below top joins the block whose range
	// it falls in or below (the one with the smallest newest at or above
	// it, whose oldest then comes down to it), which keeps the blocks
	// disjoint; with no such block it makes a block of its own. Both
	// return the timelines that gained it, for qLateCounted.
	qLateIntoBlock = writeQuery(`
UPDATE timeline_blocks SET ids = ids || ?4, n = n + 1, oldest = min(oldest, ?3)
WHERE kind = ?1 AND (owner, newest) IN (
	SELECT t.owner, (SELECT min(b.newest) FROM timeline_blocks b WHERE b.kind = ?1 AND b.owner = t.owner AND b.newest >= ?3)
	FROM json_each(?2) j CROSS JOIN timelines t ON t.kind = ?1 AND t.owner = j.value
	WHERE t.top >= ?3)
	AND instr(ids || ',', ?5) = 0
RETURNING owner`)
	qLateNewBlock = writeQuery(`
INSERT OR IGNORE INTO timeline_blocks (kind, owner, newest, oldest, n, ids)
SELECT ?1, t.owner, ?3, ?3, 1, ?4 FROM json_each(?2) j CROSS JOIN timelines t ON t.kind = ?1 AND t.owner = j.value
WHERE t.top >= ?3 AND NOT EXISTS (SELECT 1 FROM timeline_blocks b WHERE b.kind = ?1 AND b.owner = t.owner AND b.newest >= ?3)
RETURNING owner`)
	qLateCounted = writeQuery(`
UPDATE timelines SET stored = stored + 1, keep = ?3
WHERE kind = ?1 AND owner IN (SELECT value FROM json_each(?2))
RETURNING owner, stored, keep`)

	// Flushing, for every timeline of a kind with flushAt pending ids
	// (found through the partial index, so the cost follows the timelines
	// flushed, not the table): recent becomes a block covering (top,
	// head]; the oldest block goes when the others and the new one still
	// hold keep ids; stored is summed again (a walk over the timeline's
	// few dozen blocks, which keeps it right whatever happened before)
	// and top raised. The new block cannot collide with an older one, as
	// head is above top and top is at least every block's newest; OR
	// IGNORE keeps a broken invariant from failing every fan-out of the
	// kind.
	qFlushBlocks = writeQuery(`
INSERT OR IGNORE INTO timeline_blocks (kind, owner, newest, oldest, n, ids)
SELECT kind, owner, head, top + 1, pending, recent FROM timelines INDEXED BY timelines_due
WHERE kind = ?1 AND pending >= ` + sqlInt(flushAt))
	qDropOldest = writeQuery(`
DELETE FROM timeline_blocks WHERE kind = ?1 AND (owner, newest) IN (
	SELECT t.owner, b.newest FROM timelines t INDEXED BY timelines_due
	CROSS JOIN timeline_blocks b ON b.kind = ?1 AND b.owner = t.owner
		AND b.newest = (SELECT min(o.newest) FROM timeline_blocks o WHERE o.kind = ?1 AND o.owner = t.owner)
	WHERE t.kind = ?1 AND t.pending >= ` + sqlInt(flushAt) + ` AND t.stored + t.pending - b.n >= t.keep)`)
	qFlushed = writeQuery(`
UPDATE timelines INDEXED BY timelines_due SET
	stored = (SELECT coalesce(sum(b.n), 0) FROM timeline_blocks b WHERE b.kind = timelines.kind AND b.owner = timelines.owner),
	top = max(top, head), head = 0, pending = 0, recent = ''
WHERE kind = ?1 AND pending >= ` + sqlInt(flushAt) + `
RETURNING owner, stored, keep`)

	// Trimming all at once (rare, see overTrim): the blocks newest first,
	// summed in Go to find the one where the newest keep ids end.
	qBlockSizes = writeQuery(`SELECT newest, n FROM timeline_blocks WHERE kind = ? AND owner = ? ORDER BY newest DESC`)
	qDropBelow  = writeQuery(`DELETE FROM timeline_blocks WHERE kind = ? AND owner = ? AND newest < ?`)
	qSetStored  = writeQuery(`UPDATE timelines SET stored = ?3 WHERE kind = ?1 AND owner = ?2`)

	// Removing an id: from recent, and from the one block whose range can
	// hold it. The blocks keep their bounds, which stay true.
	qRemoveRecent = writeQuery(`
UPDATE timelines SET pending = pending - 1, recent = rtrim(replace(recent || ',', ?3, ','), ',')
WHERE kind = ?1 AND owner IN (SELECT value FROM json_each(?2)) AND instr(recent || ',', ?3) > 0`)
	qRemoveFromBlock = writeQuery(`
UPDATE timeline_blocks SET n = n - 1, ids = rtrim(replace(ids || ',', ?4, ','), ',')
WHERE kind = ?1 AND (owner, newest) IN (
	SELECT j.value, (SELECT min(b.newest) FROM timeline_blocks b WHERE b.kind = ?1 AND b.owner = j.value AND b.newest >= ?3)
	FROM json_each(?2) j)
	AND instr(ids || ',', ?4) > 0
RETURNING owner`)
	qUncount = writeQuery(`
UPDATE timelines SET stored = stored - 1 WHERE kind = ?1 AND owner IN (SELECT value FROM json_each(?2))`)

	// Rebuilding (follow copies, refills, purges) reads a timeline whole,
	// changes it in Go and writes it back as fresh blocks.
	qEnsureTimeline = writeQuery(`
INSERT INTO timelines (kind, owner, keep) VALUES (?1, ?2, ?3)
ON CONFLICT (kind, owner) DO UPDATE SET keep = excluded.keep`)
	qWholeTimeline = writeQuery(`
SELECT recent FROM timelines WHERE kind = ?1 AND owner = ?2
UNION ALL
SELECT ids FROM timeline_blocks WHERE kind = ?1 AND owner = ?2`)
	qDropBlocks   = writeQuery(`DELETE FROM timeline_blocks WHERE kind = ? AND owner = ?`)
	qInsertBlocks = writeQuery(`
INSERT INTO timeline_blocks (kind, owner, newest, oldest, n, ids)
SELECT ?1, ?2, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 FROM json_each(?3) j`)
	qRebuilt = writeQuery(`
UPDATE timelines SET stored = ?3, top = max(top, ?4), head = 0, pending = 0, recent = ''
WHERE kind = ?1 AND owner = ?2`)
	qDropTimelineRow = writeQuery(`DELETE FROM timelines WHERE kind = ? AND owner = ?`)

	qStatusExists = writeQuery(`SELECT EXISTS (SELECT 1 FROM statuses WHERE id = ?)`)

	qNewestOf    = writeQuery(`SELECT id FROM statuses WHERE uid = ? ORDER BY id DESC LIMIT ?`)
	qOwnStatuses = writeQuery(`
SELECT id FROM statuses WHERE uid = ?1 AND id IN (SELECT value FROM json_each(?2))`)

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
SELECT s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)
	qRefillList = writeQuery(`
WITH sources (uid) AS (
	SELECT uid FROM list_members WHERE list_id = ?1
), floors (uid, lowest) AS (
	SELECT uid, coalesce((SELECT id FROM statuses WHERE statuses.uid = sources.uid
		ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
	FROM sources
)
SELECT s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)

	qProfileIDs = readQuery(`SELECT id FROM statuses WHERE uid = ? AND id < ? ORDER BY id DESC LIMIT ? OFFSET ?`)
	// qTimelineWindow reads a timeline for a page, in one statement so that
	// it all comes from one snapshot: first its row, as 'r<keep>/<above>'
	// followed by recent, where above counts the ids of the blocks wholly
	// at or above ?3 (max_id; MaxInt64 for a page read), which come
	// before the page and count against keep; then the blocks from the
	// one that may straddle ?3 down, newest first. The compound ORDER BY
	// merges the two arms, the blocks' in primary key order, so the rows
	// stream: the reader stops once it has the page, and a page costs
	// about one row per flushAt ids above it.
	qTimelineWindow = readQuery(`
SELECT 'r' || coalesce(keep, '') || '/' || (
		SELECT coalesce(sum(n), 0) FROM timeline_blocks b WHERE b.kind = ?1 AND b.owner = ?2 AND b.newest > coalesce(
			(SELECT min(c.newest) FROM timeline_blocks c WHERE c.kind = ?1 AND c.owner = ?2 AND c.newest >= ?3), ` + maxInt + `))
	|| recent, ` + maxInt + `
FROM timelines WHERE kind = ?1 AND owner = ?2
UNION ALL
SELECT ids, newest FROM timeline_blocks WHERE kind = ?1 AND owner = ?2 AND newest <= coalesce(
	(SELECT min(newest) FROM timeline_blocks WHERE kind = ?1 AND owner = ?2 AND newest >= ?3), ` + maxInt + `)
ORDER BY 2 DESC`)
)

func sqlInt(n int) string { return strconv.Itoa(n) }

// appendQuery builds the qAppend statements: ?1 the owners (JSON), ?2 the
// id, ?3 h, ?4 ',' || id, ?5 ',' || id || ','.
func appendQuery(kind int, returning string) string {
	owners := `SELECT ` + sqlInt(kind) + `, value, ?3, ?2, 1, ?4 FROM json_each(?1)`
	if kind == storedList {
		owners = `SELECT ` + sqlInt(kind) + `, lists.id, ?3, ?2, 1, ?4 FROM json_each(?1) JOIN lists ON lists.id = json_each.value`
	}
	return `
INSERT INTO timelines (kind, owner, keep, head, pending, recent)
` + owners + ` WHERE true
ON CONFLICT (kind, owner) DO UPDATE SET keep = excluded.keep, head = max(head, excluded.head),
	pending = pending + 1, recent = recent || excluded.recent
WHERE ?2 > top AND instr(recent || ',', ?5) = 0
` + returning
}

// appendGroupedQuery builds the qAppend…Grouped statements (see there).
func appendGroupedQuery(kind int) string {
	owners := `SELECT ` + sqlInt(kind) + `, j.value ->> 0, ?2, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 FROM json_each(?1) j`
	if kind == storedList {
		owners += ` JOIN lists ON lists.id = j.value ->> 0`
	}
	return `
INSERT INTO timelines (kind, owner, keep, top, head, pending, recent)
` + owners + ` WHERE true
ON CONFLICT (kind, owner) DO UPDATE SET keep = excluded.keep, head = max(head, excluded.head),
	pending = pending + excluded.pending, recent = recent || excluded.recent
WHERE excluded.top >= top AND excluded.top >= head`
}

// fewOwners is how many timelines an add may name for the Few variants of
// qAppend, whose rows come back through database/sql one by one.
const fewOwners = 8

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
	// Pages near the top come from the cache of timeline heads; a head
	// that misses is read and cached whole.
	ids, ok, err := db.timelines.Get(tlKey{kind, tl.ID}, below, count, p.Offset(), func() ([]int64, bool, error) {
		head, err := db.readTimeline(ctx, kind, tl.ID, math.MaxInt64, timelinecache.Depth, 0)
		return head, len(head) < timelinecache.Depth, err
	})
	if err != nil || ok {
		return ids, err
	}
	return db.readTimeline(ctx, kind, tl.ID, below, count, p.Offset())
}

// readTimeline reads a page of a home or list timeline from the database.
func (db *DB) readTimeline(ctx context.Context, kind int, owner, below int64, count, offset int) ([]int64, error) {
	rows, err := db.readRows(ctx, qTimelineWindow, kind, owner, below)
	if err != nil {
		return nil, db.fail("timeline", err)
	}
	ids, err := readPage(rows, below, count, offset)
	return ids, db.fail("timeline", err)
}

// readPage cuts a page from qTimelineWindow's rows: the ids below below,
// from offset on, at most count of them, and none past the newest keep.
// It reads rows only until it has the page, and parses a block only when
// the page may take ids from it.
func readPage(rows *sql.Rows, below int64, count, offset int) ([]int64, error) {
	defer rows.Close()
	var (
		v      any
		newest int64
		found  bool
		keep   = int64(math.MaxInt64)
		above  int64       // ids at or above below: before the page, within keep
		pos    int64       // ids below below passed so far
		limit  = int64(-1) // the page's length, once above is final
		ids    []int64
		page   = []int64{}
	)
	for rows.Next() {
		if err := rows.Scan(&v, &newest); err != nil {
			return nil, err
		}
		text, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %T in a timeline", v)
		}
		if !found {
			// The timeline's row comes first; its recent ids are read
			// like a block reaching up to below.
			var err error
			if keep, above, text, err = parseTimelineRow(text); err != nil {
				return nil, err
			}
			found = true
		} else if newest < below {
			// Only a block reaching up to below holds ids at or above
			// it, and it comes first: from here on, above is final.
			if limit < 0 {
				limit = max(0, min(int64(count), keep-above-int64(offset)))
			}
			if int64(len(page)) >= limit {
				break
			}
			if n := int64(strings.Count(text, ",")); pos+n <= int64(offset) {
				pos += n
				continue
			}
		}
		var err error
		if ids, err = appendIDs(ids[:0], text); err != nil {
			return nil, err
		}
		slices.SortFunc(ids, descending)
		for _, id := range ids {
			switch {
			case id >= below:
				above++
			case pos >= int64(offset):
				page = append(page, id)
				pos++
			default:
				pos++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if limit < 0 {
		limit = max(0, min(int64(count), keep-above-int64(offset)))
	}
	return page[:min(int64(len(page)), limit)], nil
}

// parseTimelineRow reads the first row of qTimelineWindow:
// 'r<keep>/<above>' followed by recent.
func parseTimelineRow(text string) (keep, above int64, recent string, err error) {
	bad := fmt.Errorf("malformed timeline row %q", text)
	if !strings.HasPrefix(text, "r") {
		return 0, 0, "", bad
	}
	counts, rest, _ := strings.Cut(text[1:], ",")
	keepText, aboveText, ok := strings.Cut(counts, "/")
	if !ok {
		return 0, 0, "", bad
	}
	keep = math.MaxInt64
	if keepText != "" {
		if keep, err = strconv.ParseInt(keepText, 10, 64); err != nil {
			return 0, 0, "", bad
		}
	}
	if above, err = strconv.ParseInt(aboveText, 10, 64); err != nil {
		return 0, 0, "", bad
	}
	if rest != "" {
		recent = "," + rest
	}
	return keep, above, recent, nil
}

// appendIDs appends the ids of a recent or ids column (',' || id for
// each) to dst. Reads parse a few dozen ids per row, so this is a plain
// loop rather than a split and strconv per id.
func appendIDs(dst []int64, text string) ([]int64, error) {
	var id int64
	digits := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ',':
			if i > 0 {
				if digits == 0 {
					return nil, fmt.Errorf("malformed timeline ids %q", text)
				}
				dst = append(dst, id)
			}
			id, digits = 0, 0
		case c >= '0' && c <= '9' && i > 0 && id <= (math.MaxInt64-int64(c-'0'))/10:
			id = id*10 + int64(c-'0')
			digits++
		default:
			return nil, fmt.Errorf("malformed timeline ids %q", text)
		}
	}
	if len(text) > 0 {
		if digits == 0 {
			return nil, fmt.Errorf("malformed timeline ids %q", text)
		}
		dst = append(dst, id)
	}
	return dst, nil
}

func descending(a, b int64) int { return cmp.Compare(b, a) }

// AddToTimelines puts status id into each home or list timeline in tls,
// trimming each to h. It does nothing when the status no longer exists.
// Profile timelines in tls are skipped: a status is in its author's
// profile from the moment it is created.
func (db *DB) AddToTimelines(ctx context.Context, id int64, tls []social.Timeline, h int) error {
	return db.Deliver(ctx, []social.Delivery{{Status: id, Timelines: tls}}, h)
}

// Deliver does what AddToTimelines does for each delivery in one
// transaction. The deliveries are appended first and the timelines that
// reached flushAt pending ids are flushed once at the end, whatever number
// of deliveries made them due: a timeline may then make a block of more
// than flushAt ids, which reads and trims take as they come.
func (db *DB) Deliver(ctx context.Context, ds []social.Delivery, h int) error {
	if err := checkTimelineSize(h); err != nil {
		return err
	}
	type split struct {
		status       int64
		homes, lists []int64
	}
	work := make([]split, 0, len(ds))
	for _, d := range ds {
		homes, lists, err := splitTimelines(d.Timelines)
		if err != nil {
			return err
		}
		if len(homes)+len(lists) > 0 {
			work = append(work, split{d.Status, homes, lists})
		}
	}
	if len(work) == 0 {
		return nil
	}
	return db.write(ctx, "add to timelines", func(tx *wtx) error {
		var a appends
		if len(work) == 1 {
			w := work[0]
			var exists bool
			if err := tx.queryRow(qStatusExists, w.status).Scan(&exists); err != nil || !exists {
				return err
			}
			if err := a.add(tx, storedHome, w.homes, w.status, h); err != nil {
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
			var exists bool
			if err := tx.queryRow(qStatusExists, w.status).Scan(&exists); err != nil {
				return err
			}
			if exists {
				homes.add(w.homes, w.status)
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
	late, err := scanIDs(rows)
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

// RemoveFromTimelines removes status id from each home or list timeline in
// tls.
func (db *DB) RemoveFromTimelines(ctx context.Context, id int64, tls []social.Timeline) error {
	homes, lists, err := splitTimelines(tls)
	if err != nil || len(homes)+len(lists) == 0 {
		return err
	}
	return db.write(ctx, "remove from timelines", func(tx *wtx) error {
		if err := tx.removeFromMany(storedHome, homes, id); err != nil {
			return err
		}
		return tx.removeFromMany(storedList, lists, id)
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
		rows, err := tx.query(refill, tl.ID, h)
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil || len(ids) == 0 {
			return err
		}
		_, err = tx.rebuild(kind, tl.ID, h, func(tl []int64) ([]int64, error) {
			return newest(append(tl, ids...), h), nil
		})
		return err
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
		pending, err := scanIDs(rows)
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
		owners, err := scanIDs(rows)
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
	lost, err := scanIDs(rows)
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
	theirs, err := scanIDs(rows)
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
		theirs, err := scanIDs(rows)
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
