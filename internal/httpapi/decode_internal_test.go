package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

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
		{`{"a":1,"\u0061":2}`, true, "a"},
		{`{"a\"b":1,"a\u0022b":2}`, true, `a"b`},
		{`{"a\\":1,"a":2}`, false, ""},
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":3}`, true, "k3"},
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"x":{"k3":1}}`, false, ""},
		{" { \"a\" : [ \"}\" , \"{\" ] , \"b\" : \"a\" } ", false, ""},
	} {
		key, found := duplicateKey([]byte(tc.json))
		if found != tc.found || key != tc.key {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", tc.json, key, found, tc.key, tc.found)
		}
	}
}

func TestCheckKeysAgainstShape(t *testing.T) {
	shape := shapeOf(reflect.TypeOf(&postRequest{}))
	for _, tc := range []struct {
		json    string
		problem keyProblem
		key     string
	}{
		{`{"message":"m"}`, keysOK, ""},
		{`{"message":"m","location":{"lat":1,"lon":2}}`, keysOK, ""},
		{`{"message":"m","location":null}`, keysOK, ""},
		{`{"m\u0065ssage":"m"}`, keysOK, ""},
		{`{"Message":"m"}`, keyUnknown, "Message"},
		{`{"meſſage":"m"}`, keyUnknown, "meſſage"},
		{`{"message":"m","location":{"Lat":1,"lon":2}}`, keyUnknown, "Lat"},
		{`{"message":"m","location":{"lat":1,"lat":2}}`, keyRepeated, "lat"},
		{`{"message":{"anything":1}}`, keysOK, ""}, // a type mistake, left to encoding/json
		{`{"location":{"lat":1,"lon":2},"lat":3}`, keyUnknown, "lat"},
		{`{"message":"m","message":"n"}`, keyRepeated, "message"},
	} {
		problem, key := checkKeys([]byte(tc.json), shape)
		if problem != tc.problem || key != tc.key {
			t.Errorf("checkKeys(%s) = %v, %q; want %v, %q", tc.json, problem, key, tc.problem, tc.key)
		}
	}
}

func TestLoneSurrogates(t *testing.T) {
	for _, tc := range []struct {
		json string
		lone bool
	}{
		{`"plain"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\uD83D\uDE00 and \u00e9"`, false},
		{`"\ud800"`, true},
		{`"\udc00"`, true},
		{`"a\ud800b"`, true},
		{`"\ud800\u0041"`, true},
		{`"\ud800\n"`, true},
		{`"\ude00\ud83d"`, true},
		{`"\ud83d\ud83d\ude00"`, true},
		{`"\\ud800"`, false}, // an escaped backslash, then text
	} {
		if _, lone := scanString([]byte(tc.json), 0); lone != tc.lone {
			t.Errorf("scanString(%s) lone = %v, want %v", tc.json, lone, tc.lone)
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

// FuzzDuplicateKey checks duplicateKey against a reference built on
// json.Decoder.Token, on every valid JSON text.
func FuzzDuplicateKey(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `{"a":[1,{"x":1,"x":2}]}`,
		`{"a":1,"\u0061":2}`, `{"\xff":1,"\xfe":2}`, `[{"a":1},{"a":1}]`, `"a"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		if !json.Valid([]byte(data)) {
			return
		}
		if problem, _ := checkKeys([]byte(data), nil); problem == loneSurrogate {
			return // refused before keys are compared; see TestLoneSurrogates
		}
		gotKey, got := duplicateKey([]byte(data))
		wantKey, want := duplicateKeyReference([]byte(data))
		if got != want || gotKey != wantKey {
			t.Fatalf("duplicateKey(%q) = %q, %v; the reference says %q, %v", data, gotKey, got, wantKey, want)
		}
	})
}

// duplicateKeyReference is duplicateKey written plainly on json.Decoder.
func duplicateKeyReference(data []byte) (string, bool) {
	type object struct {
		keys      map[string]bool
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*object
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1] != nil {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *object
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &object{keys: make(map[string]bool), expectKey: true})
			case '[':
				stack = append(stack, nil)
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.expectKey {
				if top.keys[t] {
					return t, true
				}
				top.keys[t] = true
				top.expectKey = false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
