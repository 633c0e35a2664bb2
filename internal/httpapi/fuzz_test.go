package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"starling/internal/social"
)

// Fuzz targets for every decoder of client input. Seed corpora are in
// testdata/fuzz/<target>; scripts/test runs each target briefly.

// FuzzDecodeJSON feeds arbitrary bodies to every request type: each must
// decode or be refused with a 4xx of this package, never panic or 500.
func FuzzDecodeJSON(f *testing.F) {
	for _, body := range []string{
		`{"login":"ada","name":"Ada","password":"correct horse"}`,
		`{"message":"hi","location":{"lat":1.5,"lon":-2}}`,
		`{"message":"hi","location":null}`,
		`{"name":"friends"}`,
		`{"login":"a","login":"b"}`,
		`{"login":5}`,
		`{"x":1}`,
		`[]`,
		`{"a":[[[[[[[[[[1]]]]]]]]]]}`,
		`{"message":"\u0000"}`,
		`{} {}`,
		``,
		`{"login":"a","LOGIN":"b"}`,
		`{"meſſage":"x"}`,
		`{"m\u0065ssage":"x"}`,
		`{"message":"\ud800"}`,
		`{"message":"\ud83d\ude00"}`,
		"{\"message\":\"\xc3\x28\"}",
	} {
		f.Add(body, "application/json")
	}
	f.Add(`{"name":"x"}`, "text/plain")
	f.Add(`{"name":"x"}`, "application/json; charset=latin1")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		for _, dst := range []any{&registerRequest{}, &loginRequest{}, &passwordRequest{}, &postRequest{}, &listRequest{}} {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			r.Body = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
			err := decodeJSON(httptest.NewRecorder(), r, dst)
			if err == nil {
				if jsonDepth([]byte(body)) > maxJSONDepth {
					t.Fatalf("a body nested %d deep was accepted", jsonDepth([]byte(body)))
				}
				if p, ok := dst.(*postRequest); ok {
					checkLocation(t, p.Location)
				}
				checkLiteral(t, body, dst)
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status > 499 {
				t.Fatalf("decodeJSON(%q) into %T: %v, want a 4xx *apiError", body, dst, err)
			}
		}
	})
}

// checkLiteral checks that what decodeJSON accepted into dst is what body
// literally says: body decoded into a map (whose keys are exact) has only
// keys that are dst's field names, and each value equals the field's.
func checkLiteral(t *testing.T, body string, dst any) {
	t.Helper()
	if !utf8.ValidString(body) {
		t.Fatalf("decoded a body that is not UTF-8: %q", body)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%q was accepted but is not a JSON object: %v", body, err)
	}
	sameAsLiteral(t, body, doc, reflect.ValueOf(dst).Elem())
}

func sameAsLiteral(t *testing.T, body string, doc map[string]any, v reflect.Value) {
	t.Helper()
	fields := make(map[string]reflect.Value)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		fields[name] = v.Field(i)
	}
	for key, literal := range doc {
		f, ok := fields[key]
		if !ok {
			t.Fatalf("%q was accepted with the field %q, which %s does not have", body, key, v.Type())
		}
		switch f.Kind() {
		case reflect.String:
			if literal == nil {
				literal = ""
			}
			if s, ok := literal.(string); !ok || s != f.String() {
				t.Fatalf("%q: %s.%s = %q, but the body says %#v", body, v.Type(), key, f.String(), literal)
			}
			if strings.ContainsRune(f.String(), utf8.RuneError) && !strings.ContainsRune(body, utf8.RuneError) && !strings.Contains(strings.ToLower(body), `\ufffd`) {
				t.Fatalf("%q: %s.%s = %q holds U+FFFD the body did not send", body, v.Type(), key, f.String())
			}
		case reflect.Pointer:
			if literal == nil {
				if !f.IsNil() {
					t.Fatalf("%q: %s.%s is set, but the body says null", body, v.Type(), key)
				}
				continue
			}
			if f.IsNil() {
				t.Fatalf("%q: %s.%s is nil, but the body says %#v", body, v.Type(), key, literal)
			}
			switch e := f.Elem(); e.Kind() {
			case reflect.Float64:
				n, _ := literal.(json.Number).Float64()
				if n != e.Float() {
					t.Fatalf("%q: %s.%s = %v, but the body says %v", body, v.Type(), key, e.Float(), literal)
				}
			case reflect.Struct:
				sameAsLiteral(t, body, literal.(map[string]any), e)
			default:
				t.Fatalf("checkLiteral does not know %s", e.Type())
			}
		default:
			t.Fatalf("checkLiteral does not know %s", f.Type())
		}
	}
}

