package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"starling/internal/server"
)

// startServerWithAdmin starts a server whose --admins names "boss", an
// account made on a first run over the same data (a server refuses an
// admin login without an account).
func startServerWithAdmin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	base, stop := startStoppableServer(t, func(cfg *server.Config) { cfg.DataDir = dir })
	apiSignUp(t, base, "boss")
	stop()
	return startServer(t, func(cfg *server.Config) { cfg.DataDir = dir; cfg.Admins = []string{"boss"} })
}

// Only the --admins accounts see the operations page: the job counts and
// the dead letters.
func TestOperationsPageIsForAdminsOnly(t *testing.T) {
	base := startServerWithAdmin(t)
	boss, _ := loginForm(t, base, "boss")
	ada, adaCSRF := formClient(t, base, "ada")

	page := func(c *http.Client, path string) (int, string) {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := new(strings.Builder)
		if _, err := io.Copy(b, res.Body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, b.String()
	}
	status, body := page(boss, "/ops")
	if status != http.StatusOK || !strings.Contains(body, "Job queue") || !strings.Contains(body, "Dead letters") {
		t.Fatalf("the admin's /ops: %d, want 200 with the job queue and dead letters", status)
	}
	if _, home := page(boss, "/home"); !strings.Contains(home, `href="/ops"`) {
		t.Error("the admin's navigation has no link to the operations page")
	}
	if status, _ := page(ada, "/ops"); status != http.StatusForbidden {
		t.Errorf("a user's /ops: got %d, want 403", status)
	}
	if _, home := page(ada, "/home"); strings.Contains(home, `href="/ops"`) {
		t.Error("a user's navigation links to the operations page")
	}
	res, _ := postForm(t, ada, base+"/ops/dead/1/drop", url.Values{"csrf": {adaCSRF}}, nil)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a user dropping a dead job: got %d, want 403", res.StatusCode)
	}
}
