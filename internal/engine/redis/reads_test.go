package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/social"
	"starling/internal/social/socialtest"
)

// withSlack makes e's fan-out let timelines grow to h + slack before a size
// check trims them, a slack addSlack would never give timelines as small as
// these tests' (it gives h = 5 none).
func withSlack(e *Engine, slack int) *Engine {
	e.trimSlack = func(int) int { return slack }
	return e
}

// TestSocialConformanceWithSlack runs the social suite with timelines that
// fan-out lets grow well past h: every read must still see exactly what
// eager trimming would have kept.
func TestSocialConformanceWithSlack(t *testing.T) {
	t.Parallel()
	socialtest.Run(t, func(t *testing.T) (social.Store, jobs.Queue) {
		e := withSlack(openSuite(t), 4)
		return e, e
	})
}

func TestAddSlack(t *testing.T) {
	t.Parallel()
	for h, want := range map[int]int{1: 0, 5: 0, 100: 6, 1000: 62, 2000: 125} {
		if got := addSlack(h); got != want {
			t.Errorf("addSlack(%d) = %d, want %d", h, got, want)
		}
	}
}

// TestCheckSize checks that about one delivery in trimCheckOdds checks a
// timeline's size, for any one timeline too, and that a timeline never goes
// long without a check, whatever the ids.
func TestCheckSize(t *testing.T) {
	t.Parallel()
	const deliveries = 200_000
	for _, timeline := range []int64{1, 2, 1000, 123456789} {
		checks, gap, longest := 0, 0, 0
		for id := int64(1); id <= deliveries; id++ {
			if checkSize(timeline, id) {
				checks++
				gap = 0
			} else if gap++; gap > longest {
				longest = gap
			}
		}
		if rate := float64(checks) / deliveries; rate < 0.9/trimCheckOdds || rate > 1.1/trimCheckOdds {
			t.Errorf("timeline %d: %.4f of the deliveries check its size, want about 1/%d", timeline, rate, trimCheckOdds)
		}
		// A geometric gap of mean 8 beyond 150 has odds of e^-18 per
		// check; over 25,000 checks, about one in two million.
		if longest > 150 {
			t.Errorf("timeline %d: %d deliveries in a row without a size check", timeline, longest)
		}
	}
	// Every other id (one author among two posting in turn) is no pattern
	// that escapes the checks either.
	checks := 0
	for id := int64(2); id <= 2*deliveries; id += 2 {
		if checkSize(7, id) {
			checks++
		}
	}
	if rate := float64(checks) / deliveries; rate < 0.9/trimCheckOdds || rate > 1.1/trimCheckOdds {
		t.Errorf("even ids: %.4f of the deliveries check the size, want about 1/%d", rate, trimCheckOdds)
	}
}

