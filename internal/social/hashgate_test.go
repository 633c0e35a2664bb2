package social

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitUntil polls cond; patience is a guard against hanging, not a speed
// requirement.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (g *hashGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queued
}

// One client sending a burst of logins cannot queue another client's login
// behind the whole burst: its logins past HashQueuePerClient are refused
// with ErrBusy at once, and a freed slot goes to each waiting client in
// turn, so the other client's login is among the next two hashed. Before
// the queue was shared fairly, the other login waited for the whole burst.
func TestHashingIsSharedFairly(t *testing.T) {
	svc, _ := newCredentialService(t, time.Now())
	const perClient = 4
	svc.hashSlots = newHashGate(hashConcurrency(), 64, perClient, time.Minute)
	release := make(chan struct{})
	var mu sync.Mutex
	var hashed []string // passwords in the order their hash started
	svc.checkPassword = func(hash, pw string) bool {
		mu.Lock()
		hashed = append(hashed, pw)
		mu.Unlock()
		<-release
		return false
	}
	started := func() int { mu.Lock(); defer mu.Unlock(); return len(hashed) }

	attacker := WithClient(context.Background(), "198.51.100.7")
	const burst = 30
	var wg sync.WaitGroup
	var busyMu sync.Mutex
	busy := 0
	for i := range burst {
		wg.Go(func() {
			_, _, err := svc.Login(attacker, "ada", fmt.Sprint("guess ", i))
			if errors.Is(err, ErrBusy) {
				busyMu.Lock()
				busy++
				busyMu.Unlock()
			}
		})
	}
	slots := hashConcurrency()
	waitUntil(t, "the burst fills every slot and its queue", func() bool {
		busyMu.Lock()
		defer busyMu.Unlock()
		return started() == slots && svc.hashSlots.waiting() == perClient && busy == burst-slots-perClient
	})

	victim := WithClient(context.Background(), "203.0.113.9")
	var victimErr error
	wg.Go(func() { _, _, victimErr = svc.Login(victim, "ada", "victim's password") })
	waitUntil(t, "the victim's login queues", func() bool { return svc.hashSlots.waiting() == perClient+1 })

	// One hash at a time ends, and the slot it frees is given before the
	// next ends, so the order hashes start in is the order slots were
	// given in.
	for i := range perClient + 1 {
		release <- struct{}{}
		waitUntil(t, "a freed slot is taken", func() bool { return started() == slots+i+1 })
	}
	close(release)
	wg.Wait()
	if !errors.Is(victimErr, ErrInvalidCredentials) {
		t.Fatalf("the victim's login: %v, want ErrInvalidCredentials (wrong password, but served)", victimErr)
	}
	after := slices.Index(hashed, "victim's password") - slots
	if after < 0 || after > 1 {
		t.Fatalf("the victim's login was hashed after %d queued attacker logins, want at most 1 (order %q)", after, hashed)
	}
	if busy != burst-slots-perClient {
		t.Fatalf("%d of the burst were refused as busy, want %d", busy, burst-slots-perClient)
	}
}

// A wait for a slot is bounded: past HashWait the call fails with ErrBusy,
// and leaves the queue.
func TestHashingWaitIsBounded(t *testing.T) {
	svc, _ := newCredentialService(t, time.Now())
	svc.hashSlots = newHashGate(1, 64, 4, 50*time.Millisecond)
	release := make(chan struct{})
	svc.checkPassword = func(hash, pw string) bool { <-release; return false }
	done := make(chan struct{})
	go func() { svc.Login(context.Background(), "ada", "holds the slot"); close(done) }()
	waitUntil(t, "the slot is taken", func() bool {
		svc.hashSlots.mu.Lock()
		defer svc.hashSlots.mu.Unlock()
		return svc.hashSlots.running == 1
	})
	// Known, unknown and impossible logins alike: an unknown login
	// refused as invalid while a known one is busy would tell them apart.
	for _, login := range []string{"ada", "nobody", "not a login!"} {
		if _, _, err := svc.Login(WithClient(context.Background(), "a"), login, "waits"); !errors.Is(err, ErrBusy) {
			t.Fatalf("login %q that waited past HashWait: %v, want ErrBusy", login, err)
		}
	}
	if n := svc.hashSlots.waiting(); n != 0 {
		t.Fatalf("%d waiters left in the queue, want 0", n)
	}
	close(release)
	<-done
}
