package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ChatTransports are the ways the chat scenario's waiters can listen.
var ChatTransports = []string{"longpoll", "classic", "sse", "ws"}

// Bounds of the chat scenario's options.
const (
	maxChatWaiters  = 20_000
	maxChatRate     = 10_000
	maxChatMessages = 1_000_000
	// chatDrain bounds how long the scenario waits, after its last post,
	// for every waiter to receive every message.
	chatDrain = 10 * time.Second
)

// chatRun is the state of one chat scenario run.
type chatRun struct {
	o        Options
	room     string
	total    int            // messages the run may post
	sentAt   []atomic.Int64 // ns since start when message i was posted; 0 before
	postedOK []atomic.Bool  // message i's POST succeeded
	start    time.Time
	rec      *recorder // post→receipt latency, one sample per delivery

	mu      sync.Mutex // guards the counts below and the waiters' records
	dups    int64
	bad     int64 // messages received that the run did not post, or bodies it cannot read
	waiters []*chatWaiter
}

// chatWaiter is what one waiter received.
type chatWaiter struct {
	seen   []uint64 // bit i: message i received
	order  []int32  // the messages received, in the order they came
	count  int      // distinct messages received
	ready  atomic.Bool
	failed atomic.Int64 // requests or connections that failed
}

// chat holds o.Waiters listeners in one room while posting o.Rate messages
// a second for o.Duration, and measures the time from each post to each
// waiter's receipt, and what was lost, duplicated or out of order.
func chat(ctx context.Context, o Options) (Result, error) {
	if o.Waiters <= 0 {
		o.Waiters = 1000
	}
	if o.Rate <= 0 {
		o.Rate = 10
	}
	if o.Transport == "" {
		o.Transport = "longpoll"
	}
	switch {
	case o.Waiters > maxChatWaiters:
		return Result{}, fmt.Errorf("bench: --waiters must be at most %d", maxChatWaiters)
	case o.Rate > maxChatRate:
		return Result{}, fmt.Errorf("bench: --rate must be at most %d", maxChatRate)
	}
	listen, ok := chatListeners[o.Transport]
	if !ok {
		return Result{}, fmt.Errorf("bench: unknown --transport %q (want one of %v)", o.Transport, ChatTransports)
	}
	total := min(int(o.Rate*o.Duration.Seconds())+1, maxChatMessages)
	room := o.Room
	if room == "" {
		room = fmt.Sprintf("bench-%x", rand.Uint32())
	}
	run := &chatRun{o: o, room: room, total: total, sentAt: make([]atomic.Int64, total),
		postedOK: make([]atomic.Bool, total), rec: &recorder{}}
	poster := newClient(o.URL, 4)

	// The cursor every waiter starts from: a message posted now.
	var first struct{ ID string }
	if err := poster.do(ctx, "POST", "/api/starling/v1/rooms/"+room+"/messages", "", map[string]string{"body": "bench start"}, &first); err != nil {
		return Result{}, fmt.Errorf("bench: posting the first message (is --rate-chat off on the server?): %w", err)
	}
	rssBefore, rssErr := serverRSS(o.ServerPID)

	logf(o, "chat: connecting %d %s waiters to room %s", o.Waiters, o.Transport, room)
	waitCtx, stopWaiters := context.WithCancel(ctx)
	defer stopWaiters()
	lc := newListenClient(o.URL, o.Waiters)
	var wg sync.WaitGroup
	run.start = time.Now()
	for range o.Waiters {
		w := &chatWaiter{seen: make([]uint64, (total+63)/64)}
		run.waiters = append(run.waiters, w)
		wg.Go(func() { listen(waitCtx, lc, run, w, first.ID) })
	}
	if err := run.waitReady(ctx); err != nil {
		return Result{}, err
	}
	// Let the last requests reach the server and be held.
	time.Sleep(time.Second)
	rssHeld, _ := serverRSS(o.ServerPID)

	logf(o, "chat: posting %.0f messages/s for %v", o.Rate, o.Duration)
	serverCPU0, serverCPUErr := processCPU(o.ServerPID)
	selfCPU0 := selfCPU()
	posted, postErrors, elapsed := run.post(ctx, poster)
	run.drain(ctx, posted)
	serverCPU1, _ := processCPU(o.ServerPID)
	selfCPU1 := selfCPU()
	stopWaiters()
	wg.Wait()
	outOfOrder, err := run.outOfOrder(ctx, poster, first.ID)
	if err != nil {
		return Result{}, err
	}

	res := finish("chat", o, o.Waiters, elapsed, run.rec)
	res.Requests, res.Errors = int64(posted), postErrors
	res.PerSec = float64(posted) / elapsed.Seconds()
	lost, delivered := run.lost(posted)
	var failed int64
	for _, w := range run.waiters {
		failed += w.failed.Load()
	}
	res.Extra["waiters"] = float64(o.Waiters)
	res.Extra["rate_per_second"] = o.Rate
	res.Extra["deliveries"] = float64(delivered)
	res.Extra["lost"] = float64(lost)
	res.Extra["duplicated"] = float64(run.dups)
	res.Extra["out_of_order"] = float64(outOfOrder)
	res.Extra["unexpected"] = float64(run.bad)
	res.Extra["waiter_errors"] = float64(failed)
	if delivered > 0 {
		// CPU per delivery does not depend on what else the machine runs,
		// unlike latency: it is the cost the figures above were paid with.
		res.Extra["bench_cpu_us_per_delivery"] = float64((selfCPU1 - selfCPU0).Microseconds()) / float64(delivered)
		if o.ServerPID != 0 && serverCPUErr == nil {
			res.Extra["server_cpu_us_per_delivery"] = float64((serverCPU1 - serverCPU0).Microseconds()) / float64(delivered)
		}
	}
	res.Notes = append(res.Notes, "transport "+o.Transport+", room "+room+"; latency is from post to receipt, one sample per waiter and message")
	switch {
	case o.ServerPID == 0:
		res.Notes = append(res.Notes, "no --server-pid: server memory not measured")
	case rssErr != nil:
		res.Notes = append(res.Notes, "server memory not measured: "+rssErr.Error())
	default:
		res.Extra["server_rss_before_mib"] = float64(rssBefore) / (1 << 20)
		res.Extra["server_rss_held_mib"] = float64(rssHeld) / (1 << 20)
		res.Extra["server_rss_per_waiter_kib"] = float64(rssHeld-rssBefore) / 1024 / float64(o.Waiters)
	}
	return res, nil
}

