package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"starling/internal/httpapi"
)

// Thousands of clients that hang up while their long poll is held, and
// hundreds of event-stream and WebSocket clients that go away, leave no
// waiter and no goroutine behind.
func TestChatAbandonedPollsLeaveNothing(t *testing.T) {
	s, rooms := newChatStack(t, 0, nil)
	last := s.anonymous().chat("lobby", "x")
	transport := &http.Transport{MaxIdleConnsPerHost: -1, DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	runtime.GC()
	before := runtime.NumGoroutine()

	const polls = 2000
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range polls {
		wg.Go(func() {
			var req *http.Request
			if i%2 == 0 {
				req, _ = http.NewRequestWithContext(ctx, "GET", s.srv.URL+roomsPath+"/lobby/messages?wait=60&cursor="+last.ID, nil)
			} else {
				form := url.Values{"cursor": {last.ID}, "_xsrf": {"t"}}
				req, _ = http.NewRequestWithContext(ctx, "POST", s.srv.URL+"/a/message/updates", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(&http.Cookie{Name: "_xsrf", Value: "t"})
			}
			res, err := client.Do(req)
			if err == nil {
				res.Body.Close()
				t.Errorf("a held poll answered %d before its client hung up", res.StatusCode)
			} else if !errors.Is(err, context.Canceled) {
				t.Errorf("poll: %v", err)
			}
		})
	}
	const streams = 200
	var streamsOpen atomic.Int64
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + roomsPath + "/lobby/ws"
	for i := range 2 * streams {
		wg.Go(func() {
			if i%2 == 0 {
				req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+roomsPath+"/lobby/events", nil)
				res, err := client.Do(req)
				if err != nil {
					t.Errorf("event stream: %v", err)
					return
				}
				streamsOpen.Add(1)
				io.Copy(io.Discard, res.Body) // until the hang-up
				res.Body.Close()
				return
			}
			conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: client})
			if err != nil {
				t.Errorf("websocket: %v", err)
				return
			}
			streamsOpen.Add(1)
			<-ctx.Done()
			conn.CloseNow()
		})
	}
	// At least: a poll whose connection broke while it was being made
	// is sent again by the client's transport, and the first one is held
	// until the server notices.
	waitUntil(t, "every poll and stream to be held", func() bool {
		return streamsOpen.Load() == 2*streams && rooms.Waiters() >= polls+2*streams
	})
	cancel()
	wg.Wait()
	waitUntil(t, "the server to notice every hang-up", func() bool { return rooms.Waiters() == 0 })
	waitUntil(t, "goroutines to go back to their number before the polls", func() bool {
		return runtime.NumGoroutine() <= before
	})
	// The room still works.
	s.anonymous().chat("lobby", "after")
}

// A server that shuts down answers its held polls with no messages, and
// ends its event streams, instead of waiting for them.
func TestChatShutdownEndsHeldPolls(t *testing.T) {
	s, rooms := newChatStack(t, 0, nil)
	s.srv.Config.RegisterOnShutdown(rooms.Close)
	last := s.anonymous().chat("lobby", "x")
	page := newPageClient(t, s)
	page.cursor = last.ID
	results := make(chan string, 3)
	go func() {
		ms, err := page.poll(context.Background())
		if err != nil || len(ms) != 0 {
			t.Errorf("classic poll at shutdown: %v, %v", ms, err)
		}
		results <- "classic"
	}()
	go func() {
		r := s.anonymous().do("GET", roomsPath+"/lobby/messages?wait=60&cursor="+last.ID, nil)
		if got := want[longPollAnswer](t, r, http.StatusOK); len(got.Messages) != 0 || got.Cursor != last.ID {
			t.Errorf("long poll at shutdown: %+v", got)
		}
		results <- "native"
	}()
	go func() {
		sc, stop := openChatSSE(t, s, roomsPath+"/lobby/events", "")
		defer stop()
		for sc.Scan() {
		}
		results <- "sse"
	}()
	waitUntil(t, "three held requests", func() bool { return rooms.Waiters() == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 3 {
		<-results
	}
	// Shutdown does not track the held polls' hijacked connections: the
	// server waits for them itself.
	s.api.WaitHeldPolls(ctx)
	if n := httpapi.HeldPolls(s.api); n != 0 {
		t.Fatalf("%d polls still hold their connection after the shutdown", n)
	}
}
