package chattest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"starling/internal/chat"
)

// Factory returns an empty History that keeps at least retain messages a
// room (and, for the suite to check trimming, not vastly more).
type Factory func(t *testing.T, retain int) chat.History

// Run runs the conformance suite of chat.History.
func Run(t *testing.T, newHistory Factory) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"AppendAndLatest", testAppendAndLatest},
		{"After", testAfter},
		{"BadCursor", testBadCursor},
		{"RoomsAreSeparate", testRoomsAreSeparate},
		{"Retention", testRetention},
		{"ConcurrentAppends", testConcurrentAppends},
		{"RoomsList", testRoomsList},
		{"EmptyRoom", testEmptyRoom},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHistory) })
	}
}

var ctx = context.Background()

func appendN(t *testing.T, h chat.History, room string, n int) []chat.Message {
	t.Helper()
	out := make([]chat.Message, n)
	for i := range out {
		m, err := h.Append(ctx, chat.NewMessage{Room: room, Body: fmt.Sprintf("message %d", i), Posted: time.Now()})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		out[i] = m
	}
	return out
}

func ids(ms []chat.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func wantIDs(t *testing.T, what string, got []chat.Message, want []chat.Message) {
	t.Helper()
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("%s: got ids %v, want %v", what, ids(got), ids(want))
	}
}

func parse(t *testing.T, id string) chat.ID {
	t.Helper()
	p, err := chat.ParseID(id)
	if err != nil {
		t.Fatalf("the engine's id %q does not parse: %v", id, err)
	}
	return p
}

func testAppendAndLatest(t *testing.T, f Factory) {
	h := f(t, 100)
	posted := time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("x", 3600))
	first, err := h.Append(ctx, chat.NewMessage{Room: "lobby", Body: "héllo <b>\"x\"</b> 🐦", Login: "Alice_1", Posted: posted})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if first.Room != "lobby" || first.Body != "héllo <b>\"x\"</b> 🐦" || first.Login != "Alice_1" {
		t.Fatalf("Append returned %+v", first)
	}
	if want := posted.Truncate(time.Millisecond); !first.Posted.Equal(want) {
		t.Fatalf("Posted = %v, want %v (to the millisecond)", first.Posted, want)
	}
	anon, err := h.Append(ctx, chat.NewMessage{Room: "lobby", Body: "anonymous", Posted: time.Now()})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if anon.Login != "" {
		t.Fatalf("anonymous message has login %q", anon.Login)
	}
	if parse(t, anon.ID).Compare(parse(t, first.ID)) <= 0 {
		t.Fatalf("id %q of a later message does not come after %q", anon.ID, first.ID)
	}
	latest, err := h.Latest(ctx, "lobby", 10)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	wantIDs(t, "Latest", latest, []chat.Message{first, anon})
	if got := latest[0]; got.Body != first.Body || got.Login != first.Login || !got.Posted.Equal(first.Posted) || got.Room != "lobby" {
		t.Fatalf("Latest returned %+v, want %+v", got, first)
	}
	one, err := h.Latest(ctx, "lobby", 1)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	wantIDs(t, "Latest(1)", one, []chat.Message{anon})
}

func testAfter(t *testing.T, f Factory) {
	h := f(t, 100)
	ms := appendN(t, h, "r", 10)
	got, gap, err := h.After(ctx, "r", ms[3].ID, 100)
	if err != nil || gap {
		t.Fatalf("After: %v, gap %v", err, gap)
	}
	wantIDs(t, "After(4th)", got, ms[4:])
	got, _, err = h.After(ctx, "r", ms[3].ID, 2)
	if err != nil {
		t.Fatalf("After: %v", err)
	}
	wantIDs(t, "After(4th, limit 2)", got, ms[4:6])
	got, gap, err = h.After(ctx, "r", ms[9].ID, 100)
	if err != nil || gap || len(got) != 0 {
		t.Fatalf("After(newest) = %v, gap %v, %v; want nothing", ids(got), gap, err)
	}
	got, gap, err = h.After(ctx, "r", ms[0].ID, 100)
	if err != nil || gap {
		t.Fatalf("After(oldest): %v, gap %v", err, gap)
	}
	wantIDs(t, "After(oldest)", got, ms[1:])
}

