package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// client speaks Starling's JSON API.
type client struct {
	base string
	http *http.Client
	// adminToken, when set, lets the post scenario read the job counts
	// (Options.AdminToken).
	adminToken string
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns * 2,
		IdleConnTimeout:     time.Minute,
	}
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard it).
func (c *client) do(ctx context.Context, method, path, token string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, path, token, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// send sends a request, with a JSON body when body is not nil, and
// returns a successful answer for the caller to read and close; an answer
// of 300 or above becomes an *apiError.
func (c *client) send(ctx context.Context, method, path, token string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, newAPIError(method, path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	return resp, nil
}

// Account is a user the bench acts as: a login and a session token. It is
// also the shape of the accounts in a Manifest.
type Account struct {
	Login string `json:"login"`
	Token string `json:"token"`
}

type statusID struct {
	ID int64 `json:"id"`
}
