package sqlite

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"starling/internal/jobs"
	"starling/internal/social"
)

func TestTimelineCacheFillTokens(t *testing.T) {
	c := newTimelineCache(1 << 20)
	k := tlKey{storedHome, 1}

	token := c.reserve(k)
	c.forget([]tlKey{k}) // a write to k commits while the read is at the database
	c.fill(k, token, []int64{3, 2, 1}, true)
	if c.cached(k) {
		t.Fatal("a read older than a write filled the cache")
	}

	first := c.reserve(k)
	second := c.reserve(k) // a second read of k misses meanwhile
	c.fill(k, first, []int64{3, 2, 1}, true)
	if c.cached(k) {
		t.Fatal("a read whose placeholder was taken over filled the cache")
	}
	c.fill(k, second, []int64{3, 2, 1}, true)
	if !c.cached(k) {
		t.Fatal("a read with its placeholder in place did not fill the cache")
	}
	if ids, ok := c.page(k, math.MaxInt64, 2, 1); !ok || !slices.Equal(ids, []int64{2, 1}) {
		t.Fatalf("page(count 2, offset 1) = %v, %v; want [2 1], true", ids, ok)
	}
	c.forget([]tlKey{k})
	if _, ok := c.page(k, math.MaxInt64, 2, 0); ok {
		t.Fatal("a forgotten timeline still answers pages")
	}
}

func TestTimelineCachePages(t *testing.T) {
	head := tlEntry{ids: []int64{90, 80, 70, 60, 50}}
	for _, tc := range []struct {
		below         int64
		count, offset int
		complete      bool
		want          []int64
		ok            bool
	}{
		{math.MaxInt64, 2, 0, false, []int64{90, 80}, true},
		{math.MaxInt64, 2, 3, false, []int64{60, 50}, true},
		{math.MaxInt64, 2, 4, false, nil, false}, // reaches past the head
		{math.MaxInt64, 2, 4, true, []int64{50}, true},
		{math.MaxInt64, 2, 9, true, []int64{}, true},
		{80, 2, 0, false, []int64{70, 60}, true},
		{75, 3, 0, false, []int64{70, 60, 50}, true},
		{75, 4, 0, false, nil, false},
		{10, 4, 0, true, []int64{}, true},
	} {
		e := head
		e.complete = tc.complete
		got, ok := pageOf(e, tc.below, tc.count, tc.offset)
		if ok != tc.ok || ok && !slices.Equal(got, tc.want) {
			t.Errorf("pageOf(below %d, count %d, offset %d, complete %v) = %v, %v; want %v, %v",
				tc.below, tc.count, tc.offset, tc.complete, got, ok, tc.want, tc.ok)
		}
	}
}

// Pages answered from the cache equal the database's, whatever the page,
// and the cache follows the changes: deliveries, removals, refills.
func TestTimelineCacheAgreesWithTheDatabase(t *testing.T) {
	ctx := t.Context()
	db := openDir(t, t.TempDir())
	const h = 300 // above timelineCacheDepth, so that deep pages miss the head
	reader, author := newUser(t, db, "reader"), newUser(t, db, "author")
	follow(t, db, reader, author, h)
	home := social.HomeOf(reader.ID)
	key := tlKey{storedHome, reader.ID}
	rng := rand.New(rand.NewPCG(1, 2))
	var posted []int64

	check := func(when string) {
		t.Helper()
		for range 40 {
			p := social.Page{Count: 1 + rng.IntN(social.MaxPageCount)}
			switch rng.IntN(3) {
			case 0:
				p.Page = 1 + rng.IntN(4)
			case 1:
				if len(posted) > 0 {
					p.MaxID = posted[rng.IntN(len(posted))] + int64(rng.IntN(3)) - 1
				}
			}
			if p.MaxID < 0 {
				p.MaxID = 0
			}
			got, err := db.TimelineIDs(ctx, home, p)
			if err != nil {
				t.Fatalf("%s: TimelineIDs(%+v): %v", when, p, err)
			}
			below := int64(math.MaxInt64)
			if p.MaxID > 0 {
				below = p.MaxID
			}
			want, err := db.readTimeline(ctx, storedHome, reader.ID, below, p.Count, p.Offset())
			if err != nil {
				t.Fatalf("readTimeline: %v", err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: page %+v: cached %v, database %v", when, p, got, want)
			}
		}
	}

	for round := range 6 {
		for range 70 {
			st := post(t, db, author, h)
			posted = append(posted, st.ID)
			if err := db.AddToTimelines(ctx, st.ID, []social.Timeline{home}, h); err != nil {
				t.Fatalf("AddToTimelines: %v", err)
			}
		}
		check("after deliveries")
		if !db.timelines.cached(key) {
			t.Fatalf("round %d: the head was not cached by a first-page read", round)
		}
		victim := posted[rng.IntN(len(posted))]
		if err := db.RemoveFromTimelines(ctx, victim, []social.Timeline{home}); err != nil {
			t.Fatalf("RemoveFromTimelines: %v", err)
		}
		if db.timelines.cached(key) {
			t.Fatal("a removal left the head cached")
		}
		check("after a removal")
	}
	if ok, err := db.Unfollow(ctx, reader.ID, author.ID, h, jobs.NewJob{Kind: "refill"}); err != nil || !ok {
		t.Fatalf("Unfollow: %v, %v", ok, err)
	}
	check("after unfollow")
	if err := db.RefillTimeline(ctx, home, h); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	check("after refill")
}
