package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// timelineHas is a JavaScript condition: a status with this text is in
// the timeline.
func timelineHas(text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("ol.timeline .message")).some(e => e.textContent === %s)`, jsString(text))
}

// statusID is a JavaScript expression: the id of the status with this
// text.
func statusID(text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("ol.timeline .status")).find(e => e.querySelector(".message").textContent === %s).dataset.id`, jsString(text))
}

// follow follows login from its profile page, by the form.
func follow(t *testing.T, tab context.Context, base, login string) {
	t.Helper()
	navigate(t, tab, base+"/u/"+login)
	submit(t, tab, `form[action$="/follow"] button`)
	do(t, tab, chromedp.WaitVisible(chromedp.CSS(`form[action$="/unfollow"]`)))
}

// composeJS posts from the home page already open, the page script
// sending the form.
func composeJS(t *testing.T, tab context.Context, message string) {
	t.Helper()
	do(t, tab, chromedp.SetValue(chromedp.CSS("#message"), message),
		chromedp.Click(chromedp.CSS("form.compose button[type=submit]")))
	waitJS(t, tab, `document.getElementById("message").value === ""`)
}

// composeForm posts from the home page by a plain form post.
func composeForm(t *testing.T, tab context.Context, base, message string) {
	t.Helper()
	navigate(t, tab, base+"/home")
	do(t, tab, chromedp.SetValue(chromedp.CSS("#message"), message))
	submit(t, tab, "form.compose button[type=submit]")
}

func waitLive(t *testing.T, tab context.Context, list string) {
	t.Helper()
	waitJS(t, tab, fmt.Sprintf(`document.querySelector(%s).dataset.live === "on"`, jsString(list)))
}

func TestTwoUsersFollowPostAndDeleteLive(t *testing.T) {
	base := startServer(t, nil)
	browser := newBrowser(t)
	ada, bob := newUser(t, browser, true), newUser(t, browser, true)
	signUp(t, ada, base, "ada")
	signUp(t, bob, base, "bob")
	follow(t, ada, base, "bob")
	follow(t, bob, base, "ada")

	navigate(t, ada, base+"/home")
	navigate(t, bob, base+"/home")
	waitLive(t, ada, "ol.timeline")
	waitLive(t, bob, "ol.timeline")

	composeJS(t, ada, "Hello from Ada")
	waitJS(t, bob, timelineHas("Hello from Ada"))
	composeJS(t, bob, "Hi Ada, Bob here")
	waitJS(t, ada, timelineHas("Hi Ada, Bob here"))
	waitJS(t, ada, timelineHas("Hello from Ada"))
	waitStreaming(t, ada)
	screenshot(t, ada, "home")

	id := eval[string](t, ada, statusID("Hello from Ada"))
	do(t, ada, chromedp.Click(chromedp.CSS("#s"+id+" form.delete button")))
	waitJS(t, bob, fmt.Sprintf(`document.getElementById("s%s") === null`, id))
	if !eval[bool](t, bob, timelineHas("Hi Ada, Bob here")) {
		t.Fatal("bob's own status vanished with ada's")
	}
}

func TestTwoUsersFollowPostAndDeleteWithoutJavaScript(t *testing.T) {
	base := startServer(t, nil)
	browser := newBrowser(t)
	ada, bob := newUser(t, browser, false), newUser(t, browser, false)
	signUp(t, ada, base, "ada")
	signUp(t, bob, base, "bob")
	follow(t, ada, base, "bob")
	follow(t, bob, base, "ada")
	got := eval[string](t, bob, `document.querySelector(".counts").textContent.replace(/\s+/g, " ")`)
	if !strings.Contains(got, "1 followers") || !strings.Contains(got, "1 following") {
		t.Fatalf("ada's profile counts: got %q, want 1 followers and 1 following", got)
	}

	composeForm(t, ada, base, "Hello from Ada")
	navigate(t, bob, base+"/home")
	waitJS(t, bob, timelineHas("Hello from Ada"))
	composeForm(t, bob, base, "Hi Ada, Bob here")
	navigate(t, ada, base+"/home")
	waitJS(t, ada, timelineHas("Hi Ada, Bob here"))

	id := eval[string](t, ada, statusID("Hello from Ada"))
	submit(t, ada, "#s"+id+" form.delete button")
	if eval[bool](t, ada, timelineHas("Hello from Ada")) {
		t.Fatal("the deleted status is still on its author's page after the redirect")
	}
	// A deleted status disappears from every read at once.
	navigate(t, bob, base+"/home")
	if eval[bool](t, bob, fmt.Sprintf(`document.getElementById("s%s") !== null`, id)) {
		t.Fatalf("the deleted status %s is still in bob's home timeline", id)
	}
	if !eval[bool](t, bob, timelineHas("Hi Ada, Bob here")) {
		t.Fatal("bob's own status is missing")
	}

	// A message that is too long is refused next to its field, and kept.
	long := strings.Repeat("x", 300)
	composeForm(t, ada, base, long)
	if got := eval[string](t, ada, `document.getElementById("message-error").textContent`); !strings.Contains(got, "280") {
		t.Fatalf("error next to the message: got %q, want the length rule", got)
	}
	if got := eval[string](t, ada, `document.getElementById("message").value`); got != long {
		t.Fatal("the refused message was not kept in its field")
	}
}
