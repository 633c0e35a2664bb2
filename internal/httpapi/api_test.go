package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"starling/internal/jobs"
)

// registerAdmin logs in as the user the stack's Config.Admins names, who
// was registered before the API started.
func (s *stack) registerAdmin() *client {
	s.t.Helper()
	s.addSecret(password(adminLogin))
	return s.login(adminLogin)
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	anon := s.anonymous()
	for _, path := range []string{"/", "/api", "/api/starling/v1", "/api/starling/v1/nope", "/api/v2/users", "/api/starling/v1/users/alice/", "/api/starling/v1/users/alice/statuses/1", "/api/starling/v1/me/following"} {
		wantError(t, anon.do("GET", path, nil), http.StatusNotFound, "not_found")
	}
	for _, tc := range []struct {
		method, path string
		allow        []string
	}{
		{"PATCH", "/api/starling/v1/statuses/1", []string{"DELETE", "GET", "HEAD"}},
		{"POST", "/api/starling/v1/users/alice", []string{"GET", "HEAD"}},
		{"GET", "/api/starling/v1/statuses", []string{"POST"}},
		{"PUT", "/api/starling/v1/users", []string{"POST"}},
		{"GET", "/api/starling/v1/users", []string{"POST"}},
		{"GET", "/api/starling/v1/tokens/current", []string{"DELETE"}},
		{"POST", "/api/starling/v1/me/following/alice", []string{"DELETE", "PUT"}},
		{"DELETE", "/healthz", []string{"GET", "HEAD"}},
		{"OPTIONS", "/api/starling/v1/lists", []string{"POST"}},
	} {
		r := alice.do(tc.method, tc.path, nil)
		wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		got := strings.Split(r.header.Get("Allow"), ", ")
		if !slices.Equal(got, tc.allow) {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	// The native API left /api/v1 to the Mastodon client API: the old
	// paths name nothing, whatever the method.
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/users/alice"},
		{"POST", "/api/v1/statuses"},
		{"POST", "/api/v1/users"},
		{"GET", "/api/v1/timelines/home"},
		{"POST", "/api/v1/tokens"},
	} {
		wantError(t, alice.do(tc.method, tc.path, nil), http.StatusNotFound, "not_found")
	}
	// HEAD works wherever GET does.
	res, err := s.srv.Client().Head(s.srv.URL + "/api/starling/v1/users/alice")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("HEAD user: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestHealth(t *testing.T) {
	s := newStack(t)
	anon := s.anonymous()
	var health map[string]any
	health = want[map[string]any](t, anon.do("GET", "/healthz", nil), http.StatusOK)
	if len(health) != 1 || health["status"] != "ok" {
		t.Errorf("healthz = %v, want {status: ok}", health)
	}
	// Ready or not, and nothing an anonymous caller could learn the
	// server's load from (the job counts are for admins).
	ready := want[map[string]any](t, anon.do("GET", "/readyz", nil), http.StatusOK)
	if len(ready) != 1 || ready["status"] != "ok" {
		t.Errorf("readyz = %v, want {status: ok} only", ready)
	}

	// With the store gone, the process is alive but not ready, and a store
	// failure never leaks its cause.
	s.db.Close()
	wantError(t, anon.do("GET", "/readyz", nil), http.StatusServiceUnavailable, "unavailable")
	health = want[map[string]any](t, anon.do("GET", "/healthz", nil), http.StatusOK)
	if health["status"] != "ok" {
		t.Errorf("healthz with the store closed = %v", health)
	}
	r := anon.do("GET", "/api/starling/v1/users/alice", nil)
	if r.status != http.StatusInternalServerError && r.status != http.StatusServiceUnavailable {
		t.Fatalf("GET user with the store closed: %s, want 500 or 503", r)
	}
	var e errorAnswer
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(e.Error.Message), "sql") || strings.Contains(e.Error.Message, "closed") {
		t.Errorf("error message %q leaks the cause", e.Error.Message)
	}
}

func TestAdminJobs(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	root := s.registerAdmin()

	wantError(t, s.anonymous().do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusUnauthorized, "unauthorized")
	wantError(t, alice.do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusForbidden, "forbidden")
	wantError(t, alice.do("GET", "/api/starling/v1/admin/jobs/stats", nil), http.StatusForbidden, "forbidden")

	type deadJob struct {
		ID            string          `json:"id"`
		Kind          string          `json:"kind"`
		Attempts      int             `json:"attempts"`
		Reason        string          `json:"reason"`
		Died          string          `json:"died"`
		Payload       json.RawMessage `json:"payload"`
		PayloadBase64 []byte          `json:"payload_base64"`
	}
	if dead := want[[]deadJob](t, root.do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusOK); len(dead) != 0 {
		t.Errorf("dead jobs %+v, want none", dead)
	}

	// Jobs of a kind nobody handles go to the dead letters.
	err := s.db.Enqueue(context.Background(),
		jobs.NewJob{Kind: "test.unhandled", Payload: []byte(`{"n":1}`)},
		jobs.NewJob{Kind: "test.unhandled", Payload: []byte{0xff, 0x00}},
	)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	s.drain()
	dead := want[[]deadJob](t, root.do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusOK)
	if len(dead) != 2 {
		t.Fatalf("dead jobs %+v, want 2", dead)
	}
	var sawJSON, sawBinary bool
	for _, d := range dead {
		if d.ID == "" || d.Kind != "test.unhandled" || d.Reason == "" {
			t.Errorf("dead job %+v", d)
		}
		wantTime(t, "died", d.Died)
		switch {
		case string(d.Payload) == `{"n":1}` && d.PayloadBase64 == nil:
			sawJSON = true
		case d.Payload == nil && string(d.PayloadBase64) == "\xff\x00":
			sawBinary = true
		}
	}
	if !sawJSON || !sawBinary {
		t.Errorf("dead job payloads %+v, want one JSON and one base64", dead)
	}
	if got := want[[]deadJob](t, root.do("GET", "/api/starling/v1/admin/jobs/dead?limit=1", nil), http.StatusOK); len(got) != 1 {
		t.Errorf("limit=1 gave %d jobs", len(got))
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=abc", "limit=1001", "limit=%zz", "limit=5;"} {
		wantError(t, root.do("GET", "/api/starling/v1/admin/jobs/dead?"+q, nil), http.StatusBadRequest, "invalid_limit")
	}

	type kindStats struct {
		Kind        string  `json:"kind"`
		Ready       int64   `json:"ready"`
		Delayed     int64   `json:"delayed"`
		Leased      int64   `json:"leased"`
		Dead        int64   `json:"dead"`
		OldestReady *string `json:"oldest_ready"`
	}
	stats := want[struct {
		Ready   int64       `json:"ready"`
		Delayed int64       `json:"delayed"`
		Leased  int64       `json:"leased"`
		Dead    int64       `json:"dead"`
		Kinds   []kindStats `json:"kinds"`
	}](t, root.do("GET", "/api/starling/v1/admin/jobs/stats", nil), http.StatusOK)
	if stats.Dead != 2 || stats.Ready != 0 || stats.Leased != 0 {
		t.Errorf("stats %+v, want 2 dead and nothing ready or leased", stats)
	}
	if k := stats.Kinds; len(k) != 1 || k[0] != (kindStats{Kind: k[0].Kind, Dead: 2}) || k[0].Kind == "" {
		t.Errorf("stats by kind %+v, want the 2 dead jobs under their kind and nothing else", k)
	}
}
