package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"starling/internal/social"
)

// A server told to stop answers the long polls it holds at once, with no
// messages, rather than waiting for them (or its shutdown timeout).
func TestRunAnswersHeldPollsOnShutdown(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	s, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), ShutdownTimeout: time.Minute,
		Password: social.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}}, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	base := "http://" + s.Addr().String() + "/api/starling/v1/rooms/lobby/messages"
	res, err := http.Post(base, "application/json", strings.NewReader(`{"body":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ ID string }
	json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()

	answered := make(chan string, 1)
	go func() {
		res, err := http.Get(base + "?wait=60&cursor=" + m.ID)
		if err != nil {
			answered <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answered <- string(body)
	}()
	for deadline := time.Now().Add(20 * time.Second); s.rooms.Waiters() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the poll was never held")
		}
	}
	stop()
	if got, want := <-answered, `{"messages":[],"cursor":"`+m.ID+`"}`+"\n"; got != want {
		t.Fatalf("held poll answered %q at shutdown, want %q", got, want)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
