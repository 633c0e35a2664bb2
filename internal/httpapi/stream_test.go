package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"starling/internal/httpapi"
	"starling/internal/ratelimit"
	"starling/internal/social"
	"starling/internal/stream"
)

func TestClassicFirehoseStreamsStatusesAndDeletes(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	sc := s.anonymous().openStream("GET", "/statuses/firehose.json?identifier=reader", "", nil)
	if sc.res.StatusCode != http.StatusOK {
		t.Fatalf("firehose answered %d, want 200", sc.res.StatusCode)
	}
	if ct := sc.res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q, want application/json; charset=utf-8", ct)
	}
	posted := alice.post("hello, stream", &location{Lat: 48.85, Lon: 2.35})
	got := sc.status()
	if got.ID != posted.ID || got.Message != "hello, stream" || got.Login != "alice" || got.Posted != posted.Posted ||
		got.Location == nil || got.Location.Lat != 48.85 || got.Deleted {
		t.Fatalf("streamed %+v, want the posted status %+v", got, posted)
	}
	alice.noContent("DELETE", fmt.Sprintf("/api/starling/v1/statuses/%d", posted.ID))
	if del := sc.status(); del.ID != posted.ID || !del.Deleted {
		t.Fatalf("after the delete streamed %+v, want {id: %d, deleted: true}", del, posted.ID)
	}
}

func TestClassicStreamRefusals(t *testing.T) {
	s := newStack(t)
	anon := s.anonymous()
	for _, tc := range []struct {
		method, path, form string
		status             int
		code               string
	}{
		{"GET", "/statuses/firehose.json", "", 401, "identifier_required"},
		{"GET", "/statuses/sample.json?percent=5", "", 401, "identifier_required"},
		{"GET", "/statuses/sample.json?identifier=a&percent=0", "", 400, "invalid_percent"},
		{"GET", "/statuses/sample.json?identifier=a&percent=101", "", 400, "invalid_percent"},
		{"GET", "/statuses/sample.json?identifier=a&percent=5.5", "", 400, "invalid_percent"},
		{"GET", "/statuses/sample.json?identifier=a&percent=", "", 400, "invalid_percent"},
		{"GET", "/statuses/filter.json?identifier=a", "", 400, "filter_required"},
		{"GET", "/statuses/filter.json?identifier=a&track=,,", "", 400, "filter_required"},
		{"POST", "/statuses/filter.json?identifier=a", "track=...", 400, "filter_required"},
		{"GET", "/statuses/filter.json?identifier=a&location=1,2,3", "", 400, "invalid_location"},
		{"GET", "/statuses/filter.json?identifier=a&location=1,2,x,4", "", 400, "invalid_location"},
		{"GET", "/statuses/filter.json?identifier=a&location=1,2,NaN,4", "", 400, "invalid_location"},
		{"GET", "/statuses/filter.json?identifier=a&location=10,2,3,4", "", 400, "invalid_location"},
		{"GET", "/statuses/filter.json?identifier=a&location=-181,0,0,10", "", 400, "invalid_location"},
		{"GET", "/statuses/filter.json?identifier=a&follow=bad-login", "", 400, "invalid_follow"},
		{"GET", "/statuses/filter.json?identifier=a&track=" + strings.Repeat("x", stream.MaxPhraseChars+1), "", 400, "phrase_too_long"},
		{"GET", "/statuses/filter.json?identifier=a&location=" + strings.Repeat("0,0,1,1,", stream.MaxBoxes+1), "", 400, "too_many_boxes"},
		{"POST", "/statuses/filter.json?identifier=a", "track=" + phrases(stream.MaxPhrases+1), 400, "too_many_phrases"},
		{"POST", "/statuses/filter.json?identifier=a", "follow=" + manyLogins(stream.MaxLogins+1), 400, "too_many_logins"},
		{"GET", "/statuses/filter.json?identifier=a&track=%zz", "", 400, "invalid_query"},
		{"GET", "/statuses/firehose.json?identifier=" + strings.Repeat("i", stream.MaxIdentifier+1), "", 400, "invalid_identifier"},
		{"GET", "/statuses/firehose.json?identifier=a&identifier=b", "", 400, "invalid_identifier"},
		{"GET", "/api/starling/v1/streams/nosuch", "", 404, "unknown_stream"},
		{"GET", "/api/starling/v1/streams/home", "", 401, "unauthorized"},
		{"GET", "/api/starling/v1/streams/list/1", "", 401, "unauthorized"},
		{"GET", "/api/starling/v1/streams/sample", "", 401, "identifier_required"},
	} {
		var body any
		if tc.form != "" {
			body = rawBody{contentType: "application/x-www-form-urlencoded", data: tc.form}
		}
		r := anon.do(tc.method, tc.path, body)
		wantErrorFor(t, tc.method+" "+tc.path, r, tc.status, tc.code)
	}
	head, err := http.Head(s.srv.URL + "/statuses/firehose.json?identifier=a")
	if err != nil || head.StatusCode != http.StatusMethodNotAllowed || head.Header.Get("Allow") != "GET" {
		t.Errorf("HEAD on a stream: %v %v, want 405 with Allow: GET", head, err)
	}
	if st := s.hub.Stats(); st.Connections != 0 || st.Subscriptions != 0 {
		t.Fatalf("refused requests left %+v in the hub", st)
	}
}

