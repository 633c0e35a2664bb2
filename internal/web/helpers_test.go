package web_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"starling/internal/ratelimit"
	"starling/internal/server"
	"starling/internal/social"
)

// startServer runs a real Starling server (embedded engine) on a loopback
// port and returns its base URL.
func startServer(t *testing.T, tweak func(*server.Config)) string {
	t.Helper()
	base, _ := startStoppableServer(t, tweak)
	return base
}

// startStoppableServer is startServer with a function that stops the
// server before the test ends (to start another on its data).
func startStoppableServer(t *testing.T, tweak func(*server.Config)) (string, func()) {
	t.Helper()
	off := ratelimit.Unlimited
	cfg := server.Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Password:   social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1},
		RateLimits: ratelimit.Policies{Register: off, Login: off, LoginTarget: off, Post: off, Follow: off, Chat: off, Stream: off},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return "http://" + srv.Addr().String(), stop
}

// chromium finds the browser: without one the browser tests skip, except
// in CI, where they fail.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must run the browser tests (./scripts/test installs it)")
	}
	t.Skip("chromium is not installed; skipping the browser tests")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// a context to open browser contexts (users) in.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 900),
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(cancelCtx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// newUser opens a browser context of its own (its own cookies), with
// JavaScript on or off.
func newUser(t *testing.T, browser context.Context, js bool) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !js})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// do runs steps within a bound that only stops a stuck test.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitJS waits until a JavaScript condition holds.
func waitJS(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(c, chromedp.Poll[bool](cond))
		if err == nil {
			return
		}
		// A poll begun while a navigation replaced the page's JavaScript
		// context fails with this; the next one runs in the new page.
		if c.Err() == nil && strings.Contains(err.Error(), "Cannot find context with specified id") {
			continue
		}
		t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// signUp signs a user up through the sign-up form.
func signUp(t *testing.T, ctx context.Context, base, login string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/signup"),
		chromedp.SetValue(chromedp.CSS("#login"), login),
		chromedp.SetValue(chromedp.CSS("#name"), strings.ToUpper(login[:1])+login[1:]),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
	)
	submit(t, ctx, "main form button[type=submit]")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
}

// screenshot saves a PNG of the page when STARLING_SCREENSHOTS names a
// directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("STARLING_SCREENSHOTS")
	if dir == "" {
		return
	}
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}

// submit clicks a form's button and waits for the page it leads to (a
// form post answered by a redirect).
func submit(t *testing.T, ctx context.Context, button string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(c, chromedp.Click(chromedp.CSS(button))); err != nil {
		t.Fatalf("submitting %s: %v", button, err)
	}
}

// navigate opens a page and waits for it.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(url))
}

// testPassword is every test user's password.
const testPassword = "correct horse battery"
