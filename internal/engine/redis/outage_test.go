package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"starling/internal/engine/redis/redistest"
	"starling/internal/jobs"
	"starling/internal/social"
)

// TestUnavailable stops the server under an open engine: every kind of call
// fails with social.ErrUnavailable, and the engine recovers, scripts and
// consumer group included, once a server is back on the same address.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	e := openAt(t, srv.URL(), Options{Prefix: redistest.Prefix(t), IOTimeout: 2 * time.Second, TimelineSize: testH})
	ctx := t.Context()
	u := mustUser(t, e, "survivor")
	mustPost(t, e, u, "before the outage")

	srv.Stop()
	calls := map[string]func() error{
		"Ping": func() error { return e.Ping(ctx) },
		"User": func() error { _, err := e.User(ctx, u.ID); return err },
		"CreateUser": func() error {
			_, err := e.CreateUser(ctx, social.NewUser{Login: "late", Name: "l", PasswordHash: "h", Signup: time.Now()})
			return err
		},
		"CreateStatus": func() error {
			_, err := e.CreateStatus(ctx, social.NewStatus{UID: u.ID, Message: "m", Posted: time.Now()}, noJob)
			return err
		},
		"TimelineIDs": func() error { _, err := e.TimelineIDs(ctx, social.HomeOf(u.ID), social.Page{Count: 10}); return err },
		"Enqueue":     func() error { return e.Enqueue(ctx, jobs.NewJob{Kind: "k"}) },
		"Claim": func() error {
			_, err := e.Claim(ctx, jobs.Claim{Consumer: "w", Max: 1, Lease: time.Minute, Wait: 50 * time.Millisecond})
			return err
		},
		"Stats": func() error { _, err := e.Stats(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, social.ErrUnavailable) {
			t.Errorf("%s with the server stopped: got %v, want ErrUnavailable", name, err)
		}
	}

	if err := srv.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for e.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("engine did not reconnect to the restarted server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The restarted server is empty: scripts and the consumer group are
	// gone and come back on first use.
	back := mustUser(t, e, "back")
	mustPost(t, e, back, "after the outage")
	if j := claimEventually(t, e, "w", time.Minute); j.Kind != "test.noop" {
		t.Fatalf("job after the outage: got kind %q", j.Kind)
	}
}

// TestUnresponsiveServer pauses the server: the call times out with
// ErrUnavailable instead of hanging.
func TestUnresponsiveServer(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	e := openAt(t, srv.URL(), Options{Prefix: redistest.Prefix(t), IOTimeout: 300 * time.Millisecond, TimelineSize: testH})
	u := mustUser(t, e, "patient")
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	_, err := e.User(context.Background(), u.ID)
	if resumeErr := srv.Resume(); resumeErr != nil {
		t.Fatal(resumeErr)
	}
	if !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("User while the server is paused: got %v, want ErrUnavailable", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	url := srv.URL()
	srv.Stop()
	_, err := Open(t.Context(), url, Options{DialTimeout: time.Second}, nil)
	if !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Open of a stopped server: got %v, want ErrUnavailable", err)
	}
}
