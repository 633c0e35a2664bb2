package socialtest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/events"
	"starling/internal/jobs"
	"starling/internal/social"
)

// testDeliveredEventsLeaveOutUnfollowers runs a fan-out planned while a fan
// followed the star, whose deliveries run after the fan unfollowed: the
// timeline.delivered events name the homes the status went into, so the
// unfollower's is in none of them, and a delivery whose only home was the
// unfollower's publishes no event at all. Chunks of one timeline make the
// plan a job per follower and one for the list.
func testDeliveredEventsLeaveOutUnfollowers(t *testing.T, newEngine Engine) {
	bus := &recordingBus{}
	e := newEnv(t, newEngine, func(c *social.Config) {
		c.Bus = bus
		c.FanoutChunk = 1
	})
	star, owner := e.register("star"), e.register("owner")
	gone, stays := e.register("gone"), e.register("stays")
	e.follow(gone, star)
	e.follow(stays, star)
	l := e.createList(owner, "stars")
	e.addMember(owner, l, star)
	e.drain()

	s := e.post(star, "planned for both fans").ID
	plan := jobs.NewRunner(&claimBudget{Queue: e.queue, left: 1}, jobs.RunnerConfig{Consumer: "planner", Lease: time.Minute}, e.runnerLog())
	e.svc.RegisterJobs(plan)
	if err := plan.Drain(e.ctx); err != nil {
		t.Fatalf("Drain of the planning job: %v", err)
	}
	e.unfollow(gone, star)
	e.drain()

	var homes, lists []int64
	for _, ev := range bus.delivered(t) {
		if ev.Status.ID != s {
			continue
		}
		if len(ev.Homes)+len(ev.Lists) == 0 {
			t.Fatalf("an event of status %d names no timeline: %+v", s, ev)
		}
		homes = append(homes, ev.Homes...)
		lists = append(lists, ev.Lists...)
	}
	slices.Sort(homes)
	if want := []int64{int64(stays.ID)}; !slices.Equal(homes, want) {
		t.Fatalf("homes in the events of status %d: got %v, want %v (the unfollower %d left out)", s, homes, want, gone.ID)
	}
	if want := []int64{int64(l.ID)}; !slices.Equal(lists, want) {
		t.Fatalf("lists in the events of status %d: got %v, want %v", s, lists, want)
	}
	if got := count(e.raw(social.HomeOf(gone.ID)), s); got != 0 {
		t.Fatalf("status %d is in the unfollower's home", s)
	}
}

// recordingBus keeps what is published to it; nothing subscribes.
type recordingBus struct {
	mu        sync.Mutex // guards published
	published []events.Event
}

func (b *recordingBus) Publish(ctx context.Context, ev events.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.published = append(b.published, ev)
	return nil
}

func (b *recordingBus) Subscribe(pattern string, h events.Handler) (func(), error) {
	return func() {}, nil
}

func (b *recordingBus) Dropped() uint64 { return 0 }

// delivered decodes the timeline.delivered events published so far.
func (b *recordingBus) delivered(t *testing.T) []social.TimelineEvent {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []social.TimelineEvent
	for _, ev := range b.published {
		if ev.Topic != events.TimelineDelivered {
			continue
		}
		var te social.TimelineEvent
		if err := json.Unmarshal(ev.Data, &te); err != nil {
			t.Fatalf("a %s event: %v", ev.Topic, err)
		}
		out = append(out, te)
	}
	return out
}
