package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// The users a scenario acts as are made once and reused: each scenario has
// fixed logins (benchLogin), a run reuses the tokens it kept from an
// earlier run, or logs the users in, registering only those missing. Runs against
// one server then cost no registrations after the first, and no logins
// while the tokens last, so the server's rate limits on both stay clear.

// benchLogin is the login of the i-th user of a role in a scenario, such as
// bench_timeline_reader_3; at most 32 characters.
func benchLogin(scenario, role string, i int) string {
	return fmt.Sprintf("bench_%s_%s%d", scenario, role, i)
}

// benchPassword is the password of a bench user: bench users are for
// benchmarks only, never on a server real people use.
func benchPassword(login string) string { return "bench-password-" + login }

// benchUser is a bench user as the server sees it.
type benchUser struct {
	Account
	Following, Posts int64
}

type userJSON struct {
	Login     string `json:"login"`
	Following int64  `json:"following"`
	Posts     int64  `json:"posts"`
}

// maxSetupWait bounds how long setting a scenario up waits, in all, for
// rate limits to let it through.
const maxSetupWait = 10 * time.Minute

// setup runs the requests that prepare a scenario, waiting out a 429 for
// as long as its Retry-After says (and saying which flag sets the limit),
// up to maxSetupWait in all.
type setup struct {
	c      *client
	o      Options
	mu     sync.Mutex // guards waited
	waited time.Duration
}

func (s *setup) do(ctx context.Context, method, path, token string, body, out any) error {
	for {
		err := s.c.do(ctx, method, path, token, body, out)
		var note string
		rl, ok := rateLimited(err)
		if ok {
			note = rateLimitNote(rl)
		} else if rl, ok = busy(err); ok {
			// The server's password-hashing queue is full (many logins at
			// once): it asks to come back shortly.
			note = fmt.Sprintf("%s %s answered 503 busy: the server is hashing other passwords", rl.Method, pathOnly(rl.Path))
		} else {
			return err
		}
		wait := max(rl.RetryAfter, time.Second)
		s.mu.Lock()
		s.waited += wait
		over := s.waited > maxSetupWait
		s.mu.Unlock()
		if over {
			return fmt.Errorf("%s, and asks to wait %v: more than the %v bench waits in all while setting up: %w", note, wait, maxSetupWait, err)
		}
		logf(s.o, "waiting %v: %s", wait, note)
		sleep(ctx, wait)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// users returns the users with the given logins, logged in: with a token
// kept from an earlier run when the server still takes it, else through a
// login, registering the user first when the server does not know it.
func (s *setup) users(ctx context.Context, tokens *tokenCache, logins []string) ([]benchUser, error) {
	out := make([]benchUser, len(logins))
	errs := make([]error, len(logins))
	var wg sync.WaitGroup
	// As many at once as the server hashes passwords for one client.
	sem := make(chan struct{}, 4)
	for i, login := range logins {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = s.user(ctx, tokens, login)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (s *setup) user(ctx context.Context, tokens *tokenCache, login string) (benchUser, error) {
	if tok := tokens.get(login); tok != "" {
		var u userJSON
		err := s.do(ctx, "GET", "/api/starling/v1/me", tok, nil, &u)
		if err == nil {
			return benchUser{Account{login, tok}, u.Following, u.Posts}, nil
		}
		if ae := (*apiError)(nil); !errors.As(err, &ae) || ae.Status != 401 {
			return benchUser{}, fmt.Errorf("checking the kept token of %s: %w", login, err)
		}
	}
	// Whether the user exists is asked first (a profile read is not rate
	// limited), so that a new user costs one login, not a failed one too.
	pw := benchPassword(login)
	err := s.do(ctx, "GET", "/api/starling/v1/users/"+login, "", nil, nil)
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Code == "user_not_found" {
		reg := map[string]string{"login": login, "name": login, "password": pw}
		err = s.do(ctx, "POST", "/api/starling/v1/users", "", reg, nil)
		if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Code == "login_taken" {
			err = nil // registered meanwhile by another run
		}
		if err != nil {
			return benchUser{}, fmt.Errorf("registering %s: %w", login, err)
		}
	} else if err != nil {
		return benchUser{}, fmt.Errorf("looking %s up: %w", login, err)
	}
	var tok struct {
		Token string   `json:"token"`
		User  userJSON `json:"user"`
	}
	err = s.do(ctx, "POST", "/api/starling/v1/tokens", "", map[string]string{"login": login, "password": pw}, &tok)
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Code == "invalid_credentials" {
		return benchUser{}, fmt.Errorf("%s exists on the server with another password: it is not a bench user", login)
	}
	if err != nil {
		return benchUser{}, fmt.Errorf("logging in %s: %w", login, err)
	}
	tokens.put(login, tok.Token)
	return benchUser{Account{login, tok.Token}, tok.User.Following, tok.User.Posts}, nil
}

// follow makes every follower that does not follow exactly len(followees)
// accounts follow every followee (again: following is idempotent). Bench
// users of a role only ever follow the users of one other role, each run
// all of them, so a count that matches means the follows are in place.
func (s *setup) follow(ctx context.Context, followers, followees []benchUser) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 16)
	for _, f := range followers {
		if f.Following == int64(len(followees)) {
			continue
		}
		for _, e := range followees {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := s.do(ctx, "PUT", "/api/starling/v1/me/following/"+e.Login, f.Token, nil, nil); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s following %s: %w", f.Login, e.Login, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tokenCache keeps the session tokens of bench users between runs, in a
// file only its owner may read, so that runs do not log in again (logins
// are rate limited per address and per login). Tokens of another server
// are not used.
type tokenCache struct {
	path   string
	server string

	mu     sync.Mutex // guards tokens
	tokens map[string]string
}

type tokenFile struct {
	Server string            `json:"server"`
	Tokens map[string]string `json:"tokens"`
}

// loadTokens reads the cache at path; a missing file, or one kept for
// another server, is an empty cache. An empty path keeps nothing.
func loadTokens(path, server string) (*tokenCache, error) {
	c := &tokenCache{path: path, server: server, tokens: make(map[string]string)}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bench: reading kept tokens: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("bench: reading kept tokens from %s: %w (delete the file to start afresh)", path, err)
	}
	if f.Server == server && f.Tokens != nil {
		c.tokens = f.Tokens
	}
	return c, nil
}

func (c *tokenCache) get(login string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens[login]
}

func (c *tokenCache) put(login, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens[login] = token
}

// save writes the cache back, replacing the file in one step.
func (c *tokenCache) save() error {
	if c.path == "" {
		return nil
	}
	c.mu.Lock()
	b, err := json.MarshalIndent(tokenFile{Server: c.server, Tokens: c.tokens}, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("bench: keeping tokens: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("bench: keeping tokens: %w", err)
	}
	return nil
}

// scenarioUsers logs in (registering when missing) count users of each role
// of a scenario, reusing and then keeping the tokens in o.Tokens.
func scenarioUsers(ctx context.Context, s *setup, scenario string, roles []string, counts []int) ([][]benchUser, error) {
	tokens, err := loadTokens(s.o.Tokens, s.c.base)
	if err != nil {
		return nil, err
	}
	out := make([][]benchUser, len(roles))
	for r, role := range roles {
		logins := make([]string, counts[r])
		for i := range logins {
			logins[i] = benchLogin(scenario, role, i)
		}
		if out[r], err = s.users(ctx, tokens, logins); err != nil {
			return nil, err
		}
	}
	return out, tokens.save()
}
