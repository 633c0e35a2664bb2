package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"starling/internal/accesslog"
	"starling/internal/chat"
	"starling/internal/engine"
	"starling/internal/httpapi"
	"starling/internal/jobs"
	"starling/internal/metrics"
	"starling/internal/social"
	"starling/internal/stream"
)

// Server is a running Starling process: engine, service, workers and,
// unless it is a worker-only process, the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	engine  *engine.Engine
	service *social.Service
	runner  *jobs.Runner
	// rooms serves the chat rooms; nil for a worker-only process.
	rooms *chat.Rooms
	http  *http.Server
	ln    net.Listener
	// conns caps the connections of ln (connlimit.go).
	conns *connLimiter
	// logBus appends the stream events this process publishes to the
	// engine's event log; hub serves stream clients (nil in worker-only
	// processes).
	logBus  *stream.LogBus
	hub     *stream.Hub
	api     *httpapi.API
	metrics *metrics.Registry
	// access is the live access log; nil in worker-only processes.
	access *accesslog.Log
	// admin serves metrics and profiles on a listener of its own when
	// Config.AdminAddr is set; nil otherwise.
	admin   *http.Server
	adminLn net.Listener
}

// New opens the engine and builds a server; it listens only when Serve or
// Run is called. listen is false for worker-only processes.
func New(ctx context.Context, cfg Config, log *slog.Logger, listen bool) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.checkAddresses(); err != nil {
		return nil, err
	}
	reg := metrics.New()
	ecfg := cfg.engine()
	ecfg.ObserveRedisCommand = reg.ObserveRedisCommand
	eng, err := engine.Open(ctx, ecfg, log)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	closeAll := func() { eng.Close() }
	watchEngine(reg, eng)
	scfg := cfg.social(eng.Defaults)
	// Stream events also go into the retained event log, which every
	// process's stream hub reads; worker-only processes write it too.
	logBus := stream.NewLogBus(eng.Bus, eng.EventLog, log)
	scfg.Bus = logBus
	scfg.FanoutLag = reg.ObserveFanoutLag
	svc, err := social.NewService(eng.Store, scfg, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, engine: eng, service: svc, logBus: logBus, metrics: reg}
	if workers, prefetch := cfg.jobs(eng.Defaults); workers >= 0 {
		s.runner = jobs.NewRunner(eng.Queue, jobs.RunnerConfig{
			Workers: workers, Prefetch: prefetch, Lease: cfg.JobLease, StopTimeout: cfg.ShutdownTimeout,
			Observe: reg.ObserveJob,
		}, log)
		svc.RegisterJobs(s.runner)
	}
	if cfg.AdminAddr != "" {
		s.admin, s.adminLn, err = adminServer(cfg.AdminAddr, reg, log)
		if err != nil {
			closeAll()
			return nil, err
		}
		closeAll = func() { s.adminLn.Close(); eng.Close() }
	}
	if listen {
		admins, err := resolveAdmins(ctx, svc, cfg.Admins)
		if err != nil {
			closeAll()
			return nil, err
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("server: %w", err)
		}
		s.conns = newConnLimiter(ln, cfg.MaxConns, cfg.MaxConnsPerIP, cfg.TrustedProxies)
		s.ln = s.conns
		s.hub = stream.NewHub(stream.HubConfig{
			Log: eng.EventLog, BufferBytes: cfg.StreamBufferBytes, MaxConnections: cfg.StreamMaxClients, Logger: log,
			Hidden: func(ctx context.Context, uid int64) bool { return svc.IsSuspended(ctx, social.UserID(uid)) },
		})
		watchStreams(reg, s.hub)
		s.rooms = chat.NewRooms(chat.Config{History: eng.Chat, Bus: eng.Bus, Logger: log})
		rooms := s.rooms
		reg.GaugeFunc("chat_waiters", "Chat clients waiting for the next message of a room (held polls, and SSE and WebSocket readers between messages).",
			func() float64 { return float64(rooms.Waiters()) })
		// The access log goes on the engine's bus itself: its records are
		// no stream events, and are not kept in the event log.
		s.access = accesslog.New(eng.Bus, cfg.Process, log)
		reg.CounterFunc("accesslog_dropped_total", "Access records lost on the way to the bus or to a watcher of the live access log.",
			func() float64 { return float64(s.access.Dropped()) })
		api := httpapi.New(httpapi.Config{
			Service: svc, Queue: eng.Queue, DeadLetters: eng.DeadLetters, JobKinds: eng.JobKinds, Admins: admins, Logger: log,
			Limiter: eng.Limiter, RateLimits: cfg.RateLimits,
			TrustedProxies: cfg.TrustedProxies, SecureCookies: cfg.SecureCookies,
			ReadTimeout: cfg.ReadTimeout,
			Hub:         s.hub, StreamKeepAlive: cfg.StreamKeepAlive,
			Rooms: s.rooms, ChatRequireLogin: cfg.ChatRequireLogin,
			Metrics: reg, AccessLog: s.access,
		})
		s.api = api
		s.http = &http.Server{
			Handler: withWebUI(api, newWebUI(cfg, svc, eng, api, s.rooms, admins, log)),
			// The rest of a request is read under the API's own
			// deadline (httpapi.Config.ReadTimeout), which streaming
			// routes extend; http.Server.ReadTimeout could not be.
			ReadHeaderTimeout: 10 * time.Second,
			// Request line and headers; no client of the API needs more,
			// and the default (1 MB) is memory an attacker gets for free.
			MaxHeaderBytes: 64 << 10,
			IdleTimeout:    2 * time.Minute,
			ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			// "OPTIONS *" goes to the API too, which answers it in JSON.
			DisableGeneralOptionsHandler: true,
			// Held long polls find their connection through it, and hand
			// it back through httpapi.Listener (see Run).
			ConnContext: httpapi.ConnContext,
		}
		// Streams never go idle by themselves: shutting down ends each with
		// a final disconnect message, after which Shutdown finds them done.
		s.http.RegisterOnShutdown(s.hub.Close)
		// Held long polls answer at once, and streams end, when the
		// server starts shutting down, instead of holding Shutdown up.
		s.http.RegisterOnShutdown(s.rooms.Close)
		// Shutdown waits for requests to end, and the access log streams
		// never end by themselves: closing the log ends them.
		s.http.RegisterOnShutdown(s.access.Close)
	}
	return s, nil
}

