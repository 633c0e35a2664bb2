package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"starling/internal/engine/redis/redistest"
)

type chatMessage struct {
	ID    string `json:"id"`
	Body  string `json:"body"`
	Login string `json:"login"`
}

type chatPage struct {
	Messages []chatMessage `json:"messages"`
	Cursor   string        `json:"cursor"`
}

// TestChatAcrossProcesses runs two API processes on one Redis: messages
// posted through both reach a reader of either, once and in order, a
// reader held on one is released by a post on the other.
func TestChatAcrossProcesses(t *testing.T) {
	url := redistest.Start(t)
	env := append([]string{"STARLING_RATE_CHAT=off"}, cheapHashes...)
	a := start(t, env, "serve", "--addr", freeAddr(t), "--redis", url)
	b := start(t, env, "serve", "--addr", freeAddr(t), "--redis", url)
	ada := a.register(t, "ada")

	var first chatMessage
	a.call(t, "POST", "/api/starling/v1/rooms/lobby/messages", ada, map[string]string{"body": "first"}, http.StatusCreated, &first)
	held := make(chan chatPage, 1)
	go func() {
		var p chatPage
		b.call(t, "GET", "/api/starling/v1/rooms/lobby/messages?wait=30&cursor="+first.ID, "", nil, http.StatusOK, &p)
		held <- p
	}()
	// The held poll may start after this post (then it answers at once);
	// either way it gets exactly this message.
	var second chatMessage
	a.call(t, "POST", "/api/starling/v1/rooms/lobby/messages", ada, map[string]string{"body": "second"}, http.StatusCreated, &second)
	if p := <-held; len(p.Messages) != 1 || p.Messages[0] != second || second.Login != "ada" {
		t.Fatalf("poll held on b got %+v, want [%+v] by ada", p, second)
	}

	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprint("m", i))
		via := []*process{a, b}[i%2]
		via.call(t, "POST", "/api/starling/v1/rooms/lobby/messages", "", map[string]string{"body": want[i]}, http.StatusCreated, nil)
	}
	for _, reader := range []*process{a, b} {
		var got []string
		for cursor := second.ID; len(got) < len(want); {
			var p chatPage
			reader.call(t, "GET", "/api/starling/v1/rooms/lobby/messages?wait=30&cursor="+cursor, "", nil, http.StatusOK, &p)
			for _, m := range p.Messages {
				got = append(got, m.Body)
			}
			cursor = p.Cursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("read through %s: %q, want %q", reader.base, got, want)
		}
	}

}
