package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// StreamOptions configure the stream scenario. Zero values mean the
// documented defaults.
type StreamOptions struct {
	// Transport is chunked (the classic endpoints), sse or ws; zero means
	// chunked.
	Transport string
	// Filter makes each client a filter client matching Share of the
	// statuses instead of a firehose client.
	Filter bool
	// Share is the share of statuses one filter client matches; zero
	// means 0.01.
	Share float64
	// Rate is statuses posted per second; zero means 10.
	Rate float64
	// ServerPID, when set, is the server process whose resident memory
	// is read before and after the clients connect.
	ServerPID int
}

// streamTag names the track word of filter group g.
func streamTag(g int) string { return "grp" + strconv.Itoa(g) }

// streamRun is the state of one run of the stream scenario.
type streamRun struct {
	o      Options
	so     StreamOptions
	groups int // filter groups; each status matches one
	rec    *recorder
	posted atomic.Int64
	// ended counts streams the server ended before the bench did (a
	// disconnect notice or a closed connection).
	ended   atomic.Int64
	clients []*streamClient
	// sent[seq] is the group of status seq, for counting what each
	// client should have received.
	mu   sync.Mutex // guards sent
	sent []int
}

// streamClient is one stream connection's tally.
type streamClient struct {
	group     int
	got       []uint64 // bitmap of sequence numbers received
	received  atomic.Int64
	duplicate int64
	batch     []time.Duration
}

func (c *streamClient) seen(seq int64, lat time.Duration, rec *recorder) {
	i, bit := seq/64, uint64(1)<<(seq%64)
	for int64(len(c.got)) <= i {
		c.got = append(c.got, 0)
	}
	if c.got[i]&bit != 0 {
		c.duplicate++
		return
	}
	c.got[i] |= bit
	c.received.Add(1)
	c.batch = append(c.batch, lat)
	if len(c.batch) == cap(c.batch) {
		c.flush(rec)
	}
}

func (c *streamClient) flush(rec *recorder) {
	rec.addAll(c.batch)
	c.batch = c.batch[:0]
}

// stream connects Clients stream clients, posts Rate statuses a second for
// Duration, and measures how long each status took from before its POST
// to each client that received it, and what was lost or duplicated.
func stream(ctx context.Context, o Options, so StreamOptions) (Result, error) {
	if so.Transport == "" {
		so.Transport = "chunked"
	}
	if so.Transport != "chunked" && so.Transport != "sse" && so.Transport != "ws" {
		return Result{}, fmt.Errorf("bench: --transport is chunked, sse or ws")
	}
	if so.Share <= 0 {
		so.Share = 0.01
	}
	if so.Rate <= 0 {
		so.Rate = 10
	}
	clients := o.Clients
	if clients == 0 {
		clients = 1000
	}
	nofile := raiseOpenFileLimit()
	run := &streamRun{o: o, so: so, groups: 1, rec: &recorder{}}
	if so.Filter {
		run.groups = max(1, int(math.Round(1/so.Share)))
	}
	c := newClient(o.URL, 16)
	users, err := scenarioUsers(ctx, &setup{c: c, o: o}, "stream", []string{"author"}, []int{4})
	if err != nil {
		return Result{}, err
	}
	authors := make([]Account, len(users[0]))
	for i, u := range users[0] {
		authors[i] = u.Account
	}
	rssBefore := readRSS(so.ServerPID)
	logf(o, "stream: connecting %d %s clients (open-file limit %d)", clients, so.Transport, nofile)
	connStart := time.Now()
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var wg sync.WaitGroup
	var connected, failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 256)
	run.clients = make([]*streamClient, clients)
	for i := range clients {
		sc := &streamClient{group: i % run.groups, batch: make([]time.Duration, 0, 64)}
		run.clients[i] = sc
		sem <- struct{}{}
		ready := make(chan error, 1)
		wg.Go(func() {
			err := run.follow(streamCtx, i, sc, ready)
			if err != nil && streamCtx.Err() == nil {
				run.ended.Add(1)
				firstErr.CompareAndSwap(nil, any(err.Error()))
			}
		})
		if err := <-ready; err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, any(err.Error()))
		} else {
			connected.Add(1)
		}
		<-sem
	}
	connectTime := time.Since(connStart)
	if failed.Load() > 0 {
		stopStreams()
		wg.Wait()
		return Result{}, fmt.Errorf("bench: %d of %d stream clients failed to connect; first: %v", failed.Load(), clients, firstErr.Load())
	}
	time.Sleep(time.Second) // let the server settle before measuring its memory
	rssAfter := readRSS(so.ServerPID)
	logf(o, "stream: %d clients connected in %.1fs; posting %.0f statuses/s for %v", connected.Load(), connectTime.Seconds(), so.Rate, o.Duration)

	stopProgress := progress(ctx, o, "stream", run.rec)
	serverCPU0, serverCPUErr := processCPU(so.ServerPID)
	selfCPU0 := selfCPU()
	start := time.Now()
	postErrs := run.post(ctx, c, authors)
	postTime := time.Since(start)
	// Let the last statuses arrive.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !run.allReceived() {
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	serverCPU1, _ := processCPU(so.ServerPID)
	selfCPU1 := selfCPU()
	stopProgress()
	stopStreams()
	wg.Wait()

	var received, dup, expected int64
	for _, sc := range run.clients {
		sc.flush(run.rec)
		received += sc.received.Load()
		dup += sc.duplicate
		expected += run.expected(sc.group)
	}
	r := finish("stream", o, clients, elapsed, run.rec)
	r.Requests, r.Errors = received, postErrs
	r.PerSec = float64(received) / postTime.Seconds()
	r.Extra["statuses_posted"] = float64(run.posted.Load())
	r.Extra["post_seconds"] = postTime.Seconds()
	r.Extra["deliveries_expected"] = float64(expected)
	r.Extra["deliveries_lost"] = float64(expected - received)
	r.Extra["deliveries_duplicated"] = float64(dup)
	r.Extra["connect_seconds"] = connectTime.Seconds()
	r.Extra["streams_ended_by_server"] = float64(run.ended.Load())
	if received > 0 {
		// As in the chat scenario: CPU per delivery, unlike latency, does
		// not depend on what else the machine runs. The server's includes
		// storing the posts; the bench's, posting them.
		r.Extra["bench_cpu_us_per_delivery"] = float64((selfCPU1 - selfCPU0).Microseconds()) / float64(received)
		if serverCPUErr == nil {
			r.Extra["server_cpu_us_per_delivery"] = float64((serverCPU1 - serverCPU0).Microseconds()) / float64(received)
		}
	}
	if rssBefore > 0 && rssAfter > 0 {
		r.Extra["server_rss_before_mib"] = float64(rssBefore) / 1024
		r.Extra["server_rss_connected_mib"] = float64(rssAfter) / 1024
		r.Extra["server_kib_per_connection"] = float64(rssAfter-rssBefore) / float64(clients)
	}
	kind := "firehose"
	if so.Filter {
		kind = fmt.Sprintf("filter matching %.2g%% of statuses each", 100*1/float64(run.groups))
	}
	r.Notes = append(r.Notes, fmt.Sprintf("%s over %s at %.0f statuses/s; latency is from before the POST to the client reading the status; requests = deliveries", kind, so.Transport, so.Rate))
	if err := firstErr.Load(); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("a stream ended early: %v", err))
	}
	return r, nil
}

