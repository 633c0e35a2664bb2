package stream

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"  spaced\tout\nlines ", []string{"spaced", "out", "lines"}},
		{"(@Bob) #Go! «quoted»", []string{"@bob", "#go", "quoted"}},
		{"...!!! ,", nil},
		{"don't stop", []string{"don't", "stop"}},
		{"¡Olé!", []string{"olé"}},
		{"@@twice # lone", []string{"@@twice", "lone"}},
	} {
		if got := Words(tc.in); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func statusEvent(login, message string, loc *[2]float64) *event {
	ev := &event{id: 1, kind: created, st: statusData{ID: 7, UID: 3, Login: login, Message: message, Posted: time.Now()}}
	if loc != nil {
		ev.st.Location = &struct {
			Lat float64 `json:"lat"`
			Lon float64 `json:"lon"`
		}{loc[0], loc[1]}
	}
	return ev
}

func TestFilterSemantics(t *testing.T) {
	at := func(lat, lon float64) *[2]float64 { return &[2]float64{lat, lon} }
	for _, tc := range []struct {
		name    string
		params  string
		login   string
		message string
		loc     *[2]float64
		want    bool
	}{
		{"phrase words in any order and case", "track=Go+Rocks", "a", "ROCKS, go!", nil, true},
		{"phrase needs all words", "track=go+rocks", "a", "go home", nil, false},
		{"second phrase", "track=nothing,home", "a", "go home", nil, true},
		{"word, not substring", "track=go", "a", "gopher", nil, false},
		{"punctuation trimmed", "track=stream", "a", "«stream»...", nil, true},
		{"hashtag is its own word", "track=%23go", "a", "#go now", nil, true},
		{"hashtag needs the #", "track=%23go", "a", "go now", nil, false},
		{"plain word misses the hashtag", "track=go", "a", "#go now", nil, false},
		{"mention in track", "track=%40bob", "a", "hi @Bob!", nil, true},
		{"follow the author, any case", "follow=ALICE", "alice", "x", nil, true},
		{"follow a mention", "follow=bob", "alice", "cc (@BOB)", nil, true},
		{"follow needs the @", "follow=bob", "alice", "bob", nil, false},
		{"unknown login matches nothing", "follow=nobody", "alice", "hi", nil, false},
		{"inside a box", "location=-10,-10,10,10", "a", "x", at(5, 5), true},
		{"on the south-west corner", "location=-10,-10,10,10", "a", "x", at(-10, -10), true},
		{"on the north-east corner", "location=-10,-10,10,10", "a", "x", at(10, 10), true},
		{"just outside", "location=-10,-10,10,10", "a", "x", at(10.0001, 0), false},
		{"no location", "location=-10,-10,10,10", "a", "x", nil, false},
		{"second box", "location=0,0,1,1,100,40,101,41", "a", "x", at(40.5, 100.5), true},
		{"whole world", "location=-180,-90,180,90", "a", "x", at(90, 180), true},
		{"lat and lon not swapped", "location=100,0,101,1", "a", "x", at(100.5, 0.5), false},
		{"fields are ORed: track", "track=nope&follow=nobody&location=0,0,1,1", "a", "nope", nil, true},
		{"fields are ORed: follow", "track=nope&follow=alice&location=0,0,1,1", "alice", "x", nil, true},
		{"fields are ORed: location", "track=nope&follow=nobody&location=0,0,1,1", "a", "x", at(0.5, 0.5), true},
		{"fields are ORed: none", "track=nope&follow=nobody&location=0,0,1,1", "a", "x", at(5, 5), false},
		{"repeated parameters add up", "track=one&track=two", "a", "two", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.params)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseFilter(v)
			if err != nil {
				t.Fatalf("ParseFilter(%s): %v", tc.params, err)
			}
			ev := statusEvent(tc.login, tc.message, tc.loc)
			if got := f.matches(ev); got != tc.want {
				t.Fatalf("%s matches %q by %s at %v = %v, want %v", tc.params, tc.message, tc.login, tc.loc, got, tc.want)
			}
			// The index must find exactly what the rule says.
			ix := newIndex()
			c := &Client{spec: Spec{Kind: FilterKind, Filter: f}}
			ix.each(c, true)
			found := false
			ix.candidates(ev, func(cand *Client, check bool) {
				if cand == c && (!check || cand.spec.Filter.matches(ev)) {
					found = true
				}
			})
			if found != tc.want {
				t.Fatalf("the index finds the client: %v, want %v", found, tc.want)
			}
			ix.each(c, false)
			if n := ix.size(); n != 0 {
				t.Fatalf("index holds %d entries after removal, want 0", n)
			}
		})
	}
}

func TestParseFilterRefusals(t *testing.T) {
	for _, tc := range []struct{ params, code string }{
		{"", "filter_required"},
		{"track=,,&follow=", "filter_required"},
		{"location=1,2,3", "invalid_location"},
		{"location=1,2,3,x", "invalid_location"},
		{"location=1,2,3,Inf", "invalid_location"},
		{"location=3,0,1,1", "invalid_location"},
		{"location=0,3,1,1", "invalid_location"},
		{"location=0,0,181,1", "invalid_location"},
		{"location=0,-91,1,1", "invalid_location"},
		{"follow=a.b", "invalid_follow"},
		{"follow=" + string(make([]byte, 33)), "invalid_follow"},
	} {
		v, _ := url.ParseQuery(tc.params)
		_, err := ParseFilter(v)
		pe, ok := err.(*ParamError)
		if !ok || pe.Code != tc.code {
			t.Errorf("ParseFilter(%q) = %v, want %s", tc.params, err, tc.code)
		}
	}
}

func TestSampleKeepSetIsStable(t *testing.T) {
	// Fixed values: a change here changes every client's sample.
	for _, tc := range []struct {
		id      string
		percent int
		want    []int
	}{
		{"reader", 5, []int{1, 21, 45, 67, 79}},
		{"", 1, []int{94}},
	} {
		ks := SampleKeepSet(tc.id, tc.percent)
		var got []int
		for r, keep := range ks {
			if keep {
				got = append(got, r)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("SampleKeepSet(%q, %d) = %v, want %v", tc.id, tc.percent, got, tc.want)
		}
	}
	// Larger percents keep supersets, and 100 keeps everything.
	prev := SampleKeepSet("x", 1)
	for p := 2; p <= 100; p++ {
		ks := SampleKeepSet("x", p)
		n := 0
		for r := range ks {
			if prev[r] && !ks[r] {
				t.Fatalf("percent %d drops residue %d that percent %d kept", p, r, p-1)
			}
			if ks[r] {
				n++
			}
		}
		if n != p {
			t.Fatalf("percent %d keeps %d residues", p, n)
		}
		prev = ks
	}
}
