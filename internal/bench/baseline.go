package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The baseline is the ceiling the timeline scenario is compared with: a
// minimal net/http handler writing a static JSON body of the same size as a
// page of home timeline, driven by the same load loop.

// DefaultStaticAddr is where `starling bench serve-static` listens, and so
// where the static scenario looks, unless told otherwise.
const DefaultStaticAddr = "127.0.0.1:8081"

// StaticBody returns a JSON array of about size bytes shaped like a page of
// statuses.
func StaticBody(size int) []byte {
	const status = `{"id":1234567,"uid":4242,"login":"baseline","message":"%s","posted":"2026-01-01T00:00:00.000Z","location":null}`
	per := len(status) + 20
	n := max(1, size/per)
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, status, strings.Repeat("x", 20-2)+"…")
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// ServeStatic serves body as application/json on every path of addr until
// ctx ends.
func ServeStatic(ctx context.Context, addr string, body []byte) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// With its length given the body goes out as one piece, as
			// Starling's pages do, rather than chunked.
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Length", length)
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// static drives a static server (see ServeStatic) with the timeline
// scenario's request: the same path, header and client.
func static(ctx context.Context, o Options) (Result, error) {
	clients := o.Clients
	if clients <= 0 {
		clients = 64
	}
	c := newClient(o.URL, clients)
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i] = "static-baseline-token"
	}
	pages, err := newPageReader(c, "/api/starling/v1/timelines/home?count=30", tokens)
	if err != nil {
		return Result{}, err
	}
	defer pages.close()
	var first bytes.Buffer
	if err := c.fetch(ctx, pages.path, "static-baseline-token", &first); err != nil {
		if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Code != "" {
			return Result{}, fmt.Errorf("bench: %s answers like a Starling server (%d %s), not the static baseline: start 'starling bench serve-static' (it listens on %s) and point --url at it", o.URL, ae.Status, ae.Code, DefaultStaticAddr)
		}
		return Result{}, err
	}
	pages.want = first.Len()
	bufs := make([]bytes.Buffer, clients)
	rec := &recorder{}
	elapsed := hammer(ctx, o, "static", clients, rec, func(ctx context.Context, w int, _ *rand.Rand) error {
		return pages.read(ctx, w, &bufs[w])
	})
	return finish("static", o, clients, elapsed, rec), nil
}