func wantErrorFor(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	var e errorAnswer
	if r.status != status || strictDecode(r.body, &e) != nil || e.Error.Code != code {
		t.Errorf("%s: got %s, want %d %s", what, r, status, code)
	}
}

func phrases(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("w%d", i)
	}
	return strings.Join(p, ",")
}

func manyLogins(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("u%d", i)
	}
	return strings.Join(p, ",")
}

func TestClassicFilterMatchesTrackFollowAndLocation(t *testing.T) {
	s := newStack(t)
	alice, bob := s.register("alice"), s.register("Bob")
	form := "track=" + urlEscape("golang rocks,#launch") + "&follow=bob&location=" + urlEscape("2,48,3,49")
	sc := s.anonymous().openStream("POST", "/statuses/filter.json?identifier=f1", form, nil)
	if sc.res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(sc.res.Body)
		t.Fatalf("filter answered %d %s, want 200", sc.res.StatusCode, b)
	}
	type post struct {
		by    *client
		msg   string
		loc   *location
		match bool
	}
	posts := []post{
		{alice, "Rocks! GOLANG.", nil, true},   // all words, any case and order
		{alice, "golang only", nil, false},     // one word of two
		{alice, "we #launch today", nil, true}, // hashtag
		{alice, "we launch today", nil, false}, // not the hashtag
		{bob, "anything at all", nil, true},    // by a followed login
		{alice, "hi (@BOB)", nil, true},        // mentions it
		{alice, "hi bob", nil, false},          // names it without @
		{alice, "paris", &location{Lat: 48.5, Lon: 2.5}, true},
		{alice, "edge", &location{Lat: 49, Lon: 3}, true}, // edges are inside
		{alice, "london", &location{Lat: 51.5, Lon: -0.1}, false},
	}
	var want []int64
	for _, p := range posts {
		st := p.by.post(p.msg, p.loc)
		if p.match {
			want = append(want, int64(st.ID))
		}
	}
	last := alice.post("golang rocks again", nil)
	want = append(want, last.ID)
	for i, id := range want {
		if got := sc.status(); got.ID != id {
			t.Fatalf("match %d: streamed status %d (%q), want %d", i, got.ID, got.Message, id)
		}
	}
}

func urlEscape(s string) string {
	return strings.NewReplacer(",", "%2C", "#", "%23", " ", "+").Replace(s)
}

func TestSampleSendsTheIdentifiersKeepSet(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	const identifier, percent = "sampler", 30
	keep := stream.SampleKeepSet(identifier, percent)
	sc := s.anonymous().openStream("GET", fmt.Sprintf("/statuses/sample.json?identifier=%s&percent=%d", identifier, percent), "", nil)
	var want []int64
	alice2 := social.User{ID: social.UserID(alice.user("alice").ID), Login: "alice"}
	for i := 0; i < 60; i++ {
		st, err := s.svc.Post(context.Background(), alice2, fmt.Sprintf("n%d", i), nil)
		if err != nil {
			t.Fatalf("Post: %v", err)
		}
		if keep.Keeps(int64(st.ID)) {
			want = append(want, int64(st.ID))
		}
	}
	// A last kept status marks the end.
	for {
		st, _ := s.svc.Post(context.Background(), alice2, "end", nil)
		if keep.Keeps(int64(st.ID)) {
			want = append(want, int64(st.ID))
			break
		}
	}
	for i, id := range want {
		if got := sc.status(); got.ID != id {
			t.Fatalf("sample status %d is %d, want %d", i, got.ID, id)
		}
	}
}

