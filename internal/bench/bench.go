package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Options configure a scenario. Zero values mean the documented defaults.
type Options struct {
	URL       string        // the server to drive, e.g. http://127.0.0.1:8080
	Clients   int           // concurrent clients; zero means the scenario's default
	Duration  time.Duration // bound on the measured phase; zero means 10s
	Followers int           // post: followers of each author; zero means 100
	Manifest  string        // fanout: the file `starling seed` wrote
	// Tokens is the file where the session tokens of the scenarios' users
	// are kept between runs; empty keeps none (every run logs in again).
	Tokens   string
	Progress io.Writer // where progress goes; nil for none
	// ProgressTerminal redraws progress in place (with \r), for a
	// terminal; otherwise it comes as plain lines, every few seconds.
	ProgressTerminal bool
	// AdminToken is a token of one of the server's admins; with it the
	// post scenario reports the job backlog (the counts are for admins).
	AdminToken string
	// Stream configures the stream scenario.
	Stream StreamOptions

	// The chat scenario's: listeners in the room (zero: 1000), messages
	// posted a second (zero: 10), how they listen (ChatTransports; zero:
	// "longpoll"), the room (zero: a new one per run) and the server's
	// process id, to read its memory from /proc (zero: not measured).
	// cmd/starling fills Rate, Transport and ServerPID from the flags it
	// shares with the stream scenario.
	Waiters   int
	Rate      float64
	Transport string
	Room      string
	ServerPID int
}

// maxRequests bounds every load loop besides its duration.
const maxRequests = 50_000_000

// Result is what a scenario measured.
type Result struct {
	Scenario string  `json:"scenario"`
	URL      string  `json:"url"`
	Clients  int     `json:"clients"`
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	// ErrorsByKind counts the failed requests by status and error code
	// ("429 rate_limited") or by what went wrong on the way ("timeout").
	ErrorsByKind map[string]int64   `json:"errors_by_kind,omitempty"`
	PerSec       float64            `json:"per_second"`
	Latency      Latency            `json:"latency"`
	Extra        map[string]float64 `json:"extra,omitempty"`
	Notes        []string           `json:"notes,omitempty"`
}

// Scenarios lists the scenario names Run accepts.
var Scenarios = []string{"fanout", "timeline", "post", "static", "stream", "chat"}

// Run runs the named scenario.
func Run(ctx context.Context, scenario string, o Options) (Result, error) {
	if o.URL == "" {
		return Result{}, fmt.Errorf("bench: no --url given")
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	switch scenario {
	case "timeline":
		return timeline(ctx, o)
	case "post":
		return post(ctx, o)
	case "fanout":
		return fanout(ctx, o)
	case "static":
		return static(ctx, o)
	case "stream":
		return stream(ctx, o, o.Stream)
	case "chat":
		return chat(ctx, o)
	}
	return Result{}, fmt.Errorf("bench: unknown scenario %q (want one of %v)", scenario, Scenarios)
}

// WriteTable prints a result for people.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", r.Scenario)
	fmt.Fprintf(tw, "url\t%s\n", r.URL)
	fmt.Fprintf(tw, "clients\t%d\n", r.Clients)
	fmt.Fprintf(tw, "seconds\t%.2f\n", r.Seconds)
	fmt.Fprintf(tw, "requests\t%d\n", r.Requests)
	fmt.Fprintf(tw, "errors\t%d\n", r.Errors)
	for _, kind := range slices.Sorted(maps.Keys(r.ErrorsByKind)) {
		fmt.Fprintf(tw, "  %s\t%d\n", kind, r.ErrorsByKind[kind])
	}
	fmt.Fprintf(tw, "per second\t%.0f\n", r.PerSec)
	fmt.Fprintf(tw, "latency p50 / p99 / p999 / max (ms)\t%.2f / %.2f / %.2f / %.2f\n", r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max)
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%.2f\n", k, r.Extra[k])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	return tw.Flush()
}

// WriteJSON prints a result as one JSON object.
func (r Result) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// hammer runs fn from clients goroutines until d has passed or maxRequests
// were sent, recording each call's latency, and returns the time it took.
func hammer(ctx context.Context, o Options, name string, clients int, rec *recorder, fn func(ctx context.Context, worker int, rng *rand.Rand) error) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var sent atomic.Int64
	stopProgress := progress(ctx, o, name, rec)
	defer stopProgress()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil && sent.Add(1) <= maxRequests {
				t0 := time.Now()
				err := fn(ctx, w, rng)
				switch {
				case err == nil:
					rec.add(time.Since(t0))
				case ctx.Err() == nil:
					rec.fail(err)
					if rl, ok := rateLimited(err); ok {
						// Asking again before Retry-After only earns
						// another 429.
						sleep(ctx, max(rl.RetryAfter, 100*time.Millisecond))
					}
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// plainProgressEvery is how often progress written to a file or pipe gets
// a line.
const plainProgressEvery = 5 * time.Second

// progress shows how a run goes while ctx lasts: redrawn in place every
// second on a terminal, else a plain line every plainProgressEvery. The
// returned function stops it and ends the line.
func progress(ctx context.Context, o Options, name string, rec *recorder) func() {
	if o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	start := time.Now()
	every, format := plainProgressEvery, "%s: %4.0fs / %.0fs  %d ok  %d errors\n"
	if o.ProgressTerminal {
		every, format = time.Second, "\r%s: %4.0fs / %.0fs  %d ok  %d errors "
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				ok, failed := rec.counts()
				fmt.Fprintf(o.Progress, format, name, time.Since(start).Seconds(), o.Duration.Seconds(), ok, failed)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		if o.ProgressTerminal {
			fmt.Fprintln(o.Progress)
		}
	}
}

func logf(o Options, format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

func finish(name string, o Options, clients int, elapsed time.Duration, rec *recorder) Result {
	ok, failed := rec.counts()
	kinds, notes := rec.failures()
	return Result{
		Scenario: name, URL: o.URL, Clients: clients,
		Seconds: elapsed.Seconds(), Requests: ok, Errors: failed, ErrorsByKind: kinds,
		PerSec:  float64(ok) / elapsed.Seconds(),
		Latency: rec.summary(),
		Extra:   map[string]float64{},
		Notes:   notes,
	}
}