// waitReady waits until every waiter has its first request or connection
// open.
func (run *chatRun) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(2*time.Minute + time.Duration(run.o.Waiters)*time.Millisecond)
	for {
		ready := 0
		for _, w := range run.waiters {
			if w.ready.Load() {
				ready++
			}
		}
		if ready == len(run.waiters) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench: only %d of %d waiters connected", ready, len(run.waiters))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends the messages "bench N" at the configured rate, on schedule:
// each goes out at its time on a goroutine of its own (at most
// maxPostsInFlight at once), so that a slow answer does not hold up the
// next posts. Their order in the room is therefore the server's, which
// outOfOrder reads back.
func (run *chatRun) post(ctx context.Context, c *client) (posted int, errs int64, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, run.o.Duration)
	defer cancel()
	rec := &recorder{}
	stop := progress(ctx, run.o, "chat", rec)
	defer stop()
	interval := time.Duration(float64(time.Second) / run.o.Rate)
	start := time.Now()
	path := "/api/starling/v1/rooms/" + run.room + "/messages"
	sem := make(chan struct{}, maxPostsInFlight)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < run.total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		posted = i + 1
		wg.Go(func() {
			defer func() { <-sem }()
			run.sentAt[i].Store(int64(time.Since(run.start)))
			t0 := time.Now()
			// Posts in flight finish after the duration: their messages
			// count, and the waiters are still listening.
			if err := c.do(context.WithoutCancel(ctx), "POST", path, "", map[string]string{"body": "bench " + strconv.Itoa(i)}, nil); err != nil {
				failed.Add(1)
				rec.fail(err)
				return
			}
			run.postedOK[i].Store(true)
			rec.add(time.Since(t0))
		})
	}
	elapsed = time.Since(start)
	wg.Wait()
	return posted, failed.Load(), elapsed
}

// maxPostsInFlight bounds the chat scenario's concurrent posts.
const maxPostsInFlight = 64

// outOfOrder reads the room back from after first, the order every waiter
// must have seen, and counts the messages a waiter received before one
// that comes earlier in the room.
func (run *chatRun) outOfOrder(ctx context.Context, c *client, first string) (int64, error) {
	position := make(map[int32]int, run.total)
	for cursor := first; ; {
		var page struct {
			Messages []benchMessage `json:"messages"`
			Cursor   string         `json:"cursor"`
		}
		if err := c.do(ctx, "GET", "/api/starling/v1/rooms/"+run.room+"/messages?cursor="+url.QueryEscape(cursor), "", nil, &page); err != nil {
			return 0, fmt.Errorf("bench: reading the room back: %w", err)
		}
		if len(page.Messages) == 0 {
			break
		}
		for _, m := range page.Messages {
			if n, err := strconv.Atoi(strings.TrimPrefix(m.Body, "bench ")); err == nil {
				position[int32(n)] = len(position)
			}
		}
		cursor = page.Cursor
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	var ooo int64
	for _, w := range run.waiters {
		last := -1
		for _, n := range w.order {
			p, ok := position[n]
			if !ok {
				continue
			}
			if p < last {
				ooo++
			}
			last = max(last, p)
		}
	}
	return ooo, nil
}

// drain waits until every waiter has every message posted, or chatDrain.
func (run *chatRun) drain(ctx context.Context, posted int) {
	deadline := time.Now().Add(chatDrain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if lost, _ := run.lost(posted); lost == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lost counts the messages posted successfully that a waiter did not get,
// over every waiter, and the deliveries made.
func (run *chatRun) lost(posted int) (lost, delivered int64) {
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, w := range run.waiters {
		delivered += int64(w.count)
		for i := range posted {
			if run.postedOK[i].Load() && w.seen[i/64]&(1<<(i%64)) == 0 {
				lost++
			}
		}
	}
	return lost, delivered
}

// receive records that w got the message with body, at now.
func (run *chatRun) receive(w *chatWaiter, body string) {
	now := time.Since(run.start)
	if body == "bench start" {
		return
	}
	n, err := strconv.Atoi(strings.TrimPrefix(body, "bench "))
	run.mu.Lock()
	defer run.mu.Unlock()
	if err != nil || n < 0 || n >= run.total {
		run.bad++
		return
	}
	bit := uint64(1) << (n % 64)
	switch {
	case w.seen[n/64]&bit != 0:
		run.dups++
		return
	}
	w.seen[n/64] |= bit
	w.count++
	w.order = append(w.order, int32(n))
	if sent := run.sentAt[n].Load(); sent > 0 {
		run.rec.add(now - time.Duration(sent))
	}
}

// processCPU reads the user and system CPU time process pid has used from
// /proc (in clock ticks of 10 ms, the kernel's USER_HZ on Linux).
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis (utime and stime are fields 14, 15).
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	d, _ := processCPU(os.Getpid())
	return d
}

// serverRSS reads the resident set of process pid from /proc.
func serverRSS(pid int) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: reading VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: no VmRSS for process %d", pid)
}
