package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"starling/internal/bench"
	"starling/internal/engine"
	"starling/internal/seed"
	"starling/internal/social"
)

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: starling seed [flags]

Bulk-loads a synthetic social graph for benchmarks: users u1..uN who follow
about --follows-per-user others each (heavy-tailed on both sides: a few
users follow many, a few accounts are followed by many), and one account
"celebrity" followed by u1..uF. Every synthetic user has the password
--password, hashed once with cheap argon2id parameters so that logging in
is fast: synthetic users are for benchmarks only, never for a deployment
real people use. Seeding refuses a store where one of these logins exists.
It writes a manifest for 'starling bench fanout': the celebrity's token and
tokens of a uniform sample of its followers.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		dataDir, redisURL, redisPrefix string
		users, perUser, celebFollowers int
		password, manifestPath         string
		sample, timelineSize           int
		randomSeed                     uint64
		recountOnly, quiet             bool
	)
	fs.StringVar(&dataDir, "data", "./data", "directory of the embedded engine's data")
	fs.StringVar(&redisURL, "redis", "", "Redis URL (redis://host:port/db); empty seeds the embedded engine")
	fs.StringVar(&redisPrefix, "redis-prefix", engine.DefaultRedisPrefix, "prefix of every Redis key")
	fs.IntVar(&timelineSize, "timeline-size", social.DefaultTimelineSize, "entries kept in home and list timelines: the deployment's size, which the store refuses to change")
	fs.IntVar(&users, "users", 10_000, "synthetic users to create (u1..uN)")
	fs.IntVar(&perUser, "follows-per-user", 20, "mean number of other users each user follows")
	fs.IntVar(&celebFollowers, "celebrity-followers", 1000, "followers of the celebrity: u1..uF")
	fs.StringVar(&password, "password", "seed-password", "password of every synthetic user")
	fs.StringVar(&manifestPath, "manifest", "seed.json", "where to write the manifest for 'starling bench fanout' (empty: none)")
	fs.IntVar(&sample, "sample", 1000, "celebrity followers to log in for the manifest (0: all)")
	fs.Uint64Var(&randomSeed, "seed", 1, "random seed: the same seed and sizes give the same graph")
	fs.BoolVar(&recountOnly, "recount", false, "only set every user's follower and following counts from the sets (repairs a seed that was killed)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("seed: unexpected arguments %q", fs.Args())
	case users == 0:
		return errors.New("seed: --users 0 would load nothing; give 1 or more")
	case users < 0 || users > 100_000_000:
		return errors.New("seed: --users must be within 1–100000000")
	case perUser < 0 || perUser > 10_000:
		return errors.New("seed: --follows-per-user must be within 0–10000")
	case celebFollowers < 0 || celebFollowers > users:
		return errors.New("seed: --celebrity-followers must be within 0 and --users")
	case len(password) < social.MinPasswordLen || len(password) > social.MaxPasswordLen:
		return fmt.Errorf("seed: --password must be %d–%d characters", social.MinPasswordLen, social.MaxPasswordLen)
	case sample < 0:
		return errors.New("seed: --sample must not be negative")
	case redisPrefix == "":
		return errors.New("seed: --redis-prefix must not be empty")
	case timelineSize < 1:
		return errors.New("seed: --timeline-size must be at least 1")
	}
	if err := checkWritable(manifestPath); err != nil {
		return fmt.Errorf("seed: --manifest: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := engine.Open(ctx, engine.Config{RedisURL: redisURL, RedisPrefix: redisPrefix, DataDir: dataDir, TimelineSize: timelineSize}, log)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer eng.Close()

	if recountOnly {
		start := time.Now()
		if err := eng.Loader.FinishLoad(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "counts set from the follow sets in %s\n", roundDuration(time.Since(start)))
		return nil
	}

	// An interrupted seed still sets the counts of what it loaded, which can
	// take a while; a second interrupt stops it at once.
	loaded := make(chan struct{})
	defer close(loaded)
	go func() {
		select {
		case <-ctx.Done():
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			fmt.Fprintln(stderr, "\nseed: interrupted; setting the counts of what was loaded (interrupt again to stop now, then run 'starling seed --recount')")
		case <-loaded:
		}
	}()
	hash, err := social.HashPassword(password, seed.CheapPassword)
	if err != nil {
		return err
	}
	bar := newProgressBar(stderr, !quiet, isTerminal(stderr))
	g, err := seed.Load(ctx, eng.Loader, seed.Config{
		Users:              users,
		FollowsPerUser:     perUser,
		CelebrityFollowers: celebFollowers,
		PasswordHash:       hash,
		Seed:               randomSeed,
		Progress:           bar.update,
	})
	bar.finish()
	if err != nil {
		return err
	}
	printSeedSummary(stdout, g)

	if manifestPath == "" {
		return nil
	}
	svc, err := social.NewService(eng.Store, social.Config{Password: seed.CheapPassword}, log)
	if err != nil {
		return err
	}
	start := time.Now()
	sess, err := seed.LogIn(ctx, svc, g, password, sample, randomSeed)
	if err != nil {
		return err
	}
	if err := writeManifest(manifestPath, sess); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "manifest  %s: celebrity and %d sampled followers logged in (%s)\n", manifestPath, len(sess.Sample), roundDuration(time.Since(start)))
	return nil
}

func printSeedSummary(w io.Writer, g seed.Graph) {
	rate := func(n int64, d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds())
	}
	created := int64(len(g.UserIDs)) + 1
	fmt.Fprintf(w, "users     %d in %s (%s)\n", created, roundDuration(g.UsersTook), rate(created, g.UsersTook))
	fmt.Fprintf(w, "follows   %d in %s (%s)\n", g.Follows, roundDuration(g.FollowsTook), rate(g.Follows, g.FollowsTook))
	fmt.Fprintf(w, "counts    set in %s\n", roundDuration(g.CountsTook))
	fmt.Fprintf(w, "elapsed   %s\n", roundDuration(g.UsersTook+g.FollowsTook+g.CountsTook))
	fmt.Fprintf(w, "celebrity %s (id %d) with %d followers\n", g.CelebrityLogin, g.CelebrityID, g.CelebrityFollowers)
}

// checkWritable checks, before any work, that a file can be written at
// path (nothing to check when it is empty): its directory exists and takes
// new files, and the file, if it exists, is a regular file that can be
// opened for writing. Nothing at path is changed.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
	probe, err := os.CreateTemp(filepath.Dir(path), ".starling-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// writeManifest writes the manifest `starling bench fanout` reads. It holds
// live session tokens, so only its owner may read it.
func writeManifest(path string, s seed.Sessions) error {
	m := bench.Manifest{
		Celebrity: bench.Account(s.Celebrity),
		Followers: s.Followers,
		Sample:    make([]bench.Account, len(s.Sample)),
	}
	for i, a := range s.Sample {
		m.Sample[i] = bench.Account(a)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("seed: encoding the manifest: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("seed: writing the manifest: %w", err)
	}
	return nil
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Minute:
		return d.Round(time.Second)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
