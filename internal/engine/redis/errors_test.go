package redis

import (
	"errors"
	"testing"

	"github.com/redis/rueidis"

	"starling/internal/social"
)

func TestTransientReplies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reply string
		want  bool
	}{
		{"LOADING Redis is loading the dataset in memory", true},
		{"BUSY Redis is busy running a script", true},
		{"OOM command not allowed when used memory > 'maxmemory'", true},
		{"READONLY You can't write against a read only replica", true},
		{"BUSYGROUP Consumer Group name already exists", false},
		{"WRONGTYPE Operation against a key holding the wrong kind of value", false},
		{"ERR syntax error", false},
	} {
		if got := transientReply(tc.reply); got != tc.want {
			t.Errorf("transientReply(%q): got %v, want %v", tc.reply, got, tc.want)
		}
	}
}

// TestErrorReplyIsNotUnavailable checks that a reply the server will give
// again (here WRONGTYPE) is not reported as an outage.
func TestErrorReplyIsNotUnavailable(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	if err := e.client.Do(t.Context(), e.client.B().Set().Key(e.homeKey(1)).Value("not a zset").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, err := e.TimelineIDs(t.Context(), social.HomeOf(1), social.Page{Count: 10})
	if _, isReply := rueidis.IsRedisErr(errors.Unwrap(err)); err == nil || errors.Is(err, social.ErrUnavailable) || !isReply {
		t.Fatalf("TimelineIDs of a string key: got %v, want a WRONGTYPE reply that is not ErrUnavailable", err)
	}
}
