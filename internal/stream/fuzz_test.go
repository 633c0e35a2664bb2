package stream

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseFilter(f *testing.F) {
	f.Add("track=go,rust&follow=bob&location=-10,-10,10,10")
	f.Add("track=%23go+%40bob&location=1,2,3")
	f.Add("location=NaN,0,1,1&follow=a-b")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		flt, err := ParseFilter(v)
		if err != nil {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("ParseFilter(%q) failed with %T %v, want a *ParamError", query, err, err)
			}
			return
		}
		if flt.Empty() || len(flt.Phrases) > MaxPhrases || len(flt.Logins) > MaxLogins || len(flt.Boxes) > MaxBoxes {
			t.Fatalf("ParseFilter(%q) = %+v: empty or over a cap", query, flt)
		}
		for _, p := range flt.Phrases {
			if len(p) == 0 {
				t.Fatalf("an empty phrase from %q", query)
			}
		}
		for _, b := range flt.Boxes {
			if !(b.West <= b.East && b.South <= b.North && b.West >= -180 && b.East <= 180 && b.South >= -90 && b.North <= 90) {
				t.Fatalf("box %+v from %q is out of range", b, query)
			}
		}
		// Indexing and removing leaves nothing behind.
		ix := newIndex()
		c := &Client{spec: Spec{Kind: FilterKind, Filter: flt}}
		ix.each(c, true)
		ix.each(c, false)
		if ix.size() != 0 {
			t.Fatalf("index not empty after removing the filter of %q", query)
		}
	})
}

func FuzzWords(f *testing.F) {
	f.Add("Hello, (@Bob) #Go! «quoted»")
	f.Add("\u00a0\u2028 ...")
	f.Fuzz(func(t *testing.T, text string) {
		for _, w := range Words(text) {
			if w == "" || strings.ContainsFunc(w, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }) {
				t.Fatalf("Words(%q) has word %q", text, w)
			}
			if utf8.ValidString(text) && strings.ToLower(w) != w {
				t.Fatalf("Words(%q) has a word not lower-cased: %q", text, w)
			}
		}
	})
}

func FuzzParseSpec(f *testing.F) {
	f.Add("sample", "percent=10&identifier=abc")
	f.Add("filter", "track=a")
	f.Add("sample", "percent=-1")
	f.Fuzz(func(t *testing.T, kind, query string) {
		k, ok := ParseKind(kind)
		v, err := url.ParseQuery(query)
		if !ok || err != nil {
			return
		}
		id, err := ParseIdentifier(v)
		if err != nil {
			return
		}
		if len(id) > MaxIdentifier {
			t.Fatalf("identifier of %d bytes accepted", len(id))
		}
		s, err := ParseSpec(k, v, id)
		if err != nil {
			return
		}
		if k == Sample {
			n := 0
			for _, keep := range s.Keep {
				if keep {
					n++
				}
			}
			if n < 1 || n > 100 {
				t.Fatalf("sample of %q keeps %d residues", query, n)
			}
		}
	})
}
