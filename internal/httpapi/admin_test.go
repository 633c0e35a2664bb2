package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"starling/internal/httpapi"
	"starling/internal/jobs"
)

// adminRoutes change something and are for admins only; every admin route
// (GET ones too) is checked by TestAdminRoutesAreAdminOnly.
var adminRoutes = []string{
	"POST /api/starling/v1/admin/jobs/dead/{id}/retry",
	"DELETE /api/starling/v1/admin/jobs/dead/{id}",
	"PUT /api/starling/v1/admin/users/{login}/suspension",
	"DELETE /api/starling/v1/admin/users/{login}/suspension",
	"DELETE /api/starling/v1/admin/users/{login}/tokens",
}

// Every route under /admin/ answers 401 without a token and 403 to a user
// who is not an admin, whatever the method.
func TestAdminRoutesAreAdminOnly(t *testing.T) {
	s := newStack(t)
	eve := s.register("eve")
	n := 0
	for _, p := range httpapi.Patterns(s.api) {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, httpapi.Prefix+"/admin/") {
			continue
		}
		if method != "GET" && !slices.Contains(adminRoutes, p) {
			t.Errorf("admin route %q is missing from adminRoutes", p)
		}
		n++
		path = strings.NewReplacer("{id}", "1", "{login}", "eve").Replace(path)
		wantError(t, s.anonymous().do(method, path, nil), http.StatusUnauthorized, "unauthorized")
		wantError(t, eve.do(method, path, nil), http.StatusForbidden, "forbidden")
	}
	if n < 5 {
		t.Fatalf("found %d admin routes, want at least 5", n)
	}
}

// A dead job can be retried, running again from its first attempt, or
// dropped; unknown ids get 404.
func TestDeadJobsRetryAndDrop(t *testing.T) {
	s := newStack(t)
	root := s.registerAdmin()
	// Jobs of a kind nobody handles go to the dead letters.
	err := s.db.Enqueue(t.Context(), jobs.NewJob{Kind: "test.unhandled", Payload: []byte(`{"n":1}`)}, jobs.NewJob{Kind: "test.unhandled", Payload: []byte(`{"n":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	s.drain()
	type deadJob struct {
		ID            string          `json:"id"`
		Kind          string          `json:"kind"`
		Attempts      int             `json:"attempts"`
		Reason        string          `json:"reason"`
		Died          string          `json:"died"`
		Payload       json.RawMessage `json:"payload"`
		PayloadBase64 []byte          `json:"payload_base64"`
	}
	dead := want[[]deadJob](t, root.do("GET", "/api/starling/v1/admin/jobs/dead", nil), http.StatusOK)
	if len(dead) != 2 {
		t.Fatalf("dead jobs: got %d, want 2", len(dead))
	}
	wantStatus(t, root.do("POST", "/api/starling/v1/admin/jobs/dead/"+dead[0].ID+"/retry", nil), http.StatusNoContent)
	wantError(t, root.do("POST", "/api/starling/v1/admin/jobs/dead/"+dead[0].ID+"/retry", nil), http.StatusNotFound, "dead_job_not_found")
	wantStatus(t, root.do("DELETE", "/api/starling/v1/admin/jobs/dead/"+dead[1].ID, nil), http.StatusNoContent)
	wantError(t, root.do("DELETE", "/api/starling/v1/admin/jobs/dead/"+dead[1].ID, nil), http.StatusNotFound, "dead_job_not_found")
	wantError(t, root.do("DELETE", "/api/starling/v1/admin/jobs/dead/nonsense", nil), http.StatusNotFound, "dead_job_not_found")

	st, err := s.db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready != 1 || st.Dead != 0 {
		t.Fatalf("after retry and drop: %+v, want 1 ready and none dead", st)
	}
}

// A suspended user cannot sign in (403 suspended), their token is refused,
// and their statuses are gone from reads until the suspension is lifted.
func TestSuspendAndRestoreUser(t *testing.T) {
	s := newStack(t)
	root := s.registerAdmin()
	ada, bob := s.register("ada"), s.register("bob")
	bob.noContent("PUT", "/api/starling/v1/me/following/ada")
	st := ada.post("before", nil)
	s.drain()
	path := fmt.Sprint("/api/starling/v1/statuses/", st.ID)

	wantError(t, root.do("PUT", "/api/starling/v1/admin/users/nobody/suspension", nil), http.StatusNotFound, "user_not_found")
	wantStatus(t, root.do("PUT", "/api/starling/v1/admin/users/ADA/suspension", nil), http.StatusNoContent)
	if got := want[[]user](t, root.do("GET", "/api/starling/v1/admin/users/suspended", nil), http.StatusOK); len(got) != 1 || got[0].Login != "ada" {
		t.Fatalf("suspended users: %+v, want ada", got)
	}
	wantError(t, ada.do("POST", "/api/starling/v1/statuses", map[string]string{"message": "during"}), http.StatusUnauthorized, "invalid_token")
	wantError(t, s.anonymous().do("POST", "/api/starling/v1/tokens", map[string]string{"login": "ada", "password": password("ada")}), http.StatusForbidden, "suspended")
	wantError(t, s.anonymous().do("GET", path, nil), http.StatusNotFound, "status_not_found")
	if home := want[[]status](t, bob.do("GET", "/api/starling/v1/timelines/home", nil), http.StatusOK); len(home) != 0 {
		t.Fatalf("bob's home with ada suspended: %d statuses, want none", len(home))
	}

	wantStatus(t, root.do("DELETE", "/api/starling/v1/admin/users/ada/suspension", nil), http.StatusNoContent)
	wantStatus(t, s.anonymous().do("GET", path, nil), http.StatusOK)
	if home := want[[]status](t, bob.do("GET", "/api/starling/v1/timelines/home", nil), http.StatusOK); len(home) != 1 {
		t.Fatalf("bob's home after the restore: %d statuses, want 1", len(home))
	}
	ada.post("after", nil)
}

// An admin revokes every token of a user; the user signs in again.
func TestRevokeUserTokens(t *testing.T) {
	s := newStack(t)
	root := s.registerAdmin()
	ada := s.register("ada")
	other := s.login("ada")
	wantError(t, root.do("DELETE", "/api/starling/v1/admin/users/nobody/tokens", nil), http.StatusNotFound, "user_not_found")
	wantStatus(t, root.do("DELETE", "/api/starling/v1/admin/users/ADA/tokens", nil), http.StatusNoContent)
	for _, c := range []*client{ada, other} {
		wantError(t, c.do("GET", "/api/starling/v1/me", nil), http.StatusUnauthorized, "invalid_token")
	}
	again := s.login("ada")
	wantStatus(t, again.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
	wantStatus(t, root.do("GET", "/api/starling/v1/me", nil), http.StatusOK)
}
