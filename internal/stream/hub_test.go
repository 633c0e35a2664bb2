package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"starling/internal/events"
)

// TestIndexFindsExactlyTheMatchingClients checks, over random clients and
// statuses, that the index's candidates (with their filters checked) are
// exactly the clients whose spec matches.
func TestIndexFindsExactlyTheMatchingClients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"go", "rust", "#go", "@ann", "@bob", "stream", "hub", "ann", "bob", "x"}
	logins := []string{"ann", "bob", "cy", "dee"}
	word := func() string { return vocab[rng.IntN(len(vocab))] }
	ix := newIndex()
	var clients []*Client
	for i := range 300 {
		var s Spec
		switch rng.IntN(6) {
		case 0:
			s = Spec{Kind: Firehose}
		case 1:
			s = Spec{Kind: Sample, Keep: SampleKeepSet(fmt.Sprint(i), 1+rng.IntN(100))}
		case 2, 3:
			v := url.Values{}
			for range rng.IntN(3) {
				v.Add("track", word()+" "+word())
			}
			for range rng.IntN(2) {
				v.Add("follow", logins[rng.IntN(len(logins))])
			}
			for range rng.IntN(2) {
				w, s := rng.Float64()*300-180, rng.Float64()*160-90
				v.Add("location", fmt.Sprintf("%g,%g,%g,%g", w, s, min(180, w+rng.Float64()*40), min(90, s+rng.Float64()*40)))
			}
			f, err := ParseFilter(v)
			if err != nil {
				continue
			}
			s = Spec{Kind: FilterKind, Filter: f}
		case 4:
			s = Spec{Kind: Home, User: int64(1 + rng.IntN(5))}
		case 5:
			s = Spec{Kind: ListKind, List: int64(1 + rng.IntN(5))}
		}
		c := &Client{spec: s}
		clients = append(clients, c)
		ix.each(c, true)
	}
	for n := range 2000 {
		var msg []string
		for range 1 + rng.IntN(5) {
			msg = append(msg, word())
		}
		ev := &event{id: uint64(n + 1), kind: eventKind(1 + rng.IntN(4)), st: statusData{ID: int64(rng.IntN(1000)), UID: int64(1 + rng.IntN(5)), Login: logins[rng.IntN(len(logins))], Message: strings.Join(msg, " ")}}
		if rng.IntN(2) == 0 {
			ev.st.Location = &struct {
				Lat float64 `json:"lat"`
				Lon float64 `json:"lon"`
			}{rng.Float64()*180 - 90, rng.Float64()*360 - 180}
		}
		if ev.kind == delivered || ev.kind == purged {
			ev.homes = []int64{int64(1 + rng.IntN(5))}
			ev.lists = []int64{int64(1 + rng.IntN(5))}
		}
		found := map[*Client]bool{}
		ix.candidates(ev, func(c *Client, check bool) {
			if !check || c.spec.Filter.matches(ev) {
				found[c] = true
			}
		})
		for _, c := range clients {
			if want := c.spec.matches(ev); found[c] != want {
				t.Fatalf("event %+v, client %+v: index finds it %v, the rule says %v", ev.st, c.spec, found[c], want)
			}
		}
	}
	for _, c := range clients {
		ix.each(c, false)
	}
	if n := ix.size(); n != 0 {
		t.Fatalf("index holds %d entries after every client left", n)
	}
}

func startHub(t *testing.T, cfg HubConfig) (*Hub, *MemoryLog) {
	t.Helper()
	log := NewMemoryLog(0)
	cfg.Log = log
	h := NewHub(cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(context.Background())
	}()
	t.Cleanup(func() {
		h.Close()
		<-done
	})
	return h, log
}

func appendStatus(t *testing.T, log Log, id int64, message string) {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"id": id, "uid": 1, "login": "ann", "message": message, "posted": time.Unix(0, 0)})
	if _, err := log.Append(context.Background(), events.StatusCreated, data); err != nil {
		t.Fatal(err)
	}
}

