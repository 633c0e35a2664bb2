package social

import (
	"errors"
	"testing"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		multiline bool
		want      string // "" when refused
	}{
		{"plain", "  Ada  ", false, "Ada"},
		{"white space only", " \t ", false, ""},
		{"zero-width space", "\u200b", false, ""},
		{"zero-width joiners and spaces", " \u200d\u200c\u2060\ufeff ", false, ""},
		{"bidi marks", "\u200e\u200f\u061c", false, ""},
		{"bidi override alone", "\u202e", false, ""},
		{"isolate alone in a message", "\u2066\u2069", true, ""},
		{"Hangul filler", "\u3164", false, ""},
		{"variation selector", "\ufe0f", false, ""},
		{"soft hyphen", "\u00ad", true, ""},
		{"blank braille", "\u2800\u2800", true, ""},
		{"invisible message", "\u200b\n\u200b", true, ""},
		{"override in a name", "evil\u202egnp.exe", false, ""},
		{"embedding in a name", "a\u202ab", false, ""},
		{"isolate in a name", "a\u2067b\u2069", false, ""},
		{"override in a message", "quote \u202etxet\u202c done", true, "quote \u202etxet\u202c done"},
		{"joiner in an emoji", "\U0001F468\u200d\U0001F469", false, "\U0001F468\u200d\U0001F469"},
		{"visible with a zero-width space", "a\u200b", false, "a\u200b"},
		{"a mark in a name", "\u200fعلي", false, "\u200fعلي"},
	} {
		got, err := cleanText("name", tc.in, 64, tc.multiline)
		if tc.want == "" {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "name" {
				t.Errorf("%s: cleanText(%q) = %q, %v; want a name ValidationError", tc.name, tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: cleanText(%q) = %q, %v; want %q", tc.name, tc.in, got, err, tc.want)
		}
	}
}
