package timelinecache

import (
	"errors"
	"math"
	"slices"
	"testing"

	"starling/internal/social"
)

func TestFillTokens(t *testing.T) {
	c := New[int](1 << 20)
	const k = 1

	token := c.Reserve(k)
	c.Forget(k) // the timeline changes while the read is at the store
	c.Fill(k, token, []social.StatusID{3, 2, 1}, true)
	if c.Cached(k) {
		t.Fatal("a read older than a change filled the cache")
	}

	first := c.Reserve(k)
	second := c.Reserve(k) // a second read of k misses meanwhile
	c.Fill(k, first, []social.StatusID{3, 2, 1}, true)
	if c.Cached(k) {
		t.Fatal("a read whose placeholder was taken over filled the cache")
	}
	c.Fill(k, second, []social.StatusID{3, 2, 1}, true)
	if !c.Cached(k) {
		t.Fatal("a read with its placeholder in place did not fill the cache")
	}
	if ids, ok := c.Page(k, math.MaxInt64, 2, 1); !ok || !slices.Equal(ids, []social.StatusID{2, 1}) {
		t.Fatalf("Page(count 2, offset 1) = %v, %v; want [2 1], true", ids, ok)
	}
	c.Forget(k)
	if _, ok := c.Page(k, math.MaxInt64, 2, 0); ok {
		t.Fatal("a forgotten timeline still answers pages")
	}

	c.Fill(k, c.Reserve(k), []social.StatusID{3}, true)
	c.Fill(k+1, c.Reserve(k+1), []social.StatusID{4}, true)
	c.ForgetAll()
	if c.Cached(k) || c.Cached(k+1) {
		t.Fatal("ForgetAll left heads cached")
	}
}

func TestCut(t *testing.T) {
	head := []social.StatusID{90, 80, 70, 60, 50}
	for _, tc := range []struct {
		below         social.StatusID
		count, offset int
		complete      bool
		want          []social.StatusID
		ok            bool
	}{
		{math.MaxInt64, 2, 0, false, []social.StatusID{90, 80}, true},
		{math.MaxInt64, 2, 3, false, []social.StatusID{60, 50}, true},
		{math.MaxInt64, 2, 4, false, nil, false}, // reaches past the head
		{math.MaxInt64, 2, 4, true, []social.StatusID{50}, true},
		{math.MaxInt64, 2, 9, true, []social.StatusID{}, true},
		{80, 2, 0, false, []social.StatusID{70, 60}, true},
		{75, 3, 0, false, []social.StatusID{70, 60, 50}, true},
		{75, 4, 0, false, nil, false},
		{10, 4, 0, true, []social.StatusID{}, true},
	} {
		got, ok := Cut(head, tc.complete, tc.below, tc.count, tc.offset)
		if ok != tc.ok || ok && !slices.Equal(got, tc.want) {
			t.Errorf("Cut(below %d, count %d, offset %d, complete %v) = %v, %v; want %v, %v",
				tc.below, tc.count, tc.offset, tc.complete, got, ok, tc.want, tc.ok)
		}
	}
}

// TestGet checks when Get reads the head, what it caches, and that a
// failed read caches nothing.
func TestGet(t *testing.T) {
	c := New[string](1 << 20)
	head := []social.StatusID{50, 40, 30, 20, 10}
	reads := 0
	readHead := func() ([]social.StatusID, bool, error) {
		reads++
		return slices.Clone(head), true, nil
	}
	get := func(below social.StatusID, count, offset int, want []social.StatusID, wantOK bool, wantReads int) {
		t.Helper()
		ids, ok, err := c.Get("home", below, count, offset, readHead)
		if err != nil || ok != wantOK || ok && !slices.Equal(ids, want) {
			t.Fatalf("Get(below %d, count %d, offset %d) = %v, %v, %v; want %v, %v", below, count, offset, ids, ok, err, want, wantOK)
		}
		if reads != wantReads {
			t.Fatalf("after Get(below %d, count %d, offset %d): %d head reads, want %d", below, count, offset, reads, wantReads)
		}
	}
	get(35, 2, 0, nil, false, 0)                // below an id: not cached, not filled
	get(math.MaxInt64, 2, Depth, nil, false, 0) // deeper than the head
	get(math.MaxInt64, 2, 0, []social.StatusID{50, 40}, true, 1)
	get(math.MaxInt64, 2, 2, []social.StatusID{30, 20}, true, 1) // from the cache
	get(35, 2, 0, []social.StatusID{30, 20}, true, 1)            // below an id, from the cache

	c.Forget("home")
	fail := errors.New("store down")
	if _, _, err := c.Get("home", math.MaxInt64, 2, 0, func() ([]social.StatusID, bool, error) { return nil, false, fail }); !errors.Is(err, fail) {
		t.Fatalf("Get with a failing read: err %v, want %v", err, fail)
	}
	if c.Cached("home") {
		t.Fatal("a failed read cached a head")
	}

	var off *Cache[string]
	if _, ok, err := off.Get("home", math.MaxInt64, 2, 0, readHead); ok || err != nil {
		t.Fatalf("a cache that is off answered: %v, %v", ok, err)
	}
}
