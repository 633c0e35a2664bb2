package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"starling/internal/social"
)

func renderTestStatuses() []social.Status {
	posted := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("x", 3600))
	return []social.Status{
		{ID: 1, UID: 7, Login: "Ada", Message: "hello", Posted: posted},
		{ID: 2, UID: 8, Login: "bob", Message: `<b>"quoted" & \ escaped</b>` + "\u2028\n\t\x01", Posted: posted.Add(time.Millisecond), Location: &social.Location{Lat: -90, Lon: 179.999999}},
		{ID: 3, UID: 7, Login: "Ada", Message: "héllo 🌍 \xff invalid", Posted: posted, Location: &social.Location{Lat: 0, Lon: 0}},
	}
}

// TestRenderedStatusesMatchEncodingJSON holds the cached renderings to the
// bytes writeJSON would send, on first use and from the cache.
func TestRenderedStatusesMatchEncodingJSON(t *testing.T) {
	c := newRenderCache()
	all := renderTestStatuses()
	for _, sts := range [][]social.Status{nil, {}, all[:1], all, all, {all[2], all[0]}} {
		want, err := json.Marshal(presentStatuses(sts))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.appendStatuses(nil, sts, new(pageScratch))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("page of %d statuses:\n got %s\nwant %s", len(sts), got, want)
		}
	}
	for _, st := range all {
		want, _ := json.Marshal(presentStatus(st))
		if got, err := c.status(st); err != nil || !bytes.Equal(got, want) {
			t.Errorf("status %d:\n got %s, %v\nwant %s", st.ID, got, err, want)
		}
	}
}

// TestRenderCacheShowsWhatTheStoreReturned: a kept rendering is used only
// for an equal status, so a reused id (a wiped store) renders anew.
func TestRenderCacheShowsWhatTheStoreReturned(t *testing.T) {
	c := newRenderCache()
	st := renderTestStatuses()[1]
	if _, err := c.appendStatuses(nil, []social.Status{st}, new(pageScratch)); err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*social.Status){
		func(s *social.Status) { s.Message = "another" },
		func(s *social.Status) { s.Login = "eve" },
		func(s *social.Status) { s.UID++ },
		func(s *social.Status) { s.Posted = s.Posted.Add(time.Millisecond) },
		func(s *social.Status) { s.Location = nil },
		func(s *social.Status) { s.Location = &social.Location{Lat: 1, Lon: 2} },
	} {
		other := st
		change(&other)
		want, _ := json.Marshal(presentStatuses([]social.Status{other}))
		if got, _ := c.appendStatuses(nil, []social.Status{other}, new(pageScratch)); !bytes.Equal(got, want) {
			t.Errorf("status %d changed under the same id:\n got %s\nwant %s", st.ID, got, want)
		}
		wantOne, _ := json.Marshal(presentStatus(other))
		if got, _ := c.status(other); !bytes.Equal(got, wantOne) {
			t.Errorf("single status %d changed under the same id:\n got %s\nwant %s", st.ID, got, wantOne)
		}
	}
}

// TestRenderFailureWritesNothing: a status encoding/json refuses (a NaN
// location, which the Service never stores) fails the answer before any
// of it is written, as writeJSON would.
func TestRenderFailureWritesNothing(t *testing.T) {
	a := &API{rendered: newRenderCache()}
	bad := renderTestStatuses()
	bad[1].Location = &social.Location{Lat: math.NaN()}
	rec := httptest.NewRecorder()
	if err := a.writeStatuses(rec, bad); err == nil || rec.Body.Len() > 0 || rec.Code != http.StatusOK || len(rec.Header()) > 0 {
		t.Fatalf("writeStatuses with a NaN location: %v, wrote %d %q", err, rec.Code, rec.Body)
	}
	if err := a.writeStatus(rec, http.StatusOK, bad[1]); err == nil || rec.Body.Len() > 0 {
		t.Fatalf("writeStatus with a NaN location: %v, wrote %q", err, rec.Body)
	}
	if n := len(a.rendered.cur); n > 0 {
		t.Fatalf("a page that failed to render left %d statuses in the cache", n)
	}
}

func TestRenderCacheIsBounded(t *testing.T) {
	c := newRenderCache()
	msg := strings.Repeat("m", 280)
	sc := new(pageScratch)
	var page []social.Status
	for i := range 40_000 {
		page = append(page, social.Status{ID: social.StatusID(i + 1), UID: 1, Login: "ada", Message: msg, Posted: time.Unix(0, 0)})
		if len(page) == 30 {
			if _, err := c.appendStatuses(nil, page, sc); err != nil {
				t.Fatal(err)
			}
			page = page[:0]
		}
	}
	total := 0
	for _, m := range []map[social.StatusID]rendering{c.cur, c.prev} {
		for _, r := range m {
			total += r.size()
		}
	}
	if limit := 2*renderCacheGenBytes + 30*(renderingOverhead+3+280+512); total > limit {
		t.Fatalf("the cache holds %d bytes, want at most %d", total, limit)
	}
	// The statuses read last are kept.
	if _, ok := c.cur[40_000-10]; !ok {
		t.Fatal("a status of the last page read is not in the cache")
	}
}

func BenchmarkTimelinePage(b *testing.B) {
	var sts []social.Status
	for i := range 30 {
		sts = append(sts, social.Status{ID: social.StatusID(i + 1), UID: 4242, Login: "baseline", Message: fmt.Sprintf("timeline bench status %d", i), Posted: time.Now()})
	}
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(presentStatuses(sts)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c, sc := newRenderCache(), new(pageScratch)
		var buf []byte
		for b.Loop() {
			buf, _ = c.appendStatuses(buf[:0], sts, sc)
		}
	})
}
