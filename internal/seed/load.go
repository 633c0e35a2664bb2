package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"starling/internal/social"
)

// CheapPassword are the argon2id parameters of the synthetic users' shared
// password hash: one pass over 64 KiB, a fraction of a millisecond to
// check. CheckPassword reads the parameters from the hash, so logging in
// as a synthetic user stays cheap whatever the server's own settings.
var CheapPassword = social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}

// DefaultCelebrity is the celebrity's login when Config.Celebrity is empty.
const DefaultCelebrity = "celebrity"

// UserLogin returns the login of the k-th synthetic user (1-based): u1,
// u2, ...
func UserLogin(k int) string { return "u" + strconv.Itoa(k) }

// Config describes the graph to load. Zero values mean the documented
// defaults.
type Config struct {
	// Users is how many synthetic users to create, named u1..uN.
	Users int
	// FollowsPerUser is about how many other synthetic users each follows
	// on average (the exact number is heavy-tailed; see graph.go).
	FollowsPerUser int
	// CelebrityFollowers is how many users follow the celebrity: u1..uF,
	// in addition to their other follows. At most Users.
	CelebrityFollowers int
	// Celebrity is the celebrity's login; zero means DefaultCelebrity.
	// The celebrity follows no one.
	Celebrity string
	// PasswordHash is every user's password hash, the celebrity's
	// included. Required; see CheapPassword.
	PasswordHash string
	// Seed selects the random graph; the same seed and sizes give the
	// same graph.
	Seed uint64
	// UserBatch and FollowBatch are how many users or follows go to the
	// Loader per call; zero means 10,000 and 50,000.
	UserBatch   int
	FollowBatch int
	// Now stamps signups and follows; zero means time.Now.
	Now func() time.Time
	// Progress, when set, is called from Load's goroutine after each batch.
	Progress func(Progress)
}

// Phases of a load, as reported in Progress.
const (
	PhaseUsers   = "users"
	PhaseFollows = "follows"
	PhaseCounts  = "counts"
)

// Progress reports how far a load has come within its current phase. A
// Total of 0 means the phase cannot tell (the counts phase, until it is
// done): only Elapsed moves.
type Progress struct {
	Phase   string
	Done    int64
	Total   int64
	Elapsed time.Duration // since the phase began
}

func (c Config) withDefaults() (Config, error) {
	if c.Celebrity == "" {
		c.Celebrity = DefaultCelebrity
	}
	if c.UserBatch <= 0 {
		c.UserBatch = 10_000
	}
	if c.FollowBatch <= 0 {
		c.FollowBatch = 50_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.Users < 0 || c.Users > 1<<30:
		return c, fmt.Errorf("seed: users must be within 0–%d, got %d", 1<<30, c.Users)
	case c.FollowsPerUser < 0:
		return c, fmt.Errorf("seed: follows per user must not be negative, got %d", c.FollowsPerUser)
	case c.CelebrityFollowers < 0 || c.CelebrityFollowers > c.Users:
		return c, fmt.Errorf("seed: celebrity followers must be within 0–%d (the users), got %d", c.Users, c.CelebrityFollowers)
	case !social.ValidLogin(c.Celebrity):
		return c, fmt.Errorf("seed: celebrity login %q is not a valid login", c.Celebrity)
	case c.PasswordHash == "":
		return c, errors.New("seed: no password hash")
	}
	return c, nil
}

// Graph is what Load created.
type Graph struct {
	CelebrityID        social.UserID
	CelebrityLogin     string
	CelebrityFollowers int
	// UserIDs[k-1] is the id of UserLogin(k).
	UserIDs []social.UserID
	// Follows counts the follows loaded, the celebrity's included.
	Follows int64
	// How long each phase took.
	UsersTook, FollowsTook, CountsTook time.Duration
}

// Load creates the celebrity and the users, then the follows, then sets
// the counts. When loading follows fails or ctx ends half-way, it still
// sets the counts of what was loaded (with a context of its own) before
// returning the error.
func Load(ctx context.Context, l Loader, cfg Config) (Graph, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Graph{}, err
	}
	g := Graph{CelebrityFollowers: cfg.CelebrityFollowers}
	start := time.Now()
	if err := loadUsers(ctx, l, cfg, &g); err != nil {
		return Graph{}, err
	}
	g.UsersTook = time.Since(start)

	start = time.Now()
	tried, ferr := loadFollows(ctx, l, cfg, &g)
	g.FollowsTook = time.Since(start)
	if !tried {
		return g, ferr
	}
	start = time.Now()
	finishCtx := ctx
	if ferr != nil || ctx.Err() != nil {
		// Whatever was loaded must get its counts, however the load ended.
		var cancel context.CancelFunc
		finishCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
	}
	if err := finishLoad(finishCtx, l, cfg, start); err != nil {
		return g, errors.Join(ferr, fmt.Errorf("seed: setting counts: %w", err))
	}
	g.CountsTook = time.Since(start)
	report(cfg, PhaseCounts, 1, 1, start)
	return g, ferr
}

