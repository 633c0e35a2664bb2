package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fanout scenario checks the sample in rounds: every sampled home is
// read once per round until it holds the status. The fake server shows the
// status to follower i on its (i%3+1)-th read, so the run takes exactly
// three rounds, whatever the timing, and every follower is read once per
// round until it has the status.
func TestFanoutChecksTheSampleInRounds(t *testing.T) {
	const sampled = 30
	var mu sync.Mutex
	reads := map[string]int{} // guarded by mu
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/starling/v1/statuses":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id":7}`)
		case r.Method == "GET" && r.URL.Path == "/api/starling/v1/timelines/home":
			var i int
			fmt.Sscanf(token, "follower%d", &i)
			mu.Lock()
			reads[token]++
			n := reads[token]
			mu.Unlock()
			if n >= i%3+1 {
				fmt.Fprint(w, `[{"id":7}]`)
				return
			}
			fmt.Fprint(w, `[]`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	m := Manifest{Celebrity: Account{"celebrity", "celebrity"}, Followers: 1000}
	for i := range sampled {
		m.Sample = append(m.Sample, Account{fmt.Sprintf("u%d", i), fmt.Sprintf("follower%d", i)})
	}
	b, _ := json.Marshal(m)
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Run(t.Context(), "fanout", Options{URL: srv.URL, Clients: 4, Duration: time.Minute, Manifest: path})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != sampled || r.Errors != 0 {
		t.Fatalf("%d seen, %d errors (%v); want %d and 0", r.Requests, r.Errors, r.ErrorsByKind, sampled)
	}
	if r.Extra["rounds"] != 3 {
		t.Errorf("rounds = %v, want 3", r.Extra["rounds"])
	}
	if r.Extra["measurement_floor_ms"] <= 0 || r.Extra["round_ms_mean"] <= 0 {
		t.Errorf("floor %v ms, round %v ms; want both reported", r.Extra["measurement_floor_ms"], r.Extra["round_ms_mean"])
	}
	if r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("latency %+v not in order", r.Latency)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range sampled {
		if got, want := reads[fmt.Sprintf("follower%d", i)], i%3+1; got != want {
			t.Errorf("follower%d read %d times, want %d (once a round until seen)", i, got, want)
		}
	}
}
