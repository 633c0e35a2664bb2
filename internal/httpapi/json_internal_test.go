package httpapi

import "testing"

func TestDuplicateKey(t *testing.T) {
	for _, tc := range []struct {
		json  string
		found bool
		key   string
	}{
		{`{}`, false, ""},
		{`{"a":1,"b":2}`, false, ""},
		{`{"a":1,"a":2}`, true, "a"},
		{`{"a":{"b":1},"b":2}`, false, ""},
		{`{"a":{"b":1,"b":2}}`, true, "b"},
		{`{"a":[{"b":1},{"b":2}],"c":3}`, false, ""},
		{`{"a":["a","a"],"b":"a"}`, false, ""},
		{`{"a":[1,{"x":1,"x":2}]}`, true, "x"},
		{`{"a":{"a":{"a":1}},"a":2}`, true, "a"},
		{`{"a":"b","b":"a"}`, false, ""},
		{`{"":1,"":2}`, true, ""},
		{`{"a":[[],{}],"b":{"c":[{"d":null}]},"d":true}`, false, ""},
	} {
		key, found := duplicateKey([]byte(tc.json))
		if found != tc.found || key != tc.key {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", tc.json, key, found, tc.key, tc.found)
		}
	}
}

func TestCheckJSONContentType(t *testing.T) {
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON; charset=UTF-8", true},
		{"application/merge-patch+json", true},
		{"", false},
		{"text/plain", false},
		{"text/json", false},
		{"application/x-www-form-urlencoded", false},
		{"multipart/form-data; boundary=x", false},
		{"application/json; charset=latin1", false},
		{"application/json;;", false},
	} {
		if err := checkJSONContentType(tc.header); (err == nil) != tc.ok {
			t.Errorf("checkJSONContentType(%q) = %v, want ok %v", tc.header, err, tc.ok)
		}
	}
}
