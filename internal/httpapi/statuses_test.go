package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestPostAndReadStatuses(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	anon := s.anonymous()

	plain := alice.post("  hello, world\n", nil)
	if plain.ID < 1 || plain.Login != "alice" || plain.Message != "hello, world" || plain.Location != nil {
		t.Errorf("posted %+v, want login alice, trimmed message, no location", plain)
	}
	wantTime(t, "posted", plain.Posted)
	me := alice.user("alice")
	if plain.UID != me.ID {
		t.Errorf("uid = %d, want %d", plain.UID, me.ID)
	}

	located := alice.post("here", &location{Lat: -33.865, Lon: 151.2094})
	if located.Location == nil || *located.Location != (location{-33.865, 151.2094}) {
		t.Errorf("location = %+v, want {-33.865 151.2094}", located.Location)
	}
	if located.ID <= plain.ID {
		t.Errorf("ids %d then %d, want strictly increasing", plain.ID, located.ID)
	}
	// An explicit null is no location; the edges of the ranges are valid.
	r := alice.do("POST", "/api/starling/v1/statuses", rawBody{contentType: "application/json", data: `{"message": "nowhere", "location": null}`})
	if st := want[status](t, r, http.StatusCreated); st.Location != nil {
		t.Errorf("location null gave %+v", st.Location)
	}
	if got := r.header.Get("Location"); !strings.HasPrefix(got, "/api/starling/v1/statuses/") {
		t.Errorf("Location header %q", got)
	}
	edge := alice.post("edge", &location{Lat: 90, Lon: -180})
	// The JSON shape of the location, checked as text: {"lat":n,"lon":n}.
	raw := string(anon.do("GET", fmt.Sprintf("/api/starling/v1/statuses/%d", edge.ID), nil).body)
	if !strings.Contains(raw, `"location":{"lat":90,"lon":-180}`) {
		t.Errorf("status JSON %s lacks \"location\":{\"lat\":90,\"lon\":-180}", raw)
	}
	raw = string(anon.do("GET", fmt.Sprintf("/api/starling/v1/statuses/%d", plain.ID), nil).body)
	if !strings.Contains(raw, `"location":null`) {
		t.Errorf("status JSON %s lacks \"location\":null", raw)
	}
	got := want[status](t, anon.do("GET", fmt.Sprintf("/api/starling/v1/statuses/%d", located.ID), nil), http.StatusOK)
	if got.ID != located.ID || got.Message != located.Message || got.Posted != located.Posted || *got.Location != *located.Location {
		t.Errorf("GET status = %+v, want %+v", got, located)
	}

	profile := anon.statuses("/api/starling/v1/users/alice/statuses")
	if len(profile) != 4 || profile[0].ID != edge.ID || profile[3].ID != plain.ID {
		t.Errorf("profile ids %v, want 4 statuses newest first from %d down to %d", ids(profile), edge.ID, plain.ID)
	}
	if n := alice.user("alice").Posts; n != 4 {
		t.Errorf("posts = %d, want 4", n)
	}
	// The author's own home timeline holds their statuses at once.
	if home := alice.statuses("/api/starling/v1/timelines/home"); !slices.Equal(ids(home), ids(profile)) {
		t.Errorf("home ids %v, want the profile's %v", ids(home), ids(profile))
	}
}

func TestPostBadInput(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	alice.post("the first", nil)
	long := strings.Repeat("é", 281)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"empty message", `{"message": ""}`, 422, "invalid_message"},
		{"blank message", `{"message": " \n\t "}`, 422, "invalid_message"},
		{"missing message", `{}`, 422, "invalid_message"},
		{"message too long", `{"message": "` + long + `"}`, 422, "invalid_message"},
		{"control character", `{"message": "bell\u0007"}`, 422, "invalid_message"},
		{"lat above 90", `{"message": "m", "location": {"lat": 91, "lon": 0}}`, 422, "invalid_location"},
		{"lat below -90", `{"message": "m", "location": {"lat": -90.5, "lon": 0}}`, 422, "invalid_location"},
		{"lon above 180", `{"message": "m", "location": {"lat": 0, "lon": 180.01}}`, 422, "invalid_location"},
		{"lon missing", `{"message": "m", "location": {"lat": 10}}`, 422, "invalid_location"},
		{"empty location", `{"message": "m", "location": {}}`, 422, "invalid_location"},
		{"lon a string", `{"message": "m", "location": {"lat": 0, "lon": "x"}}`, 400, "wrong_type"},
		{"location a number", `{"message": "m", "location": 5}`, 400, "wrong_type"},
		{"location an array", `{"message": "m", "location": [0, 0]}`, 400, "wrong_type"},
		{"lat out of float range", `{"message": "m", "location": {"lat": 1e400, "lon": 0}}`, 400, "wrong_type"},
		{"unknown location field", `{"message": "m", "location": {"lat": 0, "lon": 0, "alt": 3}}`, 400, "unknown_field"},
		{"repeated location field", `{"message": "m", "location": {"lat": 0, "lon": 0, "lat": 91}}`, 400, "invalid_json"},
		{"message a number", `{"message": 42}`, 400, "wrong_type"},
		{"unknown field", `{"message": "m", "reply_to": 1}`, 400, "unknown_field"},
		{"malformed", `{"message": "m"`, 400, "invalid_json"},
		{"trailing data", `{"message": "m"}{"message": "again"}`, 400, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/statuses", "/api/starling/v1/timelines/home")
			r := alice.do("POST", "/api/starling/v1/statuses", rawBody{contentType: "application/json", data: tc.body})
			wantError(t, r, tc.status, tc.code)
			alice.wantUnchanged(before, tc.name)
		})
	}
	// The longest allowed message is accepted, counted in characters.
	alice.post(strings.Repeat("é", 280), nil)
}

