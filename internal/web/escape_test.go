package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// hostile is text that would run, break out of an attribute or make a
// link if it were not written as text.
const hostile = `<script>window.pwned=1</script> "quoted" <a href="javascript:window.pwned=2">x</a> javascript:alert(1) <img src=x onerror="window.pwned=3">`

// noInjection is a JavaScript condition: no script ran and no element came
// out of the text.
const noInjection = `window.pwned === undefined && !document.querySelector("main script, main img, a[href^='javascript:']")`

func TestHostileTextRendersAsText(t *testing.T) {
	base := startServer(t, nil)
	browser := newBrowser(t)
	ada := newUser(t, browser, true)
	signUp(t, ada, base, "ada")
	waitLive(t, ada, "ol.timeline")
	composeJS(t, ada, hostile)
	// Written by the page script from the stream.
	waitJS(t, ada, timelineHas(hostile))
	if !eval[bool](t, ada, noInjection) {
		t.Fatal("a status written live from the stream was parsed as HTML")
	}
	// Written by the server.
	navigate(t, ada, base+"/home")
	waitJS(t, ada, timelineHas(hostile))
	if !eval[bool](t, ada, noInjection) {
		t.Fatal("a status rendered by the server was parsed as HTML")
	}

	navigate(t, ada, base+"/chat/lobby")
	waitLive(t, ada, "#inbox")
	do(t, ada, chromedp.SetValue(chromedp.CSS("#body"), hostile), chromedp.Click(chromedp.CSS("#messageform button")))
	has := fmt.Sprintf(`Array.from(document.querySelectorAll("#inbox .body")).some(e => e.textContent === %s)`, jsString(hostile))
	waitJS(t, ada, has)
	if !eval[bool](t, ada, noInjection) {
		t.Fatal("a chat message written live was parsed as HTML")
	}
	navigate(t, ada, base+"/chat/lobby")
	waitJS(t, ada, has)
	if !eval[bool](t, ada, noInjection) {
		t.Fatal("a chat message rendered by the server was parsed as HTML")
	}
}