func testBadCursor(t *testing.T, f Factory) {
	h := f(t, 100)
	appendN(t, h, "r", 2)
	for _, c := range []string{"x", "-1", "1.5", "1 ", "", "99999999999999999999999"} {
		if _, _, err := h.After(ctx, "r", c, 10); !errors.Is(err, chat.ErrBadCursor) {
			t.Errorf("After(%q): got %v, want ErrBadCursor", c, err)
		}
	}
}

func testRoomsAreSeparate(t *testing.T, f Factory) {
	h := f(t, 100)
	a := appendN(t, h, "a", 3)
	b := appendN(t, h, "b", 2)
	gotA, err := h.Latest(ctx, "a", 10)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	wantIDs(t, "room a", gotA, a)
	gotB, _, err := h.After(ctx, "b", b[0].ID, 10)
	if err != nil {
		t.Fatalf("After: %v", err)
	}
	wantIDs(t, "room b after its first", gotB, b[1:])
}

func testRetention(t *testing.T, f Factory) {
	const retain = 5
	h := f(t, retain)
	ms := appendN(t, h, "r", 300)
	latest, err := h.Latest(ctx, "r", 1000)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	if len(latest) < retain || len(latest) >= 300 {
		t.Fatalf("room keeps %d of 300 messages with retain %d; want at least %d and some dropped", len(latest), retain, retain)
	}
	wantIDs(t, "the kept messages", latest, ms[300-len(latest):])
	got, gap, err := h.After(ctx, "r", ms[0].ID, 1000)
	if err != nil {
		t.Fatalf("After: %v", err)
	}
	if !gap {
		t.Fatalf("After(a dropped message) reports no gap")
	}
	wantIDs(t, "After(a dropped message)", got, latest)
	if _, gap, err := h.After(ctx, "r", latest[0].ID, 10); err != nil || gap {
		t.Fatalf("After(the oldest kept) = gap %v, %v; want no gap", gap, err)
	}
}

func testConcurrentAppends(t *testing.T, f Factory) {
	h := f(t, 1000)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := h.Append(ctx, chat.NewMessage{Room: "busy", Body: "x", Posted: time.Now()}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	all, err := h.Latest(ctx, "busy", 1000)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	if len(all) != writers*each {
		t.Fatalf("room has %d messages, want %d", len(all), writers*each)
	}
	for i := 1; i < len(all); i++ {
		if parse(t, all[i-1].ID).Compare(parse(t, all[i].ID)) >= 0 {
			t.Fatalf("Latest is not in id order at %d: %q then %q", i, all[i-1].ID, all[i].ID)
		}
	}
	// Reading page by page from the first finds every message once.
	seen := []chat.Message{all[0]}
	for cursor := all[0].ID; ; {
		page, _, err := h.After(ctx, "busy", cursor, 7)
		if err != nil {
			t.Fatalf("After: %v", err)
		}
		if len(page) == 0 {
			break
		}
		seen = append(seen, page...)
		cursor = page[len(page)-1].ID
	}
	wantIDs(t, "paging with After", seen, all)
}

func testRoomsList(t *testing.T, f Factory) {
	h := f(t, 100)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i, name := range []string{"old", "mid", "new"} {
		if _, err := h.Append(ctx, chat.NewMessage{Room: name, Body: "x", Posted: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	rooms, err := h.Rooms(ctx, 10)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	var names []string
	for _, r := range rooms {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"new", "mid", "old"}) {
		t.Fatalf("Rooms = %v, want [new mid old]", names)
	}
	if want := t0.Add(2 * time.Minute); !rooms[0].LastActivity.Equal(want) {
		t.Fatalf("last activity of new = %v, want %v", rooms[0].LastActivity, want)
	}
	if _, err := h.Append(ctx, chat.NewMessage{Room: "old", Body: "y", Posted: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	rooms, err = h.Rooms(ctx, 2)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if len(rooms) != 2 || rooms[0].Name != "old" || rooms[1].Name != "new" {
		t.Fatalf("Rooms(2) after posting to old = %+v, want old then new", rooms)
	}
}

func testEmptyRoom(t *testing.T, f Factory) {
	h := f(t, 100)
	ms := appendN(t, h, "other", 1)
	latest, err := h.Latest(ctx, "empty", 10)
	if err != nil || len(latest) != 0 {
		t.Fatalf("Latest(empty room) = %v, %v", ids(latest), err)
	}
	got, gap, err := h.After(ctx, "empty", ms[0].ID, 10)
	if err != nil || gap || len(got) != 0 {
		t.Fatalf("After(empty room) = %v, gap %v, %v; want nothing, no gap", ids(got), gap, err)
	}
}
