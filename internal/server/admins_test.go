package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// httpDo sends one JSON request to srv and returns the status and body.
func httpDo(t *testing.T, srv runningServer, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var b strings.Builder
	if body != nil {
		json.NewEncoder(&b).Encode(body)
	}
	req, err := http.NewRequest(method, "http://"+srv.Addr().String()+path, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func registerAndLogin(t *testing.T, srv runningServer, login string) string {
	t.Helper()
	pw := "password of " + login
	if st, body := httpDo(t, srv, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": pw}); st != http.StatusCreated {
		t.Fatalf("registering %s: %d %s", login, st, body)
	}
	st, body := httpDo(t, srv, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": pw})
	var tok struct{ Token string }
	if st != http.StatusCreated || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("logging in %s: %d %s", login, st, body)
	}
	return tok.Token
}

// --admins used to be a list of logins checked on every request, so
// listing a login before its account existed made whoever registered it
// (in any letter case) an admin. Now a listed login must name an account
// when the server starts, and the account, not the name, is the admin.
func TestAdminsAreAccounts(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	cheap := Config{Addr: "127.0.0.1:0", DataDir: dir, Workers: -1}
	cheap.Password.Time, cheap.Password.MemoryKiB, cheap.Password.Threads = 1, 64, 1

	withBoss := cheap
	withBoss.Admins = []string{"boss"}
	if srv, err := New(context.Background(), withBoss, quiet, true); err == nil {
		srv.engine.Close()
		t.Fatal("a server started with --admins naming a login that has no account")
	} else if !strings.Contains(err.Error(), `"boss"`) || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("error %q does not say which login has no account", err)
	}

	// The account is registered first; then the server starts with it.
	srv := startServerIn(t, cheap)
	bossToken := registerAndLogin(t, srv, "boss")
	srv.stop()

	withBoss.Admins = []string{"BOSS"}
	srv = startServerIn(t, withBoss)
	if st, body := httpDo(t, srv, "GET", "/api/starling/v1/admin/jobs/stats", bossToken, nil); st != http.StatusOK {
		t.Fatalf("the admin's job stats: %d %s, want 200", st, body)
	}
	other := registerAndLogin(t, srv, "Boss_")
	if st, _ := httpDo(t, srv, "GET", "/api/starling/v1/admin/jobs/stats", other, nil); st != http.StatusForbidden {
		t.Fatalf("another user's job stats: %d, want 403", st)
	}
}
