// Command starling runs Starling, a real-time social backend.
//
// Usage:
//
//	starling serve  [flags]   serve the API and run job workers
//	starling worker [flags]   run job workers only (to scale out on Redis)
//
// Every flag can also be set through an environment variable named
// STARLING_ and the flag's name in capitals with '-' as '_' (for example
// STARLING_TIMELINE_SIZE); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"starling/internal/server"
	"starling/internal/social"
)

const usage = `Starling: a real-time social backend.

Usage:
  starling serve  [flags]   serve the API and run job workers
  starling worker [flags]   run job workers only (to scale out on Redis)
  starling bench SCENARIO   drive a running server and measure it

Run 'starling <command> -h' for the flags of a command.
`

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "starling:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr, true)
	case "worker":
		return serve(ctx, args, stderr, false)
	case "bench":
		return runBench(ctx, args, os.Stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stderr, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func serve(ctx context.Context, args []string, stderr io.Writer, listen bool) error {
	name := "serve"
	if !listen {
		name = "worker"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	var admins, logLevel string
	fs.StringVar(&cfg.Addr, "addr", ":8080", "HTTP listen address")
	fs.StringVar(&cfg.DataDir, "data", "./data", "directory of the embedded engine's data")
	fs.StringVar(&cfg.RedisURL, "redis", "", "Redis URL (redis://host:port/db); empty runs the embedded engine")
	fs.IntVar(&cfg.TimelineSize, "timeline-size", 1000, "entries kept in home and list timelines")
	fs.IntVar(&cfg.FanoutChunk, "fanout-chunk", 1000, "recipients per fan-out job")
	fs.IntVar(&cfg.MaxStatusLen, "max-status-len", 280, "characters in a status")
	fs.IntVar(&cfg.Workers, "workers", 4, "job worker goroutines (0 for none in serve)")
	fs.IntVar(&cfg.Prefetch, "prefetch", 1, "unacknowledged jobs one worker holds at most")
	fs.DurationVar(&cfg.JobLease, "job-lease", 30*time.Second, "how long a claimed job stays leased before another worker may run it")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", 30*24*time.Hour, "lifetime of session tokens")
	var argonTime, argonMemory, argonThreads uint
	fs.UintVar(&argonTime, "argon2-time", 2, "argon2id passes over memory when hashing passwords")
	fs.UintVar(&argonMemory, "argon2-memory", 32*1024, "argon2id memory in KiB when hashing passwords")
	fs.UintVar(&argonThreads, "argon2-threads", 2, "argon2id lanes when hashing passwords")
	fs.StringVar(&admins, "admins", "", "comma-separated logins allowed to use the admin endpoints")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if err := checkConfig(cfg, listen); err != nil {
		return err
	}
	if argonTime < 1 || argonTime > 100 || argonMemory < 8 || argonMemory > 4<<20 || argonThreads < 1 || argonThreads > 255 {
		return fmt.Errorf("%s: argon2 parameters out of range (time 1–100, memory 8 KiB–4 GiB, threads 1–255)", name)
	}
	cfg.Password = social.PasswordParams{Time: uint32(argonTime), MemoryKiB: uint32(argonMemory), Threads: uint8(argonThreads)}
	if cfg.Workers == 0 {
		cfg.Workers = -1 // the flag's 0 means none; the config's zero means the default
	}
	for _, a := range strings.Split(admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Admins = append(cfg.Admins, a)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("%s: -log-level: %w", name, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	srv, err := server.New(ctx, cfg, log, listen)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func checkConfig(cfg server.Config, listen bool) error {
	switch {
	case cfg.TimelineSize < 1:
		return errors.New("-timeline-size must be at least 1")
	case cfg.FanoutChunk < 1:
		return errors.New("-fanout-chunk must be at least 1")
	case cfg.MaxStatusLen < 1:
		return errors.New("-max-status-len must be at least 1")
	case cfg.Workers < 0:
		return errors.New("-workers must not be negative")
	case !listen && cfg.Workers == 0:
		return errors.New("worker: -workers must be at least 1")
	case cfg.Prefetch < 1:
		return errors.New("-prefetch must be at least 1")
	case cfg.JobLease <= 0:
		return errors.New("-job-lease must be positive")
	case cfg.TokenTTL <= 0:
		return errors.New("-token-ttl must be positive")
	}
	return nil
}

// parseWithEnv sets each flag from its STARLING_ environment variable, then
// parses args, so that the command line overrides the environment.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		key := "STARLING_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", key, v, serr)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}
