package stream

import "hash/fnv"

// KeepSet is the residues (status id mod 100) a sample stream sends.
type KeepSet [100]bool

// SampleKeepSet returns the first max(percent, 1) numbers of a permutation
// of 0..99 derived from identifier alone: FNV-1a seeds splitmix64, which
// drives a Fisher–Yates shuffle. Everything is spelled out here rather than
// taken from math/rand, so the set is the same on every process, after
// every restart and in every Go release.
func SampleKeepSet(identifier string, percent int) KeepSet {
	h := fnv.New64a()
	h.Write([]byte(identifier))
	state := h.Sum64()
	var perm [100]uint8
	for i := range perm {
		perm[i] = uint8(i)
	}
	for i := len(perm) - 1; i > 0; i-- {
		j := uniform(&state, uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	var ks KeepSet
	for _, r := range perm[:min(max(percent, 1), 100)] {
		ks[r] = true
	}
	return ks
}

// splitmix64 advances state and returns the next number of the sequence.
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a number in [0, n) without modulo bias, by rejection.
func uniform(state *uint64, n uint64) uint64 {
	limit := ^uint64(0) - ^uint64(0)%n
	for {
		if v := splitmix64(state); v < limit {
			return v % n
		}
	}
}

// Keeps reports whether the set sends status id.
func (k *KeepSet) Keeps(id int64) bool {
	r := id % 100
	if r < 0 {
		r = -r
	}
	return k[r]
}