func TestSSEResumesWithLastEventID(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	sc := s.anonymous().openStream("GET", "/api/starling/v1/streams/filter?track=go", "", nil)
	if ct := sc.res.Header.Get("Content-Type"); sc.res.StatusCode != 200 || ct != "text/event-stream; charset=utf-8" {
		t.Fatalf("SSE answered %d %q", sc.res.StatusCode, ct)
	}
	first := alice.post("go first", nil)
	ev := sc.event()
	if ev.event != "status" || !strings.Contains(ev.data, fmt.Sprintf(`"id":%d`, first.ID)) || ev.id == "" {
		t.Fatalf("first SSE event %+v, want status %d", ev, first.ID)
	}
	sc.close()
	// Missed while away: two matching, one not, one deleted.
	missed1 := alice.post("go second", nil)
	alice.post("not this one", nil)
	gone := alice.post("go gone", nil)
	alice.noContent("DELETE", fmt.Sprintf("/api/starling/v1/statuses/%d", gone.ID))
	missed2 := alice.post("go third", nil)

	sc2 := s.anonymous().openStream("GET", "/api/starling/v1/streams/filter?track=go", "", http.Header{"Last-Event-Id": {ev.id}})
	live := alice.post("go live", nil)
	wantEvents := []struct {
		event string
		id    int64
	}{{"status", missed1.ID}, {"status", gone.ID}, {"delete", gone.ID}, {"status", missed2.ID}, {"status", live.ID}}
	prev := ev.id
	for i, w := range wantEvents {
		got := sc2.event()
		if got.event != w.event || !strings.HasPrefix(got.data, fmt.Sprintf(`{"id":%d,`, w.id)) {
			t.Fatalf("resumed event %d = %+v, want %s of %d", i, got, w.event, w.id)
		}
		if !idAfter(got.id, prev) {
			t.Fatalf("event id %s does not follow %s", got.id, prev)
		}
		prev = got.id
	}
	// An id this log never gave: the client cannot be caught up.
	sc3 := s.anonymous().openStream("GET", "/api/starling/v1/streams/firehose", "", http.Header{"Last-Event-Id": {"999999"}})
	if got := sc3.event(); got.event != "gap" {
		t.Fatalf("resuming from an unknown id sent %+v, want event: gap", got)
	}
	r := s.anonymous().doWith("GET", "/api/starling/v1/streams/firehose", nil, http.Header{"Last-Event-Id": {"x1"}})
	wantErrorFor(t, "bad Last-Event-ID", r, 400, "invalid_last_event_id")
}

// A page rendered up to an event opens its stream with ?last_event_id=;
// a reconnecting EventSource keeps that URL and adds the header, which wins.
func TestSSEResumesFromTheLastEventIDParameter(t *testing.T) {
	s := newStack(t)
	alice := s.register("alice")
	sc := s.anonymous().openStream("GET", "/api/starling/v1/streams/firehose", "", nil)
	alice.post("rendered", nil)
	rendered := sc.event()
	sc.close()
	missed := alice.post("missed", nil)

	sc2 := s.anonymous().openStream("GET", "/api/starling/v1/streams/firehose?last_event_id="+rendered.id, "", nil)
	got := sc2.event()
	if got.event != "status" || !strings.HasPrefix(got.data, fmt.Sprintf(`{"id":%d,`, missed.ID)) {
		t.Fatalf("first event after ?last_event_id=%s: %+v, want status %d", rendered.id, got, missed.ID)
	}
	sc2.close()
	later := alice.post("later", nil)
	sc3 := s.anonymous().openStream("GET", "/api/starling/v1/streams/firehose?last_event_id="+rendered.id, "", http.Header{"Last-Event-Id": {got.id}})
	if got := sc3.event(); got.event != "status" || !strings.HasPrefix(got.data, fmt.Sprintf(`{"id":%d,`, later.ID)) {
		t.Fatalf("first event with both the parameter and the header: %+v, want status %d (the header wins)", got, later.ID)
	}
	for _, bad := range []string{"x1", "0", "-3", "1&last_event_id=2"} {
		r := s.anonymous().doWith("GET", "/api/starling/v1/streams/firehose?last_event_id="+bad, nil, nil)
		wantErrorFor(t, "last_event_id="+bad, r, 400, "invalid_last_event_id")
	}
}

