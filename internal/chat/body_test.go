package chat_test

import (
	"strings"
	"testing"

	"starling/internal/chat"
)

func TestCleanBody(t *testing.T) {
	for in, want := range map[string]string{
		"  hello  ":               "hello",
		"a\tb\nc":                 "a b c",
		"a\x00b":                  "a\uFFFDb",
		"bad \xff utf8":           "bad \uFFFD utf8",
		"x\u200b":                 "x\u200b",
		strings.Repeat("é", 2000): strings.Repeat("é", 2000),
	} {
		got, err := chat.CleanBody(in)
		if err != nil || got != want {
			t.Errorf("CleanBody(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "\u200b\u2060\ufeff", "\u3164", "\x07", strings.Repeat("a", 2001)} {
		if got, err := chat.CleanBody(in); err == nil {
			t.Errorf("CleanBody(%q) = %q, want an error", in, got)
		}
	}
}

func TestHTMLEscapesAndLinks(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`<script>alert("x")</script>`, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`},
		{`javascript:alert(1)`, `javascript:alert(1)`},
		{`see https://example.com/a?b=1&c=2.`, `see <a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">https://example.com/a?b=1&amp;c=2</a>.`},
		{`(http://x.org/p)`, `(<a href="http://x.org/p" rel="nofollow noopener noreferrer" target="_blank">http://x.org/p</a>)`},
		{`http://x"onmouseover="alert(1)`, `<a href="http://x" rel="nofollow noopener noreferrer" target="_blank">http://x</a>&#34;onmouseover=&#34;alert(1)`},
		{`xhttp://no.link http://`, `xhttp://no.link http://`},
		{`javascript:http://x.org`, `javascript:<a href="http://x.org" rel="nofollow noopener noreferrer" target="_blank">http://x.org</a>`},
	} {
		got := chat.HTML(chat.Message{ID: "7", Body: tc.body})
		want := `<div class="message" id="m7">` + tc.want + `</div>`
		if got != want {
			t.Errorf("HTML(%q)\n got %s\nwant %s", tc.body, got, want)
		}
		if strings.Contains(got, `href="javascript`) || strings.Contains(got, "<script") {
			t.Errorf("HTML(%q) = %s: unsafe", tc.body, got)
		}
	}
}
