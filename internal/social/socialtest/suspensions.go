package socialtest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"starling/internal/events"
	"starling/internal/social"
)

var suspensionTests = []suiteTest{
	{"SuspendAndRestore", testSuspendAndRestore},
	{"SuspensionSeenByAnotherService", testSuspensionSeenElsewhere},
	{"SuspendedStatusesLeaveTimelineEvents", testSuspendedLeaveEvents},
}

// A fan-out that delivers a suspended user's status publishes no timeline
// event for it, so live home and list streams do not show it.
func testSuspendedLeaveEvents(t *testing.T, newEngine Engine) {
	bus := events.NewMemory(events.MemoryOptions{})
	t.Cleanup(func() { bus.Close() })
	e := newEnv(t, newEngine, func(c *social.Config) { c.Bus = bus })
	ada, bob, cy := e.register("ada"), e.register("bob"), e.register("cy")
	e.follow(cy, ada)
	e.follow(cy, bob)
	e.drain()
	got := make(chan social.StatusID, 16)
	unsubscribe, err := bus.Subscribe(events.TimelineDelivered, func(ev events.Event) {
		var te social.TimelineEvent
		if json.Unmarshal(ev.Data, &te) == nil {
			got <- te.Status.ID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	hidden := e.post(ada, "posted, then suspended")
	if _, err := e.svc.Suspend(e.ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	e.drain()
	shown := e.post(bob, "after")
	e.drain()
	for {
		select {
		case id := <-got:
			if id == hidden.ID {
				t.Fatalf("a timeline event carried suspended ada's status %d", id)
			}
			if id == shown.ID {
				return
			}
		case <-time.After(patience):
			t.Fatalf("no timeline event for bob's status within %v", patience)
		}
	}
}

// A suspended user cannot sign in and their tokens are refused; their
// statuses leave timelines and status reads; restoring brings all back.
func testSuspendAndRestore(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine)
	ada, bob := e.register("ada"), e.register("bob")
	e.follow(bob, ada)
	token, _, err := e.svc.Login(e.ctx, "ada", password("ada"))
	if err != nil {
		t.Fatal(err)
	}
	st := e.post(ada, "before the suspension")
	own := e.post(bob, "bob's own")
	e.drain()

	if _, err := e.svc.Suspend(e.ctx, "nobody"); !errors.Is(err, social.ErrUserNotFound) {
		t.Fatalf("Suspend of no user: %v, want ErrUserNotFound", err)
	}
	if err := e.store.SetSuspended(e.ctx, 1<<40, true); !errors.Is(err, social.ErrUserNotFound) {
		t.Fatalf("SetSuspended of no user: %v, want ErrUserNotFound", err)
	}
	for range 2 { // twice is no error
		if _, err := e.svc.Suspend(e.ctx, "ADA"); err != nil {
			t.Fatalf("Suspend: %v", err)
		}
	}
	ids, err := e.store.SuspendedUsers(e.ctx)
	if err != nil || !slices.Equal(ids, []social.UserID{ada.ID}) {
		t.Fatalf("SuspendedUsers: %v, %v; want [%d]", ids, err, ada.ID)
	}
	if _, _, err := e.svc.Login(e.ctx, "ada", password("ada")); !errors.Is(err, social.ErrSuspended) {
		t.Fatalf("Login of a suspended user: %v, want ErrSuspended", err)
	}
	if _, _, err := e.svc.Login(e.ctx, "ada", "wrong password"); !errors.Is(err, social.ErrInvalidCredentials) {
		t.Fatalf("Login of a suspended user with a wrong password: %v, want ErrInvalidCredentials (no word of the suspension)", err)
	}
	if _, err := e.svc.Caller(e.ctx, token); !errors.Is(err, social.ErrInvalidToken) {
		t.Fatalf("Caller with a suspended user's token: %v, want ErrInvalidToken", err)
	}
	if _, err := e.svc.Status(e.ctx, st.ID); !errors.Is(err, social.ErrStatusNotFound) {
		t.Fatalf("Status of a suspended user: %v, want ErrStatusNotFound", err)
	}
	home := e.statusIDs(social.HomeOf(bob.ID))
	if !slices.Equal(home, []social.StatusID{own.ID}) {
		t.Fatalf("bob's home with ada suspended: %v, want only [%d]", home, own.ID)
	}
	if got := e.statusIDs(social.ProfileOf(ada.ID)); len(got) != 0 {
		t.Fatalf("ada's profile while suspended: %v, want none", got)
	}

	if _, err := e.svc.Restore(e.ctx, "ada"); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if ids, err := e.store.SuspendedUsers(e.ctx); err != nil || len(ids) != 0 {
		t.Fatalf("SuspendedUsers after Restore: %v, %v; want none", ids, err)
	}
	if _, err := e.svc.Caller(e.ctx, token); err != nil {
		t.Fatalf("Caller after Restore: %v", err)
	}
	if got := e.statusIDs(social.HomeOf(bob.ID)); !slices.Equal(got, []social.StatusID{own.ID, st.ID}) {
		t.Fatalf("bob's home after Restore: %v, want [%d %d]", got, own.ID, st.ID)
	}
}

// A suspension made through one Service reaches another over the same
// store once its set is stale (here at once: the cache is off).
func testSuspensionSeenElsewhere(t *testing.T, newEngine Engine) {
	e := newEnv(t, newEngine, func(c *social.Config) { c.SessionCacheTTL = -1 })
	ada := e.register("ada")
	st := e.post(ada, "hello")
	other, err := social.NewService(e.store, social.Config{SessionCacheTTL: -1, Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Status(e.ctx, st.ID); err != nil {
		t.Fatalf("Status: %v", err)
	}
	if _, err := e.svc.Suspend(e.ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Status(e.ctx, st.ID); !errors.Is(err, social.ErrStatusNotFound) {
		t.Fatalf("Status through another Service after the suspension: %v, want ErrStatusNotFound", err)
	}
}

// statusIDs reads a timeline through the Service, newest first.
func (e *env) statusIDs(tl social.Timeline) []social.StatusID {
	e.t.Helper()
	sts, err := e.svc.Timeline(e.ctx, tl, social.Page{Count: all})
	if err != nil {
		e.t.Fatalf("Timeline(%v): %v", tl, err)
	}
	ids := make([]social.StatusID, len(sts))
	for i, st := range sts {
		ids[i] = st.ID
	}
	return ids
}