// TestLazyTrimIsInvisible delivers statuses one by one into a home that
// trims lazily and checks after each delivery that every way of reading it
// (pages by number, pages below a max id) sees the newest h entries only,
// and that a removal never brings back an entry past the newest h. The home
// does get trimmed along the way: it never holds many more than h + slack.
func TestLazyTrimIsInvisible(t *testing.T) {
	t.Parallel()
	const slack = 4
	e := withSlack(openTest(t), slack)
	ctx := t.Context()
	author, fan := mustUser(t, e, "author"), mustUser(t, e, "fan")
	home := social.HomeOf(fan.ID)
	var delivered []social.StatusID // newest first
	read := func(when string) []social.StatusID {
		t.Helper()
		want := delivered[:min(testH, len(delivered))]
		all, err := e.TimelineIDs(ctx, home, social.Page{Count: 200, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(all, want) {
			t.Fatalf("%s: home reads %v, want the newest %d: %v", when, all, testH, want)
		}
		var paged []social.StatusID
		for page := 1; page <= 5; page++ {
			ids, err := e.TimelineIDs(ctx, home, social.Page{Count: 2, Page: page})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, ids...)
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("%s: pages of 2 read %v, want %v", when, paged, want)
		}
		paged = paged[:0]
		for maxID := delivered[0] + 1; ; {
			ids, err := e.TimelineIDs(ctx, home, social.Page{Count: 2, MaxID: maxID})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 {
				break
			}
			paged = append(paged, ids...)
			maxID = ids[len(ids)-1]
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("%s: pages below max_id read %v, want %v", when, paged, want)
		}
		return all
	}
	longest := 0
	for i := range 20 * (testH + slack) {
		st := mustPost(t, e, author, fmt.Sprint("post ", i))
		deliverOne(t, e, st.ID, home)
		delivered = append([]social.StatusID{st.ID}, delivered...)
		read(fmt.Sprintf("after %d deliveries", i+1))
		longest = max(longest, len(zmembers(t, e, e.homeKey(fan.ID))))
	}
	// The ids, and so the size checks, are the same in every run.
	if longest <= testH+slack || longest > testH+slack+8*trimCheckOdds {
		t.Fatalf("home held up to %d entries; want more than h + slack = %d (slack to hide), but not many more", longest, testH+slack)
	}

	// A purge (the cleanup of a delete) removes a visible entry: the home
	// now reads h-1 entries, as an eagerly trimmed home would, instead of
	// showing the entry past the newest h.
	gone := delivered[1]
	if err := e.RemoveFromTimelines(ctx, gone, []social.Timeline{home}); err != nil {
		t.Fatal(err)
	}
	delivered = slices.Delete(delivered, 1, 2)
	delivered = delivered[:testH-1]
	read("after removing an entry")
}

// TestDeleteSkipsSlack deletes a status from its author's home while the
// home holds slack: the home reads h-1 entries afterwards, not an entry that
// eager trimming would have dropped.
func TestDeleteSkipsSlack(t *testing.T) {
	t.Parallel()
	e := withSlack(openTest(t), 4)
	ctx := t.Context()
	author, other := mustUser(t, e, "author"), mustUser(t, e, "other")
	home := social.HomeOf(author.ID)
	var delivered []social.StatusID
	for i := range testH + 3 {
		st := mustPost(t, e, other, fmt.Sprint("other ", i))
		deliverOne(t, e, st.ID, home)
		delivered = append([]social.StatusID{st.ID}, delivered...)
	}
	own := mustPost(t, e, author, "own") // eager: trims the home to h
	for i := range 2 {
		st := mustPost(t, e, other, fmt.Sprint("late ", i))
		deliverOne(t, e, st.ID, home)
		delivered = append([]social.StatusID{st.ID}, delivered...)
	}
	want := append(slices.Clone(delivered[:2]), own.ID)
	want = append(want, delivered[2:testH-1]...)
	got, err := e.TimelineIDs(ctx, home, social.Page{Count: 200, Page: 1})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("home before the delete: got %v (%v), want %v", got, err, want)
	}
	if _, err := e.DeleteStatus(ctx, author.ID, own.ID, noJob); err != nil {
		t.Fatal(err)
	}
	want = slices.DeleteFunc(want, func(id social.StatusID) bool { return id == own.ID })
	got, err = e.TimelineIDs(ctx, home, social.Page{Count: 200, Page: 1})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("home after the delete: got %v (%v), want %v", got, err, want)
	}
}

// cachedStatuses reports, for each id, whether e's status cache holds it.
// DoMultiCache answers hits from memory, so asking changes nothing for the
// ids that are cached; the others get cached by the asking.
func cachedStatuses(t *testing.T, e *Engine, ids []social.StatusID) []bool {
	t.Helper()
	cmds := make([]rueidis.CacheableTTL, len(ids))
	for i, id := range ids {
		cmds[i] = rueidis.CT(e.reads.B().Hmget().Key(e.statusKey(id)).Field(statusFields...).Cache().ToStaticTTL(), statusCacheTTL)
	}
	hits := make([]bool, len(ids))
	for i, res := range e.reads.DoMultiCache(t.Context(), cmds...) {
		if err := res.Error(); err != nil {
			t.Fatal(err)
		}
		hits[i] = res.IsCacheHit()
	}
	return hits
}