// post posts statuses at the configured rate until the duration is over;
// each message carries its sequence number, the time before its POST and
// its filter group's tag. It returns the number of failed posts.
func (run *streamRun) post(ctx context.Context, c *client, authors []Account) int64 {
	ctx, cancel := context.WithTimeout(ctx, run.o.Duration)
	defer cancel()
	interval := time.Duration(float64(time.Second) / run.so.Rate)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	next := time.Now()
	for seq := int64(0); ctx.Err() == nil && seq < maxRequests; seq++ {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
			if ctx.Err() != nil {
				break
			}
		}
		next = next.Add(interval)
		group := int(seq % int64(run.groups))
		run.mu.Lock()
		run.sent = append(run.sent, -1)
		run.mu.Unlock()
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			msg := fmt.Sprintf("bench %d %d %s", seq, time.Now().UnixNano(), streamTag(group))
			err := c.do(context.WithoutCancel(ctx), "POST", "/api/starling/v1/statuses", authors[seq%int64(len(authors))].Token, map[string]string{"message": msg}, nil)
			if err != nil {
				failed.Add(1)
				return
			}
			run.mu.Lock()
			run.sent[seq] = group
			run.mu.Unlock()
			run.posted.Add(1)
		})
	}
	wg.Wait()
	return failed.Load()
}

// expected is how many posted statuses a client of group g should get.
func (run *streamRun) expected(g int) int64 {
	run.mu.Lock()
	defer run.mu.Unlock()
	var n int64
	for _, sg := range run.sent {
		if sg == g || sg >= 0 && run.groups == 1 {
			n++
		}
	}
	return n
}

func (run *streamRun) allReceived() bool {
	want := make(map[int]int64)
	for _, sc := range run.clients {
		w, ok := want[sc.group]
		if !ok {
			w = run.expected(sc.group)
			want[sc.group] = w
		}
		if sc.received.Load() < w {
			return false
		}
	}
	return true
}

// parseDelivery finds a bench status in a delivered frame and returns its
// sequence number and the time before its POST, without allocating: ten
// thousand clients parse every status.
func parseDelivery(frame []byte) (seq int64, sent time.Time, ok bool) {
	i := bytes.Index(frame, benchMarker)
	if i < 0 {
		return 0, time.Time{}, false
	}
	rest := frame[i+len(benchMarker):]
	seq, rest, ok1 := leadingInt(rest)
	if len(rest) == 0 || rest[0] != ' ' {
		return 0, time.Time{}, false
	}
	ns, _, ok2 := leadingInt(rest[1:])
	if !ok1 || !ok2 {
		return 0, time.Time{}, false
	}
	return seq, time.Unix(0, ns), true
}

var benchMarker = []byte(`"message":"bench `)

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (n int64, rest []byte, ok bool) {
	i := 0
	for i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	return n, b[i:], i > 0
}

// raiseOpenFileLimit raises this process's open-file limit to its hard
// limit and returns the limit in force.
func raiseOpenFileLimit() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return l.Cur
}

// readRSS returns the resident memory of process pid in KiB, 0 when unknown.
func readRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
