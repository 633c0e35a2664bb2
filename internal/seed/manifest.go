package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"starling/internal/social"
)

// loginWorkers is how many logins LogIn runs at once; each is a
// cheap hash check and one store write, so a few hide the round trips.
const loginWorkers = 8

// Account is a synthetic user with a fresh session token.
type Account struct {
	Login string
	Token string
}

// Sessions are the accounts a fan-out benchmark acts as: the celebrity,
// who posts, and a sample of its followers, whose home timelines it reads.
type Sessions struct {
	Celebrity Account
	Followers int // how many the celebrity has
	Sample    []Account
}

// LogIn logs in, through svc, as the celebrity and as a uniform random
// sample of sample of its followers (all of them when sample is zero or at
// least their number), with the password every synthetic user shares. The
// same seed picks the same sample.
func LogIn(ctx context.Context, svc *social.Service, g Graph, password string, sample int, seed uint64) (Sessions, error) {
	m := Sessions{Followers: g.CelebrityFollowers}
	token, _, err := svc.Login(ctx, g.CelebrityLogin, password)
	if err != nil {
		return Sessions{}, fmt.Errorf("seed: logging in as %s: %w", g.CelebrityLogin, err)
	}
	m.Celebrity = Account{Login: g.CelebrityLogin, Token: token}

	// The celebrity's followers are u1..uF; pick sample of the ks.
	ks := make([]int, g.CelebrityFollowers)
	for i := range ks {
		ks[i] = i + 1
	}
	if sample > 0 && sample < len(ks) {
		rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
		// A partial Fisher–Yates shuffle: the first sample entries are a
		// uniform sample without replacement.
		for i := range sample {
			j := i + rng.IntN(len(ks)-i)
			ks[i], ks[j] = ks[j], ks[i]
		}
		ks = ks[:sample]
	}
	m.Sample = make([]Account, len(ks))
	errs := make([]error, len(ks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(loginWorkers, len(ks)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ks) || ctx.Err() != nil {
					return
				}
				login := UserLogin(ks[i])
				token, _, err := svc.Login(ctx, login, password)
				if err != nil {
					errs[i] = fmt.Errorf("seed: logging in as %s: %w", login, err)
					return
				}
				m.Sample[i] = Account{Login: login, Token: token}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Sessions{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return Sessions{}, fmt.Errorf("seed: logging in: %w", err)
	}
	return m, nil
}
