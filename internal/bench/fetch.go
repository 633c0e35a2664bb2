package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync"
)

// fetch GETs path and reads the answer's body into buf, reset first. The
// read loops of the timeline and static scenarios both use it and check
// only the body's length, so that the load tool spends the same per
// request against the server and against the baseline handler, and the
// ratio between them compares the servers alone.
func (c *client) fetch(ctx context.Context, path, token string, buf *bytes.Buffer) error {
	buf.Reset()
	resp, err := c.send(ctx, "GET", path, token, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = buf.ReadFrom(resp.Body)
	return err
}

// pageReader reads one path over and over, one keepAlive connection per
// worker, checking that every answer has the length of the first.
type pageReader struct {
	c      *client
	path   string
	want   int
	tokens []string     // by worker
	conns  []*keepAlive // by worker; none for an https:// server

	// interrupting ends every connection's wait once the context of the
	// reads (the loop's, bounded by its duration) is done, so that the
	// loop ends on time; set up by the first read.
	interrupting sync.Once
}

// newPageReader returns a reader of path for workers with the given
// tokens: on keepAlive connections for an http:// server, through
// net/http's client (which speaks TLS) otherwise.
func newPageReader(c *client, path string, tokens []string) (*pageReader, error) {
	base, err := url.Parse(c.base)
	if err != nil {
		return nil, err
	}
	p := &pageReader{c: c, path: path, tokens: tokens}
	if base.Scheme == "http" {
		for _, t := range tokens {
			p.conns = append(p.conns, newKeepAlive(base, path, t))
		}
	}
	return p, nil
}

// close closes every connection.
func (p *pageReader) close() {
	for _, k := range p.conns {
		k.close()
	}
}

// read fetches the page once as worker w, into buf.
func (p *pageReader) read(ctx context.Context, w int, buf *bytes.Buffer) error {
	p.interrupting.Do(func() {
		context.AfterFunc(ctx, func() {
			for _, k := range p.conns {
				k.interrupt()
			}
		})
	})
	var err error
	if p.conns != nil {
		err = p.conns[w].get(ctx, buf)
	} else {
		err = p.c.fetch(ctx, p.path, p.tokens[w], buf)
	}
	if err != nil {
		return err
	}
	if buf.Len() != p.want {
		return fmt.Errorf("GET %s answered %d bytes, want %d", p.path, buf.Len(), p.want)
	}
	return nil
}
