package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"starling/internal/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: starling bench SCENARIO --url URL [flags]\n"+
			"       starling bench serve-static --addr ADDR --bytes N   (the baseline for the static scenario)\n\n"+
			"Scenarios: %s\n\nFlags:\n", strings.Join(bench.Scenarios, ", "))
		fs.PrintDefaults()
	}
	var o bench.Options
	var asJSON, quiet bool
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the Starling server to drive (static: the serve-static baseline, by default http://"+bench.DefaultStaticAddr+")")
	fs.IntVar(&o.Clients, "clients", 0, "concurrent clients (0: the scenario's default: timeline 64, post 16, fanout 16 pollers, stream 1000 streams)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "bound on the measured phase")
	fs.IntVar(&o.Followers, "followers", 100, "post: followers of each author")
	fs.StringVar(&o.AdminToken, "admin-token", "", "post: a token of one of the server's admins, to report the job backlog")
	fs.StringVar(&o.Manifest, "manifest", "seed.json", "fanout: the manifest `starling seed` wrote")
	fs.StringVar(&o.Tokens, "tokens", "bench-tokens.json", "timeline, post: file keeping the session tokens of the scenarios' users between runs, so that runs need not log in again (empty: keep none)")
	fs.StringVar(&o.Stream.Transport, "transport", "chunked", "stream: chunked, sse or ws; chat: "+strings.Join(bench.ChatTransports, ", ")+" (default longpoll)")
	fs.BoolVar(&o.Stream.Filter, "filter", false, "stream: filter clients, each matching --share of the statuses, instead of firehose clients")
	fs.Float64Var(&o.Stream.Share, "share", 0.01, "stream: the share of statuses one filter client matches")
	fs.Float64Var(&o.Stream.Rate, "rate", 10, "stream: statuses posted per second; chat: messages posted per second")
	fs.IntVar(&o.Stream.ServerPID, "server-pid", 0, "stream, chat: the server's process id, to report its memory per connection (Linux)")
	fs.IntVar(&o.Waiters, "waiters", 1000, "chat: listeners held in the room")
	fs.StringVar(&o.Room, "room", "", "chat: the room (default: a new one per run)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		return fmt.Errorf("bench: no scenario given")
	}
	scenario := args[0]
	if scenario == "serve-static" {
		return serveStatic(ctx, args[1:], stderr)
	}
	if err := parseFlags(fs, args[1:], false); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if scenario == "static" && !flagSet(fs, "url") {
		o.URL = "http://" + bench.DefaultStaticAddr // where serve-static listens
	}
	if o.Duration <= 0 || o.Duration > 24*time.Hour {
		return fmt.Errorf("bench: --duration must be within (0, 24h]")
	}
	maxClients := 10_000
	if scenario == "stream" {
		maxClients = 100_000
	}
	if o.Clients < 0 || o.Clients > maxClients {
		return fmt.Errorf("bench: --clients must be within [0, %d]", maxClients)
	}
	if o.Stream.Rate <= 0 || o.Stream.Rate > 100_000 || o.Stream.Share <= 0 || o.Stream.Share > 1 {
		return fmt.Errorf("bench: --rate must be within (0, 100000] and --share within (0, 1]")
	}
	if scenario == "chat" {
		// --rate, --transport and --server-pid serve both the stream
		// and the chat scenario; chat's transports have names of their own.
		o.Rate, o.ServerPID, o.Transport = o.Stream.Rate, o.Stream.ServerPID, "longpoll"
		if flagSet(fs, "transport") {
			o.Transport = o.Stream.Transport
		}
		if o.Waiters < 1 || o.Waiters > 20_000 || o.Rate > 10_000 {
			return fmt.Errorf("bench: chat: --waiters must be within [1, 20000] and --rate within (0, 10000]")
		}
	}
	if !quiet {
		o.Progress, o.ProgressTerminal = stderr, isTerminal(stderr)
	}
	r, err := bench.Run(ctx, scenario, o)
	if err != nil {
		return err
	}
	if asJSON {
		return r.WriteJSON(stdout)
	}
	return r.WriteTable(stdout)
}

// serveStatic runs the minimal net/http handler that the static scenario
// measures, as the ceiling to compare the timeline scenario with.
func serveStatic(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench serve-static", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", bench.DefaultStaticAddr, "listen address")
	size := fs.Int("bytes", 7000, "approximate size of the JSON body (a page of 30 statuses is about 7 KB)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *size < 1 || *size > 10<<20 {
		return fmt.Errorf("bench serve-static: --bytes must be within [1, 10 MiB]")
	}
	body := bench.StaticBody(*size)
	fmt.Fprintf(stderr, "serving a static %d-byte JSON body on %s\n", len(body), *addr)
	return bench.ServeStatic(ctx, *addr, body)
}

// flagSet reports whether flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
