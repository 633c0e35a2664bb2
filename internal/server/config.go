package server

import (
	"time"

	"starling/internal/social"
)

// Config is the configuration of a Starling process. Zero values mean the
// documented defaults; cmd/starling fills it from flags and STARLING_*
// environment variables.
type Config struct {
	Addr     string // HTTP listen address; zero means ":8080"
	DataDir  string // embedded engine's directory; zero means "./data"
	RedisURL string // empty selects the embedded engine

	TimelineSize int           // zero means 1000
	FanoutChunk  int           // zero means 1000
	MaxStatusLen int           // zero means 280
	TokenTTL     time.Duration // zero means 30 days
	Password     social.PasswordParams

	Workers  int           // in-process job workers; zero means 4, negative means none
	Prefetch int           // unsettled jobs per worker; zero means 1
	JobLease time.Duration // zero means 30s

	Admins []string // logins allowed to use the admin endpoints

	// ShutdownTimeout bounds how long a stopping server waits for
	// requests in flight; zero means 10s.
	ShutdownTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	return c
}

func (c Config) social() social.Config {
	return social.Config{
		TimelineSize: c.TimelineSize,
		FanoutChunk:  c.FanoutChunk,
		MaxStatusLen: c.MaxStatusLen,
		TokenTTL:     c.TokenTTL,
		Password:     c.Password,
	}
}
