package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// The web UI answers its own paths and leaves the API's, the classic
// endpoints' and the health checks' to the API, whatever the method.
func TestWebUIOwnsItsPathsOnly(t *testing.T) {
	base := startServer(t, nil)
	cases := []struct {
		method, path string
		web          bool
	}{
		{"GET", "/", true},
		{"GET", "/home", true},
		{"GET", "/u/nobody", true},
		{"GET", "/static/app.css", true},
		{"GET", "/no/such/page", false},
		{"DELETE", "/home", true},
		{"GET", "/api/starling/v1/users/nobody", false},
		{"GET", "/healthz", false},
		{"GET", "/statuses/firehose.json", false},
		{"POST", "/a/message/new", false},
		{"GET", "/api/v1/timelines/home", false},
		{"GET", "//healthz", false},
		{"GET", "//home", false},
		{"GET", "/u//ada", false},
		{"GET", "/home/../api/starling/v1/me", false},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// The API answers JSON, always; the web UI pages, assets or
		// redirects.
		api := strings.HasPrefix(res.Header.Get("Content-Type"), "application/json")
		if api == tc.web {
			t.Errorf("%s %s: answered by the %s (%d %s), want the %s", tc.method, tc.path,
				map[bool]string{true: "API", false: "web UI"}[api], res.StatusCode, res.Header.Get("Content-Type"),
				map[bool]string{true: "web UI", false: "API"}[tc.web])
		}
	}
}
