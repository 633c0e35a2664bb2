package jobstest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"starling/internal/jobs"
)

// kindRow is what the suite compares of a jobs.KindStats: the counts, and
// whether the oldest ready job's time is set.
type kindRow struct {
	Kind                         string
	Ready, Delayed, Leased, Dead int64
	HasOldest                    bool
}

func kindRows(ks []jobs.KindStats) []kindRow {
	rows := make([]kindRow, 0, len(ks))
	for _, k := range ks {
		rows = append(rows, kindRow{k.Kind, k.Ready, k.Delayed, k.Leased, k.Dead, !k.OldestReady.IsZero()})
	}
	return rows
}

func wantKinds(t *testing.T, q jobs.Queue, want ...kindRow) []jobs.KindStats {
	t.Helper()
	ks := statsByKind(t, q)
	if got := kindRows(ks); !slices.Equal(got, want) {
		t.Fatalf("StatsByKind:\n got %+v\nwant %+v", got, want)
	}
	return ks
}

// testStatsByKind follows jobs of three kinds through every state: the
// counts are by kind, in the order of the kinds' names, with the rules of
// Stats (a delayed job whose time has come and a leased one whose lease ran
// out are ready), and each kind tells when its longest-waiting ready job
// became runnable.
func testStatsByKind(t *testing.T, q jobs.Queue) {
	wantKinds(t, q)
	before := time.Now().Add(-clockSlack)
	enqueue(t, q, newJob("k.b", "b1"), newJob("k.b", "b2"),
		jobs.NewJob{Kind: "k.a", Payload: []byte("a1"), RunAt: time.Now().Add(time.Hour)})
	ks := wantKinds(t, q,
		kindRow{Kind: "k.a", Delayed: 1},
		kindRow{Kind: "k.b", Ready: 2, HasOldest: true})
	if o := ks[1].OldestReady; o.Before(before.Add(-time.Second)) || o.After(time.Now().Add(time.Second)) {
		t.Fatalf("StatsByKind: k.b's oldest ready job became runnable at %v, want about %v", o, before)
	}

	// One k.b job leased and buried, the other leased for a moment.
	buried := claimMax1(t, q, "c", longLease)
	wantKinds(t, q, kindRow{Kind: "k.a", Delayed: 1}, kindRow{Kind: "k.b", Ready: 1, Leased: 1, HasOldest: true})
	if err := q.Bury(t.Context(), buried, "broken"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	wantKinds(t, q, kindRow{Kind: "k.a", Delayed: 1}, kindRow{Kind: "k.b", Ready: 1, Dead: 1, HasOldest: true})
	claimMax1(t, q, "dies", shortLease)
	// Once the lease runs out the job is ready again; a slow machine may
	// already be past it when this first looks.
	eventually(t, "the expired lease to count as ready", func() bool {
		got := kindRows(statsByKind(t, q))
		return slices.Equal(got, []kindRow{{Kind: "k.a", Delayed: 1}, {Kind: "k.b", Ready: 1, Dead: 1, HasOldest: true}})
	})
	j := claimOne(t, q, "survivor", longLease)
	if err := q.Complete(t.Context(), j); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantKinds(t, q, kindRow{Kind: "k.a", Delayed: 1}, kindRow{Kind: "k.b", Dead: 1})

	// A delayed job whose time has come is ready before any claim moves it.
	enqueue(t, q, jobs.NewJob{Kind: "k.c", Payload: []byte("c1"), RunAt: time.Now().Add(shortLease)})
	eventually(t, "the delayed job to count as ready once due", func() bool {
		got := kindRows(statsByKind(t, q))
		return slices.Equal(got, []kindRow{{Kind: "k.a", Delayed: 1}, {Kind: "k.b", Dead: 1}, {Kind: "k.c", Ready: 1, HasOldest: true}})
	})
	wantStats(t, q, jobs.Stats{Ready: 1, Delayed: 1, Dead: 1})

	// A retry counts as delayed under its kind, and kinds without jobs
	// leave the list.
	j = claimOne(t, q, "c", longLease)
	if j.Kind != "k.c" {
		t.Fatalf("Claim: got kind %q, want k.c", j.Kind)
	}
	if err := q.Retry(t.Context(), j, time.Now().Add(time.Hour), "later"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	wantKinds(t, q, kindRow{Kind: "k.a", Delayed: 1}, kindRow{Kind: "k.b", Dead: 1}, kindRow{Kind: "k.c", Delayed: 1})
	if !slices.IsSortedFunc(statsByKind(t, q), func(a, b jobs.KindStats) int { return strings.Compare(a.Kind, b.Kind) }) {
		t.Fatal("StatsByKind: kinds out of order")
	}
}

// claimMax1 claims one job of several ready.
func claimMax1(t *testing.T, q jobs.Queue, consumer string, lease time.Duration) jobs.Job {
	t.Helper()
	got := claim(t, q, consumer, 1, lease)
	if len(got) != 1 {
		t.Fatalf("Claim(%s, Max 1) returned %d jobs, want 1", consumer, len(got))
	}
	return got[0]
}
