package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestFollowFanoutUnfollow(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	bob := s.register("bob")
	carol := s.register("carol")
	anon := s.anonymous()

	b1 := bob.post("bob 1", nil)
	b2 := bob.post("bob 2", nil)
	a1 := alice.post("alice 1", nil)

	// Following copies the followee's statuses before the call returns.
	alice.noContent("PUT", "/api/starling/v1/me/following/BOB")
	if got := ids(alice.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{a1.ID, b2.ID, b1.ID}) {
		t.Errorf("alice's home after follow %v, want %v", got, []int64{a1.ID, b2.ID, b1.ID})
	}
	// Following again changes nothing.
	before := alice.snapshot("/api/starling/v1/users/alice", "/api/starling/v1/users/bob", "/api/starling/v1/timelines/home", "/api/starling/v1/users/bob/followers")
	alice.noContent("PUT", "/api/starling/v1/me/following/bob")
	alice.wantUnchanged(before, "following twice")
	if a, b := anon.user("alice"), anon.user("bob"); a.Following != 1 || a.Followers != 0 || b.Followers != 1 || b.Following != 0 {
		t.Errorf("counts: alice %d following %d followers, bob %d following %d followers; want 1 0 0 1", a.Following, a.Followers, b.Following, b.Followers)
	}

	// Following oneself, in any letter case, is refused and changes nothing.
	before = alice.snapshot("/api/starling/v1/users/alice", "/api/starling/v1/users/alice/followers", "/api/starling/v1/users/alice/following", "/api/starling/v1/timelines/home")
	wantError(t, alice.do("PUT", "/api/starling/v1/me/following/alice", nil), http.StatusUnprocessableEntity, "cannot_follow_self")
	wantError(t, alice.do("PUT", "/api/starling/v1/me/following/ALICE", nil), http.StatusUnprocessableEntity, "cannot_follow_self")
	wantError(t, alice.do("DELETE", "/api/starling/v1/me/following/alice", nil), http.StatusUnprocessableEntity, "cannot_follow_self")
	alice.wantUnchanged(before, "following oneself")

	carol.noContent("PUT", "/api/starling/v1/me/following/bob")
	if got := logins(anon.users("/api/starling/v1/users/bob/followers")); !slices.Equal(got, []string{"carol", "alice"}) {
		t.Errorf("bob's followers %v, want [carol alice] (newest first)", got)
	}
	if got := logins(anon.users("/api/starling/v1/users/bob/followers?count=1&page=2")); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("bob's followers, page 2 of 1, %v, want [alice]", got)
	}
	if got := logins(anon.users("/api/starling/v1/users/bob/followers?count=1&page=3")); len(got) != 0 {
		t.Errorf("bob's followers past the end %v, want []", got)
	}
	if got := logins(anon.users("/api/starling/v1/users/alice/following")); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("alice's following %v, want [bob]", got)
	}
	if got := anon.users("/api/starling/v1/users/bob/following"); len(got) != 0 {
		t.Errorf("bob's following %v, want []", logins(got))
	}

	// A new status reaches every follower's home once the fan-out ran.
	b3 := bob.post("bob 3", nil)
	for _, c := range []*client{alice, carol} {
		s.eventually(c.login+"'s home has bob 3", func() bool {
			home := c.statuses("/api/starling/v1/timelines/home")
			return len(home) > 0 && home[0].ID == b3.ID
		})
	}
	if got := ids(carol.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{b3.ID, b2.ID, b1.ID}) {
		t.Errorf("carol's home %v, want %v", got, []int64{b3.ID, b2.ID, b1.ID})
	}

	// Unfollowing removes the followee's statuses before it returns.
	alice.noContent("DELETE", "/api/starling/v1/me/following/bob")
	if got := ids(alice.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{a1.ID}) {
		t.Errorf("alice's home after unfollow %v, want [%d]", got, a1.ID)
	}
	s.drain()
	if got := ids(alice.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{a1.ID}) {
		t.Errorf("alice's home after the refill %v, want [%d]", got, a1.ID)
	}
	before = alice.snapshot("/api/starling/v1/users/alice", "/api/starling/v1/users/bob", "/api/starling/v1/timelines/home")
	alice.noContent("DELETE", "/api/starling/v1/me/following/bob")
	alice.wantUnchanged(before, "unfollowing twice")
	if got := logins(anon.users("/api/starling/v1/users/bob/followers")); !slices.Equal(got, []string{"carol"}) {
		t.Errorf("bob's followers after unfollow %v, want [carol]", got)
	}
	if a := anon.user("alice"); a.Following != 0 {
		t.Errorf("alice follows %d, want 0", a.Following)
	}
}

