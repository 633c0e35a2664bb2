package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The admin tools talk to a running server's admin API with an admin's
// token, rather than opening the engine: the embedded engine's data belongs
// to the one process serving it, and on Redis the API is what every process
// shares, so the tools work the same on both and from any host that
// reaches the API.

const adminUsage = `Usage: starling admin [--server URL] [--token TOKEN] COMMAND [ARGS]

Commands:
  stats                 the job queue's counts, in total and by kind
  dead [--limit N]      dead jobs, newest first (default 50)
  retry ID              run dead job ID again
  drop ID               delete dead job ID
  suspend LOGIN         suspend a user: no sign-in, tokens refused, statuses hidden
  restore LOGIN         lift a suspension
  suspended             the suspended users
  revoke LOGIN          revoke every session token of a user
  accesslog             follow the live access log (JSON lines) until interrupted

The token is an admin's (a login in the server's --admins), from --token or
STARLING_ADMIN_TOKEN; the server from --server or STARLING_SERVER.

Flags:
`

// adminTimeout bounds one admin call; the access log is not bounded.
const adminTimeout = 30 * time.Second

type adminClient struct {
	server, token string
	http          *http.Client
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage); fs.PrintDefaults() }
	server := fs.String("server", envOr("STARLING_SERVER", "http://127.0.0.1:8080"), "the server's API, as clients reach it")
	token := fs.String("token", os.Getenv("STARLING_ADMIN_TOKEN"), "an admin's token (default $STARLING_ADMIN_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("admin: no command given")
	}
	if *token == "" {
		return errors.New("admin: no token: pass --token or set STARLING_ADMIN_TOKEN to an admin's token")
	}
	if u, err := url.Parse(*server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("admin: --server %q is not an http(s) URL", *server)
	}
	c := &adminClient{server: strings.TrimRight(*server, "/"), token: *token, http: &http.Client{}}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	arg := func() (string, error) {
		if len(rest) != 1 || rest[0] == "" {
			return "", fmt.Errorf("admin %s: want exactly one argument", cmd)
		}
		return url.PathEscape(rest[0]), nil
	}
	const base = "/api/starling/v1/admin"
	switch cmd {
	case "stats":
		return c.call(ctx, stdout, "GET", base+"/jobs/stats")
	case "dead":
		dfs := flag.NewFlagSet("admin dead", flag.ContinueOnError)
		dfs.SetOutput(stderr)
		limit := dfs.Int("limit", 50, "dead jobs to list, 1–1000")
		if err := dfs.Parse(rest); err != nil {
			return err
		}
		return c.call(ctx, stdout, "GET", fmt.Sprintf("%s/jobs/dead?limit=%d", base, *limit))
	case "retry", "drop":
		id, err := arg()
		if err != nil {
			return err
		}
		if cmd == "retry" {
			return c.call(ctx, stdout, "POST", base+"/jobs/dead/"+id+"/retry")
		}
		return c.call(ctx, stdout, "DELETE", base+"/jobs/dead/"+id)
	case "suspend", "restore":
		login, err := arg()
		if err != nil {
			return err
		}
		method := map[string]string{"suspend": "PUT", "restore": "DELETE"}[cmd]
		return c.call(ctx, stdout, method, base+"/users/"+login+"/suspension")
	case "suspended":
		return c.call(ctx, stdout, "GET", base+"/users/suspended")
	case "revoke":
		login, err := arg()
		if err != nil {
			return err
		}
		return c.call(ctx, stdout, "DELETE", base+"/users/"+login+"/tokens")
	case "accesslog":
		return c.follow(ctx, stdout, base+"/accesslog?format=jsonl")
	}
	fs.Usage()
	return fmt.Errorf("admin: unknown command %q", cmd)
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// call sends one request and prints its JSON answer, indented ("done" for
// a 204), or returns the API's error message.
func (c *adminClient) call(ctx context.Context, stdout io.Writer, method, path string) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	res, err := c.do(ctx, method, path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin: reading the answer: %w", err)
	}
	if res.StatusCode == http.StatusNoContent {
		fmt.Fprintln(stdout, "done")
		return nil
	}
	var out bytes.Buffer
	if json.Indent(&out, body, "", "  ") != nil {
		return fmt.Errorf("admin: %s answered %s with something that is not JSON", c.server, res.Status)
	}
	fmt.Fprintln(stdout, out.String())
	return nil
}

// follow copies a stream's lines to stdout until it ends or ctx does.
func (c *adminClient) follow(ctx context.Context, stdout io.Writer, path string) error {
	res, err := c.do(ctx, "GET", path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(stdout, res.Body)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("admin: the access log broke off: %w", err)
	}
	return nil
}

// do sends a request with the admin's token and turns an error answer into
// an error carrying the API's code and message.
func (c *adminClient) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, nil)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if res.StatusCode < 400 {
		return res, nil
	}
	defer res.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return nil, fmt.Errorf("admin: %s %s: %s", method, path, res.Status)
	}
	return nil, fmt.Errorf("admin: %s (%s)", e.Error.Message, e.Error.Code)
}
