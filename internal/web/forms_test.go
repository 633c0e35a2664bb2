package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"starling/internal/ratelimit"
	"starling/internal/server"
)

// formClient signs a user up through the form with a cookie jar and
// returns the client and the CSRF token of the session's pages.
func formClient(t *testing.T, base, login string) (*http.Client, string) {
	t.Helper()
	return sessionForm(t, base, "/signup", login)
}

// loginForm signs an existing user in through the form.
func loginForm(t *testing.T, base, login string) (*http.Client, string) {
	t.Helper()
	return sessionForm(t, base, "/signin", login)
}

func sessionForm(t *testing.T, base, path, login string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(base+path, url.Values{"login": {login}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" content="([^"]+)"`).FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("%s as %s: %d, no CSRF token in the page", path, login, res.StatusCode)
	}
	return c, string(m[1])
}

func postForm(t *testing.T, c *http.Client, u string, vals url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	c2 := *c
	c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestFormsNeedTheirCSRFTokenAndOurOrigin(t *testing.T) {
	base := startServer(t, nil)
	c, csrf := formClient(t, base, "ada")
	cases := []struct {
		name   string
		vals   url.Values
		header http.Header
		want   int
	}{
		{"no token", url.Values{"message": {"hi"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"message": {"hi"}, "csrf": {"x" + csrf}}, nil, http.StatusForbidden},
		{"other origin", url.Values{"message": {"hi"}, "csrf": {csrf}}, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"cross-site fetch", url.Values{"message": {"hi"}, "csrf": {csrf}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"good", url.Values{"message": {"hi"}, "csrf": {csrf}}, http.Header{"Origin": {base}}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		res, _ := postForm(t, c, base+"/compose", tc.vals, tc.header)
		if res.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	res, err := c.Get(base + "/home")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if n := strings.Count(string(b), `<p class="message">hi</p>`); n != 1 {
		t.Fatalf("home shows %d statuses \"hi\", want exactly the one posted with its token", n)
	}
}

func TestRateLimitIsShownNextToTheField(t *testing.T) {
	base := startServer(t, func(cfg *server.Config) {
		cfg.RateLimits.Post = ratelimit.Limit{Rate: 1, Per: 3600_000_000_000, Burst: 1}
	})
	c, csrf := formClient(t, base, "ada")
	if res, _ := postForm(t, c, base+"/compose", url.Values{"message": {"one"}, "csrf": {csrf}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first post: got %d, want 303", res.StatusCode)
	}
	res, body := postForm(t, c, base+"/compose", url.Values{"message": {"two"}, "csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second post: got %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if !regexp.MustCompile(`id="message-error"[^>]*>You are doing that too often. Try again in`).MatchString(body) {
		t.Fatal("the rate limit is not explained next to the message field")
	}
	if !strings.Contains(body, ">two</textarea>") {
		t.Fatal("the refused message was not kept in its field")
	}
}

func TestOlderLinkPagesByMaxID(t *testing.T) {
	base := startServer(t, nil)
	c, csrf := formClient(t, base, "ada")
	for i := range 31 {
		postForm(t, c, base+"/compose", url.Values{"message": {"status " + string(rune('A'+i))}, "csrf": {csrf}}, nil)
	}
	res, err := c.Get(base + "/home")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`href="(/home\?max_id=\d+)" rel="next"`).FindStringSubmatch(string(b))
	if m == nil || strings.Contains(string(b), ">status A<") {
		t.Fatal("the first page has no older link, or shows the oldest status")
	}
	res, err = c.Get(base + m[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), ">status A<") || strings.Contains(string(b), "data-stream") {
		t.Fatal("the older page does not show the oldest status, or follows the live stream")
	}
}

// Behind TLS the web UI's session is the API's: cookies named with the
// __Host- prefix, Secure, and only those names count.
func TestSecureSessionsUseHostPrefixedCookies(t *testing.T) {
	base := startServer(t, func(cfg *server.Config) { cfg.SecureCookies = true })
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(base+"/signup", url.Values{"login": {"ada"}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "starling_") && !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s set without the __Host- prefix", c.Name)
		}
		if c.Name == "__Host-starling_session" {
			session = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly || session.Path != "/" {
		t.Fatalf("sign up: %d, session cookie %+v; want 303 and a Secure HttpOnly __Host-starling_session for /", res.StatusCode, session)
	}
	home := func(name string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/home", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: session.Value})
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := home("__Host-starling_session"); got != http.StatusOK {
		t.Errorf("/home with the __Host- cookie: got %d, want 200", got)
	}
	if got := home("starling_session"); got != http.StatusSeeOther {
		t.Errorf("/home with the plain cookie name behind TLS: got %d, want 303 to sign in", got)
	}
}

// getPage reads a page with c and returns its status and body.
func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
