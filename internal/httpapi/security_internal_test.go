package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"starling/internal/ratelimit"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:1234", nil, "192.0.2.1"},
		{"192.0.2.1:1234", []string{"198.51.100.1"}, "192.0.2.1"}, // not a trusted peer
		{"10.0.0.1:1234", nil, "10.0.0.1"},
		{"10.0.0.1:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.1:1234", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"}, // the left one is the client's claim
		{"10.0.0.1:1234", []string{"203.0.113.9, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"10.0.0.1:1234", []string{"203.0.113.9", "198.51.100.1,10.0.0.2"}, "198.51.100.1"},
		{"10.0.0.1:1234", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"10.0.0.1:1234", []string{"garbage, 10.0.0.2"}, "10.0.0.2"},
		{"10.0.0.1:1234", []string{""}, "10.0.0.1"},
		{"10.0.0.1:1234", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"10.0.0.1:1234", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"10.0.0.1:1234", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.1:1234", []string{"fe80::1%eth0"}, "10.0.0.1"},
		{"[2001:db8:ffff::1]:1234", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"[::ffff:10.0.0.1]:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"[fe80::1%eth0]:1234", nil, "fe80::1"}, // the zone names this host's interface
		{"10.0.0.1:1234", []string{strings.Repeat("10.0.0.9,", 100) + "10.0.0.2"}, "10.0.0.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		got, ok := clientIP(r, proxies)
		if !ok || got.String() != tc.want {
			t.Errorf("clientIP(%s, %q) = %v, %v; want %s", tc.remote, tc.xff, got, ok, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@"
	if got, ok := clientIP(r, proxies); ok {
		t.Errorf("clientIP of a Unix socket peer = %v, want not ok", got)
	}
}

func TestIPSubject(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
	} {
		if got := ipSubject(netip.MustParseAddr(tc.addr), true); got != tc.want {
			t.Errorf("ipSubject(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got := ipSubject(netip.Addr{}, false); got != "unknown" {
		t.Errorf("ipSubject of no address = %q", got)
	}
}

func TestJSONDepth(t *testing.T) {
	for _, tc := range []struct {
		json string
		want int
	}{
		{`{}`, 1},
		{`{"a":{"b":[1,{"c":2}]}}`, 4},
		{`{"a":"[[[[[[[[[[[["}`, 1},
		{`{"a":"\"[[[[[[[[[[[["}`, 1},
		{`{"a":"\\"}`, 1},
		{`[[]]`, 2},
		{strings.Repeat("[", 100000), maxJSONDepth + 1},
	} {
		if got := jsonDepth([]byte(tc.json)); got != tc.want {
			t.Errorf("jsonDepth(%.40s) = %d, want %d", tc.json, got, tc.want)
		}
	}
}

func TestDeepJSONIsRefused(t *testing.T) {
	a := newBareAPI(t, nil)
	for _, body := range []string{
		`{"login":` + strings.Repeat("[", 9) + strings.Repeat("]", 9) + `}`,
		strings.Repeat("[", 60000),
		`{"a":` + strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat("}", 21),
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/starling/v1/users", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		a.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"json_too_deep"`) {
			t.Errorf("a body nested %d deep: %d %s, want 400 json_too_deep", jsonDepth([]byte(body)), rec.Code, rec.Body)
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	a := newBareAPI(t, nil)
	a.handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error { panic("boom") })
	for _, tc := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/no/such/route"},
		{"PATCH", "/api/starling/v1/me"},
		{"GET", "/test/panic"},
		{"GET", "/api/starling/v1/me"},
	} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		h := rec.Header()
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s (%d): security headers %v", tc.method, tc.path, rec.Code, h)
		}
	}
}

func TestChatAndStreamPolicies(t *testing.T) {
	a := newBareAPI(t, nil)
	a.limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
	a.limits.Chat = ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}
	a.limits.Stream = ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}
	req := func(ip string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = ip + ":1234"
		return r
	}
	limited := func(err error) bool { _, ok := isRateLimited(err); return ok }

	// Chat: per user, whatever the address; anonymous senders per address.
	for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		if got := limited(a.allowChatMessage(req(ip), 7)); got != (i == 2) {
			t.Fatalf("chat message %d of user 7: limited %v", i+1, got)
		}
	}
	if limited(a.allowChatMessage(req("192.0.2.1"), 8)) {
		t.Fatal("user 8 was limited by user 7's messages")
	}
	for i := range 3 {
		if got := limited(a.allowChatMessage(req("198.51.100.1"), 0)); got != (i == 2) {
			t.Fatalf("anonymous chat message %d: limited %v", i+1, got)
		}
	}

	// Streams: per identifier (or user) and per address.
	if limited(a.allowStreamConnection(req("203.0.113.1"), "app", 0)) || limited(a.allowStreamConnection(req("203.0.113.2"), "app", 0)) {
		t.Fatal("the first two connections of identifier app were limited")
	}
	if !limited(a.allowStreamConnection(req("203.0.113.3"), "app", 0)) {
		t.Fatal("a third connection of identifier app from a fresh address was not limited")
	}
	if limited(a.allowStreamConnection(req("203.0.113.1"), "other", 0)) {
		t.Fatal("a second connection from 203.0.113.1 under another identifier was limited")
	}
	if !limited(a.allowStreamConnection(req("203.0.113.1"), "third", 0)) {
		t.Fatal("a third connection from 203.0.113.1 was not limited")
	}
	if limited(a.allowStreamConnection(req("203.0.113.9"), "", 42)) {
		t.Fatal("user 42's first stream was limited")
	}
}

func TestRateLimitedAnswer(t *testing.T) {
	a := newBareAPI(t, nil)
	for _, tc := range []struct {
		retry time.Duration
		want  string
	}{
		{time.Nanosecond, "1"},
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{time.Hour, "3600"},
	} {
		rec := httptest.NewRecorder()
		a.writeError(rec, httptest.NewRequest("POST", "/", nil), fmt.Errorf("wrapped: %w", &rateLimitedError{retryAfter: tc.retry}))
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
			t.Errorf("retry after %v: %d %s, want 429 rate_limited", tc.retry, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("retry after %v: Retry-After %q, want %q", tc.retry, got, tc.want)
		}
	}
}