func idAfter(id, prev string) bool {
	var a, b uint64
	fmt.Sscan(id, &a)
	fmt.Sscan(prev, &b)
	return a > b
}

func TestHomeAndListStreamsFollowTheirTimelines(t *testing.T) {
	s := newStack(t)
	alice, bob, carol := s.register("alice"), s.register("bob"), s.register("carol")
	alice.noContent("PUT", "/api/starling/v1/me/following/bob")
	l := want[list](t, alice.do("POST", "/api/starling/v1/lists", map[string]string{"name": "friends"}), http.StatusCreated)
	alice.noContent("PUT", fmt.Sprintf("/api/starling/v1/lists/%d/members/carol", l.ID))

	home := alice.openStream("GET", "/api/starling/v1/streams/home", "", nil)
	lst := bob.openStream("GET", fmt.Sprintf("/api/starling/v1/streams/list/%d", l.ID), "", nil)
	if home.res.StatusCode != 200 || lst.res.StatusCode != 200 {
		t.Fatalf("home answered %d, list %d; want 200", home.res.StatusCode, lst.res.StatusCode)
	}
	carol.post("carol not followed by alice", nil)
	byBob := bob.post("bob to his followers", nil)
	own := alice.post("alice herself", nil)
	byCarol := carol.post("carol to her list", nil)
	s.drain()
	gotHome := map[int64]bool{}
	for range 2 {
		ev := home.event()
		var st streamedStatus
		json.Unmarshal([]byte(ev.data), &st)
		gotHome[st.ID] = ev.event == "status"
	}
	if !gotHome[byBob.ID] || !gotHome[own.ID] {
		t.Fatalf("home stream got %v, want statuses %d and %d", gotHome, byBob.ID, own.ID)
	}
	for {
		ev := lst.event()
		var st streamedStatus
		json.Unmarshal([]byte(ev.data), &st)
		if st.ID == byCarol.ID {
			break
		}
		if st.Login != "carol" {
			t.Fatalf("list stream got %+v, a status of a non-member", ev)
		}
	}
	bob.noContent("DELETE", fmt.Sprintf("/api/starling/v1/statuses/%d", byBob.ID))
	s.drain()
	ev := home.event()
	if ev.event != "delete" || !strings.HasPrefix(ev.data, fmt.Sprintf(`{"id":%d,`, byBob.ID)) {
		t.Fatalf("home stream after bob's delete got %+v, want its delete", ev)
	}
	r := alice.do("GET", "/api/starling/v1/streams/list/999", nil)
	wantErrorFor(t, "unknown list", r, 404, "list_not_found")
}

