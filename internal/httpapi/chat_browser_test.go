package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// classicScriptEnv names the file of the Tornado chat demo's page script
// (demos/chat/static/chat.js in the Tornado repository), which the browser
// test runs unmodified. It is not part of this repository.
const classicScriptEnv = "STARLING_TORNADO_CHAT_JS"

// TestClassicChatInBrowser runs the Tornado chat demo's own page script,
// with jQuery, in headless Chromium against the API: a message posted
// elsewhere reaches the page through its long poll, the page's form posts
// one that shows once, and a <script> in a body stays text. It needs
// chromium, jQuery (the libjs-jquery package) and the script, named by
// STARLING_TORNADO_CHAT_JS; without them it is skipped.
func TestClassicChatInBrowser(t *testing.T) {
	scriptPath := os.Getenv(classicScriptEnv)
	const jqueryPath = "/usr/share/javascript/jquery/jquery.min.js"
	chromium, err := exec.LookPath("chromium")
	if err != nil || scriptPath == "" {
		t.Skipf("needs chromium and %s (the Tornado chat demo's chat.js)", classicScriptEnv)
	}
	for _, f := range []string{jqueryPath, scriptPath} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("needs %s: %v", f, err)
		}
	}
	s, rooms := newChatStack(t, 0, nil)
	api := s.srv.Config.Handler
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			// The page sets the _xsrf cookie by way of the API's own
			// endpoint, as a page serving the classic script would.
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest("GET", "/a/message/xsrf", nil))
			for _, c := range rec.Result().Cookies() {
				http.SetCookie(w, c)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, classicPage)
		case "/static/jquery.min.js":
			http.ServeFile(w, r, jqueryPath)
		case "/static/chat.js":
			http.ServeFile(w, r, scriptPath)
		default:
			api.ServeHTTP(w, r)
		}
	}))
	defer page.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser, chromedp.Navigate(page.URL+"/")); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	waitUntil(t, "the page's first poll to be held", func() bool { return rooms.Waiters() == 1 })

	evalInt := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(browser, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("evaluating %s: %v", js, err)
		}
		return n
	}
	shown := func() int { return evalInt(`document.querySelectorAll("#inbox .message").length`) }

	// A message posted elsewhere reaches the page through its poll.
	other := newPageClient(t, s)
	other.newMessage(`hi <script>window.pwned=1</script> https://example.com`)
	waitUntil(t, "the page to show the message", func() bool { return shown() == 1 })
	text, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#inbox .message")))
	if err != nil {
		t.Fatal(err)
	}
	if text != `hi <script>window.pwned=1</script> https://example.com` || evalInt(`window.pwned === undefined ? 0 : 1`) != 0 {
		t.Fatalf("the page shows %q (pwned: %d)", text, evalInt(`window.pwned === undefined ? 0 : 1`))
	}
	if evalInt(`document.querySelectorAll("#inbox .message a[href='https://example.com']").length`) != 1 {
		t.Fatalf("the URL in the message is not a link")
	}

	// The page's own form posts through /a/message/new; the message shows
	// once, though both the answer and the next poll bring it.
	if err := chromedp.Do(browser,
		chromedp.SendKeys(chromedp.CSS("#message"), "from the page"),
		chromedp.Click(chromedp.CSS(`#messageform input[type=submit]`))); err != nil {
		t.Fatalf("posting from the page: %v", err)
	}
	waitUntil(t, "the page to show its own message", func() bool { return shown() == 2 })
	b := want[longPollAnswer](t, s.anonymous().do("GET", roomsPath+"/lobby/messages", nil), http.StatusOK)
	if got := messageBodies(b.Messages); len(got) != 2 || got[1] != "from the page" {
		t.Fatalf("room holds %q", got)
	}
	// Once the page polls again (with the newest id), it shows each
	// message once.
	waitUntil(t, "the page to poll again", func() bool { return rooms.Waiters() == 1 })
	if n := shown(); n != 2 {
		t.Fatalf("the page shows %d messages, want 2", n)
	}
	if !strings.Contains(strings.Join(messageBodies(b.Messages), "|"), "<script>") {
		t.Fatalf("the body lost its text: %q", messageBodies(b.Messages))
	}
}

// classicPage is the markup the demo's script expects: an #inbox, and a
// #messageform with a #message field.
const classicPage = `<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>chat</title></head>
<body>
<div id="inbox"></div>
<form action="/a/message/new" method="post" id="messageform">
<input type="text" name="body" id="message">
<input type="submit" value="Post">
<input type="hidden" name="next" value="/">
</form>
<script src="/static/jquery.min.js"></script>
<script src="/static/chat.js"></script>
</body></html>
`
