package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestLists(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	bob := s.register("bob")
	carol := s.register("carol")
	anon := s.anonymous()
	b1 := bob.post("bob 1", nil)
	c1 := carol.post("carol 1", nil)

	r := alice.do("POST", "/api/starling/v1/lists", map[string]string{"name": "  Friends  "})
	l := want[list](t, r, http.StatusCreated)
	me := alice.user("alice")
	if l.ID < 1 || l.Name != "Friends" || l.UID != me.ID || l.Login != "alice" || l.Following != 0 {
		t.Errorf("created %+v, want name Friends owned by alice with no members", l)
	}
	wantTime(t, "created", l.Created)
	base := fmt.Sprintf("/api/starling/v1/lists/%d", l.ID)
	if got := r.header.Get("Location"); got != base {
		t.Errorf("Location = %q, want %q", got, base)
	}
	if got := want[list](t, anon.do("GET", base, nil), http.StatusOK); got != l {
		t.Errorf("GET list = %+v, want %+v", got, l)
	}

	// Adding a member copies their statuses before the call returns.
	alice.noContent("PUT", base+"/members/BOB")
	alice.noContent("PUT", base+"/members/bob") // again: nothing changes
	alice.noContent("PUT", base+"/members/carol")
	if got := want[list](t, anon.do("GET", base, nil), http.StatusOK).Following; got != 2 {
		t.Errorf("members = %d, want 2", got)
	}
	if got := logins(anon.users(base + "/members")); !slices.Equal(got, []string{"carol", "bob"}) {
		t.Errorf("members %v, want [carol bob] (most recent first)", got)
	}
	if got := logins(anon.users(base + "/members?count=1&page=2")); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("members page 2 of 1 %v, want [bob]", got)
	}
	if got := ids(anon.statuses(base + "/statuses")); !slices.Equal(got, []int64{c1.ID, b1.ID}) {
		t.Errorf("list statuses %v, want %v", got, []int64{c1.ID, b1.ID})
	}

	// Members' new statuses fan out to the list.
	b2 := bob.post("bob 2", nil)
	s.eventually("the list has bob 2", func() bool {
		sts := anon.statuses(base + "/statuses")
		return len(sts) > 0 && sts[0].ID == b2.ID
	})
	if got := ids(anon.statuses(base + "/statuses?count=2")); !slices.Equal(got, []int64{b2.ID, c1.ID}) {
		t.Errorf("list statuses?count=2 %v, want %v", got, []int64{b2.ID, c1.ID})
	}

	second := want[list](t, alice.do("POST", "/api/starling/v1/lists", map[string]string{"name": "Work"}), http.StatusCreated)
	ls := want[[]list](t, anon.do("GET", "/api/starling/v1/users/alice/lists", nil), http.StatusOK)
	if len(ls) != 2 || ls[0].ID != l.ID || ls[1].ID != second.ID || ls[0].Following != 2 {
		t.Errorf("alice's lists %+v, want [Friends (2 members), Work]", ls)
	}
	if ls := want[[]list](t, anon.do("GET", "/api/starling/v1/users/bob/lists", nil), http.StatusOK); len(ls) != 0 {
		t.Errorf("bob's lists %+v, want []", ls)
	}

	// Only the owner changes a list.
	state := []string{base, base + "/members", base + "/statuses", "/api/starling/v1/users/alice/lists"}
	before := anon.snapshot(state...)
	wantError(t, bob.do("PUT", base+"/members/alice", nil), http.StatusForbidden, "forbidden")
	wantError(t, bob.do("DELETE", base+"/members/carol", nil), http.StatusForbidden, "forbidden")
	wantError(t, bob.do("DELETE", base, nil), http.StatusForbidden, "forbidden")
	wantError(t, alice.do("PUT", base+"/members/nobody", nil), http.StatusNotFound, "user_not_found")
	wantError(t, alice.do("DELETE", base+"/members/nobody", nil), http.StatusNotFound, "user_not_found")
	anon.wantUnchanged(before, "refused list changes")

	// Removing a member purges their statuses before the call returns.
	alice.noContent("DELETE", base+"/members/bob")
	alice.noContent("DELETE", base+"/members/bob") // again: nothing changes
	if got := ids(anon.statuses(base + "/statuses")); !slices.Equal(got, []int64{c1.ID}) {
		t.Errorf("list statuses after removing bob %v, want [%d]", got, c1.ID)
	}
	if got := logins(anon.users(base + "/members")); !slices.Equal(got, []string{"carol"}) {
		t.Errorf("members after removing bob %v, want [carol]", got)
	}
	s.drain()
	if got := ids(anon.statuses(base + "/statuses")); !slices.Equal(got, []int64{c1.ID}) {
		t.Errorf("list statuses after the refill %v, want [%d]", got, c1.ID)
	}

	alice.noContent("DELETE", base)
	for _, path := range []string{base, base + "/members", base + "/statuses"} {
		wantError(t, anon.do("GET", path, nil), http.StatusNotFound, "list_not_found")
	}
	wantError(t, alice.do("DELETE", base, nil), http.StatusNotFound, "list_not_found")
	wantError(t, alice.do("PUT", base+"/members/carol", nil), http.StatusNotFound, "list_not_found")
	if ls := want[[]list](t, anon.do("GET", "/api/starling/v1/users/alice/lists", nil), http.StatusOK); len(ls) != 1 || ls[0].ID != second.ID {
		t.Errorf("alice's lists after delete %+v, want [Work]", ls)
	}
	// A later status of a former member's fans out without trouble: no
	// job is left failing on the deleted list.
	carol.post("carol 2", nil)
	s.drain()
	if dead := want[[]map[string]any](t, s.registerAdmin().do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusOK); len(dead) != 0 {
		t.Errorf("dead jobs %v, want none", dead)
	}
}

