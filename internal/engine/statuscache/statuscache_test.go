package statuscache

import (
	"testing"

	"starling/internal/social"
)

func status(id social.StatusID) social.Status {
	return social.Status{ID: id, UID: 1, Login: "author", Message: "a status"}
}

func TestLookupAndAdd(t *testing.T) {
	c := New(1 << 20)
	sts := make([]social.Status, 3)
	missing, epoch := c.Lookup([]social.StatusID{1, 2, 3}, sts)
	if len(missing) != 3 {
		t.Fatalf("empty cache: missing %v, want all three", missing)
	}
	c.Add(epoch, status(1), status(3))
	sts = make([]social.Status, 3)
	missing, _ = c.Lookup([]social.StatusID{1, 2, 3}, sts)
	if len(missing) != 1 || missing[0] != 2 {
		t.Fatalf("missing %v, want [2]", missing)
	}
	if sts[0].ID != 1 || sts[1].ID != 0 || sts[2].ID != 3 {
		t.Fatalf("Lookup placed %+v", sts)
	}
}

// A read that started before a delete must not put the deleted status
// back after the delete was reported.
func TestReadsOlderThanAForgetAreRefused(t *testing.T) {
	c := New(1 << 20)
	_, epoch := c.Lookup([]social.StatusID{7}, make([]social.Status, 1))
	c.Forget(7) // the delete is reported while the read is at the store
	c.Add(epoch, status(7))
	if c.Len() != 0 {
		t.Fatal("a read older than a delete filled the cache")
	}
	_, epoch = c.Lookup([]social.StatusID{8}, make([]social.Status, 1))
	c.ForgetAll()
	c.Add(epoch, status(8))
	if c.Len() != 0 {
		t.Fatal("a read older than ForgetAll filled the cache")
	}
	_, epoch = c.Lookup([]social.StatusID{8}, make([]social.Status, 1))
	c.Add(epoch, status(8))
	if c.Len() != 1 {
		t.Fatal("a read after the deletes was not cached")
	}
	c.Forget(8)
	if c.Len() != 0 {
		t.Fatal("Forget left the status cached")
	}
}

func TestStaysWithinItsBound(t *testing.T) {
	max := 50 * Size(status(1))
	c := New(max)
	for id := range social.StatusID(500) {
		_, epoch := c.Lookup([]social.StatusID{id}, make([]social.Status, 1))
		c.Add(epoch, status(id))
		if c.Bytes() > max {
			t.Fatalf("after %d adds the cache holds %d bytes, more than %d", id+1, c.Bytes(), max)
		}
	}
	if n := c.Len(); n == 0 || n > 50 {
		t.Fatalf("cache holds %d statuses, want between 1 and 50", n)
	}
	c.ForgetAll()
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("ForgetAll left %d statuses, %d bytes", c.Len(), c.Bytes())
	}
}

func TestNilCacheIsOff(t *testing.T) {
	var c *Cache = New(0)
	missing, epoch := c.Lookup([]social.StatusID{1}, make([]social.Status, 1))
	c.Add(epoch, status(1))
	c.Forget(1)
	c.ForgetAll()
	if len(missing) != 1 || c.Len() != 0 {
		t.Fatalf("a cache that is off: missing %v, len %d", missing, c.Len())
	}
}

func TestGetReadsOnlyWhatIsMissing(t *testing.T) {
	for _, c := range []*Cache{New(1 << 20), New(0)} {
		var asked [][]social.StatusID
		read := func(missing []social.StatusID) ([]social.Status, error) {
			asked = append(asked, missing)
			var out []social.Status
			for _, id := range missing {
				if id != 99 { // 99 names no status
					out = append([]social.Status{status(id)}, out...) // any order
				}
			}
			return out, nil
		}
		got, err := c.Get([]social.StatusID{3, 99, 1, 3}, read)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].ID != 3 || got[1].ID != 1 || got[2].ID != 3 {
			t.Fatalf("Get = %+v, want 3, 1, 3 in order", got)
		}
		if _, err := c.Get([]social.StatusID{1, 3}, read); err != nil {
			t.Fatal(err)
		}
		wantReads := 1
		if c == nil {
			wantReads = 2 // a cache that is off reads every time
		}
		if len(asked) != wantReads {
			t.Fatalf("cache %v: read called %d times (%v), want %d", c != nil, len(asked), asked, wantReads)
		}
	}
}
