package seed_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"starling/internal/engine/redis"
	"starling/internal/engine/redis/redistest"
	"starling/internal/engine/sqlite"
	"starling/internal/seed"
	"starling/internal/social"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// store is what the tests need of an engine: the social store, to check
// the result through the port every other caller uses, and the loader.
type store interface {
	social.Store
	seed.Loader
}

// engines opens each engine on fresh, empty storage.
var engines = []struct {
	name string
	open func(t *testing.T) store
}{
	{"sqlite", func(t *testing.T) store {
		db, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"redis", func(t *testing.T) store {
		e, err := redis.Open(context.Background(), redistest.Shared(t), redis.Options{Prefix: redistest.Prefix(t)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}},
}

func forEachEngine(t *testing.T, test func(t *testing.T, s store)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			test(t, e.open(t))
		})
	}
}

const password = "seed-password"

func newService(t *testing.T, s social.Store) *social.Service {
	t.Helper()
	svc, err := social.NewService(s, social.Config{Password: seed.CheapPassword}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func cheapHash(t *testing.T) string {
	t.Helper()
	h, err := social.HashPassword(password, seed.CheapPassword)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// allIDs reads a whole follower or following set through the paged port.
func allIDs(t *testing.T, page func(context.Context, social.UserID, social.Page) ([]social.UserID, error), uid social.UserID) []social.UserID {
	t.Helper()
	var all []social.UserID
	for p := 1; ; p++ {
		ids, err := page(t.Context(), uid, social.Page{Count: social.MaxPageCount, Page: p})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids...)
		if len(ids) < social.MaxPageCount {
			return all
		}
	}
}

func TestLoadSmallGraph(t *testing.T) {
	const (
		users      = 500
		perUser    = 10
		celebrity  = 300
		sampleSize = 40
	)
	forEachEngine(t, func(t *testing.T, s store) {
		svc := newService(t, s)
		// A user from before the seed: ids must continue after it and its
		// login must stay its own.
		early, err := svc.Register(t.Context(), "early_bird", "Early", "password-early")
		if err != nil {
			t.Fatal(err)
		}
		var phases []string
		g, err := seed.Load(t.Context(), s, seed.Config{
			Users:              users,
			FollowsPerUser:     perUser,
			CelebrityFollowers: celebrity,
			PasswordHash:       cheapHash(t),
			Seed:               7,
			UserBatch:          128, // several batches of each kind
			FollowBatch:        1000,
			Progress: func(p seed.Progress) {
				if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
					phases = append(phases, p.Phase)
				}
			},
		})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if want := []string{seed.PhaseUsers, seed.PhaseFollows, seed.PhaseCounts}; !slices.Equal(phases, want) {
			t.Errorf("progress phases = %v, want %v", phases, want)
		}

		// Ids continue from the store's counter, in order.
		if g.CelebrityID <= early.ID {
			t.Errorf("celebrity id %d, want above the earlier user's %d", g.CelebrityID, early.ID)
		}
		prev := g.CelebrityID
		for k, id := range g.UserIDs {
			if id <= prev {
				t.Fatalf("id of %s = %d, not above %d", seed.UserLogin(k+1), id, prev)
			}
			prev = id
		}
		if len(g.UserIDs) != users {
			t.Fatalf("got %d user ids, want %d", len(g.UserIDs), users)
		}
		for _, k := range []int{1, 250, users} {
			u, err := s.UserByLogin(t.Context(), seed.UserLogin(k))
			if err != nil || u.ID != g.UserIDs[k-1] {
				t.Errorf("UserByLogin(%s) = %+v, %v; want id %d", seed.UserLogin(k), u, err, g.UserIDs[k-1])
			}
		}
		late, err := svc.Register(t.Context(), "late_bird", "Late", "password-late")
		if err != nil {
			t.Fatal(err)
		}
		if late.ID <= prev {
			t.Errorf("user registered after the seed got id %d, want above %d", late.ID, prev)
		}

		// Counts equal set sizes for everyone, and both sides of every
		// follow agree.
		ids := append([]social.UserID{early.ID, g.CelebrityID, late.ID}, g.UserIDs...)
		inDegree := map[social.UserID]int{}
		var followsSeen int64
		for _, id := range ids {
			u, err := s.User(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			followers := allIDs(t, s.Followers, id)
			following := allIDs(t, s.Following, id)
			if u.Followers != int64(len(followers)) || u.Following != int64(len(following)) {
				t.Fatalf("%s: counts followers %d following %d, sets hold %d and %d", u.Login, u.Followers, u.Following, len(followers), len(following))
			}
			inDegree[id] = len(followers)
			followsSeen += int64(len(following))
		}
		if followsSeen != g.Follows {
			t.Errorf("following sets hold %d follows, Load reported %d", followsSeen, g.Follows)
		}

		// The celebrity has exactly u1..uF.
		celebFollowers := allIDs(t, s.Followers, g.CelebrityID)
		slices.Sort(celebFollowers)
		if !slices.Equal(celebFollowers, g.UserIDs[:celebrity]) {
			t.Errorf("celebrity's followers: %d ids, want u1..u%d", len(celebFollowers), celebrity)
		}

		// The mean out-degree is about the one asked for, and the
		// followees' popularity is heavy-tailed: the most followed
		// synthetic account has many times the median's followers.
		outMean := float64(g.Follows-celebrity) / users
		if outMean < 0.6*perUser || outMean > 1.4*perUser {
			t.Errorf("mean follows per user = %.1f, want about %d", outMean, perUser)
		}
		degrees := make([]int, 0, users)
		for _, id := range g.UserIDs {
			degrees = append(degrees, inDegree[id])
		}
		slices.Sort(degrees)
		median, top := degrees[len(degrees)/2], degrees[len(degrees)-1]
		if top < 8*max(median, 1) {
			t.Errorf("most followed account has %d followers, median %d: want a heavy tail (≥ 8× the median)", top, median)
		}
		t.Logf("follows %d, mean out-degree %.1f, followers: median %d, top %d", g.Follows, outMean, median, top)

		// Tokens from LogIn authenticate as the users they name.
		sess, err := seed.LogIn(t.Context(), svc, g, password, sampleSize, 1)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Followers != celebrity || len(sess.Sample) != sampleSize {
			t.Fatalf("sessions: %d followers, %d sampled; want %d and %d", sess.Followers, len(sess.Sample), celebrity, sampleSize)
		}
		seen := map[string]bool{}
		for _, a := range append([]seed.Account{sess.Celebrity}, sess.Sample...) {
			u, err := svc.Authenticate(t.Context(), a.Token)
			if err != nil || u.Login != a.Login {
				t.Fatalf("token of %s authenticates as %+v, %v", a.Login, u, err)
			}
			if seen[a.Login] {
				t.Fatalf("%s sampled twice", a.Login)
			}
			seen[a.Login] = true
			if a.Login != seed.DefaultCelebrity && !slices.Contains(celebFollowers, u.ID) {
				t.Errorf("sampled %s does not follow the celebrity", a.Login)
			}
		}

		// Seeding again is refused at the first batch and changes nothing.
		_, err = seed.Load(t.Context(), s, seed.Config{Users: 10, FollowsPerUser: 2, PasswordHash: cheapHash(t)})
		if !errors.Is(err, social.ErrLoginTaken) {
			t.Fatalf("second Load: %v, want ErrLoginTaken", err)
		}
		if c, err := s.User(t.Context(), g.CelebrityID); err != nil || c.Followers != celebrity || c.Following != 0 {
			t.Errorf("celebrity after a refused seed: %+v, %v", c, err)
		}
	})
}

func TestLoadUsersIsAllOrNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s store) {
		hash := cheapHash(t)
		now := time.Now()
		if _, err := s.LoadUsers(t.Context(), []social.NewUser{{Login: "Taken", Name: "T", PasswordHash: hash, Signup: now}}); err != nil {
			t.Fatal(err)
		}
		batch := []social.NewUser{
			{Login: "fresh1", Name: "F", PasswordHash: hash, Signup: now},
			{Login: "TAKEN", Name: "T", PasswordHash: hash, Signup: now},
			{Login: "fresh2", Name: "F", PasswordHash: hash, Signup: now},
		}
		if _, err := s.LoadUsers(t.Context(), batch); !errors.Is(err, social.ErrLoginTaken) {
			t.Fatalf("LoadUsers with a taken login: %v, want ErrLoginTaken", err)
		}
		dup := []social.NewUser{
			{Login: "twin", Name: "T", PasswordHash: hash, Signup: now},
			{Login: "Twin", Name: "T", PasswordHash: hash, Signup: now},
		}
		if _, err := s.LoadUsers(t.Context(), dup); !errors.Is(err, social.ErrLoginTaken) {
			t.Fatalf("LoadUsers with a login twice: %v, want ErrLoginTaken", err)
		}
		for _, login := range []string{"fresh1", "fresh2", "twin"} {
			if _, err := s.UserByLogin(t.Context(), login); !errors.Is(err, social.ErrUserNotFound) {
				t.Errorf("UserByLogin(%s) after refused batches: %v, want ErrUserNotFound", login, err)
			}
		}

		ids, err := s.LoadUsers(t.Context(), batch[:1])
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LoadFollows(t.Context(), []seed.Follow{{Follower: ids[0], Followee: ids[0], At: now}}); !errors.Is(err, social.ErrFollowSelf) {
			t.Errorf("LoadFollows of a self-follow: %v, want ErrFollowSelf", err)
		}
		if err := s.LoadFollows(t.Context(), []seed.Follow{{Follower: ids[0], Followee: ids[0] + 1000, At: now}}); err == nil {
			t.Error("LoadFollows of a missing user succeeded")
		}
		// A follow loaded twice is one follow.
		taken, err := s.UserByLogin(t.Context(), "taken")
		if err != nil {
			t.Fatal(err)
		}
		f := []seed.Follow{{Follower: ids[0], Followee: taken.ID, At: now}}
		for range 2 {
			if err := s.LoadFollows(t.Context(), f); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // FinishLoad may run any number of times
			if err := s.FinishLoad(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		u, err := s.User(t.Context(), taken.ID)
		if err != nil || u.Followers != 1 {
			t.Fatalf("followee after a follow loaded twice: %+v, %v; want 1 follower", u, err)
		}
	})
}
