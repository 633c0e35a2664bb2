package redis

import (
	"strings"
	"sync"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
)

// commandLog records what an engine's ObserveCommand is told.
type commandLog struct {
	mu   sync.Mutex // guards seen
	seen map[string]int
}

func (l *commandLog) observe(command string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d < 0 {
		command = "negative " + command
	}
	l.seen[command]++
}

func (l *commandLog) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.seen
	l.seen = map[string]int{}
	return seen
}

// The engine's commands are observed by verb, one observation per round
// trip; a command that blocks waiting for data is not.
func TestObservedCommands(t *testing.T) {
	t.Parallel()
	log := &commandLog{seen: map[string]int{}}
	e := openAt(t, redistest.Shared(t), Options{Prefix: redistest.Prefix(t), ObserveCommand: log.observe})
	ctx := t.Context()
	if seen := log.take(); seen["INFO"] != 1 {
		t.Fatalf("Open: observed %v, want its INFO among them", seen)
	}

	if err := e.Enqueue(ctx, jobs.NewJob{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	// rueidis sends EVALSHA, and EVAL after a NOSCRIPT answer.
	if seen := log.take(); seen["EVALSHA"]+seen["EVAL"] < 1 || seen["EVALSHA"]+seen["EVAL"] > 2 {
		t.Fatalf("Enqueue: observed %v, want the script", seen)
	}
	claimN(t, e, "w", time.Minute)
	log.take()

	// Nothing is ready: the claim runs its script, then blocks in XREAD
	// until the wait is over.
	got, err := e.Claim(ctx, jobs.Claim{Consumer: "w", Max: 1, Wait: 50 * time.Millisecond})
	if err != nil || len(got) != 0 {
		t.Fatalf("waiting Claim: %v, %v; want nothing", got, err)
	}
	seen := log.take()
	if seen["XREAD"] != 0 {
		t.Errorf("waiting Claim: observed %v; a blocking XREAD is no round trip to time", seen)
	}
	if seen["EVALSHA"]+seen["EVAL"] < 1 {
		t.Errorf("waiting Claim: observed %v, want its script", seen)
	}

	// A pipeline is one round trip, named by its verb when all share one.
	c := e.client
	c.DoMulti(ctx, c.B().Zadd().Key(e.key("t:a")).ScoreMember().ScoreMember(1, "a").Build(), c.B().Zadd().Key(e.key("t:b")).ScoreMember().ScoreMember(1, "b").Build())
	c.DoMulti(ctx, c.B().Zcard().Key(e.key("t:a")).Build(), c.B().Get().Key(e.key("t:c")).Build())
	if seen := log.take(); seen["ZADD"] != 1 || seen["PIPELINE"] != 1 || len(seen) != 2 {
		t.Errorf("two pipelines: observed %v, want ZADD 1 and PIPELINE 1", seen)
	}
}

// An engine opened without ObserveCommand talks to rueidis directly.
func TestUnobservedClientIsRueidis(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	if _, ok := e.client.(*observedClient); ok {
		t.Fatal("the client is wrapped although nothing observes it")
	}
}

func TestCommandName(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{[]string{"EVALSHA", "abc", "1", "key"}, "EVALSHA"},
		{[]string{"EVALSHA_RO"}, "EVALSHA_RO"},
		{[]string{"xgroup", "create", "k"}, "XGROUP"},
		{[]string{"ZADD", "starling:home:1", "1", "1"}, "ZADD"},
		{nil, "OTHER"},
		{[]string{""}, "OTHER"},
		{[]string{"starling:home:1"}, "OTHER"},
		{[]string{"DROP TABLE"}, "OTHER"},
		{[]string{strings.Repeat("A", maxCommandName+1)}, "OTHER"},
	} {
		if got := commandName(tc.parts); got != tc.want {
			t.Errorf("commandName(%q): got %q, want %q", tc.parts, got, tc.want)
		}
	}
}
