package web_test

import (
	"context"
	_ "embed"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axe-core, vendored with its licence (testdata/axe).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  int    `json:"nodes"`
}

// axeCheck injects axe-core into the open page and fails on any serious or
// critical violation.
func axeCheck(t *testing.T, tab context.Context, page string) {
	t.Helper()
	if !eval[bool](t, tab, `typeof axe !== "undefined"`) {
		eval[chromedp.Void](t, tab, axeSource+";void 0")
	}
	c, cancel := context.WithTimeout(tab, 60_000_000_000)
	defer cancel()
	vs, err := chromedp.Run(c, chromedp.Evaluate[[]axeViolation](
		`axe.run(document).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s violation %s (%s) on %d elements", page, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
}

// waitStreaming waits until a page with a live timeline follows its
// stream and shows no connection note, as a reader of the page sees it
// (and as its screenshot should).
func waitStreaming(t *testing.T, tab context.Context) {
	t.Helper()
	waitJS(t, tab, `!document.querySelector("ol.timeline[data-stream]") || document.querySelector("ol.timeline").dataset.live === "on"`)
	if !eval[bool](t, tab, `!document.querySelector("[data-live-note]") || document.querySelector("[data-live-note]").hidden`) {
		t.Fatalf("a connection note is shown on a live page: %q", eval[string](t, tab, `document.querySelector("[data-live-note]").textContent`))
	}
}

func TestMainPagesHaveNoSeriousAccessibilityViolations(t *testing.T) {
	base := startServer(t, nil)
	browser := newBrowser(t)
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			tab := newUser(t, browser, true)
			do(t, tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
				return err
			}))
			for _, p := range []string{"/", "/signin", "/signup", "/live"} {
				navigate(t, tab, base+p)
				axeCheck(t, tab, scheme+" "+p)
			}
			signUp(t, tab, base, "ada"+scheme)
			navigate(t, tab, base+"/home")
			composeJS(t, tab, "A first status")
			pages := []string{"/home", "/u/ada" + scheme, "/u/ada" + scheme + "/followers", "/lists", "/settings", "/live?track=go", "/chat", "/chat/lobby"}
			for _, p := range pages {
				navigate(t, tab, base+p)
				waitStreaming(t, tab)
				axeCheck(t, tab, scheme+" "+p)
				if scheme == "dark" && (p == "/home" || strings.HasPrefix(p, "/u/")) {
					screenshot(t, tab, "dark-"+strings.Trim(strings.ReplaceAll(p, "/", "-"), "-"))
				}
			}
			// A phone: 360 pixels wide, nothing wider than the screen.
			do(t, tab, chromedp.EmulateViewport(360, 740))
			navigate(t, tab, base+"/home")
			waitStreaming(t, tab)
			if w := eval[int](t, tab, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("the home page is %d pixels wide on a 360-pixel screen", w)
			}
			if scheme == "light" {
				screenshot(t, tab, "phone-home")
			}
			do(t, tab, chromedp.EmulateViewport(1024, 900))
		})
	}
}