func TestSlowClientIsDroppedWhileFastOneGetsEverything(t *testing.T) {
	// Big enough for the bursts a healthy client gets when the hub reads
	// several statuses at once, small enough to fill soon behind the
	// small socket buffers of the test's connections.
	s := newStreamStack(t, func(c *stream.HubConfig) { c.BufferBytes = 64 << 10 }, nil)
	base := runtime.NumGoroutine()
	alice := s.register("alice")
	author := social.User{ID: social.UserID(alice.user("alice").ID), Login: "alice"}
	fast := s.anonymous().openStream("GET", "/statuses/firehose.json?identifier=fast", "", nil)
	slow := s.anonymous().openStream("GET", "/statuses/firehose.json?identifier=slow", "", nil)
	const n, step = 800, 50
	var want []int64
	done := make(chan struct{})
	got := make(chan int64, n)
	go func() {
		defer close(done)
		for range n {
			l, err := fast.r.ReadString('\n')
			var st streamedStatus
			if err != nil || json.Unmarshal([]byte(l), &st) != nil {
				return
			}
			got <- st.ID
		}
	}()
	for i := range n {
		st, err := s.svc.Post(context.Background(), author, fmt.Sprintf("status %d %s", i, strings.Repeat("x", 200)), nil)
		if err != nil {
			t.Fatalf("Post: %v", err)
		}
		want = append(want, int64(st.ID))
		// In steps the fast client keeps up with however busy the
		// machine is, so that only the client that never reads can fall
		// a buffer behind.
		if (i+1)%step == 0 {
			waitFor(t, "the fast client to keep up", func() bool {
				select {
				case <-done:
					return true
				default:
					return len(got) >= i+1
				}
			})
		}
	}
	<-done
	close(got)
	for i, id := range want {
		if g := <-got; g != id {
			t.Fatalf("fast client's status %d is %d, want %d", i, g, id)
		}
	}
	waitFor(t, "the slow client is dropped", func() bool { return s.hub.Stats().TooSlow >= 1 })
	if st := s.hub.Stats(); st.TooSlow != 1 {
		t.Fatalf("%d clients dropped as too slow, want only the slow one", st.TooSlow)
	}
	// What the slow client finds, once it reads, ends its stream: its
	// last line is the disconnect notice, unless the write of it timed out.
	rest, _ := io.ReadAll(slow.r)
	if lines := strings.Split(strings.TrimSuffix(string(rest), "\r\n"), "\r\n"); len(lines) > 0 {
		last := lines[len(lines)-1]
		if strings.HasPrefix(last, `{"disconnect"`) && last != `{"disconnect":{"code":"too_slow"}}` {
			t.Fatalf("slow client's last line %q", last)
		}
	}
	fast.close()
	slow.close()
	s.anonymous().do("GET", "/healthz", nil) // idle keep-alive connections of the test client are not streams
	s.srv.CloseClientConnections()
	waitHubEmpty(t, s.hub, base+2)
}

func TestShutdownEndsStreamsCleanly(t *testing.T) {
	s := newStack(t)
	chunked := s.anonymous().openStream("GET", "/statuses/firehose.json?identifier=x", "", nil)
	sse := s.anonymous().openStream("GET", "/api/starling/v1/streams/firehose", "", nil)
	waitFor(t, "both streams are subscribed", func() bool { return s.hub.Stats().Subscriptions == 2 })
	s.hub.Close()
	if l := chunked.line(); l != `{"disconnect":{"code":"shutdown"}}` {
		t.Fatalf("chunked stream's last line %q, want the shutdown notice", l)
	}
	if rest, err := io.ReadAll(chunked.r); err != nil || len(rest) != 0 {
		t.Fatalf("after the notice: %q, %v; want a clean end of the body", rest, err)
	}
	if ev := sse.event(); ev.event != "disconnect" || ev.data != `{"disconnect":{"code":"shutdown"}}` {
		t.Fatalf("SSE stream's last event %+v, want the shutdown notice", ev)
	}
	r := s.anonymous().do("GET", "/statuses/firehose.json?identifier=x", nil)
	wantErrorFor(t, "a stream after shutdown", r, 503, "shutting_down")
}

func TestStreamCapAndRateLimit(t *testing.T) {
	s := newStreamStack(t, func(c *stream.HubConfig) { c.MaxConnections = 1 }, nil)
	first := s.anonymous().openStream("GET", "/statuses/firehose.json?identifier=one", "", nil)
	if first.res.StatusCode != 200 {
		t.Fatalf("first stream answered %d", first.res.StatusCode)
	}
	r := s.anonymous().do("GET", "/statuses/firehose.json?identifier=two", nil)
	wantErrorFor(t, "a stream over the cap", r, 503, "too_many_streams")
}

func TestStreamRateLimit(t *testing.T) {
	s := newStackWith(t, func(c *httpapi.Config) {
		c.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
		c.RateLimits = ratelimit.Policies{Stream: ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 2}}
	})
	for i := range 2 {
		sc := s.anonymous().openStream("GET", fmt.Sprintf("/statuses/firehose.json?identifier=id%d", i), "", nil)
		if sc.res.StatusCode != 200 {
			t.Fatalf("stream %d answered %d, want 200 within the burst", i, sc.res.StatusCode)
		}
	}
	// The address has spent its burst, whatever the identifier.
	r := s.anonymous().do("GET", "/statuses/firehose.json?identifier=other", nil)
	wantErrorFor(t, "a third stream from one address", r, 429, "rate_limited")
	r = s.anonymous().do("GET", "/api/starling/v1/streams/firehose", nil)
	wantErrorFor(t, "an SSE stream from that address", r, 429, "rate_limited")
}