// TestCachedStatusesVanishOnDelete stands two engines, as two processes,
// on one Redis. Both read a follower's home page, so both cache its
// statuses; a delete through either one removes the status from the reads
// of both at once, while the home still lists it (its cleanup job has not
// run).
func TestCachedStatusesVanishOnDelete(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	a := openAt(t, url, Options{Prefix: prefix, TimelineSize: testH})
	b := openAt(t, url, Options{Prefix: prefix, TimelineSize: testH})
	ctx := t.Context()
	author, fan := mustUser(t, a, "author"), mustUser(t, a, "fan")
	home := social.HomeOf(fan.ID)
	var posted []social.StatusID // newest first
	for i := range 4 {
		st := mustPost(t, a, author, fmt.Sprint("post ", i))
		deliverOne(t, a, st.ID, home)
		posted = append([]social.StatusID{st.ID}, posted...)
	}
	page := func(e *Engine) []social.StatusID {
		t.Helper()
		ids, err := e.TimelineIDs(ctx, home, social.Page{Count: 10, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, posted) {
			t.Fatalf("home lists %v, want %v", ids, posted)
		}
		sts, err := e.Statuses(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]social.StatusID, len(sts))
		for i, st := range sts {
			out[i] = st.ID
		}
		return out
	}
	for _, e := range []*Engine{a, b} {
		page(e)
		if hits := cachedStatuses(t, e, posted); slices.Contains(hits, false) {
			t.Fatalf("statuses of a page just read, cached: %v, want all", hits)
		}
		if n := e.statuses.Len(); n != len(posted) {
			t.Fatalf("parsed statuses cached after a page read: %d, want %d", n, len(posted))
		}
	}

	// Deleted through b: the next page read of either engine skips it.
	if _, err := b.DeleteStatus(ctx, author.ID, posted[1], noJob); err != nil {
		t.Fatal(err)
	}
	want := []social.StatusID{posted[0], posted[2], posted[3]}
	if got := page(a); !slices.Equal(got, want) {
		t.Fatalf("the other engine's page after the delete: got %v, want %v", got, want)
	}
	if got := page(b); !slices.Equal(got, want) {
		t.Fatalf("the deleting engine's page after the delete: got %v, want %v", got, want)
	}

	// Deleted through a: a's own Statuses skips it at once, with no read
	// of the timeline before it.
	if _, err := a.DeleteStatus(ctx, author.ID, posted[0], noJob); err != nil {
		t.Fatal(err)
	}
	sts, err := a.Statuses(ctx, posted)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].ID != posted[2] || sts[1].ID != posted[3] {
		t.Fatalf("Statuses after the delete: got %+v, want %d and %d", sts, posted[2], posted[3])
	}
	if got := page(b); !slices.Equal(got, []social.StatusID{posted[2], posted[3]}) {
		t.Fatalf("the other engine's page after the second delete: got %v", got)
	}
}

// crossProcess is an engine whose timeline and status reads go through a
// second engine on the same Redis, as another process would make them: a
// write through the first must reach the caches of the second before the
// read that follows it.
type crossProcess struct {
	*Engine
	reader *Engine
}

func (c crossProcess) TimelineIDs(ctx context.Context, tl social.Timeline, p social.Page) ([]social.StatusID, error) {
	return c.reader.TimelineIDs(ctx, tl, p)
}

func (c crossProcess) Statuses(ctx context.Context, ids []social.StatusID) ([]social.Status, error) {
	return c.reader.Statuses(ctx, ids)
}

func (c crossProcess) TimelinePage(ctx context.Context, tl social.Timeline, p social.Page) ([]social.Status, error) {
	return c.reader.TimelinePage(ctx, tl, p)
}

// TestSocialConformanceAcrossProcesses runs the social suite with every
// timeline and status read made by another engine than the writes, with
// each combination of the two caches: what one process changes is what
// the next read of any other sees.
func TestSocialConformanceAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"caches", Options{}},
		{"no page cache", Options{TimelineCacheBytes: -1}},
		{"no status cache", Options{StatusCacheBytes: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			socialtest.Run(t, func(t *testing.T) (social.Store, jobs.Queue) {
				url, opts := redistest.Shared(t), c.opts
				opts.Prefix, opts.TimelineSize = redistest.Prefix(t), socialtest.TimelineSize
				writer, reader := openAt(t, url, opts), openAt(t, url, opts)
				return crossProcess{Engine: writer, reader: reader}, writer
			})
		})
	}
}

