package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeepAliveReadsAnswersOnOneConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer tok":
			http.Error(w, "no token", http.StatusUnauthorized)
		case r.URL.Query().Get("close") != "":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		default:
			body := strings.Repeat("x", 5000)
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			fmt.Fprint(w, body)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	ctx := t.Context()

	k := newKeepAlive(base, "/page", "tok")
	var buf bytes.Buffer
	for range 20 {
		if err := k.get(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != 5000 {
			t.Fatalf("read %d bytes, want 5000", buf.Len())
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 gets took %d connections, want 1", n)
	}

	closing := newKeepAlive(base, "/page?close=1", "tok")
	for range 2 {
		if err := closing.get(ctx, &buf); err != nil || buf.String() != "bye" {
			t.Fatalf("get with Connection: close = %q, %v", buf.String(), err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("after two answers with Connection: close, %d connections, want 3", n)
	}

	var apiErr *apiError
	if err := newKeepAlive(base, "/page", "").get(ctx, &buf); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("get without a token: %v, want a 401 apiError", err)
	}
}

func TestKeepAliveRefusesChunkedAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("y", 5000))) // no length: net/http chunks it
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	var buf bytes.Buffer
	if err := newKeepAlive(base, "/", "").get(t.Context(), &buf); !errors.Is(err, errUnsupported) {
		t.Fatalf("chunked answer: %v, want errUnsupported", err)
	}
}

// A read loop bounded by its context ends on time even while the server
// has not answered.
func TestPageReaderStopsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	p, err := newPageReader(newClient(srv.URL, 1), "/", []string{""})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var buf bytes.Buffer
		done <- p.read(ctx, 0, &buf)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a read the server never answered succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked read outlived its context by 10s")
	}
}

// An https:// server is read through net/http's client, which speaks TLS.
func TestPageReaderReadsHTTPSThroughNetHTTP(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "["+r.Header.Get("Authorization")+"]")
	}))
	defer srv.Close()
	p, err := newPageReader(&client{base: srv.URL, http: srv.Client()}, "/", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	p.want = len("[Bearer a]")
	var buf bytes.Buffer
	for w := range 2 {
		if err := p.read(t.Context(), w, &buf); err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
		if want := fmt.Sprintf("[Bearer %c]", 'a'+w); buf.String() != want {
			t.Fatalf("worker %d read %q, want %q", w, buf.String(), want)
		}
	}
}