// countsProgressEvery is how often the counts phase, a single call of the
// loader that tells nothing of its progress, reports the time it has taken.
const countsProgressEvery = 250 * time.Millisecond

// finishLoad runs l.FinishLoad, reporting the counts phase with an unknown
// total (Total 0) until it returns. The call runs on a goroutine of its
// own, so that Progress is still called from Load's.
func finishLoad(ctx context.Context, l Loader, cfg Config, start time.Time) error {
	done := make(chan error, 1)
	go func() { done <- l.FinishLoad(ctx) }()
	tick := time.NewTicker(countsProgressEvery)
	defer tick.Stop()
	report(cfg, PhaseCounts, 0, 0, start)
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			report(cfg, PhaseCounts, 0, 0, start)
		}
	}
}

func report(cfg Config, phase string, done, total int64, since time.Time) {
	if cfg.Progress != nil {
		cfg.Progress(Progress{Phase: phase, Done: done, Total: total, Elapsed: time.Since(since)})
	}
}

// loadUsers creates the celebrity, then u1..uN, in batches.
func loadUsers(ctx context.Context, l Loader, cfg Config, g *Graph) error {
	start := time.Now()
	total := int64(cfg.Users) + 1
	now := cfg.Now().UTC().Truncate(time.Millisecond)
	celeb := social.NewUser{Login: cfg.Celebrity, Name: "Celebrity", PasswordHash: cfg.PasswordHash, Signup: now}
	g.UserIDs = make([]social.UserID, 0, cfg.Users)
	batch := make([]social.NewUser, 0, min(cfg.UserBatch, cfg.Users+1))
	batch = append(batch, celeb)
	next := 1 // the k of the next synthetic user to add to a batch
	for {
		for len(batch) < cap(batch) && next <= cfg.Users {
			login := UserLogin(next)
			batch = append(batch, social.NewUser{Login: login, Name: "User " + login[1:], PasswordHash: cfg.PasswordHash, Signup: now})
			next++
		}
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("seed: loading users: %w", err)
		}
		ids, err := l.LoadUsers(ctx, batch)
		if err != nil {
			return fmt.Errorf("seed: loading users: %w", err)
		}
		if len(ids) != len(batch) {
			return fmt.Errorf("seed: loading users: the loader returned %d ids for %d users", len(ids), len(batch))
		}
		if g.CelebrityID == 0 {
			g.CelebrityID, g.CelebrityLogin = ids[0], celeb.Login
			ids = ids[1:]
		}
		g.UserIDs = append(g.UserIDs, ids...)
		report(cfg, PhaseUsers, int64(len(g.UserIDs))+1, total, start)
		batch = batch[:0]
	}
}

// loadFollows generates the follows in a goroutine of its own, batch by
// batch, while this one hands the batches to the loader. It reports
// whether it handed any batch to the loader, which may then have loaded
// some of it even when it failed.
func loadFollows(ctx context.Context, l Loader, cfg Config, g *Graph) (tried bool, err error) {
	start := time.Now()
	gen := newGenerator(cfg.Users, cfg.FollowsPerUser, cfg.Seed)
	degrees := gen.degrees()
	total := int64(cfg.CelebrityFollowers)
	for _, d := range degrees {
		total += int64(d)
	}
	if total == 0 {
		return false, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Follow, 2)
	go func() {
		defer close(batches)
		generate(ctx, cfg, g, gen, degrees, batches)
	}()
	// Drains the generator when loading stops early, so it never blocks.
	defer func() {
		cancel()
		for range batches {
		}
	}()
	for b := range batches {
		tried = true
		if err := l.LoadFollows(ctx, b); err != nil {
			return true, fmt.Errorf("seed: loading follows: %w", err)
		}
		g.Follows += int64(len(b))
		report(cfg, PhaseFollows, g.Follows, total, start)
	}
	if err := ctx.Err(); err != nil {
		return tried, fmt.Errorf("seed: loading follows: %w", err)
	}
	return tried, nil
}

// generate sends the follows of every user, user by user, in batches of
// about cfg.FollowBatch; a user's follows never straddle two batches.
func generate(ctx context.Context, cfg Config, g *Graph, gen *generator, degrees []int32, out chan<- []Follow) {
	at := cfg.Now().UTC().Truncate(time.Millisecond)
	// Room for the user that crosses the batch size, so batches never grow.
	batch := make([]Follow, 0, cfg.FollowBatch+int(slices.Max(degrees))+1)
	var picks []int32
	send := func() bool {
		select {
		case out <- batch:
			batch = make([]Follow, 0, cap(batch))
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := range cfg.Users {
		me := g.UserIDs[i]
		if i < cfg.CelebrityFollowers {
			batch = append(batch, Follow{Follower: me, Followee: g.CelebrityID, At: at})
		}
		picks = gen.followees(int32(i), int(degrees[i]), picks[:0])
		for _, p := range picks {
			batch = append(batch, Follow{Follower: me, Followee: g.UserIDs[p], At: at})
		}
		if len(batch) >= cfg.FollowBatch && !send() {
			return
		}
	}
	if len(batch) > 0 {
		send()
	}
}
