package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client speaks Starling's JSON API.
type client struct {
	base string
	http *http.Client
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

// apiError is an answer with an unexpected status.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

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
// of 300 or above becomes an *apiError carrying the start of its body.
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
		return nil, &apiError{resp.StatusCode, strings.TrimSpace(string(b))}
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

// register creates n users named prefix0..prefix(n-1) and logs them in,
// with a few requests in flight at once.
func (c *client) register(ctx context.Context, prefix string, n int) ([]Account, error) {
	accounts := make([]Account, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			login := fmt.Sprintf("%s%d", prefix, i)
			pw := "bench-password-" + login
			if err := c.do(ctx, "POST", "/api/starling/v1/users", "", map[string]string{"login": login, "name": login, "password": pw}, nil); err != nil {
				errs[i] = fmt.Errorf("registering %s: %w", login, err)
				return
			}
			var tok struct{ Token string }
			if err := c.do(ctx, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": pw}, &tok); err != nil {
				errs[i] = fmt.Errorf("logging in %s: %w", login, err)
				return
			}
			accounts[i] = Account{login, tok.Token}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return accounts, nil
}

// follow makes every follower follow every followee.
func (c *client) follow(ctx context.Context, followers, followees []Account) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, 16)
	for _, f := range followers {
		for _, e := range followees {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := c.do(ctx, "PUT", "/api/starling/v1/me/following/"+e.Login, f.Token, nil, nil); err != nil {
					mu.Lock()
					first = cmpOr(first, fmt.Errorf("%s following %s: %w", f.Login, e.Login, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return first
}

func cmpOr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
