package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"starling/internal/engine"
	"starling/internal/jobs"
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

var deadJobForm = regexp.MustCompile(`action="/ops/dead/([^/"]+)/retry"`)

// The operations page retries and drops dead jobs by plain forms.
func TestOperationsPageRetriesAndDropsDeadJobs(t *testing.T) {
	dir := t.TempDir()
	base, stop := startStoppableServer(t, func(cfg *server.Config) { cfg.DataDir = dir })
	apiSignUp(t, base, "boss")
	stop()
	// Two jobs of a kind nobody handles: the workers bury them at once.
	eng, err := engine.Open(t.Context(), engine.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = eng.Queue.Enqueue(t.Context(), jobs.NewJob{Kind: "test.unhandled", Payload: []byte("1")}, jobs.NewJob{Kind: "test.unhandled", Payload: []byte("2")})
	eng.Close()
	if err != nil {
		t.Fatal(err)
	}
	admin := func(cfg *server.Config) { cfg.DataDir = dir; cfg.Admins = []string{"boss"} }
	base, stop = startStoppableServer(t, admin)
	boss, csrf := loginForm(t, base, "boss")
	for i := 0; ; i++ {
		if _, body := getPage(t, boss, base+"/ops"); len(deadJobForm.FindAllStringSubmatch(body, -1)) == 2 {
			break
		}
		if i == 500 {
			t.Fatal("the two jobs never showed as dead")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	// Without workers, a retried job stays ready.
	base = startServer(t, func(cfg *server.Config) { admin(cfg); cfg.Workers = -1 })
	boss, csrf = loginForm(t, base, "boss")
	_, body := getPage(t, boss, base+"/ops")
	ids := deadJobForm.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("the page lists %d dead jobs, want 2", len(ids))
	}
	if !strings.Contains(body, "no handler for kind test.unhandled") {
		t.Error("the page does not say why the jobs died")
	}
	stats := regexp.MustCompile(`<dt>Ready</dt><dd>(\d+)</dd>.*<dt>Dead</dt><dd>(\d+)</dd>`)

	res, _ := postForm(t, boss, base+"/ops/dead/"+ids[0][1]+"/retry", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ops?done=retry" {
		t.Fatalf("retry: %d to %q, want 303 to /ops?done=retry", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = getPage(t, boss, base+"/ops?done=retry")
	if m := stats.FindStringSubmatch(strings.ReplaceAll(body, "\n", "")); m == nil || m[1] != "1" || m[2] != "1" {
		t.Fatalf("after a retry the counts are %v, want 1 ready and 1 dead", m)
	}
	if !strings.Contains(body, "The job is queued again.") || strings.Contains(body, ids[0][1]+"/retry") {
		t.Fatal("after a retry the page has no notice, or still lists the retried job")
	}

	res, _ = postForm(t, boss, base+"/ops/dead/"+ids[1][1]+"/drop", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop: %d, want 303", res.StatusCode)
	}
	_, body = getPage(t, boss, base+"/ops?done=drop")
	if !strings.Contains(body, "No dead jobs.") || !strings.Contains(body, "The job was dropped.") {
		t.Fatal("after dropping the last dead job the page does not say so")
	}
	res, body = postForm(t, boss, base+"/ops/dead/"+ids[1][1]+"/drop", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such dead job") {
		t.Errorf("dropping it again: %d, want 404 saying there is no such dead job", res.StatusCode)
	}
}

// The operations page shows the live access log: requests to the API and
// to the web UI's pages, by route, as they are answered, each once.
func TestOperationsPageShowsTheLiveAccessLog(t *testing.T) {
	base := startServerWithAdmin(t)
	browser := newBrowser(t)
	boss := newUser(t, browser, true)
	signIn(t, boss, base, "boss", testPassword)
	navigate(t, boss, base+"/ops")
	waitJS(t, boss, `document.getElementById("accesslog").dataset.live === "on"`)

	ada, _ := formClient(t, base, "ada")
	res, err := ada.Get(base + "/u/ada")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	page := res.Header.Get("X-Request-Id")
	if page == "" {
		t.Fatal("a web page's answer has no X-Request-Id")
	}
	res, err = http.Get(base + "/api/starling/v1/users/ada")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	api := res.Header.Get("X-Request-Id")

	row := func(id string) string {
		return fmt.Sprintf(`Array.from(document.querySelectorAll("#accesslog tr")).filter(tr => tr.dataset.requestId === %s).map(tr => Array.from(tr.cells).slice(1, 3).map(c => c.textContent).join(" "))`, jsString(id))
	}
	waitJS(t, boss, row(api)+`.length === 1`)
	waitJS(t, boss, row(page)+`.length === 1`)
	if got := eval[[]string](t, boss, row(page)); got[0] != "GET /u/{login} 200" {
		t.Errorf("the web page's row: %q, want its route and status, GET /u/{login} 200", got[0])
	}
	if got := eval[[]string](t, boss, row(api)); got[0] != "GET /api/starling/v1/users/{login} 200" {
		t.Errorf("the API request's row: %q", got[0])
	}
	// Newest first.
	if first := eval[string](t, boss, `document.querySelector("#accesslog tr").dataset.requestId`); first != api {
		t.Errorf("the top row is request %s, want the newest, %s", first, api)
	}
	axeCheck(t, boss, "/ops")
	screenshot(t, boss, "ops")
}
