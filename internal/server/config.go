package server

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"time"

	"starling/internal/engine"
	"starling/internal/ratelimit"
	"starling/internal/social"
)

// Config is the configuration of a Starling process. Zero values mean the
// documented defaults; cmd/starling fills it from flags and STARLING_*
// environment variables.
type Config struct {
	Addr     string // HTTP listen address; zero means ":8080"
	DataDir  string // embedded engine's directory; zero means "./data"
	RedisURL string // empty selects the embedded engine
	// RedisPrefix starts every Redis key and channel name; zero means
	// "starling:". Deployments with different prefixes share one Redis
	// without seeing each other.
	RedisPrefix string
	// RedisTimeout bounds how long a Redis command waits for its reply, and
	// a connection for its handshake, before the call fails (an API call
	// then answers 503); zero means 3s. Waiting for jobs is not bounded
	// by it.
	RedisTimeout time.Duration

	TimelineSize int           // zero means 1000
	FanoutChunk  int           // zero means 1000
	MaxStatusLen int           // zero means 280
	MaxFollowing int           // users one user may follow; zero means 5000
	TokenTTL     time.Duration // zero means 30 days
	// SessionCacheTTL is how long a process trusts a session token it saw
	// valid before asking the store again, and so how long a revocation
	// made on another process takes to reach this one; zero means 1s,
	// negative turns the cache off (social.Config.SessionCacheTTL).
	SessionCacheTTL time.Duration
	Password        social.PasswordParams

	// StatusCacheBytes bounds the statuses the engine keeps in memory for
	// timeline reads, TimelineCacheBytes the heads of the timelines it
	// read (their newest 256 ids, on both engines); zero means the
	// engine's default, negative turns a cache off.
	StatusCacheBytes   int
	TimelineCacheBytes int

	// Workers is the number of in-process job workers; zero means the
	// engine's default (engine.Defaults), negative means none.
	Workers int
	// Prefetch is how many unsettled jobs one worker holds at most; zero
	// means the engine's default (engine.Defaults).
	Prefetch int
	JobLease time.Duration // zero means 30s

	// Admins are the logins allowed to use the admin endpoints. Each must
	// name an existing account when the server starts (New fails
	// otherwise); the server keeps their user ids.
	Admins []string

	// RateLimits are the per-address and per-user limits; zero fields
	// mean ratelimit.DefaultPolicies and ratelimit.Unlimited turns one
	// off. They are kept in Redis when RedisURL is set (shared by every
	// process), else in the process's memory.
	RateLimits ratelimit.Policies
	// ChatRequireLogin refuses chat messages from senders who are not
	// signed in; by default anyone may post (rate limited per address).
	ChatRequireLogin bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; empty means none.
	TrustedProxies []netip.Prefix
	// SecureCookies marks session cookies Secure even on requests that
	// reached the process over plain HTTP (TLS ended at a proxy).
	SecureCookies bool

	// MaxConns caps the HTTP connections open at once, MaxConnsPerIP
	// those from one client address (an IPv6 client by its /64; the
	// trusted proxies are exempt from it). Connections over a cap are
	// closed when accepted. Zero means DefaultMaxConns and
	// DefaultMaxConnsPerIP; negative means no cap. Keep MaxConns below the
	// process's open-file limit, with room for the store's connections.
	MaxConns      int
	MaxConnsPerIP int
	// ReadTimeout bounds how long a request may take to arrive whole,
	// body included, after its headers; zero means 10s
	// (httpapi.DefaultReadTimeout).
	ReadTimeout time.Duration

	// AdminAddr, when set, is the address of the operator's listener:
	// Prometheus metrics at /metrics and, when it is a loopback address,
	// the Go runtime's profiles under /debug/pprof/. Neither is ever
	// served on Addr. Empty (the zero value) serves none; the command's
	// default is 127.0.0.1:9090.
	AdminAddr string
	// Process names this process in the live access log; zero means
	// host-pid.
	Process string

	// StreamKeepAlive is how often an idle stream gets a keep-alive line;
	// zero means 30s.
	StreamKeepAlive time.Duration
	// StreamMaxClients caps the stream connections this process holds;
	// zero means no cap.
	StreamMaxClients int
	// StreamBufferBytes bounds the bytes waiting for one stream
	// connection before it is dropped as too slow; zero means 256 KiB.
	StreamBufferBytes int

	// ShutdownTimeout bounds how long a stopping server waits for
	// requests in flight, and then for running jobs, which it otherwise
	// leaves to be offered again after their lease; zero means 15s.
	ShutdownTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.Process == "" {
		host, _ := os.Hostname()
		c.Process = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.RedisTimeout <= 0 {
		// Well above any healthy command or handshake, even across a
		// data centre, and short enough that a hung or unreachable Redis
		// turns into prompt 503s rather than requests piling up. (The
		// engine's own default suits batch tools better than an API.)
		c.RedisTimeout = 3 * time.Second
	}
	return c
}

// jobs returns the number of workers and the prefetch to run with: the
// configured values, else the engine's defaults. Fan-out jobs are handled in
// batches of what a worker claims at once (social.Service.RegisterJobs), so
// the prefetch is what makes a batch.
func (c Config) jobs(d engine.Defaults) (workers, prefetch int) {
	workers, prefetch = c.Workers, c.Prefetch
	if workers == 0 {
		workers = d.Workers
	}
	if prefetch <= 0 {
		prefetch = d.Prefetch
	}
	return workers, prefetch
}

func (c Config) engine() engine.Config {
	return engine.Config{
		RedisURL: c.RedisURL, RedisPrefix: c.RedisPrefix, RedisTimeout: c.RedisTimeout,
		DataDir: c.DataDir, StatusCacheBytes: c.StatusCacheBytes, TimelineCacheBytes: c.TimelineCacheBytes,
		TimelineSize: c.TimelineSize,
	}
}

// social configures the service; a delivery call of fan-out carries as many
// chunks as suit the engine (engine.Defaults).
func (c Config) social(d engine.Defaults) social.Config {
	chunk := c.FanoutChunk
	if chunk <= 0 {
		chunk = social.DefaultFanoutChunk
	}
	return social.Config{
		FanoutChunk:     c.FanoutChunk,
		FanoutBatch:     d.FanoutBatchChunks * chunk,
		MaxStatusLen:    c.MaxStatusLen,
		MaxFollowing:    c.MaxFollowing,
		TokenTTL:        c.TokenTTL,
		SessionCacheTTL: c.SessionCacheTTL,
		Password:        c.Password,
	}
}

// checkAddresses checks the form of the addresses and URL in c, so that a
// typo is reported before the engine opens (and creates or migrates the
// data directory); whether they can be reached is found out later.
func (c Config) checkAddresses() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("server: listen address %q: %w", c.Addr, err)
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			return fmt.Errorf("server: admin listen address %q: %w", c.AdminAddr, err)
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil {
			return fmt.Errorf("server: Redis URL: %w", err)
		}
		switch {
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			return fmt.Errorf("server: Redis URL %q: want redis://host:port/db (or rediss:// or unix://)", c.RedisURL)
		case u.Scheme != "unix" && u.Host == "":
			return fmt.Errorf("server: Redis URL %q has no host", c.RedisURL)
		}
	}
	return nil
}
