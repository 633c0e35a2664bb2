package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// timelineCount is a JavaScript expression: how many statuses with this
// text the timeline shows.
func timelineCount(text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("ol.timeline .message")).filter(e => e.textContent === %s).length`, jsString(text))
}

// A home timeline whose connection drops gets, once it is back, what was
// posted meanwhile (EventSource resumes with Last-Event-ID), once.
func TestHomeResumesAfterADroppedConnection(t *testing.T) {
	base := startServer(t, nil)
	proxy, via := newCutProxy(t, base)
	bob := apiSignUp(t, base, "bob")
	browser := newBrowser(t)
	ada := newUser(t, browser, true)
	signUp(t, ada, via, "ada")
	follow(t, ada, via, "bob")
	adaToken := apiToken(t, base, "ada", testPassword)

	navigate(t, ada, via+"/home")
	waitLive(t, ada, "ol.timeline")
	apiPost(t, base, bob, "Before the cut")
	waitJS(t, ada, timelineHas("Before the cut"))

	proxy.Cut()
	waitJS(t, ada, `document.querySelector("ol.timeline").dataset.live === "off"`)
	if got := eval[string](t, ada, `document.querySelector("[data-live-note]").textContent`); got != "Reconnecting…" {
		t.Errorf("note while the connection is down: got %q, want Reconnecting…", got)
	}
	id := apiPost(t, base, bob, "While Ada was away")
	// In Ada's home timeline before the connection is back, so that only a
	// replay can bring it, not a live delivery.
	for i := 0; ; i++ {
		if _, body := apiGet(t, base, adaToken, "/api/starling/v1/timelines/home"); strings.Contains(body, "While Ada was away") {
			break
		}
		if i == 1000 {
			t.Fatal("the status never reached ada's home timeline")
		}
		waitJS(t, ada, `new Promise(r => setTimeout(() => r(true), 10))`)
	}
	proxy.Restore()
	waitJS(t, ada, timelineHas("While Ada was away"))
	waitLive(t, ada, "ol.timeline")
	if n, header := proxy.LastEventIDs(); n == 0 {
		t.Error("the browser reconnected without Last-Event-ID")
	} else {
		t.Logf("reconnected with %s", header)
	}
	if n := eval[int](t, ada, timelineCount("Before the cut")); n != 1 {
		t.Errorf("the status from before the cut shows %d times after resuming, want 1", n)
	}
	if n := eval[int](t, ada, timelineCount("While Ada was away")); n != 1 {
		t.Errorf("the missed status shows %d times, want 1", n)
	}
	if got := eval[bool](t, ada, `document.querySelector("[data-live-note]").hidden`); !got {
		t.Error("the connection note is still shown after resuming")
	}
	if got := eval[string](t, ada, fmt.Sprintf(`document.querySelector("ol.timeline .status").dataset.id`)); got != fmt.Sprint(id) {
		t.Errorf("the newest status on top has id %s, want the missed one, %d", got, id)
	}
}

// The public live page shows, signed out, the statuses that match its
// filter as they are posted, and no others.
func TestLivePageShowsMatchingStatuses(t *testing.T) {
	base := startServer(t, nil)
	ada := apiSignUp(t, base, "ada")
	bob := apiSignUp(t, base, "bob")
	browser := newBrowser(t)
	visitor := newUser(t, browser, true)

	navigate(t, visitor, base+"/live")
	do(t, visitor, chromedp.SetValue(chromedp.CSS("#track"), "roses"), chromedp.SetValue(chromedp.CSS("#follow"), "bob"))
	submit(t, visitor, "main form button[type=submit]")
	if got := eval[string](t, visitor, `document.querySelector("ol.timeline").dataset.stream`); !strings.Contains(got, "/streams/filter?") || !strings.Contains(got, "track=roses") {
		t.Fatalf("the live page follows %q, want the filter stream with track=roses", got)
	}
	waitLive(t, visitor, "ol.timeline")

	apiPost(t, base, ada, "Tulips everywhere")
	apiPost(t, base, ada, "The roses are out")
	apiPost(t, base, bob, "Bob says hello")
	waitJS(t, visitor, timelineHas("Bob says hello"))
	// Events come in order: the non-matching status, posted before the
	// last matching one, would be here by now.
	if !eval[bool](t, visitor, timelineHas("The roses are out")) {
		t.Error("the status matching track=roses is missing")
	}
	if eval[bool](t, visitor, timelineHas("Tulips everywhere")) {
		t.Error("a status matching neither track nor follow was shown")
	}
	screenshot(t, visitor, "live")

	// A filter the stream would refuse is explained next to its field.
	navigate(t, visitor, base+"/live?location=1,2,3")
	if got := eval[string](t, visitor, `document.getElementById("location-error").textContent`); !strings.Contains(got, "four numbers") {
		t.Errorf("error next to the location field: got %q", got)
	}
}