// TestFanoutInChunks posts as an author with more followers than one
// fan-out job takes, and more statuses than a home timeline keeps.
func TestFanoutInChunks(t *testing.T) {
	s := newStack(t)
	star := s.register("star")
	var fans []*client
	for i := range 2*fanoutChunk + 1 {
		fan := s.register(fmt.Sprintf("fan%d", i))
		fan.noContent("PUT", "/api/starling/v1/me/following/star")
		fans = append(fans, fan)
	}
	var posted []int64
	for i := range timelineSize + 2 {
		posted = append(posted, star.post(fmt.Sprintf("post %d", i), nil).ID)
	}
	slices.Reverse(posted)
	newest := posted[:timelineSize]
	for _, fan := range fans {
		s.eventually(fan.login+" got every post", func() bool {
			home := fan.statuses("/api/starling/v1/timelines/home")
			return len(home) > 0 && home[0].ID == posted[0]
		})
		if got := ids(fan.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, newest) {
			t.Errorf("%s's home %v, want the newest %d: %v", fan.login, got, timelineSize, newest)
		}
	}
	// The profile keeps everything.
	if got := ids(s.anonymous().statuses("/api/starling/v1/users/star/statuses")); !slices.Equal(got, posted) {
		t.Errorf("profile %v, want %v", got, posted)
	}
}

func TestPaging(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	bob := s.register("bob")
	var posted []int64
	for i := range 4 {
		posted = append(posted, alice.post(fmt.Sprintf("m%d", i), nil).ID)
	}
	slices.Reverse(posted) // newest first
	bob.noContent("PUT", "/api/starling/v1/me/following/alice")
	anon := s.anonymous()

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", posted},
		{"?count=2", posted[:2]},
		{"?count=2&page=2", posted[2:]},
		{"?count=2&page=3", nil},
		{fmt.Sprintf("?max_id=%d", posted[1]), posted[2:]},
		{fmt.Sprintf("?max_id=%d&count=1", posted[0]), posted[1:2]},
		{"?count=200&page=100000", nil},
		{"?unrelated=1", posted},
	} {
		if got := ids(anon.statuses("/api/starling/v1/users/alice/statuses" + tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("profile%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	if got := ids(bob.statuses("/api/starling/v1/timelines/home?count=3")); !slices.Equal(got, posted[:3]) {
		t.Errorf("home?count=3 = %v, want %v", got, posted[:3])
	}

	paths := []string{"/api/starling/v1/users/alice/statuses", "/api/starling/v1/timelines/home", "/api/starling/v1/users/alice/followers", "/api/starling/v1/users/bob/following"}
	before := bob.snapshot(append(paths, "/api/starling/v1/users/alice", "/api/starling/v1/users/bob")...)
	for _, tc := range []struct{ query, code string }{
		{"count=0", "invalid_count"},
		{"count=201", "invalid_count"},
		{"count=500", "invalid_count"},
		{"count=-1", "invalid_count"},
		{"count=abc", "invalid_count"},
		{"count=", "invalid_count"},
		{"count=1.5", "invalid_count"},
		{"count=99999999999999999999", "invalid_count"},
		{"count=1&count=2", "invalid_count"},
		{"page=0", "invalid_page"},
		{"page=-1", "invalid_page"},
		{"page=x", "invalid_page"},
		{"page=100001", "invalid_page"},
		{"max_id=abc", "invalid_max_id"},
		{"max_id=0", "invalid_max_id"},
		{"max_id=-5", "invalid_max_id"},
		// Malformed pieces, which r.URL.Query() would drop silently.
		{"count=%zz", "invalid_count"},
		{"count=%", "invalid_count"},
		{"count=5%2", "invalid_count"},
		{"page=0;", "invalid_page"},
		{"count=5;page=2", "invalid_count"},
		{"max_id=%GG", "invalid_max_id"},
		{"count=5&%zz=1", "invalid_query"},
		{"x=1;count=5", "invalid_query"},
		{"unrelated=%", "invalid_query"},
	} {
		for _, path := range paths {
			wantError(t, bob.do("GET", path+"?"+tc.query, nil), http.StatusBadRequest, tc.code)
		}
	}
	// Follower pages go by number only; max_id is refused there, and
	// combining it with page is refused on timelines.
	wantError(t, anon.do("GET", "/api/starling/v1/users/alice/followers?max_id=5", nil), http.StatusBadRequest, "invalid_max_id")
	wantError(t, anon.do("GET", fmt.Sprintf("/api/starling/v1/users/alice/statuses?max_id=%d&page=2", posted[0]), nil), http.StatusBadRequest, "invalid_page")
	bob.wantUnchanged(before, "bad paging")
}