func subscribe(t *testing.T, h *Hub, spec Spec) (*Sink, *Client) {
	t.Helper()
	s, err := h.Connect()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Subscribe(context.Background(), spec, FormatChunked, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// TestHubSlowSinkEndsAloneAndBacklogComesInOneTake: a sink nobody drains
// overflows and is ended with too_slow; one drained late gets everything
// waiting in a single Take; the hub is empty once both close.
func TestHubSlowSinkEndsAloneAndBacklogComesInOneTake(t *testing.T) {
	base := runtime.NumGoroutine()
	h, log := startHub(t, HubConfig{BufferBytes: 8 << 10})
	slow, _ := subscribe(t, h, Spec{Kind: Firehose})
	lagging, _ := subscribe(t, h, Spec{Kind: FilterKind, Filter: Filter{Phrases: [][]string{{"keep"}}}})
	const n = 200
	for i := 1; i <= n; i++ {
		msg := "drop " + strings.Repeat("x", 100)
		if i%10 == 0 {
			msg = "keep"
		}
		appendStatus(t, log, int64(i), msg)
	}
	deadline := time.Now().Add(20 * time.Second)
	for h.Stats().Position < n {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not reach the end of the log")
		}
		time.Sleep(time.Millisecond)
	}
	if _, reason := slow.Take(nil); reason != ReasonTooSlow {
		t.Fatalf("undrained firehose sink: reason %q, want %q", reason, ReasonTooSlow)
	}
	frames, reason := lagging.Take(nil)
	if reason != "" {
		t.Fatalf("lagging filter sink ended: %q", reason)
	}
	lines := strings.Split(strings.TrimSuffix(string(frames), "\r\n"), "\r\n")
	if len(lines) != n/10 {
		t.Fatalf("one Take returned %d statuses, want all %d waiting", len(lines), n/10)
	}
	if st := h.Stats(); st.TooSlow != 1 {
		t.Fatalf("%d sinks ended as too slow, want 1", st.TooSlow)
	}
	slow.Close()
	lagging.Close()
	st := h.Stats()
	if st.Connections != 0 || st.Subscriptions != 0 || st.IndexEntries != 0 || st.BufferedBytes != 0 {
		t.Fatalf("after both closed the hub holds %+v", st)
	}
	if g := runtime.NumGoroutine(); g > base+2 { // Run and its quit watcher
		t.Fatalf("%d goroutines, want at most %d", g, base+2)
	}
}

func TestHubReplaysMissedEventsBeforeLiveOnes(t *testing.T) {
	h, log := startHub(t, HubConfig{})
	for i := 1; i <= 5; i++ {
		appendStatus(t, log, int64(i), "m")
	}
	for h.Stats().Position < 5 {
		time.Sleep(time.Millisecond)
	}
	s, err := h.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Subscribe(context.Background(), Spec{Kind: Firehose}, FormatSSE, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	appendStatus(t, log, 6, "live")
	for h.Stats().Position < 6 {
		time.Sleep(time.Millisecond)
	}
	var got []string
	if err := c.Start(context.Background(), func(f []byte) error { got = append(got, string(f)); return nil }); err != nil {
		t.Fatal(err)
	}
	frames, _ := s.Take(nil)
	got = append(got, string(frames))
	all := strings.Join(got, "")
	var ids []string
	for _, l := range strings.Split(all, "\n") {
		if id, ok := strings.CutPrefix(l, "id: "); ok {
			ids = append(ids, id)
		}
	}
	if strings.Join(ids, ",") != "3,4,5,6" {
		t.Fatalf("resumed after 2, got events %v, want 3,4,5,6 in order", ids)
	}
}

// TestHubHidesStatusesOfHiddenAuthors: a hidden author's status events
// reach no live client, while their deletes and everyone else's statuses
// do.
func TestHubHidesStatusesOfHiddenAuthors(t *testing.T) {
	h, log := startHub(t, HubConfig{Hidden: func(_ context.Context, uid int64) bool { return uid == 2 }})
	s, _ := subscribe(t, h, Spec{Kind: Firehose})
	defer s.Close()
	for _, e := range []struct {
		topic   string
		id, uid int64
		message string
	}{
		{events.StatusCreated, 1, 2, "hidden"},
		{events.StatusCreated, 2, 1, "shown"},
		{events.StatusDeleted, 1, 2, "hidden"},
	} {
		data, _ := json.Marshal(map[string]any{"id": e.id, "uid": e.uid, "login": "u", "message": e.message, "posted": time.Unix(0, 0)})
		if _, err := log.Append(context.Background(), e.topic, data); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for h.Stats().Position < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not reach the end of the log")
		}
		time.Sleep(time.Millisecond)
	}
	frames, _ := s.Take(nil)
	lines := strings.Split(strings.TrimSuffix(string(frames), "\r\n"), "\r\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"shown"`) || lines[1] != `{"id":1,"deleted":true}` {
		t.Fatalf("firehose got %q, want the shown status and the hidden one's delete", lines)
	}
}