func TestListBadInput(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	s.register("bob")
	l := want[list](t, alice.do("POST", "/api/starling/v1/lists", map[string]string{"name": "L"}), http.StatusCreated)
	base := fmt.Sprintf("/api/starling/v1/lists/%d", l.ID)
	alice.noContent("PUT", base+"/members/bob")
	state := []string{"/api/starling/v1/users/alice/lists", base, base + "/members"}

	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty name", `{"name": ""}`, 422, "invalid_name"},
		{"blank name", `{"name": "   "}`, 422, "invalid_name"},
		{"name too long", `{"name": "` + strings.Repeat("n", 65) + `"}`, 422, "invalid_name"},
		{"name a number", `{"name": 1}`, 400, "wrong_type"},
		{"unknown field", `{"name": "x", "private": true}`, 400, "unknown_field"},
		{"malformed", `{"name": "x"`, 400, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := alice.snapshot(state...)
			wantError(t, alice.do("POST", "/api/starling/v1/lists", rawBody{contentType: "application/json", data: tc.body}), tc.status, tc.code)
			alice.wantUnchanged(before, tc.name)
		})
	}

	before := alice.snapshot(state...)
	for _, id := range []string{"abc", "0", "-1", "01", fmt.Sprint(l.ID + 100)} {
		path := "/api/starling/v1/lists/" + id
		wantError(t, alice.do("GET", path, nil), http.StatusNotFound, "list_not_found")
		wantError(t, alice.do("GET", path+"/members", nil), http.StatusNotFound, "list_not_found")
		wantError(t, alice.do("GET", path+"/statuses", nil), http.StatusNotFound, "list_not_found")
		wantError(t, alice.do("PUT", path+"/members/bob", nil), http.StatusNotFound, "list_not_found")
		wantError(t, alice.do("DELETE", path+"/members/bob", nil), http.StatusNotFound, "list_not_found")
		wantError(t, alice.do("DELETE", path, nil), http.StatusNotFound, "list_not_found")
	}
	wantError(t, alice.do("GET", base+"/members?count=0", nil), http.StatusBadRequest, "invalid_count")
	wantError(t, alice.do("GET", base+"/members?max_id=3", nil), http.StatusBadRequest, "invalid_max_id")
	wantError(t, alice.do("GET", base+"/statuses?page=-1", nil), http.StatusBadRequest, "invalid_page")
	wantError(t, alice.do("GET", base+"/statuses?max_id=abc", nil), http.StatusBadRequest, "invalid_max_id")
	alice.wantUnchanged(before, "bad list ids and paging")
}
