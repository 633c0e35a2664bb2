package sqlite

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
