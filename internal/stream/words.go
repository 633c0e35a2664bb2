package stream

import (
	"strings"
	"unicode"
)

// Words splits text into the words filters compare: lower-cased, split on
// white space, with Unicode punctuation trimmed from both ends of each
// word except a leading '@' or '#'. Empty words are dropped.
func Words(text string) []string {
	fields := strings.Fields(strings.ToLower(text))
	out := fields[:0]
	for _, f := range fields {
		if w := trimWord(f); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func trimWord(w string) string {
	w = strings.TrimRightFunc(w, unicode.IsPunct)
	return strings.TrimLeftFunc(w, func(r rune) bool {
		return r != '@' && r != '#' && unicode.IsPunct(r)
	})
}

// wordSet is the distinct words of a message.
type wordSet map[string]struct{}

func newWordSet(text string) wordSet {
	ws := Words(text)
	set := make(wordSet, len(ws))
	for _, w := range ws {
		set[w] = struct{}{}
	}
	return set
}

func (s wordSet) hasAll(words []string) bool {
	for _, w := range words {
		if _, ok := s[w]; !ok {
			return false
		}
	}
	return true
}