// checkLocation checks the shape rule of a decoded location.
func checkLocation(t *testing.T, l *locationRequest) {
	t.Helper()
	loc, err := l.location()
	switch {
	case l == nil:
		if loc != nil || err != nil {
			t.Fatalf("no location gave %+v, %v", loc, err)
		}
	case l.Lat == nil || l.Lon == nil:
		var ve *social.ValidationError
		if !errors.As(err, &ve) || ve.Field != "location" {
			t.Fatalf("a location missing a coordinate gave %+v, %v; want a location ValidationError", loc, err)
		}
	default:
		if err != nil || loc == nil || loc.Lat != *l.Lat || loc.Lon != *l.Lon {
			t.Fatalf("location %v,%v gave %+v, %v", *l.Lat, *l.Lon, loc, err)
		}
		// JSON has no NaN or infinity, and strict decoding refuses
		// numbers that overflow a float64.
		if math.IsNaN(loc.Lat) || math.IsInf(loc.Lat, 0) || math.IsNaN(loc.Lon) || math.IsInf(loc.Lon, 0) {
			t.Fatalf("decoded a non-finite location %+v", loc)
		}
	}
}

// FuzzLocation decodes the location of a status on its own: whatever JSON
// value comes as "location", it is a valid shape, or a 4xx.
func FuzzLocation(f *testing.F) {
	for _, loc := range []string{`{"lat":1,"lon":2}`, `{"lat":91,"lon":0}`, `{"lat":1}`, `null`, `[0,0]`, `{"lat":"x","lon":1}`, `{"lat":1e400,"lon":0}`, `{"lat":-0,"lon":-180}`, `{"lat":1,"lon":2,"alt":3}`} {
		f.Add(loc)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		body := `{"message":"m","location":` + loc + `}`
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req postRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest && ae.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("decoding location %q: %v, want a 400 or 413", loc, err)
			}
			return
		}
		checkLocation(t, req.Location)
		checkLiteral(t, body, &req)
	})
}

// FuzzParsePage: any query string gives a page within the documented
// ranges or a PageError, and only a well-formed one gives a page.
func FuzzParsePage(f *testing.F) {
	for _, q := range []string{"", "count=5", "count=200&page=3", "max_id=10", "count=0", "count=201", "page=-1", "max_id=abc", "count=1&count=2", "count=", "page=99999999999999999999", "count=%zz", "count=+5", "count=5;page=2", "page=0;", "count=%", "a=%zz&count=5"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := &http.Request{URL: &url.URL{RawQuery: q}}
		p, err := parsePage(r)
		if err != nil {
			var pe *social.PageError
			if !errors.As(err, &pe) && err != errBadQuery {
				t.Fatalf("parsePage(%q): %v, want a *social.PageError or invalid_query", q, err)
			}
			return
		}
		if _, err := url.ParseQuery(q); err != nil {
			t.Fatalf("parsePage(%q) accepted a query string url.ParseQuery refuses: %v", q, err)
		}
		if p.Count < 0 || p.Count > social.MaxPageCount || p.Page < 0 || p.Page > social.MaxPage || p.MaxID < 0 {
			t.Fatalf("parsePage(%q) = %+v, out of range", q, p)
		}
		if n, err := p.Normalize(true); err == nil && (n.Count < 1 || n.Page < 1) {
			t.Fatalf("parsePage(%q) normalizes to %+v", q, n)
		}
	})
}

