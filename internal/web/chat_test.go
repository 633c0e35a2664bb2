package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"starling/internal/server"
)

func chatHas(text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("#inbox .body")).some(e => e.textContent === %s)`, jsString(text))
}

func chatSetup(t *testing.T, js bool) (base string, ada, bob context.Context) {
	t.Helper()
	base = startServer(t, nil)
	browser := newBrowser(t)
	ada, bob = newUser(t, browser, js), newUser(t, browser, js)
	signUp(t, ada, base, "ada")
	signUp(t, bob, base, "bob")
	// Join by name from the room list.
	for _, u := range []context.Context{ada, bob} {
		navigate(t, u, base+"/chat")
		do(t, u, chromedp.SetValue(chromedp.CSS("#room"), "garden"))
		submit(t, u, "main form button[type=submit]")
		do(t, u, chromedp.WaitVisible(chromedp.CSS("#inbox")))
	}
	return base, ada, bob
}

func TestTwoUsersChatLive(t *testing.T) {
	_, ada, bob := chatSetup(t, true)
	waitLive(t, ada, "#inbox")
	waitLive(t, bob, "#inbox")
	do(t, ada, chromedp.SetValue(chromedp.CSS("#body"), "Anyone in the garden?"), chromedp.Click(chromedp.CSS("#messageform button")))
	waitJS(t, bob, chatHas("Anyone in the garden?"))
	do(t, bob, chromedp.SetValue(chromedp.CSS("#body"), "Yes, by the roses"), chromedp.Click(chromedp.CSS("#messageform button")))
	waitJS(t, ada, chatHas("Yes, by the roses"))
	waitJS(t, ada, chatHas("Anyone in the garden?"))
	screenshot(t, ada, "chat")
}

func TestTwoUsersChatWithoutJavaScript(t *testing.T) {
	base, ada, bob := chatSetup(t, false)
	do(t, ada, chromedp.SetValue(chromedp.CSS("#body"), "Anyone in the garden?"))
	submit(t, ada, "#messageform button")
	waitJS(t, ada, chatHas("Anyone in the garden?"))
	navigate(t, bob, base+"/chat/garden")
	waitJS(t, bob, chatHas("Anyone in the garden?"))
	do(t, bob, chromedp.SetValue(chromedp.CSS("#body"), "Yes, by the roses"))
	submit(t, bob, "#messageform button")
	navigate(t, ada, base+"/chat/garden")
	waitJS(t, ada, chatHas("Yes, by the roses"))
}

// A chat page whose connection drops polls again, once it is back, from
// the newest message it holds: what was said meanwhile arrives, once.
func TestChatResumesAfterADroppedConnection(t *testing.T) {
	base := startServer(t, nil)
	proxy, via := newCutProxy(t, base)
	browser := newBrowser(t)
	ada, bob := newUser(t, browser, true), newUser(t, browser, true)
	signUp(t, ada, base, "ada")
	signUp(t, bob, via, "bob")
	navigate(t, ada, base+"/chat/garden")
	navigate(t, bob, via+"/chat/garden")
	waitLive(t, ada, "#inbox")
	waitLive(t, bob, "#inbox")
	say := func(text string) {
		t.Helper()
		do(t, ada, chromedp.SetValue(chromedp.CSS("#body"), text), chromedp.Click(chromedp.CSS("#messageform button")))
		waitJS(t, ada, chatHas(text))
	}
	say("Before the cut")
	waitJS(t, bob, chatHas("Before the cut"))

	proxy.Cut()
	waitJS(t, bob, `document.querySelector("#inbox").dataset.live === "off"`)
	say("While Bob was away")
	proxy.Restore()
	waitJS(t, bob, chatHas("While Bob was away"))
	waitLive(t, bob, "#inbox")
	for _, text := range []string{"Before the cut", "While Bob was away"} {
		n := eval[int](t, bob, fmt.Sprintf(`Array.from(document.querySelectorAll("#inbox .body")).filter(e => e.textContent === %s).length`, jsString(text)))
		if n != 1 {
			t.Errorf("%q shows %d times in bob's room after resuming, want 1", text, n)
		}
	}
}

// Rooms that refuse anonymous messages ask the signed-out to sign in
// instead of offering a form the server would refuse; the signed-in get
// the form.
func TestChatAsksToSignInWhenRoomsWantALogin(t *testing.T) {
	base := startServer(t, func(cfg *server.Config) { cfg.ChatRequireLogin = true })
	_, body := getPage(t, http.DefaultClient, base+"/chat/garden")
	if strings.Contains(body, `id="messageform"`) || !strings.Contains(body, `href="/signin?next=/chat/garden"`) {
		t.Error("a signed-out reader of rooms that want a login gets a message form, or no sign-in link")
	}
	ada, _ := formClient(t, base, "ada")
	if _, body := getPage(t, ada, base+"/chat/garden"); !strings.Contains(body, `id="messageform"`) {
		t.Error("a signed-in reader gets no message form")
	}
	if _, body := getPage(t, http.DefaultClient, startServer(t, nil)+"/chat/garden"); !strings.Contains(body, `id="messageform"`) {
		t.Error("rooms open to anonymous messages offer the signed-out no form")
	}
}