// TestCachedPagesFollowOtherProcesses has one engine read pages, which it
// then serves from its cache, while another changes the timelines: each
// read after a change sees it.
func TestCachedPagesFollowOtherProcesses(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	opts := Options{Prefix: prefix, TimelineSize: testH}
	writer, reader := openAt(t, url, opts), openAt(t, url, opts)
	ctx := t.Context()
	author, fan := mustUser(t, writer, "author"), mustUser(t, writer, "fan")
	home, profile := social.HomeOf(fan.ID), social.ProfileOf(author.ID)
	page := social.Page{Count: 10, Page: 1}
	read := func(tl social.Timeline, want []social.StatusID) {
		t.Helper()
		ids, err := reader.TimelineIDs(ctx, tl, page)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("%v: got %v, want %v", tl, ids, want)
		}
	}
	var posted []social.StatusID // newest first
	post := func() {
		t.Helper()
		st := mustPost(t, writer, author, fmt.Sprint("post ", len(posted)))
		deliverOne(t, writer, st.ID, home)
		posted = append([]social.StatusID{st.ID}, posted...)
	}

	post()
	read(home, posted)
	read(profile, posted)
	for _, tl := range []social.Timeline{home, profile} {
		if !reader.timelines.Cached(tl) {
			t.Fatalf("%v: the head just read is not cached", tl)
		}
	}
	read(home, posted) // from the cache

	post()
	read(home, posted)
	read(profile, posted)
	// A page below an id, cut from the cached head.
	if ids, err := reader.TimelineIDs(ctx, home, social.Page{Count: 10, MaxID: posted[0]}); err != nil || !slices.Equal(ids, posted[1:]) {
		t.Fatalf("home below %d: got %v (%v), want %v", posted[0], ids, err, posted[1:])
	}
	if !reader.timelines.Cached(home) {
		t.Fatal("the home's head was dropped with nothing changed")
	}
	if err := writer.RemoveFromTimelines(ctx, posted[0], []social.Timeline{home, profile}); err != nil {
		t.Fatal(err)
	}
	read(home, posted[1:])
	read(profile, posted[1:])

	// With the timeline cache off, pages are read from Redis every time.
	off := openAt(t, url, Options{Prefix: prefix, TimelineCacheBytes: -1, TimelineSize: testH})
	if off.timelines != nil {
		t.Fatal("a negative TimelineCacheBytes still made a timeline cache")
	}
	if ids, err := off.TimelineIDs(ctx, home, page); err != nil || !slices.Equal(ids, posted[1:]) {
		t.Fatalf("home without the timeline cache: got %v (%v), want %v", ids, err, posted[1:])
	}
}

