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

// TimelineIDs returns a page of a timeline's status ids, newest first,
// including ids whose status has since been deleted.
func (db *DB) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]social.StatusID, error) {
	count := pageCount(p)
	below := int64(math.MaxInt64)
	if p.MaxID > 0 {
		below = int64(p.MaxID)
	}
	if tl.Kind == social.Profile {
		return readIDs[social.StatusID](ctx, db, "timeline", qProfileIDs, tl.ID, below, count, p.Offset())
	}
	kind, err := storedKind(tl.Kind)
	if err != nil {
		return nil, err
	}
	// Pages near the top come from the cache of timeline heads; a head
	// that misses is read and cached whole.
	ids, ok, err := db.timelines.Get(tlKey{kind, tl.ID}, social.StatusID(below), count, p.Offset(), func() ([]social.StatusID, bool, error) {
		head, err := db.readTimeline(ctx, kind, tl.ID, math.MaxInt64, timelinecache.Depth, 0)
		return statusIDs(head), len(head) < timelinecache.Depth, err
	})
	if err != nil || ok {
		return ids, err
	}
	page, err := db.readTimeline(ctx, kind, tl.ID, below, count, p.Offset())
	return statusIDs(page), err
}

// statusIDs types the status ids the timeline layout stores as integers.
func statusIDs(ids []int64) []social.StatusID {
	out := make([]social.StatusID, len(ids))
	for i, id := range ids {
		out[i] = social.StatusID(id)
	}
	return out
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

// DefaultTimelineCacheBytes is the timeline cache's size when
// Options.TimelineCacheBytes is zero: the heads of some tens of thousands
// of timelines.
const DefaultTimelineCacheBytes = 32 << 20

// tlKey names a home or list timeline by its stored kind and owner: the
// key of DB.timelines, the heads of the home and list timelines this
// process has read (package timelinecache).
//
// Every change to a timeline is a write transaction of this DB (the data
// directory is this process's, see lockDir), and each records the
// timelines it touches (wtx.touch); once it has committed, DB.write drops
// them from the cache. Profile timelines are not cached: their pages are
// one indexed range read.
type tlKey struct {
	kind  int
	owner int64
}
