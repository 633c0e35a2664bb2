package sqlite

import (
	"fmt"
	"strconv"

	"starling/internal/social"
)

// Home and list timelines: their layout and SQL. timeline_reads.go reads
// them, timeline_appends.go appends to and trims them, timeline_rebuilds.go
// rewrites them (follow copies, purges, refills).
//
// A home or list timeline (migration 2) is
//
//   - recent, in its timelines row: its newest ids, not yet in a block,
//     each written as ',' || id;
//   - its blocks, rows of timeline_blocks holding about flushAt ids each in
//     the same form, covering disjoint ranges of older ids.
//
// Every id in recent is above top, and top is at least every id in the
// blocks, so the timeline newest first is recent (sorted) followed by the
// blocks from the newest down (each sorted). Reads show the newest keep
// ids, keep being the deployment's timeline size h (fixed when the data was
// first opened; see settings.go).
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
// flush trims more than the one oldest block: only when blocks were left
// small by removals and late ids.
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

	qStatusAuthor = writeQuery(`SELECT uid FROM statuses WHERE id = ?`)

	qNewestOf    = writeQuery(`SELECT id FROM statuses WHERE uid = ? ORDER BY id DESC LIMIT ?`)
	qOwnStatuses = writeQuery(`
SELECT id FROM statuses WHERE uid = ?1 AND id IN (SELECT value FROM json_each(?2))`)

	// Refilling merges the newest ?2 statuses of a timeline's sources.
	// Only a source's own newest ?2 can make the cut, so each source is
	// first bounded by the id of its ?2-th newest status: a source costs at
	// most 2×?2 index steps however long its history, and the merge sorts
	// (keeping the newest ?2) no more than sources×?2 ids. That is linear
	// in the sources, so it runs on a reader, outside the write
	// transaction; the transaction then keeps only the ids that are still
	// a source's (qRefillStillHome, qRefillStillList), at most ?2 lookups.
	qRefillHome = readQuery(`
WITH sources (uid) AS (
	SELECT ?1 UNION SELECT followee FROM follows WHERE follower = ?1
), floors (uid, lowest) AS (
	SELECT uid, coalesce((SELECT id FROM statuses WHERE statuses.uid = sources.uid
		ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
	FROM sources
)
SELECT s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)
	qRefillList = readQuery(`
WITH sources (uid) AS (
	SELECT uid FROM list_members WHERE list_id = ?1
), floors (uid, lowest) AS (
	SELECT uid, coalesce((SELECT id FROM statuses WHERE statuses.uid = sources.uid
		ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1), 0)
	FROM sources
)
SELECT s.id FROM floors JOIN statuses s ON s.uid = floors.uid AND s.id >= floors.lowest
ORDER BY s.id DESC LIMIT ?2`)

	qRefillStillHome = writeQuery(`
SELECT s.id FROM statuses s WHERE s.id IN (SELECT value FROM json_each(?2))
	AND (s.uid = ?1 OR EXISTS (SELECT 1 FROM follows f WHERE f.follower = ?1 AND f.followee = s.uid))`)
	qRefillStillList = writeQuery(`
SELECT s.id FROM statuses s WHERE s.id IN (SELECT value FROM json_each(?2))
	AND EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = ?1 AND m.uid = s.uid)`)

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
