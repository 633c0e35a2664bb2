package sqlite

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"starling/internal/jobs"
	"starling/internal/social"
)

// Pages answered from the cache equal the database's, whatever the page,
// and the cache follows the changes: deliveries, removals, refills.
func TestTimelineCacheAgreesWithTheDatabase(t *testing.T) {
	ctx := t.Context()
	const h = 300 // above timelinecache.Depth, so that deep pages miss the head
	db := openSized(t, t.TempDir(), h)
	reader, author := newUser(t, db, "reader"), newUser(t, db, "author")
	follow(t, db, reader, author)
	home := social.HomeOf(reader.ID)
	key := tlKey{storedHome, home.ID}
	rng := rand.New(rand.NewPCG(1, 2))
	var posted []social.StatusID

	check := func(when string) {
		t.Helper()
		for range 40 {
			p := social.Page{Count: 1 + rng.IntN(social.MaxPageCount)}
			switch rng.IntN(3) {
			case 0:
				p.Page = 1 + rng.IntN(4)
			case 1:
				if len(posted) > 0 {
					p.MaxID = posted[rng.IntN(len(posted))] + social.StatusID(rng.IntN(3)) - 1
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
				below = int64(p.MaxID)
			}
			page, err := db.readTimeline(ctx, storedHome, home.ID, below, p.Count, p.Offset())
			if err != nil {
				t.Fatalf("readTimeline: %v", err)
			}
			if want := statusIDs(page); !slices.Equal(got, want) {
				t.Fatalf("%s: page %+v: cached %v, database %v", when, p, got, want)
			}
		}
	}

	for round := range 6 {
		for range 70 {
			st := post(t, db, author)
			posted = append(posted, st.ID)
			deliverOne(t, db, st.ID, home)
		}
		check("after deliveries")
		if !db.timelines.Cached(key) {
			t.Fatalf("round %d: the head was not cached by a first-page read", round)
		}
		victim := posted[rng.IntN(len(posted))]
		if err := db.RemoveFromTimelines(ctx, victim, []social.Timeline{home}); err != nil {
			t.Fatalf("RemoveFromTimelines: %v", err)
		}
		if db.timelines.Cached(key) {
			t.Fatal("a removal left the head cached")
		}
		check("after a removal")
	}
	if ok, err := db.Unfollow(ctx, reader.ID, author.ID, jobs.NewJob{Kind: "refill"}); err != nil || !ok {
		t.Fatalf("Unfollow: %v, %v", ok, err)
	}
	check("after unfollow")
	if err := db.RefillTimeline(ctx, home); err != nil {
		t.Fatalf("RefillTimeline: %v", err)
	}
	check("after refill")
}
