package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRecorderPercentiles(t *testing.T) {
	rec := &recorder{}
	for i := 1; i <= 1000; i++ {
		rec.add(time.Duration(i) * time.Millisecond)
	}
	rec.fail(errors.New("x"))
	got := rec.summary()
	want := Latency{P50: 500, P99: 990, P999: 999, Max: 1000}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
	if ok, failed := rec.counts(); ok != 1000 || failed != 1 {
		t.Fatalf("counts = %d ok, %d failed; want 1000, 1", ok, failed)
	}
}

func TestRecorderKeepsBoundedSamples(t *testing.T) {
	rec := &recorder{samples: make([]time.Duration, 0, maxSamples)}
	for range maxSamples + 1000 {
		rec.add(time.Millisecond)
	}
	if len(rec.samples) != maxSamples {
		t.Fatalf("kept %d samples, want the cap %d", len(rec.samples), maxSamples)
	}
	if ok, _ := rec.counts(); ok != maxSamples+1000 {
		t.Fatalf("counted %d, want %d", ok, maxSamples+1000)
	}
}

func TestStaticBodyIsJSONOfAboutTheSize(t *testing.T) {
	for _, size := range []int{100, 7000, 50000} {
		body := StaticBody(size)
		var page []map[string]any
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("StaticBody(%d) is not a JSON array: %v", size, err)
		}
		if size >= 1000 && (len(body) < size*8/10 || len(body) > size*12/10) {
			t.Errorf("StaticBody(%d) has %d bytes, want within 20%%", size, len(body))
		}
	}
}

func TestStaticScenarioDrivesTheBaseline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ServeStatic(ctx, addr, StaticBody(4000)) // past net/http's 2 KiB, where it would chunk
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("static server never listened: %v", err)
		}
	}
	var progress bytes.Buffer
	r, err := Run(ctx, "static", Options{URL: "http://" + addr, Clients: 4, Duration: 300 * time.Millisecond, Progress: &progress})
	if err != nil || r.Requests == 0 || r.Errors != 0 {
		t.Fatalf("static run = %+v, %v; want requests and no errors", r, err)
	}
	var table, js bytes.Buffer
	r.WriteTable(&table)
	r.WriteJSON(&js)
	if !strings.Contains(table.String(), "static") || !json.Valid(js.Bytes()) {
		t.Fatalf("table %q or JSON %q malformed", table.String(), js.String())
	}
}

func TestRunRejectsUnknownScenario(t *testing.T) {
	if _, err := Run(context.Background(), "nope", Options{URL: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("Run(nope) succeeded, want an error")
	}
	if _, err := Run(context.Background(), "fanout", Options{URL: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("fanout without a manifest succeeded, want an error")
	}
}

// A 503 busy (the server's password-hashing queue is full) during setup is
// waited out like a 429, for as long as its Retry-After says.
func TestSetupWaitsOutBusy(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":"busy","message":"too many logins"}}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	s := &setup{c: newClient(srv.URL, 1), o: Options{}}
	if err := s.do(t.Context(), "POST", "/api/starling/v1/users", "", map[string]string{"login": "x"}, nil); err != nil {
		t.Fatalf("setup.do after a 503 busy: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("the server was asked %d times, want 2 (once busy, once again after Retry-After)", n)
	}
}
