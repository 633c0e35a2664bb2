package social

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the domain rules.
const (
	MaxLoginLen    = 32
	MaxNameLen     = 64
	MinPasswordLen = 8
	MaxPasswordLen = 128
	MaxListNameLen = 64
	MaxPageCount   = 200
	DefaultCount   = 30
	// MaxPage bounds page numbers so that page*count stays far from
	// overflow and deep scans stay cheap.
	MaxPage = 100_000
)

// ValidLogin reports whether login is 1–32 of [A-Za-z0-9_].
func ValidLogin(login string) bool {
	if len(login) < 1 || len(login) > MaxLoginLen {
		return false
	}
	for i := 0; i < len(login); i++ {
		c := login[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validateLogin(login string) error {
	if !ValidLogin(login) {
		return &ValidationError{"login", "must be 1–32 letters, digits or underscores"}
	}
	return nil
}

// cleanText trims white space and checks that s is valid UTF-8 of 1–max
// characters, not all of them invisible, without control characters (other
// than newlines and tabs when multiline). Single-line text (names) must not
// hold bidi embedding, override or isolate controls either.
func cleanText(field, s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", &ValidationError{field, "must be valid UTF-8"}
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < 1 || n > max {
		return "", &ValidationError{field, lengthReason(1, max)}
	}
	visible := false
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return "", &ValidationError{field, "must not contain control characters"}
		}
		if !multiline && isBidiControl(r) {
			return "", &ValidationError{field, "must not contain bidi embedding, override or isolate controls"}
		}
		visible = visible || !isInvisible(r)
	}
	if !visible {
		return "", &ValidationError{field, lengthReason(1, max) + ", not all of them invisible"}
	}
	return s, nil
}

// isInvisible reports whether r shows nothing by itself: white space,
// format characters (zero-width spaces and joiners, bidi marks and
// controls, the byte order mark, soft hyphens), variation selectors and
// the other code points Unicode says to ignore when not supported (Hangul
// fillers among them), and the blank braille pattern. Text made only of
// them would show as nothing, so it counts as empty.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || r == '\u2800' ||
		unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// isBidiControl reports whether r is one of the controls that change the
// direction of the text after it (U+202A–U+202E embeddings and overrides,
// U+2066–U+2069 isolates). In a name they can make it read as another, and
// they leak into the text shown around the name.
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

func lengthReason(min, max int) string {
	return "must be " + itoa(min) + "–" + itoa(max) + " characters"
}

func validatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < MinPasswordLen || n > MaxPasswordLen {
		return &ValidationError{"password", lengthReason(MinPasswordLen, MaxPasswordLen)}
	}
	return nil
}

func validateLocation(loc *Location) error {
	if loc == nil {
		return nil
	}
	if math.IsNaN(loc.Lat) || loc.Lat < -90 || loc.Lat > 90 {
		return &ValidationError{"location", "lat must be within [-90, 90]"}
	}
	if math.IsNaN(loc.Lon) || loc.Lon < -180 || loc.Lon > 180 {
		return &ValidationError{"location", "lon must be within [-180, 180]"}
	}
	return nil
}

// Normalize checks a page and fills in its default count. allowMaxID is
// false for sequences that page only by number (followers, members).
func (p Page) Normalize(allowMaxID bool) (Page, error) {
	if p.Count == 0 {
		p.Count = DefaultCount
	}
	if p.Count < 1 || p.Count > MaxPageCount {
		return p, &PageError{"count", "must be 1–200"}
	}
	if p.Page < 0 || p.Page > MaxPage {
		return p, &PageError{"page", "must be 1–" + itoa(MaxPage)}
	}
	if p.MaxID < 0 || p.MaxID > 0 && !allowMaxID {
		return p, &PageError{"max_id", "must be a positive status id"}
	}
	if p.MaxID > 0 && p.Page > 0 {
		return p, &PageError{"page", "cannot be combined with max_id"}
	}
	if p.Page == 0 {
		p.Page = 1
	}
	return p, nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
