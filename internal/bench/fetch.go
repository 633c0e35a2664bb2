package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// fetch GETs path and reads the answer's body into buf, reset first. The
// read loops of the timeline and static scenarios both use it and check
// only the body's length, so that the load tool spends the same per
// request against the server and against the baseline handler, and the
// ratio between them compares the servers alone.
func (c *client) fetch(ctx context.Context, path, token string, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if resp.StatusCode >= 300 {
		io.Copy(buf, io.LimitReader(resp.Body, 512))
		return &apiError{resp.StatusCode, strings.TrimSpace(buf.String())}
	}
	_, err = buf.ReadFrom(resp.Body)
	return err
}

// pageReader reads one path over and over, checking that every answer has
// the length of the first.
type pageReader struct {
	c    *client
	path string
	want int
}

// read fetches the page once with buf, one buffer per worker.
func (p *pageReader) read(ctx context.Context, token string, buf *bytes.Buffer) error {
	if err := p.c.fetch(ctx, p.path, token, buf); err != nil {
		return err
	}
	if buf.Len() != p.want {
		return fmt.Errorf("GET %s answered %d bytes, want %d", p.path, buf.Len(), p.want)
	}
	return nil
}