// FuzzPathID: only the canonical form of a positive int64 is an id.
func FuzzPathID(f *testing.F) {
	for _, s := range []string{"1", "42", "0", "-1", "007", "+7", "abc", "9223372036854775807", "9223372036854775808", "1e3", " 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetPathValue("id", raw)
		id, ok := pathID[social.StatusID](r)
		if ok != (id > 0) {
			t.Fatalf("pathID(%q) = %d, %v", raw, id, ok)
		}
		if ok && strconv.FormatInt(int64(id), 10) != raw {
			t.Fatalf("pathID(%q) = %d, which is not how the id is written", raw, id)
		}
	})
}

// FuzzSessionCookie: whatever cookies and CSRF header a request carries, a
// state-changing request is let through with a cookie only when its CSRF
// header is the session's token.
func FuzzSessionCookie(f *testing.F) {
	token := "job9S72NW0lUf6grXevOiwNKEfdm07aTuhKau6jE36c"
	f.Add("POST", "starling_session="+token+"; starling_csrf="+csrfToken(token), csrfToken(token))
	f.Add("POST", "starling_session="+token, "")
	f.Add("GET", "starling_session="+token, "")
	f.Add("DELETE", "starling_session=a; starling_session=b", "x")
	f.Add("PUT", `starling_session="quoted"; starling_csrf=`, "")
	f.Add("POST", "starling_csrf=abc", "abc")
	f.Add("PATCH", ";;;=;starling_session", "\x00")
	f.Add("POST", "__Host-starling_session="+token+"; __Host-starling_csrf="+csrfToken(token), csrfToken(token))
	plain, secure := &API{}, &API{secureCookies: true}
	f.Fuzz(func(t *testing.T, method, cookie, csrfHeader string) {
		a := plain
		if strings.Contains(cookie, "__Host-") {
			a = secure
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.Header.Set("Cookie", cookie)
		if csrfHeader != "" {
			r.Header.Set(csrfHeaderName, csrfHeader)
		}
		tok, found, err := a.sessionCookie(r)
		if !found {
			if err != nil || tok != "" {
				t.Fatalf("no cookie found, but token %q and error %v", tok, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, errCSRF) && !errors.Is(err, social.ErrInvalidToken) {
				t.Fatalf("sessionCookie: %v, want csrf_failed or invalid_token", err)
			}
			return
		}
		if tok == "" {
			t.Fatal("found an empty session token")
		}
		if !safeMethod(method) && csrfHeader != csrfToken(tok) {
			t.Fatalf("%s with CSRF header %q was let through for session %q", method, csrfHeader, tok)
		}
	})
}

// FuzzClientIP: the address found is the peer's, or one from
// X-Forwarded-For when the peer is a trusted proxy.
func FuzzClientIP(f *testing.F) {
	for _, tc := range [][2]string{
		{"10.0.0.1:1234", "198.51.100.1"},
		{"10.0.0.1:1234", "203.0.113.9, 198.51.100.1, 10.0.0.2"},
		{"192.0.2.1:1234", "198.51.100.1"},
		{"[2001:db8::1]:80", "::ffff:1.2.3.4"},
		{"10.0.0.1:1", "garbage,,, "},
		{"@", ""},
	} {
		f.Add(tc[0], tc[1])
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got, ok := clientIP(r, proxies)
		peer, peerOK := remoteAddr(remote)
		if ok != peerOK {
			t.Fatalf("clientIP(%q, %q) ok = %v, but the peer parses: %v", remote, xff, ok, peerOK)
		}
		if !ok {
			return
		}
		if !trusted(peer, proxies) && got != peer {
			t.Fatalf("clientIP(%q, %q) = %v, but the peer is not a trusted proxy", remote, xff, got)
		}
		if got != peer && !strings.Contains(xff, strings.TrimPrefix(got.String(), "::ffff:")) && !strings.Contains(strings.ToLower(xff), ":") {
			t.Fatalf("clientIP(%q, %q) = %v, found nowhere", remote, xff, got)
		}
		if got.Is4In6() || got.Zone() != "" {
			t.Fatalf("clientIP(%q, %q) = %v, not in canonical form", remote, xff, got)
		}
		_ = ipSubject(got, ok)
	})
}
