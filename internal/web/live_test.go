package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"starling/internal/ratelimit"
	"starling/internal/server"
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
	waitHome(t, ada, base, adaToken, "While Ada was away")
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
	if got := eval[string](t, ada, `document.querySelector("ol.timeline .status").dataset.id`); got != fmt.Sprint(id) {
		t.Errorf("the newest status on top has id %s, want the missed one, %d", got, id)
	}
}

// A status that enters the home timeline after the page was rendered but
// before its script connected to the stream is not missed: the page opens
// its stream from the event it was rendered at.
func TestHomeMissesNothingBetweenRenderingAndConnecting(t *testing.T) {
	base := startServer(t, nil)
	proxy, via := newCutProxy(t, base)
	bob := apiSignUp(t, base, "bob")
	browser := newBrowser(t)
	ada := newUser(t, browser, true)
	signUp(t, ada, via, "ada")
	follow(t, ada, via, "bob")
	adaToken := apiToken(t, base, "ada", testPassword)
	apiPost(t, base, bob, "Rendered with the page")
	waitHome(t, ada, base, adaToken, "Rendered with the page")

	proxy.Hold("GET /api/starling/v1/streams/home")
	navigate(t, ada, via+"/home")
	waitJS(t, ada, timelineHas("Rendered with the page"))
	for i := 0; len(proxy.Held()) == 0; i++ {
		if i == 1000 {
			t.Fatal("the page never opened its stream")
		}
		sleep(t, ada)
	}
	if held := proxy.Held()[0]; !strings.Contains(held, "last_event_id=") {
		t.Errorf("the page opened %q, want a stream resuming with last_event_id", held)
	}
	apiPost(t, base, bob, "Posted before the stream connected")
	waitHome(t, ada, base, adaToken, "Posted before the stream connected")
	proxy.Release()
	waitJS(t, ada, timelineHas("Posted before the stream connected"))
	if n := eval[int](t, ada, timelineCount("Rendered with the page")); n != 1 {
		t.Errorf("the status rendered with the page shows %d times, want 1", n)
	}
}

// waitHome waits until a status with this text is in login's home
// timeline, read through the API.
func waitHome(t *testing.T, tab context.Context, base, token, text string) {
	t.Helper()
	for i := 0; ; i++ {
		if _, body := apiGet(t, base, token, "/api/starling/v1/timelines/home"); strings.Contains(body, text) {
			return
		}
		if i == 1000 {
			t.Fatalf("%q never reached the home timeline", text)
		}
		sleep(t, tab)
	}
}

// sleep lets 10 ms pass (in the browser: the test has no clock of its own).
func sleep(t *testing.T, tab context.Context) {
	t.Helper()
	waitJS(t, tab, `new Promise(r => setTimeout(() => r(true), 10))`)
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

// A stream the server refuses (here over the stream rate limit) is not
// retried by EventSource; the page says live updates stopped and offers a
// reload rather than claiming to reconnect.
func TestRefusedStreamSaysLiveUpdatesStopped(t *testing.T) {
	base := startServer(t, func(cfg *server.Config) {
		cfg.RateLimits.Stream = ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	})
	browser := newBrowser(t)
	ada := newUser(t, browser, true)
	signUp(t, ada, base, "ada") // lands on /home, which spends the one stream
	waitLive(t, ada, "ol.timeline")
	navigate(t, ada, base+"/home")
	waitJS(t, ada, `document.querySelector("[data-live-note]").textContent.startsWith("Live updates stopped.")`)
	if got := eval[string](t, ada, `document.querySelector("ol.timeline").dataset.live`); got != "off" {
		t.Errorf("data-live = %q on a refused stream, want off", got)
	}
	if got := eval[string](t, ada, `document.querySelector("[data-live-note] a").getAttribute("href")`); got != "/home" {
		t.Errorf("the reload link goes to %q, want /home", got)
	}
}

// A list page and a profile page follow their timelines live: the list
// its members' statuses, the profile its author's (not statuses that only
// mention the author), and both drop a deleted one.
func TestListAndProfileFollowLive(t *testing.T) {
	base := startServer(t, nil)
	bob := apiSignUp(t, base, "bob")
	cy := apiSignUp(t, base, "cy")
	browser := newBrowser(t)
	ada, viewer := newUser(t, browser, true), newUser(t, browser, true)
	signUp(t, ada, base, "ada")

	navigate(t, ada, base+"/lists")
	do(t, ada, chromedp.SetValue(chromedp.CSS("#name"), "friends"))
	submit(t, ada, `form[action="/lists"] button`)
	do(t, ada, chromedp.SetValue(chromedp.CSS("#login"), "bob"))
	submit(t, ada, `form[action$="/members"] button`)
	if !eval[bool](t, ada, `Array.from(document.querySelectorAll("#members a")).some(a => a.textContent === "@bob")`) {
		t.Fatal("bob is not listed as a member after adding him")
	}
	waitLive(t, ada, "ol.timeline")
	navigate(t, viewer, base+"/u/bob")
	waitLive(t, viewer, "ol.timeline")

	apiPost(t, base, cy, "Hey @bob, look")
	id := apiPost(t, base, bob, "Bob on a list")
	waitJS(t, ada, timelineHas("Bob on a list"))
	waitJS(t, viewer, timelineHas("Bob on a list"))
	if eval[bool](t, viewer, timelineHas("Hey @bob, look")) {
		t.Error("bob's profile shows a status by cy that only mentions him")
	}
	if eval[bool](t, ada, timelineHas("Hey @bob, look")) {
		t.Error("the list shows a status by cy, who is not a member")
	}

	req := fmt.Sprintf("/api/starling/v1/statuses/%d", id)
	if status := apiDelete(t, base, bob, req); status != 204 {
		t.Fatalf("deleting through the API: got %d, want 204", status)
	}
	waitJS(t, ada, fmt.Sprintf(`document.getElementById("s%d") === null`, id))
	waitJS(t, viewer, fmt.Sprintf(`document.getElementById("s%d") === null`, id))
}
