package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"starling/internal/engine/redis"
	"starling/internal/engine/sqlite"
	"starling/internal/events"
	"starling/internal/httpapi"
	"starling/internal/jobs"
	"starling/internal/ratelimit"
	"starling/internal/social"
)

// engine is what an engine provides to a Starling process.
type engine interface {
	social.Store
	jobs.Queue
	io.Closer
}

// eventBus is the events bus of a process, closed after the engine's users
// stop and before the engine.
type eventBus interface {
	events.Bus
	io.Closer
}

// openEngine opens the configured engine and the events bus that goes with
// it: the in-process bus for the embedded engine, which serves one process;
// Redis pub/sub for the Redis engine, so that events reach every process.
func openEngine(ctx context.Context, cfg Config, log *slog.Logger) (engine, eventBus, error) {
	if cfg.RedisURL != "" {
		opts := redis.Options{Prefix: cfg.RedisPrefix, DialTimeout: cfg.RedisTimeout, IOTimeout: cfg.RedisTimeout, StatusCacheBytes: cfg.StatusCacheBytes, TimelineCacheBytes: cfg.TimelineCacheBytes}
		e, err := redis.Open(ctx, cfg.RedisURL, opts, log)
		if err != nil {
			return nil, nil, fmt.Errorf("server: opening redis engine: %w", err)
		}
		return e, redis.NewBus(e, redis.BusOptions{}), nil
	}
	db, err := sqlite.Open(ctx, cfg.DataDir, sqlite.Options{StatusCacheBytes: cfg.StatusCacheBytes, TimelineCacheBytes: cfg.TimelineCacheBytes}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("server: opening embedded engine: %w", err)
	}
	return db, events.NewMemory(), nil
}

// Server is a running Starling process: engine, service, workers and,
// unless it is a worker-only process, the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	engine  engine
	bus     eventBus
	service *social.Service
	runner  *jobs.Runner
	http    *http.Server
	ln      net.Listener
	// pprof serves runtime profiles on a loopback listener of its own
	// when Config.PprofAddr is set; nil otherwise.
	pprof   *http.Server
	pprofLn net.Listener
}

// New opens the engine and builds a server; it listens only when Serve or
// Run is called. listen is false for worker-only processes.
func New(ctx context.Context, cfg Config, log *slog.Logger, listen bool) (*Server, error) {
	cfg = cfg.withDefaults()
	eng, bus, err := openEngine(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		bus.Close()
		eng.Close()
	}
	scfg := cfg.social()
	scfg.Bus = bus
	svc, err := social.NewService(eng, scfg, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, engine: eng, bus: bus, service: svc}
	if workers, prefetch := cfg.jobDefaults(); workers >= 0 {
		s.runner = jobs.NewRunner(eng, jobs.RunnerConfig{Workers: workers, Prefetch: prefetch, Lease: cfg.JobLease}, log)
		svc.RegisterJobs(s.runner)
	}
	if cfg.PprofAddr != "" {
		s.pprof, s.pprofLn, err = pprofServer(cfg.PprofAddr)
		if err != nil {
			closeAll()
			return nil, err
		}
	}
	if listen {
		s.ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			if s.pprofLn != nil {
				s.pprofLn.Close()
			}
			closeAll()
			return nil, fmt.Errorf("server: %w", err)
		}
		api := httpapi.New(httpapi.Config{
			Service: svc, Queue: eng, Admins: cfg.Admins, Logger: log,
			Limiter: newLimiter(eng), RateLimits: cfg.RateLimits,
			TrustedProxies: cfg.TrustedProxies, SecureCookies: cfg.SecureCookies,
		})
		s.http = &http.Server{
			Handler:           api,
			ReadHeaderTimeout: 10 * time.Second,
			// Request line and headers; no client of the API needs more,
			// and the default (1 MB) is memory an attacker gets for free.
			MaxHeaderBytes: 64 << 10,
			IdleTimeout:    2 * time.Minute,
			ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	return s, nil
}

// newLimiter picks where rate limits are counted: in Redis when the
// deployment runs on it, so that every process shares one budget per key,
// else in this process's memory (the embedded engine serves one process).
func newLimiter(eng engine) ratelimit.Limiter {
	if e, ok := eng.(*redis.Engine); ok {
		return e.RateLimiter()
	}
	return ratelimit.NewMemory(ratelimit.MemoryOptions{})
}

// Addr is the address the server listens on, or nil for a worker-only one.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Service returns the social service, for tools built on the server.
func (s *Server) Service() *social.Service { return s.service }

// Run serves until ctx ends, then stops accepting requests, waits for those
// in flight (up to the shutdown timeout), lets the workers settle the jobs
// they hold, and closes the events bus and then the engine.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	if s.runner != nil {
		wg.Go(func() { s.runner.Run(workCtx) })
	}
	if s.pprof != nil {
		s.log.Info("starling: serving profiles", "addr", s.pprofLn.Addr().String())
		go s.pprof.Serve(s.pprofLn) //nolint:errcheck // ends with ErrServerClosed at shutdown
		// Profiles are for the operator; one in progress is simply cut.
		defer s.pprof.Close()
	}
	errc := make(chan error, 1)
	if s.http != nil {
		s.log.Info("starling: serving", "addr", s.ln.Addr().String(), "engine", s.engineName())
		go func() { errc <- s.http.Serve(s.ln) }()
	} else {
		s.log.Info("starling: running workers only", "engine", s.engineName())
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("server: %w", err)
	}
	if s.http != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		if serr := s.http.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = errors.Join(err, serr)
		}
		cancel()
	}
	stopWork()
	wg.Wait()
	if cerr := s.bus.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if cerr := s.engine.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) engineName() string {
	if s.cfg.RedisURL != "" {
		return "redis"
	}
	return "sqlite"
}
