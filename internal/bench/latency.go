package bench

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// maxSamples bounds the memory a recorder uses; past it, samples are kept by
// reservoir sampling so percentiles stay unbiased.
const maxSamples = 2_000_000

// recorder collects latencies, and the kinds of failures, from many
// goroutines.
type recorder struct {
	mu      sync.Mutex // guards the fields below
	samples []time.Duration
	seen    int64
	errors  int64
	kinds   map[string]int64 // failures by errorKind
	notes   []string         // what the report should say about the failures, once each
	rng     uint64
}

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, d)
		return
	}
	r.rng = r.rng*6364136223846793005 + 1442695040888963407
	if i := int64(r.rng>>1) % r.seen; i < maxSamples {
		r.samples[i] = d
	}
}

// addAll adds several samples under one lock.
func (r *recorder) addAll(ds []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		r.seen++
		if len(r.samples) < maxSamples {
			r.samples = append(r.samples, d)
			continue
		}
		r.rng = r.rng*6364136223846793005 + 1442695040888963407
		if i := int64(r.rng>>1) % r.seen; i < maxSamples {
			r.samples[i] = d
		}
	}
}

// fail counts a failed request by its kind; a 429 also leaves a note
// naming the flag that sets the limit.
func (r *recorder) fail(err error) {
	kind := errorKind(err)
	var note string
	if rl, ok := rateLimited(err); ok {
		note = rateLimitNote(rl)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors++
	if r.kinds == nil {
		r.kinds = make(map[string]int64)
	}
	r.kinds[kind]++
	if note != "" && !slices.Contains(r.notes, note) {
		r.notes = append(r.notes, note)
	}
}

// failures returns the failures by kind and the notes about them.
func (r *recorder) failures() (map[string]int64, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.kinds), slices.Clone(r.notes)
}

func (r *recorder) counts() (ok, failed int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen, r.errors
}

// Latency summarizes a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

func (r *recorder) summary() Latency {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	if len(s) == 0 {
		return Latency{}
	}
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return ms(s[i])
	}
	return Latency{P50: at(0.50), P99: at(0.99), P999: at(0.999), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
