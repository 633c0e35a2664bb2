package redis

import (
	"context"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// observedClient times the round trips of the commands sent through it and
// reports them to observe, labelled by the command's verb (EVALSHA, ZADD,
// ...), never by its keys, so that the labels are a small fixed set.
//
// What it leaves out, because its time is not a round trip's: commands that
// block on the server for data (XREAD BLOCK, which waits for jobs or
// events), reads answered from the client-side cache, and everything on
// dedicated connections (the bus's subscription). A pipeline (DoMulti) is
// one round trip and is observed once, under its commands' verb when they
// share one, else as PIPELINE.
type observedClient struct {
	rueidis.Client
	observe func(command string, d time.Duration)
}

// observed wraps c when observe is set.
func observed(c rueidis.Client, observe func(command string, d time.Duration)) rueidis.Client {
	if observe == nil {
		return c
	}
	return &observedClient{Client: c, observe: observe}
}

func (c *observedClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	if cmd.IsBlock() {
		return c.Client.Do(ctx, cmd)
	}
	// rueidis recycles a command once it is sent: name it first.
	name := commandName(cmd.Commands())
	start := time.Now()
	res := c.Client.Do(ctx, cmd)
	c.observe(name, time.Since(start))
	return res
}

func (c *observedClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	name, blocks := "", false
	for i := range multi {
		blocks = blocks || multi[i].IsBlock()
		name = pipelineName(name, commandName(multi[i].Commands()))
	}
	if blocks || len(multi) == 0 {
		return c.Client.DoMulti(ctx, multi...)
	}
	start := time.Now()
	res := c.Client.DoMulti(ctx, multi...)
	c.observe(name, time.Since(start))
	return res
}

func (c *observedClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	name := commandName(cmd.Commands())
	start := time.Now()
	res := c.Client.DoCache(ctx, cmd, ttl)
	if !res.IsCacheHit() {
		c.observe(name, time.Since(start))
	}
	return res
}

func (c *observedClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	name := ""
	for i := range multi {
		name = pipelineName(name, commandName(multi[i].Cmd.Commands()))
	}
	start := time.Now()
	res := c.Client.DoMultiCache(ctx, multi...)
	for _, r := range res {
		if !r.IsCacheHit() {
			// At least one command went to Redis: one round trip.
			c.observe(name, time.Since(start))
			break
		}
	}
	return res
}

// maxCommandName bounds a label: Redis's verbs are short.
const maxCommandName = 24

// commandName is the verb of a command, or "OTHER" for anything that does
// not look like one, so that a label never carries data.
func commandName(parts []string) string {
	if len(parts) == 0 || len(parts[0]) == 0 || len(parts[0]) > maxCommandName {
		return "OTHER"
	}
	verb := parts[0]
	for i := 0; i < len(verb); i++ {
		b := verb[i]
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_') {
			return "OTHER"
		}
	}
	return strings.ToUpper(verb)
}

// pipelineName names a pipeline by the verb its commands share, or
// PIPELINE when they differ.
func pipelineName(sofar, next string) string {
	if sofar == "" || sofar == next {
		return next
	}
	return "PIPELINE"
}