func TestBodyLimit(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	huge := `{"message": "` + strings.Repeat("a", 70<<10) + `"}`
	// Just under the limit the body is read, and the message is refused by
	// the domain rule rather than by size.
	nearLimit := `{"message": "` + strings.Repeat("a", 64<<10-20) + `"}`
	before := alice.snapshot("/api/starling/v1/me", "/api/starling/v1/users/alice/statuses")
	for _, tc := range []struct {
		name    string
		body    rawBody
		path    string
		status  int
		code    string
		through *client
	}{
		{"declared length", rawBody{"application/json", huge, false}, "/api/starling/v1/statuses", 413, "body_too_large", alice},
		{"chunked", rawBody{"application/json", huge, true}, "/api/starling/v1/statuses", 413, "body_too_large", alice},
		{"registration", rawBody{"application/json", huge, false}, "/api/starling/v1/users", 413, "body_too_large", s.anonymous()},
		{"near the limit", rawBody{"application/json", nearLimit, false}, "/api/starling/v1/statuses", 422, "invalid_message", alice},
		{"near the limit, chunked", rawBody{"application/json", nearLimit, true}, "/api/starling/v1/statuses", 422, "invalid_message", alice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.through.do("POST", tc.path, tc.body)
			wantError(t, r, tc.status, tc.code)
			alice.wantUnchanged(before, tc.name)
		})
	}
}

func TestDeleteStatus(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	bob := s.register("bob")
	wantStatus(t, bob.do("PUT", "/api/starling/v1/me/following/alice", nil), http.StatusNoContent)
	keep := alice.post("keep", nil)
	doomed := alice.post("doomed", nil)
	s.eventually("bob's home has alice's statuses", func() bool {
		return len(bob.statuses("/api/starling/v1/timelines/home")) == 2
	})
	path := fmt.Sprintf("/api/starling/v1/statuses/%d", doomed.ID)

	// Nobody but the author may delete.
	before := alice.snapshot(path, "/api/starling/v1/users/alice", "/api/starling/v1/users/alice/statuses", "/api/starling/v1/timelines/home")
	wantError(t, bob.do("DELETE", path, nil), http.StatusForbidden, "forbidden")
	wantError(t, s.anonymous().do("DELETE", path, nil), http.StatusUnauthorized, "unauthorized")
	alice.wantUnchanged(before, "refused deletes")

	alice.noContent("DELETE", path)
	wantError(t, s.anonymous().do("GET", path, nil), http.StatusNotFound, "status_not_found")
	if got := ids(s.anonymous().statuses("/api/starling/v1/users/alice/statuses")); !slices.Equal(got, []int64{keep.ID}) {
		t.Errorf("profile after delete %v, want [%d]", got, keep.ID)
	}
	// Reads skip the deleted status at once, before any cleanup job runs.
	if got := ids(bob.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{keep.ID}) {
		t.Errorf("bob's home right after delete %v, want [%d]", got, keep.ID)
	}
	if n := alice.user("alice").Posts; n != 1 {
		t.Errorf("posts = %d, want 1", n)
	}
	s.drain()
	if got := ids(bob.statuses("/api/starling/v1/timelines/home")); !slices.Equal(got, []int64{keep.ID}) {
		t.Errorf("bob's home after cleanup %v, want [%d]", got, keep.ID)
	}
	wantError(t, alice.do("DELETE", path, nil), http.StatusNotFound, "status_not_found")
	if n := alice.user("alice").Posts; n != 1 {
		t.Errorf("posts after a second delete = %d, want 1", n)
	}
}

func TestStatusIDsInPaths(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	st := alice.post("only", nil)
	before := alice.snapshot("/api/starling/v1/users/alice/statuses", "/api/starling/v1/me")
	for _, id := range []string{"abc", "0", "-1", "007", "+1", "1.0", "99999999999999999999", "9223372036854775807", fmt.Sprint(st.ID + 1)} {
		path := "/api/starling/v1/statuses/" + id
		wantError(t, s.anonymous().do("GET", path, nil), http.StatusNotFound, "status_not_found")
		wantError(t, alice.do("DELETE", path, nil), http.StatusNotFound, "status_not_found")
	}
	alice.wantUnchanged(before, "bad status ids")
}
