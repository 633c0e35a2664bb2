// Command starling runs Starling, a real-time social backend.
//
// Usage:
//
//	starling serve  [flags]   serve the API and run job workers
//	starling worker [flags]   run job workers only (to scale out on Redis)
//	starling seed   [flags]   bulk-load a synthetic social graph for benchmarks
//	starling admin  COMMAND   administer a running server through its admin API
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
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"starling/internal/engine"
	"starling/internal/ratelimit"
	"starling/internal/server"
	"starling/internal/social"
)

const usage = `Starling: a real-time social backend.

Usage:
  starling serve  [flags]   serve the API and run job workers
  starling worker [flags]   run job workers only (to scale out on Redis)
  starling seed   [flags]   bulk-load a synthetic social graph for benchmarks
  starling bench SCENARIO   drive a running server and measure it
  starling admin COMMAND    queue stats, dead jobs, suspensions, the live access log

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
	case "seed":
		return runSeed(ctx, args, os.Stdout, stderr)
	case "bench":
		return runBench(ctx, args, os.Stdout, stderr)
	case "admin":
		return runAdmin(ctx, args, os.Stdout, stderr)
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
	var admins, logLevel, logFormat, pprofAddr string
	fs.StringVar(&cfg.Addr, "addr", ":8080", "HTTP listen address")
	fs.StringVar(&cfg.DataDir, "data", "./data", "directory of the embedded engine's data")
	fs.StringVar(&cfg.RedisURL, "redis", "", "Redis URL (redis://host:port/db); empty runs the embedded engine")
	fs.StringVar(&cfg.RedisPrefix, "redis-prefix", engine.DefaultRedisPrefix, "prefix of every Redis key and channel")
	fs.DurationVar(&cfg.RedisTimeout, "redis-timeout", 3*time.Second, "how long a Redis command or connection attempt may wait before the call fails")
	fs.IntVar(&cfg.TimelineSize, "timeline-size", social.DefaultTimelineSize, "entries kept in home and list timelines")
	fs.IntVar(&cfg.FanoutChunk, "fanout-chunk", social.DefaultFanoutChunk, "recipients per fan-out job")
	fs.IntVar(&cfg.MaxStatusLen, "max-status-len", social.DefaultMaxStatusLen, "characters in a status")
	fs.IntVar(&cfg.MaxFollowing, "max-following", social.DefaultMaxFollowing, "users one user may follow")
	workers := autoInt{engineDefault: "4 on Redis, 1 on the embedded engine"}
	prefetch := autoInt{engineDefault: "16 on Redis, 64 on the embedded engine"}
	fs.Var(&workers, "workers", `job worker goroutines (0 for none in serve); "auto": `+workers.engineDefault)
	fs.Var(&prefetch, "prefetch", `unacknowledged jobs one worker holds at most, and so the largest batch of fan-out jobs it handles at once; "auto": `+prefetch.engineDefault)
	fs.DurationVar(&cfg.JobLease, "job-lease", 30*time.Second, "how long a claimed job stays leased before another worker may run it")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long a stopping process waits for requests in flight and running jobs before it leaves them (jobs are then run again after their lease)")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", 30*24*time.Hour, "lifetime of session tokens")
	fs.DurationVar(&cfg.SessionCacheTTL, "session-cache-ttl", social.DefaultSessionCacheTTL, "how long a process trusts a session token it checked before asking the store again, and so how long a logout on another process takes to reach it (0 to always ask)")
	var statusCacheMiB, timelineCacheMiB int
	fs.IntVar(&statusCacheMiB, "status-cache", 64, "MiB of statuses a process keeps in memory for timeline reads (0 for none)")
	fs.IntVar(&timelineCacheMiB, "timeline-cache", 32, "MiB of timelines a process keeps in memory for reads (0 for none)")
	var argonTime, argonMemory, argonThreads uint
	fs.UintVar(&argonTime, "argon2-time", 4, "argon2id passes over memory when hashing passwords")
	fs.UintVar(&argonMemory, "argon2-memory", 32*1024, "argon2id memory in KiB when hashing passwords")
	fs.UintVar(&argonThreads, "argon2-threads", 2, "argon2id lanes when hashing passwords")
	fs.StringVar(&admins, "admins", "", "comma-separated logins allowed to use the admin endpoints")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text (key=value) or json (one object a line)")
	cfg.RateLimits = ratelimit.DefaultPolicies()
	for _, f := range []struct {
		limit       *ratelimit.Limit
		name, usage string
	}{
		{&cfg.RateLimits.Register, "rate-register", "registrations per client address"},
		{&cfg.RateLimits.Login, "rate-login", "logins (tokens and sessions) per client address"},
		{&cfg.RateLimits.LoginTarget, "rate-login-target", "logins per login tried from one address block (IPv4 /24, IPv6 /64)"},
		{&cfg.RateLimits.LoginAccount, "rate-login-account", "logins per login tried, from every address together"},
		{&cfg.RateLimits.Post, "rate-post", "statuses posted per user"},
		{&cfg.RateLimits.Follow, "rate-follow", "follows, unfollows and list member changes per user"},
		{&cfg.RateLimits.Chat, "rate-chat", "chat messages per user (per client address when anonymous)"},
		{&cfg.RateLimits.Stream, "rate-stream", "stream connections per identifier or user, and per client address"},
	} {
		fs.Var(f.limit, f.name, f.usage+`: "N/PERIOD,BURST" (N per PERIOD, BURST at once) or "off"`)
	}
	fs.DurationVar(&cfg.StreamKeepAlive, "stream-keepalive", 30*time.Second, "how often an idle stream gets a keep-alive line")
	fs.IntVar(&cfg.StreamMaxClients, "stream-max-clients", 0, "stream connections this process holds at most (0 for no cap)")
	var streamBufferKiB int
	fs.IntVar(&streamBufferKiB, "stream-buffer", 256, "KiB of events waiting for one stream connection before it is dropped as too slow")
	fs.BoolVar(&cfg.ChatRequireLogin, "chat-require-login", false, "refuse chat messages from senders who are not signed in")
	fs.String(configFlag, "", "a YAML file of settings named as these flags (admins: [ada, bob], rate-post: off); flags and STARLING_* variables win over it")
	var trustedProxies string
	fs.StringVar(&trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark session cookies Secure on every answer (TLS ends at a proxy that sends no X-Forwarded-Proto)")
	fs.IntVar(&cfg.MaxConns, "max-conns", server.DefaultMaxConns, "HTTP connections open at once, overall (0 for no cap); keep it below the open-file limit")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", server.DefaultMaxConnsPerIP, "HTTP connections open at once from one client address or IPv6 /64 (0 for no cap; trusted proxies are exempt)")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:9090", "the operator's listener: /metrics, and /debug/pprof/ when it is a loopback address; never on -addr; empty for none")
	fs.StringVar(&pprofAddr, "pprof-addr", "", "deprecated: another name for -admin-addr, which now serves the profiles")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	cfg.Workers, cfg.Prefetch = workers.n, prefetch.n
	if err := checkConfig(cfg, listen, workers.set, prefetch.set); err != nil {
		return err
	}
	if argonTime < 1 || argonTime > 100 || argonMemory < 8 || argonMemory > 4<<20 || argonThreads < 1 || argonThreads > 255 {
		return fmt.Errorf("%s: argon2 parameters out of range (time 1–100, memory 8 KiB–4 GiB, threads 1–255)", name)
	}
	cfg.Password = social.PasswordParams{Time: uint32(argonTime), MemoryKiB: uint32(argonMemory), Threads: uint8(argonThreads)}
	if workers.set && cfg.Workers == 0 {
		cfg.Workers = -1 // the flag's 0 means none; the config's zero means the default
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = -1 // the flag's 0 means no cap; the config's zero means the default
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = -1
	}
	if cfg.SessionCacheTTL == 0 {
		cfg.SessionCacheTTL = -1 // the flag's 0 means no cache; the config's zero means the default
	}
	if statusCacheMiB < 0 || statusCacheMiB > 1<<20 || timelineCacheMiB < 0 || timelineCacheMiB > 1<<20 {
		return fmt.Errorf("%s: -status-cache and -timeline-cache must be within 0 and %d MiB", name, 1<<20)
	}
	cfg.StatusCacheBytes, cfg.TimelineCacheBytes = cacheBytes(statusCacheMiB), cacheBytes(timelineCacheMiB)
	if streamBufferKiB < 4 || streamBufferKiB > 1<<20 {
		return fmt.Errorf("%s: -stream-buffer must be within 4 and %d KiB", name, 1<<20)
	}
	cfg.StreamBufferBytes = streamBufferKiB << 10
	for _, a := range strings.Split(admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Admins = append(cfg.Admins, a)
		}
	}
	proxies, err := parseTrustedProxies(trustedProxies)
	if err != nil {
		return fmt.Errorf("%s: -trusted-proxies: %w", name, err)
	}
	cfg.TrustedProxies = proxies
	if pprofAddr != "" {
		cfg.AdminAddr = pprofAddr
	}
	log, err := newLogger(stderr, logLevel, logFormat)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if pprofAddr != "" {
		log.Warn("starling: -pprof-addr is deprecated; use -admin-addr, which serves the profiles and the metrics", "addr", pprofAddr)
	}

	srv, err := server.New(ctx, cfg, log, listen)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// newLogger returns the process's logger: text or JSON lines on stderr at
// the given level.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: %q is neither text nor json", format)
}

// cacheBytes turns a cache flag's MiB into the config's bytes, where zero
// means the default and a negative size none.
func cacheBytes(mib int) int {
	if mib == 0 {
		return -1
	}
	return mib << 20
}

func checkConfig(cfg server.Config, listen, workersSet, prefetchSet bool) error {
	switch {
	case cfg.TimelineSize < 1:
		return errors.New("-timeline-size must be at least 1")
	case cfg.FanoutChunk < 1:
		return errors.New("-fanout-chunk must be at least 1")
	case cfg.MaxStatusLen < 1:
		return errors.New("-max-status-len must be at least 1")
	case cfg.MaxFollowing < 1:
		return errors.New("-max-following must be at least 1")
	case cfg.MaxConns < 0 || cfg.MaxConnsPerIP < 0:
		return errors.New("-max-conns and -max-conns-per-ip must not be negative")
	case cfg.Workers < 0:
		return errors.New("-workers must not be negative")
	case !listen && workersSet && cfg.Workers == 0:
		return errors.New("worker: -workers must be at least 1")
	case listen && workersSet && cfg.Workers == 0 && cfg.RedisURL == "":
		return errors.New("serve: -workers 0 needs -redis: on the embedded engine no other process can open the data directory, so its jobs would never run")
	case prefetchSet && cfg.Prefetch < 1:
		return errors.New("-prefetch must be at least 1")
	case cfg.JobLease <= 0:
		return errors.New("-job-lease must be positive")
	case cfg.TokenTTL <= 0:
		return errors.New("-token-ttl must be positive")
	case cfg.SessionCacheTTL < 0 || cfg.SessionCacheTTL > time.Minute:
		return errors.New("-session-cache-ttl must be within [0, 1m]")
	case cfg.RedisPrefix == "":
		return errors.New("-redis-prefix must not be empty")
	case cfg.RedisTimeout <= 0:
		return errors.New("-redis-timeout must be positive")
	case cfg.StreamKeepAlive < time.Second:
		return errors.New("-stream-keepalive must be at least 1s")
	case cfg.StreamMaxClients < 0:
		return errors.New("-stream-max-clients must not be negative")
	}
	return nil
}

// parseTrustedProxies reads a comma-separated list of CIDR prefixes or
// single addresses. IPv4 is given as IPv4: client addresses are compared
// in their unmapped form.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			a, aerr := netip.ParseAddr(entry)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is neither a CIDR prefix nor an IP address", entry)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			return nil, fmt.Errorf("%q: give IPv4 proxies in IPv4 form", entry)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
