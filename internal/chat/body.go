package chat

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanBody turns what a client sent into a message body: invalid UTF-8 and
// control characters become U+FFFD, line and paragraph breaks and tabs
// become spaces, and white space is trimmed from both ends. It refuses a
// body that is then empty, longer than MaxBodyLen characters, or made only
// of characters that show nothing (white space, control and format
// characters, variation selectors, blank fillers).
func CleanBody(raw string) (string, error) {
	if len(raw) > MaxBodyBytes {
		return "", &InputError{Field: "body", Reason: "must be 1–2000 characters"}
	}
	var b strings.Builder
	b.Grow(len(raw))
	visible := false
	for _, r := range strings.ToValidUTF8(raw, "\uFFFD") {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			r = ' '
		case unicode.IsControl(r):
			r = '\uFFFD'
			b.WriteRune(r)
			continue // a replaced control character does not make a body visible
		}
		if !visible && !invisible(r) {
			visible = true
		}
		b.WriteRune(r)
	}
	body := strings.TrimSpace(b.String())
	n := utf8.RuneCountInString(body)
	switch {
	case n < 1 || !visible:
		return "", &InputError{Field: "body", Reason: "must have at least one visible character"}
	case n > MaxBodyLen:
		return "", &InputError{Field: "body", Reason: "must be 1–2000 characters"}
	}
	return body, nil
}

// invisible reports whether r shows nothing on its own: white space,
// control and format characters (zero-width spaces and joiners, bidi marks
// and controls, the byte order mark, soft hyphens), variation selectors and
// the other code points Unicode says to ignore when not supported (Hangul
// fillers among them), and the blank braille pattern: the rule the social
// package applies to names and statuses.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2800' ||
		unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// HTML is the fragment a page shows for m: its body HTML-escaped, with
// http and https URLs made links, in a div whose id is "m" and the message
// id (the classic chat page script finds messages it already shows by it).
func HTML(m Message) string {
	var b strings.Builder
	b.Grow(len(m.Body) + 64)
	b.WriteString(`<div class="message" id="m`)
	b.WriteString(html.EscapeString(m.ID))
	b.WriteString(`">`)
	if m.Login != "" {
		b.WriteString(`<b class="login">`)
		b.WriteString(html.EscapeString(m.Login))
		b.WriteString(`</b>: `)
	}
	linkify(&b, m.Body)
	b.WriteString(`</div>`)
	return b.String()
}

// linkify writes s escaped, with each http:// or https:// URL in it a link.
// Only those two schemes are ever linked, so no body can make a
// javascript: or data: link.
func linkify(b *strings.Builder, s string) {
	for len(s) > 0 {
		start, end := nextURL(s)
		if start < 0 {
			b.WriteString(html.EscapeString(s))
			return
		}
		b.WriteString(html.EscapeString(s[:start]))
		u := html.EscapeString(s[start:end])
		b.WriteString(`<a href="`)
		b.WriteString(u)
		b.WriteString(`" rel="nofollow noopener noreferrer" target="_blank">`)
		b.WriteString(u)
		b.WriteString(`</a>`)
		s = s[end:]
	}
}

// nextURL finds the first http(s) URL in s: the scheme at the start of s or
// after a character that is not a letter or digit, at least one character
// after "://", up to white space or a character that cannot end a URL in
// text. Trailing punctuation and an unbalanced closing parenthesis are left
// out, as in "see https://example.com/a)." start is -1 when there is none.
func nextURL(s string) (start, end int) {
	for i := 0; i < len(s); i++ {
		if s[i] != 'h' && s[i] != 'H' {
			continue
		}
		if i > 0 && isWordByte(s[i-1]) {
			continue
		}
		rest := s[i:]
		var n int
		switch {
		case hasPrefixFold(rest, "https://"):
			n = len("https://")
		case hasPrefixFold(rest, "http://"):
			n = len("http://")
		default:
			continue
		}
		j := i + n
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) || strings.ContainsRune(`<>"'`+"`", r) || r == utf8.RuneError {
				break
			}
			j += size
		}
		j = trimURLEnd(s[i:j]) + i
		if j > i+n {
			return i, j
		}
	}
	return -1, -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// trimURLEnd returns the length of u without trailing punctuation and
// without a closing parenthesis that has no opening one in u.
func trimURLEnd(u string) int {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?", c) >= 0:
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return len(u)
		}
	}
	return 0
}
