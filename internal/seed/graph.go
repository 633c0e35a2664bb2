package seed

import (
	"math"
	"math/rand/v2"
	"slices"
)

// The follow graph is heavy-tailed on both sides, as real ones are:
//
//   - How many accounts a user follows is drawn from a Pareto distribution
//     with tail index 1.5 (a few users follow thousands, most follow a few
//     dozen), capped and scaled so that the mean is about the requested
//     FollowsPerUser.
//   - Whom a user follows is drawn from a Zipf distribution over the users
//     ranked by a random permutation, so a few accounts collect a large
//     share of all follows and the median account has few followers.
const (
	// zipfExponent is s in P(rank k) ∝ (v + k)^-s; just above 1, which is
	// what follower counts of real networks come close to (Go's Zipf
	// needs s > 1).
	zipfExponent = 1.1
	// degreeTail is the Pareto tail index of out-degrees; with 1.5 the mean
	// is finite and the variance is not.
	degreeTail = 1.5
	// degreeCapFactor caps an out-degree at this many times the mean.
	degreeCapFactor = 20
)

// generator draws the follow graph of n users, indexed 0..n-1.
type generator struct {
	n    int
	rng  *rand.Rand
	zipf *rand.Zipf
	// byRank maps a Zipf rank to a user index, so that popularity is not
	// tied to the order in which users were created.
	byRank []int32

	mean      int
	degreeCap int
	xmin      float64 // Pareto scale giving the capped mean

	seen map[int32]struct{} // reused across users by followees
}

// newGenerator prepares the distributions for n users following about mean
// accounts each.
func newGenerator(n, mean int, seed uint64) *generator {
	g := &generator{
		n:    n,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		mean: mean,
		seen: make(map[int32]struct{}),
	}
	if n < 2 || mean <= 0 {
		return g
	}
	g.byRank = make([]int32, n)
	for i := range g.byRank {
		g.byRank[i] = int32(i)
	}
	g.rng.Shuffle(n, func(i, j int) { g.byRank[i], g.byRank[j] = g.byRank[j], g.byRank[i] })
	// The offset v = mean flattens the very top of the ranking, so that the
	// most followed accounts get a tenth or so of all users rather than
	// every one of them, whatever the mean.
	g.zipf = rand.NewZipf(g.rng, zipfExponent, float64(max(1, mean)), uint64(n-1))
	// At most half the other users, so that drawing distinct followees
	// always finishes quickly.
	g.degreeCap = min(degreeCapFactor*mean, (n-1)/2)
	if g.degreeCap >= 2*mean {
		g.xmin = paretoScale(float64(mean), float64(g.degreeCap))
	}
	return g
}

// paretoScale returns the scale xmin of a Pareto distribution with tail
// index 1.5 whose mean, once capped at c, is m:
// E[min(X, c)] = 3·xmin − 2·xmin^1.5/√c, increasing in xmin.
func paretoScale(m, c float64) float64 {
	mean := func(x float64) float64 { return 3*x - 2*math.Pow(x, 1.5)/math.Sqrt(c) }
	lo, hi := m/3, m
	for range 60 {
		mid := (lo + hi) / 2
		if mean(mid) < m {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// degree draws how many accounts one user follows. When the graph is too
// small for a heavy tail (the cap under twice the mean), everyone follows
// the mean, or as many as there are.
func (g *generator) degree() int {
	if g.zipf == nil {
		return 0
	}
	if g.xmin == 0 {
		return min(g.mean, g.degreeCap)
	}
	u := 1 - g.rng.Float64() // in (0, 1]
	x := g.xmin * math.Pow(u, -1/degreeTail)
	return int(math.Min(math.Round(x), float64(g.degreeCap)))
}

// degrees draws the out-degree of every user up front, so that the total
// number of follows is known before any is loaded.
func (g *generator) degrees() []int32 {
	d := make([]int32, g.n)
	for i := range d {
		d[i] = int32(g.degree())
	}
	return d
}

// followees appends to out k distinct user indices other than self, drawn
// by popularity, sorted (so that an engine inserts each user's follows in
// key order). After many repeats of popular accounts it falls back to
// uniform draws, which finish quickly because k is at most half the users.
func (g *generator) followees(self int32, k int, out []int32) []int32 {
	clear(g.seen)
	g.seen[self] = struct{}{}
	start := len(out)
	zipfTries := 8*k + 64
	for tries := 0; len(out)-start < k; tries++ {
		var c int32
		if tries < zipfTries {
			c = g.byRank[g.zipf.Uint64()]
		} else {
			c = int32(g.rng.IntN(g.n))
		}
		if _, dup := g.seen[c]; dup {
			continue
		}
		g.seen[c] = struct{}{}
		out = append(out, c)
	}
	slices.Sort(out[start:])
	return out
}