// AdminAddr is the address of the admin listener, or nil when there is none.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
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

// Run serves until ctx ends, then stops accepting requests and claiming
// jobs, waits for the requests in flight and the jobs running (together, up
// to the shutdown timeout; streams are ended by the shutdown hooks), and
// closes the events bus and then the engine.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	jobsCtx, stopJobs := context.WithCancel(workCtx)
	defer stopJobs()
	if s.runner != nil {
		wg.Go(func() { s.runner.Run(jobsCtx) })
	}
	if s.hub != nil {
		wg.Go(func() { s.hub.Run(workCtx) })
	}
	logBusCtx, stopLogBus := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLogBus()
	logBusDone := make(chan struct{})
	go func() {
		defer close(logBusDone)
		s.logBus.Run(logBusCtx)
	}()
	if s.rooms != nil {
		wg.Go(func() {
			if err := s.rooms.Run(workCtx); err != nil {
				s.log.Error("starling: chat rooms stopped following other processes", "err", err)
			}
		})
	}
	if s.access != nil {
		wg.Go(func() {
			if err := s.access.Run(workCtx); err != nil {
				s.log.Warn("starling: the live access log is off", "err", err)
			}
		})
	}
	if s.admin != nil {
		s.log.Info("starling: serving metrics", "addr", s.adminLn.Addr().String())
		go s.admin.Serve(s.adminLn) //nolint:errcheck // ends with ErrServerClosed at shutdown
		// Scrapes and profiles are for the operator; one in progress when
		// everything else has stopped is simply cut.
		defer s.admin.Close()
	}
	errc := make(chan error, 1)
	if s.http != nil {
		s.log.Info("starling: serving", "addr", s.ln.Addr().String(), "engine", s.engine.Name)
		// The listener turns the answers net/http writes itself (431 for
		// oversized headers, 400 for unparsable requests) into JSON, and
		// takes back the connections of held long polls.
		go func() { errc <- s.http.Serve(httpapi.Listener(s.ln)) }()
	} else {
		s.log.Info("starling: running workers only", "engine", s.engine.Name)
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("server: %w", err)
	}
	// The workers stop claiming and get the shutdown timeout for the jobs
	// they run while the HTTP server drains in the same time, so that the
	// whole stop takes the timeout at most, not twice it.
	stopJobs()
	if s.http != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		if serr := s.http.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = errors.Join(err, serr)
		}
		s.api.WaitStreams(shutdownCtx)
		s.api.WaitHeldPolls(shutdownCtx)
		cancel()
	}
	if s.rooms != nil {
		s.rooms.Close() // also when Serve failed and Shutdown was not reached
	}
	stopWork()
	wg.Wait()
	// The workers have published their last events: append them before
	// the engine closes.
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	s.logBus.Close(drainCtx)
	cancelDrain()
	stopLogBus()
	<-logBusDone
	if cerr := s.engine.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