// TestCachedHeadsAgreeWithRedis reads random pages, by number and below
// ids, of a home longer than a cached head (with entries past h left by
// the lazy trim) through an engine with the timeline cache and one
// without, after deliveries and removals: they always agree, and the
// first page keeps the head cached until the home changes.
func TestCachedHeadsAgreeWithRedis(t *testing.T) {
	t.Parallel()
	const h = 300 // past timelinecache.Depth, so that deep pages miss the head
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	cached := openAt(t, url, Options{Prefix: prefix, TimelineSize: h})
	plain := withSlack(openAt(t, url, Options{Prefix: prefix, TimelineCacheBytes: -1, TimelineSize: h}), 40)
	ctx := t.Context()
	author, fan := mustUser(t, plain, "author"), mustUser(t, plain, "fan")
	home := social.HomeOf(fan.ID)
	rng := rand.New(rand.NewPCG(3, 4))
	var posted []social.StatusID
	pastH := false
	check := func(when string) {
		t.Helper()
		for range 40 {
			p := social.Page{Count: 1 + rng.IntN(social.MaxPageCount)}
			if rng.IntN(2) == 0 {
				p.Page = 1 + rng.IntN(4)
			} else {
				p.MaxID = max(1, posted[rng.IntN(len(posted))]+social.StatusID(rng.IntN(3))-1)
			}
			got, err := cached.TimelineIDs(ctx, home, p)
			if err != nil {
				t.Fatalf("%s: cached TimelineIDs(%+v): %v", when, p, err)
			}
			want, err := plain.TimelineIDs(ctx, home, p)
			if err != nil {
				t.Fatalf("%s: TimelineIDs(%+v): %v", when, p, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: page %+v: cached %v, Redis %v", when, p, got, want)
			}
		}
	}
	for round := range 4 {
		for range 120 {
			// One at a time: a single delivery checks the home's size
			// only now and then, so entries past h stay between checks.
			st := mustPost(t, plain, author, "post")
			posted = append(posted, st.ID)
			deliverOne(t, plain, st.ID, home)
		}
		if n := len(zmembers(t, plain, plain.homeKey(fan.ID))); n > h {
			pastH = true
		}
		check("after deliveries")
		if _, err := cached.TimelineIDs(ctx, home, social.Page{Count: 30, Page: 1}); err != nil {
			t.Fatal(err)
		}
		if !cached.timelines.Cached(home) {
			t.Fatalf("round %d: the head was not cached by a first-page read", round)
		}
		victim := posted[rng.IntN(len(posted))]
		if err := plain.RemoveFromTimelines(ctx, victim, []social.Timeline{home}); err != nil {
			t.Fatal(err)
		}
		check("after a removal")
	}
	if !pastH {
		t.Fatal("the home never held entries past h; the test wants some")
	}
}

// TestInvalidationsReachParsedStatuses feeds e.reads' invalidation hook
// directly: a status key forgets that status only, a timeline key that
// timeline's head only, other keys nothing, and nil (a broken connection,
// a flush) everything.
func TestInvalidationsReachParsedStatuses(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	author := mustUser(t, e, "author")
	var ids []social.StatusID
	for i := range 3 {
		ids = append(ids, mustPost(t, e, author, fmt.Sprint("post ", i)).ID)
	}
	if _, err := e.Statuses(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if n := e.statuses.Len(); n != 3 {
		t.Fatalf("cached %d statuses, want 3", n)
	}
	keys := func(ks ...string) []rueidis.RedisMessage {
		t.Helper()
		var msgs []rueidis.RedisMessage
		for _, k := range ks {
			// An invalidation lists its keys as an array of strings; build
			// one through Redis to get real messages.
			res, err := e.client.Do(ctx, e.client.B().Echo().Message(k).Build()).ToMessage()
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, res)
		}
		return msgs
	}
	e.invalidated(keys(e.homeKey(author.ID), e.statusKey(ids[0])+"0", e.key("timelines:size")))
	if n := e.statuses.Len(); n != 3 {
		t.Fatalf("invalidating other keys left %d statuses cached, want 3", n)
	}
	e.invalidated(keys(e.statusKey(ids[1])))
	sts := make([]social.Status, len(ids))
	missing, _ := e.statuses.Lookup(ids, sts)
	if !slices.Equal(missing, []social.StatusID{ids[1]}) {
		t.Fatalf("after invalidating status %d, missing %v", ids[1], missing)
	}
	e.invalidated(nil)
	if n := e.statuses.Len(); n != 0 {
		t.Fatalf("invalidating everything left %d statuses cached", n)
	}

	// Timeline keys drop their timeline's head, and nil every head. The
	// size in timelines:size is fixed while engines are open, and the
	// heads do not depend on it: its key is another key.
	tls := []social.Timeline{social.HomeOf(author.ID), social.ProfileOf(author.ID), social.ListOf(7)}
	cacheAll := func() {
		t.Helper()
		for _, tl := range tls {
			e.timelines.Fill(tl, e.timelines.Reserve(tl), ids, true)
		}
	}
	cached := func() []bool {
		out := make([]bool, len(tls))
		for i, tl := range tls {
			out[i] = e.timelines.Cached(tl)
		}
		return out
	}
	cacheAll()
	e.invalidated(keys(e.homeKey(author.ID+1), e.statusKey(ids[0]), e.key("list:7"), e.timelineSizeKey()))
	if got := cached(); slices.Contains(got, false) {
		t.Fatalf("invalidating other keys dropped heads: cached %v", got)
	}
	for i, tl := range tls {
		key, err := e.timelineKey(tl)
		if err != nil {
			t.Fatal(err)
		}
		e.invalidated(keys(key))
		if got := cached(); got[i] || slices.Contains(append(got[:i:i], got[i+1:]...), false) {
			t.Fatalf("invalidating %s: cached %v, want only %v dropped", key, got, tl)
		}
		cacheAll()
	}
	e.invalidated(nil)
	if got := cached(); slices.Contains(got, true) {
		t.Fatalf("invalidating everything left heads cached: %v", got)
	}
}

// TestStatusCacheOff checks that a negative StatusCacheBytes reads every
// status from Redis, with the same results.
func TestStatusCacheOff(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	if e := openAt(t, url, Options{Prefix: prefix, StatusCacheBytes: -1, TimelineCacheBytes: -1, TimelineSize: testH}); e.reads != e.client {
		t.Fatal("with both caches off, the engine still opened a caching client")
	}
	e := openAt(t, url, Options{Prefix: prefix, StatusCacheBytes: -1, TimelineSize: testH})
	if e.statuses != nil {
		t.Fatal("a negative StatusCacheBytes still made a status cache")
	}
	u := mustUser(t, e, "u")
	s1, s2 := mustPost(t, e, u, "one"), mustPost(t, e, u, "two")
	sts, err := e.Statuses(t.Context(), []social.StatusID{s2.ID, s1.ID})
	if err != nil || len(sts) != 2 || sts[0].Message != "two" || sts[1].Message != "one" {
		t.Fatalf("Statuses: got %+v (%v)", sts, err)
	}
	if hits := cachedStatuses(t, e, []social.StatusID{s1.ID}); hits[0] {
		t.Fatal("a status came from a cache that is off")
	}
	if _, err := e.DeleteStatus(t.Context(), u.ID, s1.ID, noJob); err != nil {
		t.Fatal(err)
	}
	if sts, err := e.Statuses(t.Context(), []social.StatusID{s2.ID, s1.ID}); err != nil || len(sts) != 1 {
		t.Fatalf("Statuses after the delete: got %+v (%v)", sts, err)
	}
}

// TestTimelineSizeFixedAtOpen checks that the first Open under a prefix
// records its timeline size in timelines:size, that a later Open with the
// same size works, and that one with another (zero standing for
// social.DefaultTimelineSize) fails with ErrSettingsMismatch naming both
// and changes nothing; nor does a fan-out.
func TestTimelineSizeFixedAtOpen(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	ctx := t.Context()
	const size = 7
	first := openAt(t, url, Options{Prefix: prefix, TimelineSize: size})
	recorded := func(when string) {
		t.Helper()
		got, err := raw(t, first, func(b rueidis.Builder) rueidis.Completed { return b.Get().Key(first.timelineSizeKey()).Build() }).ToString()
		if err != nil || got != fmt.Sprint(size) {
			t.Fatalf("timelines:size %s: got %q (%v), want %d", when, got, err, size)
		}
	}
	recorded("after the first Open")

	second := openAt(t, url, Options{Prefix: prefix, TimelineSize: size})
	u := mustUser(t, second, "u")
	if _, err := first.User(ctx, u.ID); err != nil {
		t.Fatalf("a user made through the second engine, read through the first: %v", err)
	}
	for _, other := range []int{size + 1, 0} {
		e, err := Open(ctx, url, Options{Prefix: prefix, TimelineSize: other}, testLogger(t))
		if err == nil {
			e.Close()
			t.Fatalf("Open with timeline size %d of a deployment at %d succeeded, want ErrSettingsMismatch", other, size)
		}
		if !errors.Is(err, ErrSettingsMismatch) {
			t.Fatalf("Open with timeline size %d of a deployment at %d: got %v, want ErrSettingsMismatch", other, size, err)
		}
		want := other
		if want == 0 {
			want = social.DefaultTimelineSize
		}
		// The prefix holds digits of its own.
		msg := strings.ReplaceAll(err.Error(), prefix, "<prefix>")
		for _, n := range []int{size, want} {
			if !regexp.MustCompile(fmt.Sprintf(`(^|\D)%d(\D|$)`, n)).MatchString(msg) {
				t.Errorf("mismatch error %q does not name size %d", msg, n)
			}
		}
	}
	if e, err := Open(ctx, url, Options{Prefix: prefix, TimelineSize: -1}, testLogger(t)); err == nil {
		e.Close()
		t.Fatal("Open with timeline size -1 succeeded, want an error")
	}
	recorded("after the refused opens")

	st := mustPost(t, second, u, "x")
	deliverOne(t, second, st.ID, social.HomeOf(u.ID), social.HomeOf(u.ID+100))
	recorded("after a fan-out")

	// Another prefix is another deployment, with a size of its own.
	openAt(t, url, Options{Prefix: redistest.Prefix(t), TimelineSize: size + 1})
}

// followedStar registers "star" and n fans who follow it, fan i at
// at + i·step.
func followedStar(t *testing.T, e *Engine, n int, at time.Time, step time.Duration) (social.User, []social.User) {
	t.Helper()
	star := mustUser(t, e, "star")
	var fans []social.User
	for i := range n {
		u := mustUser(t, e, fmt.Sprintf("fan%d", i))
		if _, err := e.Follow(t.Context(), u.ID, star.ID, at.Add(time.Duration(i)*step)); err != nil {
			t.Fatal(err)
		}
		fans = append(fans, u)
	}
	return star, fans
}

// TestFollowerChunkWhileRanksMove walks a follower set while followers
// before the cursor leave, arrive and follow again, so that the cursor's
// rank hint goes stale in every way: every follower there for the whole
// walk is returned once, in order.
func TestFollowerChunkWhileRanksMove(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_000)
	star, fans := followedStar(t, e, 40, at, time.Millisecond)
	late := mustUser(t, e, "late")
	var got []social.UserID
	left := map[social.UserID]bool{}
	cursor := ""
	for chunk := 0; ; chunk++ {
		ids, next, err := e.FollowerChunk(ctx, star.ID, cursor, 5)
		if err != nil {
			t.Fatalf("FollowerChunk(%q): %v", cursor, err)
		}
		got = append(got, ids...)
		switch chunk {
		case 0: // one before the cursor leaves
			left[fans[1].ID] = true
			if _, err := e.Unfollow(ctx, fans[1].ID, star.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
				t.Fatal(err)
			}
		case 1: // one arrives before the cursor, with an old follow time
			if _, err := e.Follow(ctx, late.ID, star.ID, at.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		case 2: // the cursor's own follower follows again, later
			last := ids[len(ids)-1]
			left[last] = true
			if _, err := e.Unfollow(ctx, last, star.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Follow(ctx, last, star.ID, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if next == "" {
			break
		}
		if _, _, rank, err := parseFollowerCursor(next); err != nil || rank < 0 {
			t.Fatalf("cursor %q carries no rank (%v)", next, err)
		}
		cursor = next
	}
	seen := map[social.UserID]int{}
	for _, id := range got {
		seen[id]++
	}
	var order []social.UserID
	for _, id := range got {
		if !left[id] && id != late.ID {
			order = append(order, id)
		}
	}
	var want []social.UserID
	for _, u := range fans {
		if !left[u.ID] {
			want = append(want, u.ID)
			if seen[u.ID] != 1 {
				t.Errorf("follower %d returned %d times, want once", u.ID, seen[u.ID])
			}
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("followers in the order %v, want %v", order, want)
	}
	// A cursor without a rank, as earlier versions made them, still works.
	ids, _, err := e.FollowerChunk(ctx, star.ID, fmt.Sprintf("%d:%d", at.UnixMilli()+9, fans[9].ID), 3)
	if err != nil || !slices.Equal(ids, []social.UserID{fans[10].ID, fans[11].ID, fans[12].ID}) {
		t.Errorf("chunk after a cursor without rank: got %v (%v)", ids, err)
	}
	for _, bad := range []string{"x:1:2", "1:", "1:2:-1", "1:2:x", "nocolon"} {
		if _, _, err := e.FollowerChunk(ctx, star.ID, bad, 3); err == nil {
			t.Errorf("FollowerChunk(%q): no error", bad)
		}
	}
}

// TestFollowerChunkCursorMovesToItsOwnRank has the cursor's follower follow
// again, later, while one before it leaves, so that it lands on its old
// rank: the rank hint looks right, but the follower passed over is not
// skipped.
func TestFollowerChunkCursorMovesToItsOwnRank(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_000)
	star, fans := followedStar(t, e, 4, at, time.Second)
	ids, next, err := e.FollowerChunk(ctx, star.ID, "", 2) // fan0, fan1
	if err != nil || !slices.Equal(ids, []social.UserID{fans[0].ID, fans[1].ID}) {
		t.Fatalf("first chunk: got %v (%v)", ids, err)
	}
	// fan0 leaves; fan1 follows again between fan2 and fan3, back at rank 1.
	if _, err := e.Unfollow(ctx, fans[0].ID, star.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Unfollow(ctx, fans[1].ID, star.ID, jobs.NewJob{Kind: "test.refill"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Follow(ctx, fans[1].ID, star.ID, at.Add(2500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	ids, _, err = e.FollowerChunk(ctx, star.ID, next, 10)
	if err != nil || len(ids) == 0 || ids[0] != fans[2].ID || !slices.Contains(ids, fans[3].ID) {
		t.Fatalf("chunk after the cursor: got %v (%v), want fan2 (%d) first, then fan3 (%d)", ids, err, fans[2].ID, fans[3].ID)
	}
}

// TestOtherEngineSeesFirstFanout has one engine read a home (caching it
// empty) before another engine's first fan-out leaves entries past h in
// it: the first engine's next reads, by page number and below a max id,
// stop at h all the same, the h both engines were opened with.
func TestOtherEngineSeesFirstFanout(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.Shared(t), redistest.Prefix(t)
	reader := openAt(t, url, Options{Prefix: prefix, TimelineSize: testH})
	writer := withSlack(openAt(t, url, Options{Prefix: prefix, TimelineSize: testH}), 20)
	ctx := t.Context()
	author, fan := mustUser(t, writer, "author"), mustUser(t, writer, "fan")
	home := social.HomeOf(fan.ID)
	if ids, err := reader.TimelineIDs(ctx, home, social.Page{Count: 100, Page: 1}); err != nil || len(ids) != 0 {
		t.Fatalf("empty home: got %v (%v)", ids, err)
	}
	var delivered []social.StatusID // newest first
	for i := range 3 * testH {
		st := mustPost(t, writer, author, fmt.Sprint("post ", i))
		deliverOne(t, writer, st.ID, home)
		delivered = append([]social.StatusID{st.ID}, delivered...)
	}
	if n := len(zmembers(t, writer, writer.homeKey(fan.ID))); n <= testH {
		t.Fatalf("home holds %d entries; the test wants some past h", n)
	}
	ids, err := reader.TimelineIDs(ctx, home, social.Page{Count: 100, Page: 1})
	if err != nil || !slices.Equal(ids, delivered[:testH]) {
		t.Fatalf("home read by the other engine: got %v (%v), want %v", ids, err, delivered[:testH])
	}
	ids, err = reader.TimelineIDs(ctx, home, social.Page{Count: 100, MaxID: delivered[0] + 1})
	if err != nil || !slices.Equal(ids, delivered[:testH]) {
		t.Fatalf("home below %d read by the other engine: got %v (%v), want %v", delivered[0]+1, ids, err, delivered[:testH])
	}
}
